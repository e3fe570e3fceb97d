"""2SFCA and enhanced 2SFCA against PySAL `access` on the same small case."""

import logging

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from access import Access, weights
from numpy.testing import assert_allclose

from analysis.accessibility import E2SFCA_BANDS, accessibility_by_grid, fca_scores, step_weights
from analysis.coverage import prepare_inputs
from geo.errors import AnalysisError
from tests.analysis.coverage_fixtures import (
    at,
    dataset,
    estates_layer,
    facilities_layer,
    grids_layer,
    rect,
    river_district,
)

RADIUS_M = 600.0


def _district():
    """Six grids, one estate each (so a grid's score is its estate's), four stations of unequal capacity."""
    geoms, ids, estates, households = [], [], [], []
    for j in range(2):
        for i in range(3):
            geoms.append(rect(400 * i, 400 * j, 400 * i + 400, 400 * j + 400))
            ids.append(f"G{j}{i}")
            estates.append(at(400 * i + 130 + 40 * j, 400 * j + 250 - 30 * i))
            households.append(100 + 10 * i)
    grids = grids_layer(geoms, ids=ids, streets=["s"] * 6, elderly=[120, 340, 80, 510, 260, 150])
    fac = facilities_layer([at(100, 100), at(700, 300), at(1100, 700), at(500, 750)],
                           types=["day_care"] * 4, capacity=[40.0, 25.0, 60.0, 30.0])
    return dataset(grids, fac, estates=estates_layer(estates, households=households))


def _access_reference(ds, *, weight_fn=None):
    """The same question asked of PySAL access: demand = estate points, supply = capacities."""
    inputs = prepare_inputs(ds)
    demand = inputs.demand
    fac = inputs.facilities
    d = np.hypot(*(np.array([[p.x, p.y] for p in demand.geometry])[:, None, :]
                   - np.array([[p.x, p.y] for p in fac.geometry])[None, :, :]).transpose(2, 0, 1))
    cost = pd.DataFrame([(i, j, d[i, j]) for i in range(len(demand)) for j in range(len(fac))],
                        columns=["origin", "dest", "cost"])
    dem = pd.DataFrame({"geoid": range(len(demand)), "elderly": demand["elderly"].to_numpy()})
    sup = pd.DataFrame({"geoid": range(len(fac)), "capacity": fac["capacity"].to_numpy()})
    logging.getLogger("access").setLevel(logging.ERROR)
    acc = Access(demand_df=dem, demand_index="geoid", demand_value="elderly", supply_df=sup, supply_index="geoid",
                 supply_value="capacity", cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="cost")
    if weight_fn is None:
        out = acc.two_stage_fca(max_cost=RADIUS_M)
    else:
        out = acc.enhanced_two_stage_fca(max_cost=RADIUS_M, weight_fn=weight_fn)
    return demand, out.iloc[:, 0].reindex(range(len(demand))).fillna(0.0).to_numpy()


def test_2sfca_matches_access():
    ds = _district()
    demand, expected = _access_reference(ds)
    res = accessibility_by_grid(ds, radius_m=RADIUS_M)
    got = res.grids.set_index("grid_id").loc[demand["grid_id"].astype(str), "per_1000"].to_numpy() / 1000
    assert expected.max() > 0 and (expected == 0).sum() < len(expected)
    assert_allclose(got, expected, rtol=1e-9)
    assert res.capacity_filled == 0


def test_enhanced_2sfca_matches_access_step_weights():
    ds = _district()
    fn = weights.step_fn({RADIUS_M / 3: 1.0, 2 * RADIUS_M / 3: 0.68, RADIUS_M: 0.22})
    demand, expected = _access_reference(ds, weight_fn=fn)
    res = accessibility_by_grid(ds, radius_m=RADIUS_M, enhanced=True)
    got = res.grids.set_index("grid_id").loc[demand["grid_id"].astype(str), "per_1000"].to_numpy() / 1000
    assert_allclose(got, expected, rtol=1e-9)
    plain = accessibility_by_grid(ds, radius_m=RADIUS_M).grids["per_1000"].to_numpy()
    assert not np.allclose(plain, res.grids["per_1000"].to_numpy())


def test_fca_scores_on_a_hand_case():
    # Two facilities, three places. F0 (10 places) reaches P0 (100) and P1 (300); F1 (6) reaches P1 and P2 (100).
    d = sp.csr_matrix((np.array([50.0, 0.0, 300.0, 10.0]), (np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2]))),
                      shape=(2, 3))
    r, a = fca_scores(d, [10, 6], [100, 300, 100])
    assert_allclose(r, [10 / 400, 6 / 400])
    assert_allclose(a, [10 / 400, 16 / 400, 6 / 400])
    # Bands: 0-100 m weight 1, 100-400 m weight 0.5: F1 sees P1 at half weight.
    r, a = fca_scores(d, [10, 6], [100, 300, 100], bands=[(100, 1.0), (400, 0.5)])
    assert_allclose(r, [10 / 400, 6 / 250])
    assert_allclose(a, [10 / 400, 10 / 400 + 0.5 * 6 / 250, 6 / 250])


def test_step_weights_follow_access_band_rules():
    fn = weights.step_fn({200: 1.0, 400: 0.68, 600: 0.22})
    d = np.array([0, 199.9, 200, 200.1, 400, 599, 600, 600.1])
    assert_allclose(step_weights(d, [(200, 1.0), (400, 0.68), (600, 0.22)]), [fn(x) for x in d])
    assert E2SFCA_BANDS[-1][0] == 1.0
    with pytest.raises(AnalysisError, match="band weight -1.0 must be 0 or more"):
        step_weights(d, [(200, -1)])
    with pytest.raises(AnalysisError, match="`bands` is empty"):
        step_weights(d, [])


def test_missing_capacity_is_filled_and_counted():
    ds = _district()
    fac = ds.facilities.copy()
    fac.loc[fac.index[0], "capacity"] = np.nan
    res = accessibility_by_grid(ds.with_layer("facilities", fac), radius_m=RADIUS_M)
    assert res.capacity_filled == 1
    assert res.facilities["capacity"].iloc[0] == pytest.approx(np.median([25.0, 60.0, 30.0]))


def test_walking_catchment_excludes_the_far_bank():
    ds = river_district()
    line = accessibility_by_grid(ds, radius_m=300).grids.set_index("grid_id")
    walk = accessibility_by_grid(ds, radius_m=300, distance="walking").grids.set_index("grid_id")
    assert line.loc["N", "reach_share"] == 1.0 and walk.loc["N", "reach_share"] == 0.0
    assert walk.loc["N", "per_1000"] == 0.0
    # The south bank then has the station to itself: capacity 1 (filled) per 80 elderly in reach.
    assert walk.loc["S", "per_1000"] == pytest.approx(1000 / 80)


def test_accessibility_bad_input():
    with pytest.raises(AnalysisError, match="`radius_m` was 0 but must be greater than 0 m"):
        accessibility_by_grid(_district(), radius_m=0)
    with pytest.raises(AnalysisError, match=r"facility type 'health_center' \(社区卫生服务中心\) is not in the data"):
        accessibility_by_grid(_district(), facility_types="health_center")
