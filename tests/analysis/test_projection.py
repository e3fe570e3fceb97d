"""Projection to a plan year: cohort ageing checked against a hand-computed fixture, the survival table, demand."""

import math

import geopandas as gpd
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq
from shapely.geometry import box

from analysis.projection import (
    SURVIVAL_PATH,
    SurvivalTable,
    default_survival,
    gompertz_ratios,
    project_dataset,
    project_grids,
    read_survival,
    with_demand,
)
from geo.dataset import Dataset
from geo.errors import AnalysisError
from geo.schema import AGE_BANDS
from i18n import error_text

# Hand-made ratios, so the figures below can be worked out on paper.
SURVIVAL = SurvivalTable(tuple(zip(AGE_BANDS, (0.9, 0.8, 0.7, 0.6, 0.5, 0.4), strict=True)), "hand", False)

# Grid A: 55-59 … 80+ = 100, 80, 60, 40, 20, 10 (60+ = 210).
#   after 5 years:  55-59 100 (assumed as today), 60-64 100·0.9 = 90, 65-69 80·0.8 = 64, 70-74 60·0.7 = 42,
#                   75-79 40·0.6 = 24, 80+ 20·0.5 + 10·0.4 = 14             -> 60+ = 234, 80+ = 14
#   after 10 years: 100, 90, 90·0.8 = 72, 64·0.7 = 44.8, 42·0.6 = 25.2, 24·0.5 + 14·0.4 = 17.6
#                                                                           -> 60+ = 249.6, 80+ = 17.6
#   2027 (8 years: 3/5 of the way from year 5 to 10): 60+ 234 + 0.6·15.6 = 243.36, 80+ 14 + 0.6·3.6 = 16.16
# Grid B: only 80+ = 50 (60+ = 50): after 5 years 20, after 10 years 8; 2027: 20 − 0.6·12 = 12.8.
BANDS = {"A": (100, 80, 60, 40, 20, 10), "B": (0, 0, 0, 0, 0, 50)}


def _grids(bands=BANDS):
    rows = {"grid_id": list(bands), "street": ["s1", "s2"][: len(bands)],
            "elderly": [sum(b[1:]) for b in bands.values()]}
    for j, band in enumerate(AGE_BANDS):
        rows[band] = [b[j] for b in bands.values()]
    return gpd.GeoDataFrame(rows, geometry=[box(0, 0, 1, 1)] * len(bands), crs=4326)


@pytest.mark.parametrize(("year", "elderly", "aged_80"), [
    (2019, [210, 50], [10, 50]),
    (2024, [234, 20], [14, 20]),
    (2027, [243.36, 12.8], [16.16, 12.8]),
    (2029, [249.6, 8], [17.6, 8]),
])
def test_projection_matches_the_hand_computed_fixture(year, elderly, aged_80):
    p = project_grids(_grids(), year=year, base=2019, survival=SURVIVAL)
    np.testing.assert_allclose(p.grids["elderly_plan"], elderly, rtol=1e-12)
    np.testing.assert_allclose(p.grids["aged_80_plus_plan"], aged_80, rtol=1e-12)
    assert p.grids["grid_id"].tolist() == ["A", "B"]
    assert p.grids["elderly"].tolist() == [210, 50]


def test_years_between_steps_are_linear():
    grids = _grids()
    a, b = (project_grids(grids, year=y, base=2019, survival=SURVIVAL).grids["elderly_plan"] for y in (2024, 2029))
    mid = project_grids(grids, year=2026, base=2019, survival=SURVIVAL).grids["elderly_plan"]
    np.testing.assert_allclose(mid, a + 0.4 * (b - a))


def _dataset(grids, as_of="2019-10-31"):
    facilities = gpd.GeoDataFrame({"facility_id": ["F"], "name": ["f"], "type": ["day_care"]},
                                  geometry=gpd.points_from_xy([0.5], [0.5]), crs=4326)
    return Dataset(grids=grids, facilities=facilities, meta=(("as_of", as_of),))


def test_base_year_is_the_year_of_as_of_and_demand_is_rounded():
    ds = _dataset(_grids())
    assert project_dataset(ds, year=2027, survival=SURVIVAL).base_year == 2019
    assert with_demand(ds, year=2027, survival=SURVIVAL).grids["elderly"].tolist() == [243, 13]
    assert with_demand(ds, year=2027, weight="elderly_80", survival=SURVIVAL).grids["elderly"].tolist() == [16, 13]
    assert with_demand(ds, weight="elderly_80").grids["elderly"].tolist() == [10, 50]
    assert with_demand(ds) is ds
    assert ds.grids["elderly"].tolist() == [210, 50]  # the input is not changed


