"""The meeting brief against the hand counts of tests/analysis/meeting_fixtures.py."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis.cases import CaseFilter, case_table_from_dataset
from analysis.coverage import compute_coverage, district_totals
from analysis.hotspots import hot_spots, queen_weights
from analysis.meeting import available_months, default_month, meeting_brief, parse_month
from geo.dataset import Dataset
from geo.errors import AnalysisError
from tests.analysis.case_fixtures import cases_for_counts, lattice_grids
from tests.analysis.meeting_fixtures import PHONE, meeting_dataset


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return meeting_dataset()


@pytest.fixture(scope="module")
def brief(ds):
    return meeting_brief(ds)


def test_month_defaults_to_the_as_of_month_and_ends_on_the_as_of_day(ds, brief):
    assert default_month(ds) == "2024-03"
    assert brief.month == "2024-03" and brief.previous_month == "2024-02"
    assert brief.month_start == dt.date(2024, 3, 1)
    assert brief.month_end == dt.date(2024, 3, 20)
    assert brief.previous_end == dt.date(2024, 2, 29)
    assert available_months(ds) == ["2024-03", "2024-02", "2024-01"]


def test_key_figures_match_the_hand_counts(brief):
    # at 03-20: open C3 C5 C6 C8 C9, overdue C3 C6 C8 C9; at 02-29: open C2 C3 C9, all overdue
    assert (brief.figure("open").value, brief.figure("open").previous, brief.figure("open").delta) == (5, 3, 2)
    assert (brief.figure("overdue").value, brief.figure("overdue").previous) == (4, 3)
    # March's cases C4-C8: C4 and C7 closed by 03-20; February's C1-C3: C1 closed by 02-29
    cr = brief.figure("closure_rate")
    assert cr.value == pytest.approx(2 / 5) and cr.previous == pytest.approx(1 / 3)
    assert cr.delta == pytest.approx(2 / 5 - 1 / 3)
    # unmanaged estates: E1 (02-10) and E2 (03-15) by 03-20, E1 by 02-29; E3 after, E5 is managed
    assert (brief.figure("committees").value, brief.figure("committees").previous) == (2, 1)
    assert brief.n_cases_month == 5


def test_coverage_figure_is_the_coverage_analysis_own(ds, brief):
    res = compute_coverage(ds, facility_types=("day_care",), radius_m=300, distance="euclidean", weight="elderly")
    expected = district_totals(res.grids).covered_share
    f = brief.figure("coverage")
    assert f.value == pytest.approx(expected)
    assert 0 < f.value < 1
    assert f.previous is None and f.delta is None  # facilities have no opening date


def test_unit_league_ranks_and_changes(brief):
    u = brief.unit_league.set_index("unit")
    assert list(brief.unit_league["unit"]) == ["环保", "住建", "城管"]
    assert u.loc["环保", ["cases", "closed", "closed_late", "open", "overdue"]].tolist() == [1, 0, 0, 2, 2]
    assert u.loc["住建", ["cases", "closed", "closed_late", "open", "overdue"]].tolist() == [2, 2, 1, 1, 1]
    assert u.loc["城管", ["cases", "closed", "closed_late", "open", "overdue"]].tolist() == [2, 0, 0, 2, 1]
    assert u.loc["住建", "closure_rate"] == pytest.approx(1.0)
    # February: all one overdue, none closed late; closure rate 住建 0 < 城管 0.5 < 环保 (no cases, last)
    assert u.loc["环保", "previous_rank"] == 3 and u.loc["环保", "rank_change"] == 2
    assert u.loc["住建", "previous_rank"] == 1 and u.loc["住建", "rank_change"] == -1
    assert u.loc["城管", "previous_rank"] == 2 and u.loc["城管", "rank_change"] == -1


def test_street_league_ranks_and_changes(brief):
    s = brief.street_league.set_index("street")
    assert list(brief.street_league["street"]) == ["西街", "东街"]
    assert s.loc["西街", ["cases", "closed", "closed_late", "open", "overdue"]].tolist() == [3, 1, 1, 3, 3]
    assert s.loc["东街", ["cases", "closed", "closed_late", "open", "overdue"]].tolist() == [2, 1, 0, 2, 1]
    assert s.loc["西街", "rank_change"] == 1 and s.loc["东街", "rank_change"] == -1
    assert not s["selected"].any()
    assert s["covered_share"].notna().all()


def test_problems_list_units_with_most_overdue(brief):
    units = [(i.subject, i.values["overdue"]) for i in brief.problems if i.kind == "unit_overdue"]
    assert units == [("环保", 2), ("住建", 1), ("城管", 1)]


def test_overdue_list_longest_first_with_phones_masked(ds, brief):
    assert list(brief.overdue["case_id"]) == ["C9", "C3", "C6", "C8"]
    # C9's deadline 01-20 09:00, the as-of day ends 03-21 00:00: 60 days 15 hours
    assert brief.overdue["days_overdue"].iloc[0] == pytest.approx(60.6, abs=0.05)
    assert set(brief.overdue["reporter_phone"]) == {"138****5678"}
    raw = meeting_brief(ds, mask_personal=False)
    assert set(raw.overdue["reporter_phone"]) == {PHONE}


def test_one_street(ds):
    b = meeting_brief(ds, street="东街")
    assert (b.figure("open").value, b.figure("overdue").value) == (2, 1)  # C5 C9 open, C9 overdue
    assert b.figure("committees").value == 2
    assert b.street_league.set_index("street").loc["东街", "selected"]
    assert b.hot is None  # 18 grids: too few for Gi*
    assert ("meeting.note.few_grids", (("n", 18), ("min", 30))) in b.notes


def test_an_earlier_month(ds):
    b = meeting_brief(ds, month="2024-02")
    assert b.month_end == dt.date(2024, 2, 29) and b.previous_month == "2024-01"
    assert b.figure("open").value == 3 and b.figure("open").previous == 1  # C9 alone at 01-31


def test_bad_street_and_months_are_refused_with_codes(ds):
    with pytest.raises(AnalysisError, match="street '北街' does not exist; the dataset's streets are 东街, 西街") as e:
        meeting_brief(ds, street="北街")
    assert e.value.code == "analysis.street_unknown"
    for text in ("2024-13", "2024/03", "March", ""):
        with pytest.raises(AnalysisError, match="is not a month in the form YYYY-MM") as e:
            parse_month(text)
        assert e.value.code == "analysis.month_invalid"
    for month in ("2024-04", "2023-12"):
        with pytest.raises(AnalysisError, match=f"month {month} is outside the data: choose a month from "
                                                "2024-01 to 2024-03") as e:
            meeting_brief(ds, month=month)
        assert e.value.code == "analysis.month_out_of_range"
        assert dict(e.value.params) == {"month": month, "first": "2024-01", "last": "2024-03"}


def test_error_texts_in_both_languages(ds):
    from i18n import error_text

    with pytest.raises(AnalysisError) as e:
        meeting_brief(ds, month="2024-04")
    assert error_text(e.value, lang="zh") == "月份 2024-04 不在数据范围内，请选择 2024-01 至 2024-03 之间的月份"
    assert error_text(e.value, lang="en") == "Month 2024-04 is outside the data: choose a month from 2024-01 to 2024-03"


def test_newly_hot_grids_are_hot_this_month_and_not_last():
    """A cluster appears in March in the 3 × 3 north-east corner; February is spread about evenly."""
    grids = lattice_grids(6, 6)
    feb = cases_for_counts(grids, 2 + (np.arange(36) % 7 == 0), seed=1, start="2024-02-01", days=28)
    march_counts = np.ones(36, dtype=int)
    corner = [r * 6 + c for r in range(3, 6) for c in range(3, 6)]
    march_counts[corner] = 12
    mar = cases_for_counts(grids, march_counts, seed=2, start="2024-03-01", days=28)
    mar["case_id"] = [f"M{i}" for i in range(len(mar))]
    cases = pd.concat([feb, mar], ignore_index=True)
    import geopandas as gpd

    fac = gpd.GeoDataFrame({"facility_id": ["F1"], "name": ["站"], "type": ["day_care"]},
                           geometry=[grids.geometry.iloc[0].centroid], crs="EPSG:4326")
    ds = Dataset(grids=grids, facilities=fac, cases=gpd.GeoDataFrame(cases, crs="EPSG:4326"),
                 meta=(("as_of", "2024-03-31"),))
    b = meeting_brief(ds)
    table = case_table_from_dataset(ds)
    w = queen_weights(grids)
    now = hot_spots(table, w, CaseFilter(since=dt.date(2024, 3, 1), until=dt.date(2024, 3, 31)), permutations=0).frame
    before = hot_spots(table, w, CaseFilter(since=dt.date(2024, 2, 1), until=dt.date(2024, 2, 29)),
                       permutations=0).frame
    assert b.hot["gi_bin"].tolist() == now["gi_bin"].tolist()
    assert b.hot["gi_z"].to_numpy() == pytest.approx(now["gi_z"].to_numpy())
    assert (before["gi_bin"] <= 0).all()  # an even February: nothing hot
    expected_new = set(now.loc[(now["gi_bin"] >= 1) & (before["gi_bin"] <= 0), "grid_id"])
    assert expected_new and expected_new <= {grids["grid_id"].iloc[i] for i in corner}
    assert set(b.hot.loc[b.hot["newly_hot"], "grid_id"]) == expected_new
    items = [i.subject for i in b.problems if i.kind == "grid_new_hot"]
    assert len(items) == min(5, len(expected_new)) and set(items) <= expected_new


def test_estates_stages_and_plan_hand_counted(ds):
    """Plan 2024-01-01 → 2024-06-30: six month ends, two due by 03-20; 2 campaign estates per street.

    Due for every stage: ceil(2 × 2/6) = 1 per street. 东街: E1, E2 have committees (2 ≥ 1) but no later
    stage (0 < 1); 西街: E3's committee comes after 03-20, E4 has none (0 < 1).
    """
    from dataclasses import replace

    b0 = meeting_brief(ds)
    assert b0.estates_plan is None and ("meeting.note.no_plan", ()) in b0.notes
    planned = replace(ds, meta=(*ds.meta, ("estates_plan_start", "2024-01-01"), ("estates_target", "2024-06-30")))
    b = meeting_brief(planned)
    stages = b.estates_by_stage.set_index("street")
    assert stages.loc["东街", ["estates", "none", "committee_formed"]].tolist() == [2, 0, 2]
    assert stages.loc["西街", ["estates", "none", "committee_formed"]].tolist() == [2, 2, 0]
    plan = b.estates_plan.set_index(["street", "stage"])
    assert plan.loc[("东街", "committee_formed"), ["planned", "actual", "shortfall"]].tolist() == [1, 2, 0]
    assert plan.loc[("西街", "fees_started"), ["planned", "actual", "shortfall"]].tolist() == [1, 0, 1]
    assert plan.loc[("东街", "fees_started"), "required_per_month"] == pytest.approx(2 / 4)
    behind = [(i.subject, i.values["stage"], i.values["shortfall"]) for i in b.problems if i.kind == "street_behind"]
    assert behind == [("东街", "rules_adopted", 1), ("西街", "committee_formed", 1)]
