"""Equity figures: Gini and Palma by hand on fixtures, a brute-force double loop on the demo, street rows."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.equity import (
    DISTRICT_ROW,
    compare_equity,
    equity_by_grid,
    equity_from_tables,
    palma_ratio,
    weighted_gini,
)
from analysis.projection import with_demand
from geo.dataset import DEMO_PATH, read_dataset


def test_gini_and_palma_of_five_equal_people():
    # scores 0..4, one person each: mean 2; Σ|xi−xj| over ordered pairs = 2·(1+2+3+4+1+2+3+1+2+1) = 40
    # Gini = 40 / (2·5²·2) = 0.4; worst 40 % = 2 people holding 0+1 = 1, best 10 % = half a person at 4 = 2
    assert weighted_gini([3, 0, 4, 1, 2], [1] * 5) == pytest.approx(0.4)
    assert palma_ratio([3, 0, 4, 1, 2], [1] * 5) == pytest.approx(2.0)


def test_weights_and_a_grid_straddling_the_cuts():
    # 2 people at 1, 3 at 5: mean 17/5 = 3.4; Σ wi wj |xi−xj| = 2·(2·3·4) = 48 -> Gini 48 / (2·25·3.4) = 0.28235…
    # worst 40 % = 2 people = the first grid entirely: 2·1 = 2; best 10 % = 0.5 person at 5 = 2.5 -> Palma 1.25
    assert weighted_gini([5, 1], [3, 2]) == pytest.approx(48 / 170)
    assert palma_ratio([5, 1], [3, 2]) == pytest.approx(1.25)
    # 10 people in one grid at 2 and 10 at 6: worst 40 % = 8 people at 2 -> 16; best 10 % = 2 at 6 -> 12
    assert palma_ratio([2, 6], [10, 10]) == pytest.approx(12 / 16)


def test_edge_cases():
    assert weighted_gini([2, 2, 2], [1, 5, 3]) == 0.0
    assert palma_ratio([2, 2, 2], [1, 5, 3]) == pytest.approx(0.25)  # 10 % of the people over 40 %
    assert math.isnan(weighted_gini([0, 0], [1, 1]))
    assert math.isnan(palma_ratio([0, 0], [1, 1]))
    assert palma_ratio([0, 0, 0, 9], [1, 1, 1, 1]) == math.inf  # the worst 40 % hold nothing
    assert math.isnan(weighted_gini([1, 2], [0, 0]))


def test_street_and_district_rows_and_the_worst_grids():
    table = pd.DataFrame({
        "grid_id": ["a", "b", "c", "d", "e"],
        "street": ["S1", "S1", "S2", "S2", "S2"],
        "elderly": [100.0, 300.0, 50.0, 50.0, 0.0],
        "covered_elderly": [100.0, 0.0, 25.0, 50.0, 0.0],
        "access": [4.0, 0.0, 1.0, 3.0, 9.0],
    })
    r = equity_from_tables(table)
    s = r.streets.set_index("street")
    assert s.index.tolist() == ["S1", "S2", DISTRICT_ROW]
    assert s.loc["S1", ["elderly", "beyond", "beyond_share"]].tolist() == [400, 300, 0.75]
    assert s.loc["S2", ["elderly", "beyond", "beyond_share"]].tolist() == [100, 25, 0.25]
    assert s.loc[DISTRICT_ROW, ["elderly", "beyond", "beyond_share"]].tolist() == [500, 325, 0.65]
    # S1: scores 4 (100 people) and 0 (300): mean 1; Σ wi wj |xi−xj| = 2·100·300·4 -> Gini 240000 / (2·400²·1)
    assert s.loc["S1", "gini"] == pytest.approx(240000 / 320000)
    # S2: 50 at 1 and 50 at 3 (e has nobody): worst 40 people hold 40, best 10 hold 30
    assert s.loc["S2", "palma"] == pytest.approx(30 / 40)
    assert r.worst["grid_id"].tolist() == ["b", "c", "d", "a"]  # lowest score first, nobody-aged grids left out


def _brute_gini(x, w):
    num = sum(wi * wj * abs(xi - xj) for xi, wi in zip(x, w, strict=True) for xj, wj in zip(x, w, strict=True))
    mean = sum(xi * wi for xi, wi in zip(x, w, strict=True)) / sum(w)
    return num / (2 * sum(w) ** 2 * mean)


def _brute_palma(x, w):
    # one person at a time (weights are whole numbers here), sorted by score
    people = sorted(xi for xi, wi in zip(x, w, strict=True) for _ in range(int(wi)))
    n = len(people)
    return sum(people[n - n // 10:]) / sum(people[: 4 * n // 10])


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO_PATH)


def test_demo_figures_equal_a_brute_force_loop(demo):
    r = equity_by_grid(demo, radius_m=1000)
    g = r.grids
    for street, part in list(g.groupby("street"))[:2]:
        row = r.streets.set_index("street").loc[street]
        assert row["gini"] == pytest.approx(_brute_gini(part["access"].tolist(), part["elderly"].tolist()), rel=1e-9)
        if len(part) >= 10 and part["elderly"].sum() % 10 == 0:
            assert row["palma"] == pytest.approx(_brute_palma(part["access"].tolist(), part["elderly"].tolist()))
    district = r.streets.set_index("street").loc[DISTRICT_ROW]
    assert district["elderly"] == 45200
    assert district["palma"] == pytest.approx(_brute_palma(g["access"].tolist(), g["elderly"].tolist()))
    assert district["gini"] == pytest.approx(_brute_gini(g["access"].tolist(), g["elderly"].tolist()), rel=1e-9)


def test_before_and_after_a_plan_year(demo):
    before = equity_by_grid(demo, radius_m=1000)
    after = equity_by_grid(with_demand(demo, year=2030), radius_m=1000)
    both = compare_equity(before, after).set_index("street")
    assert both.loc[DISTRICT_ROW, "elderly_before"] == 45200
    assert both.loc[DISTRICT_ROW, "elderly_after"] == with_demand(demo, year=2030).grids["elderly"].sum()
    assert list(both.columns[:4]) == ["elderly_before", "elderly_after", "beyond_before", "beyond_after"]
    np.testing.assert_allclose(both["gini_after"].to_numpy(), after.streets["gini"].to_numpy())