def test_missing_bands_give_a_coded_message_in_both_languages():
    ds = _dataset(_grids().drop(columns=["aged_55_59", "aged_80_plus"]))
    with pytest.raises(AnalysisError) as exc:
        project_dataset(ds, year=2030)
    err = exc.value
    assert err.code == "analysis.age_bands_missing"
    assert dict(err.params) == {"missing": "aged_55_59, aged_80_plus"}
    assert error_text(err, lang="en") == ("projecting needs the grids' age bands; missing: aged_55_59, aged_80_plus. "
                                          "Import the grids with the columns 55-59岁 … 80岁及以上")
    assert error_text(err, lang="zh") == ("预测需要网格的年龄段列，缺少：aged_55_59, aged_80_plus。请导入带 55-59岁 … 80岁及以上 "
                                          "各列的网格图层")
    with pytest.raises(AnalysisError, match="missing: aged_55_59, aged_80_plus"):
        with_demand(ds, weight="elderly_80")


def test_plan_years_out_of_range_are_refused():
    ds = _dataset(_grids())
    with pytest.raises(AnalysisError) as exc:
        project_dataset(ds, year=2018)
    assert exc.value.code == "analysis.year_before_base"
    assert error_text(exc.value, lang="zh") == "规划年份 2018 早于数据年份 2019"
    assert error_text(exc.value, lang="en") == "the plan year 2018 is before the data's year 2019"
    with pytest.raises(AnalysisError) as exc:
        project_dataset(ds, year=2050)
    assert error_text(exc.value, lang="en") == "the plan year 2050 is more than 30 years after the data's year 2019"
    with pytest.raises(AnalysisError) as exc:
        project_dataset(_dataset(_grids(), as_of=""), year=2030)
    assert exc.value.code == "analysis.no_as_of"
    assert error_text(exc.value, lang="zh") == "预测需要数据集的截至日期（meta 中的 as_of），当前没有"


def test_the_shipped_table_is_the_gompertz_model_it_says_it_is():
    table = default_survival()
    assert table.assumption and table.source == "survival_ratios.csv"
    assert "ASSUMPTION" in SURVIVAL_PATH.read_text(encoding="utf-8")
    # an independent rebuild: scipy's adaptive quadrature on the same hazard a·exp(0.1·(x−60)), e60 = 21
    def surv(x, a):
        return math.exp(-(a / 0.1) * math.expm1(0.1 * (x - 60)))
    a = brentq(lambda a: quad(surv, 60, 130, args=(a,))[0] - 21.0, 1e-4, 0.5)
    want = [quad(surv, x + 5, x + 10, args=(a,))[0] / quad(surv, x, x + 5, args=(a,))[0] for x in range(55, 80, 5)]
    want.append(quad(surv, 85, 130, args=(a,))[0] / quad(surv, 80, 130, args=(a,))[0])
    np.testing.assert_allclose(list(gompertz_ratios().values()), want, rtol=1e-8)
    np.testing.assert_allclose([r for _, r in table.ratios], want, atol=5e-5)  # the file keeps 4 decimals


def test_a_planner_table_replaces_it_and_bad_tables_are_refused(tmp_path):
    good = tmp_path / "life.csv"
    good.write_text("band,ratio\n" + "".join(f"{b},0.5\n" for b in AGE_BANDS), encoding="utf-8")
    table = read_survival(good)
    assert not table.assumption and table.by_band == dict.fromkeys(AGE_BANDS, 0.5)
    bad = tmp_path / "bad.csv"
    bad.write_text("band,ratio\naged_55_59,1.2\n", encoding="utf-8")
    with pytest.raises(AnalysisError) as exc:
        read_survival(bad)
    assert exc.value.code == "analysis.survival_bad_ratio"
    assert error_text(exc.value, lang="en") == ("the survival table bad.csv gives aged_55_59 the ratio '1.2', which is "
                                                "not greater than 0 and at most 1")
    assert error_text(exc.value, lang="zh") == "存活比表 bad.csv 中 aged_55_59 的存活比 '1.2' 不在 0（不含）到 1 之间"
    bad.write_text("age,ratio\n", encoding="utf-8")
    with pytest.raises(AnalysisError) as exc:
        read_survival(bad)
    assert error_text(exc.value, lang="zh") == "存活比表 bad.csv 的第一行不是表头 band,ratio"
    bad.write_text("band,ratio\naged_50_54,0.9\n", encoding="utf-8")
    with pytest.raises(AnalysisError) as exc:
        read_survival(bad)
    assert exc.value.code == "analysis.survival_bad_band"
    with pytest.raises(AnalysisError) as exc:
        read_survival(tmp_path / "absent.csv")
    assert error_text(exc.value, lang="en") == "the survival table absent.csv cannot be read"
    short = tmp_path / "short.csv"
    short.write_text("band,ratio\naged_55_59,0.9\n", encoding="utf-8")
    with pytest.raises(AnalysisError) as exc:
        read_survival(short)
    assert error_text(exc.value, lang="zh") == ("存活比表 short.csv 缺少这些年龄段的存活比：aged_60_64, aged_65_69, "
                                                "aged_70_74, aged_75_79, aged_80_plus")
