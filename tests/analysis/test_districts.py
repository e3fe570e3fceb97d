"""analysis.districts: the hot-spot pipeline, district hot spots, the emerging count and the league table, each
against a computation made another way (the district's own case table through the page's functions, a
point-in-polygon loop, pandas sums)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from analysis import districts
from analysis.cases import CaseFilter, build_case_table
from analysis.coverage import compute_coverage
from analysis.distributed import grid_period_counts
from analysis.hotspots import emerging_hot_spots, hot_spots, hotspot_report, period_counts, queen_weights
from geo.dataset import read_dataset
from geo.errors import AnalysisError

DEMO = Path(__file__).resolve().parents[2] / "data" / "shifeng_demo.gpkg"


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO)


@pytest.fixture(scope="module")
def split(demo):
    """The demo's grids in two 'districts' (street groups), each above Gi*'s 30-grid minimum."""
    grids = demo.grids.copy()
    streets = list(pd.unique(grids["street"]))
    grids["district"] = np.where(grids["street"].isin(streets[:2]), "甲区", "乙区")
    return grids


def _own_table(demo, grids, district):
    """One district as a dataset of its own: its grids and the cases in them."""
    mine = grids[grids["district"] == district].reset_index(drop=True)
    cases = demo.cases[demo.cases["grid_id"].isin(set(mine["grid_id"]))]
    return mine, build_case_table(cases, mine, as_of=demo.meta_dict["as_of"])


@pytest.mark.parametrize("measure", ["count", "rate"])
def test_whole_dataset_equals_the_hotspot_report(demo, measure):
    table = build_case_table(demo.cases, demo.grids, as_of=demo.meta_dict["as_of"])
    run = districts.grid_hotspots(table, demo.grids, measure=measure, permutations=99, seed=4)
    ref = hotspot_report(table, queen_weights(demo.grids), measure=measure, permutations=99, seed=4)
    pd.testing.assert_frame_equal(run.frame, ref.frame, check_exact=True)
    assert run.frame.columns.tolist() == list(districts.HOTSPOT_COLUMNS)
    assert run.notes == ref.notes and run.n_cases == ref.hot.n_cases == len(demo.cases)
    assert (run.frame["gi_bin"] != 0).any() and run.frame["pattern"].notna().all()


def test_whole_dataset_with_a_filter_and_months(demo):
    table = build_case_table(demo.cases, demo.grids, as_of=demo.meta_dict["as_of"])
    flt = CaseFilter(since=pd.Timestamp("2018-06-01").date(), categories=("市容环境",))
    run = districts.grid_hotspots(table, demo.grids, flt, period="month", permutations=0)
    ref = hotspot_report(table, queen_weights(demo.grids), flt, period="month", permutations=0)
    pd.testing.assert_frame_equal(run.frame, ref.frame, check_exact=True)
    assert run.n_periods == len(ref.emerging.period_starts)


def test_whole_dataset_errors_as_the_report(demo):
    table = build_case_table(demo.cases, demo.grids, as_of=demo.meta_dict["as_of"])
    flt = CaseFilter(since=pd.Timestamp("2030-01-01").date())
    with pytest.raises(AnalysisError, match=r"no cases match \(between 2030-01-01 and the end\)") as info:
        districts.grid_hotspots(table, demo.grids, flt)
    assert info.value.code == "analysis.no_cases_match"


@pytest.mark.parametrize("measure", ["count", "rate"])
def test_per_district_equals_each_district_on_its_own(demo, split, measure):
    table = build_case_table(demo.cases, split, as_of=demo.meta_dict["as_of"])
    run = districts.grid_hotspots(table, split, by="district", measure=measure, permutations=99, seed=2)
    assert run.frame.columns.tolist() == ["grid_id", "district", *districts.HOTSPOT_COLUMNS[1:]]
    assert run.frame["grid_id"].tolist() == split["grid_id"].astype(str).tolist()  # grid order
    assert run.groups == ("甲区", "乙区") or run.groups == ("乙区", "甲区")
    for name in run.groups:
        mine, own = _own_table(demo, split, name)
        ref = hotspot_report(own, queen_weights(mine), measure=measure, permutations=99, seed=2).frame
        got = run.frame[run.frame["district"] == name].drop(columns="district").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert (run.frame["gi_bin"] != 0).any()


def test_a_district_too_small_gets_a_note(demo):
    grids = demo.grids.assign(district=np.where(np.arange(len(demo.grids)) < 20, "小区", "大区"))
    table = build_case_table(demo.cases, grids, as_of=demo.meta_dict["as_of"])
    run = districts.grid_hotspots(table, grids, by="district", permutations=0)
    small = run.frame[run.frame["district"] == "小区"]
    assert small["gi_z"].isna().all() and (small["gi_bin"] == 0).all() and small["pattern"].isna().all()
    assert "小区: Gi* needs at least 30 grids for a meaningful result; the selection has 20" in run.notes
    assert run.frame.loc[run.frame["district"] == "大区", "gi_z"].notna().all()


def test_district_hotspots_from_counts_equal_each_district_on_its_own(demo, split):
    table = build_case_table(demo.cases, split, as_of=demo.meta_dict["as_of"])
    _, numbers = period_counts(table, CaseFilter(), period="week")
    counts = grid_period_counts(table.grid, table.week, n_grids=table.n_grids, first=int(numbers[0]),
                                last=int(numbers[-1]))
    parts = districts.district_hotspots(split, counts, permutations=99, seed=3)
    assert [p.district for p in parts] == list(pd.unique(split["district"]))
    for part in parts:
        mine, own = _own_table(demo, split, part.district)
        w = queen_weights(mine)
        hot = hot_spots(own, w, permutations=99, seed=3).frame
        em = emerging_hot_spots(own, w).frame
        assert part.frame["grid_id"].tolist() == hot["grid_id"].tolist()
        np.testing.assert_array_equal(part.frame["cases"], hot["cases"])
        np.testing.assert_array_equal(part.frame["gi_z"], hot["gi_z"])
        np.testing.assert_array_equal(part.frame["gi_p_sim"], hot["gi_p_sim"])
        np.testing.assert_array_equal(part.frame["gi_bin"], hot["gi_bin"])
        pd.testing.assert_series_equal(part.frame["pattern"], em["pattern"], check_names=False)
        np.testing.assert_array_equal(part.frame["trend_z"], em["trend_z"])
        np.testing.assert_array_equal(part.frame["hot_periods"], em["hot_periods"])
    assert sum(p.n_cases for p in parts) == int(counts.sum())


def test_missing_group_column_is_named(demo):
    with pytest.raises(AnalysisError, match="the grids layer has no column 'district' to split by") as info:
        districts.district_hotspots(demo.grids, np.zeros((len(demo.grids), 12), dtype="int64"))
    assert info.value.code == "analysis.group_column_missing"


def test_emerging_is_new_or_intensifying_only():
    patterns = pd.Series(["new_hot_spot", "intensifying_hot_spot", "consecutive_hot_spot", "persistent_hot_spot",
                          "sporadic_hot_spot", None, "new_cold_spot"], dtype="string")
    assert districts.emerging_count(patterns) == 2


def test_district_patterns_count_new_or_intensifying(demo, split):
    table = build_case_table(demo.cases, split, as_of=demo.meta_dict["as_of"])
    _, numbers = period_counts(table, CaseFilter(), period="week")
    counts = grid_period_counts(table.grid, table.week, n_grids=table.n_grids, first=int(numbers[0]),
                                last=int(numbers[-1]))
    got = districts.district_patterns(split, counts).set_index("district")
    for name in got.index:
        mine, own = _own_table(demo, split, name)
        w = queen_weights(mine)
        pattern = emerging_hot_spots(own, w).frame["pattern"].fillna("")
        hot = int((hot_spots(own, w, permutations=0).frame["gi_bin"] > 0).sum())
        assert got.loc[name, "emerging"] == int(pattern.isin(["new_hot_spot", "intensifying_hot_spot"]).sum())
        assert got.loc[name, "hot_grids"] == hot


def test_league_table_against_sums_and_a_point_in_polygon_loop(demo, split):
    cov = compute_coverage(demo, facility_types=("day_care",), radius_m=300.0).grids
    counts = pd.DataFrame({"district": ["甲区", "乙区"], "cases": [7, 5], "open": [3, 2], "overdue": [1, 0]})
    patterns = pd.DataFrame({"district": ["甲区"], "hot_grids": [4], "emerging": [1]})
    table = districts.league_table(split, demo.facilities, cov, counts, patterns).set_index("district")
    assert table.index.tolist() == list(pd.unique(split["district"]))
    for name, grids in split.groupby("district"):
        assert table.loc[name, "grids"] == len(grids)
        assert table.loc[name, "streets"] == grids["street"].nunique()
        assert table.loc[name, "population"] == grids["population"].sum()
        area = shapely.union_all(grids.geometry.values)
        inside = sum(1 for pt in demo.facilities.geometry if shapely.within(pt, area))
        assert table.loc[name, "facilities"] == inside
        mine = cov[cov["grid_id"].isin(set(grids["grid_id"]))]
        assert table.loc[name, "coverage"] == pytest.approx(mine["covered_elderly"].sum() / mine["elderly"].sum())
    assert table.loc["甲区", "overdue_per_10k"] == pytest.approx(1 / table.loc["甲区", "population"] * 1e4)
    assert table.loc["甲区", "emerging"] == 1 and pd.isna(table.loc["乙区", "hot_grids"])
    assert table["facilities"].sum() > 0


def test_coverage_pipeline_equals_the_page_on_a_district_and_each_district_of_a_city(demo, split):
    whole = districts.grid_coverage(demo, facility_types=("day_care",), radius_m=300.0)
    assert whole.by is None
    ref = compute_coverage(demo, facility_types=("day_care",), radius_m=300.0)
    pd.testing.assert_frame_equal(whole.grids, ref.grids, check_exact=True)
    assert whole.totals == ref.totals
    city = districts.grid_coverage(demo.with_layer("grids", split), facility_types=("day_care",), radius_m=300.0)
    assert city.by == "district" and city.grids["grid_id"].tolist() == split["grid_id"].tolist()
    for name in ("甲区", "乙区"):
        mine = split[split["district"] == name].reset_index(drop=True)
        own = compute_coverage({"grids": mine, "facilities": demo.facilities, "estates": demo.estates,
                                "roads": demo.roads}, facility_types=("day_care",), radius_m=300.0).grids
        got = city.grids[city.grids["grid_id"].isin(set(mine["grid_id"]))].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, own, check_exact=True)
    # a bad option fails before any task is sent
    with pytest.raises(AnalysisError, match="`facility_type` was 'nursery' but is expected to be one of: day_care, "
                                            "elderly_service_center") as info:
        districts.grid_coverage(demo, facility_types=("nursery",))
    assert info.value.code == "analysis.bad_choice"
