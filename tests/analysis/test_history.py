"""Coverage over time and the follow-ups' states, on fixtures with openings and closings written by hand."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest

from analysis.coverage import compute_coverage, district_totals
from analysis.followups import FOLLOWUP_COLUMNS, followups_for_month, state_day
from analysis.history import coverage_history, figure_trend, has_facility_dates, operating_mask
from geo.dataset import Dataset
from geo.followups import FollowUp
from tests.analysis.case_fixtures import lattice_grids

# F1 opens 2024-01-10; F2 opens 2024-02-15 and closes 2024-03-10; F3 has no dates (always there);
# F4 opens 2024-03-31 (operating at the end of that day); F5 is planned (never counted).
DATES = {"F1": ("2024-01-10", None), "F2": ("2024-02-15", "2024-03-10"), "F3": (None, None),
         "F4": ("2024-03-31", None), "F5": (None, None)}
OPERATING = {  # by hand, at the end of each day
    dt.date(2023, 12, 31): ["F3"],
    dt.date(2024, 1, 31): ["F1", "F3"],
    dt.date(2024, 2, 29): ["F1", "F2", "F3"],
    dt.date(2024, 3, 9): ["F1", "F2", "F3"],
    dt.date(2024, 3, 10): ["F1", "F3"],  # closed on the 10th: not at that day's end
    dt.date(2024, 3, 31): ["F1", "F3", "F4"],
}


def _dataset(with_dates: bool = True) -> Dataset:
    grids = lattice_grids(6, 6)
    centre = {g: geom.centroid for g, geom in zip(grids["grid_id"], grids.geometry, strict=True)}
    ids = list(DATES)
    fac = gpd.GeoDataFrame({
        "facility_id": ids, "name": [f"站{i}" for i in ids], "type": ["day_care"] * 5,
        "status": ["operating"] * 4 + ["planned"], "street": ["东街", "西街", "东街", "西街", "东街"],
    }, geometry=[centre[g] for g in ("G0101", "G0404", "G0000", "G0305", "G0202")], crs="EPSG:4326")
    if with_dates:
        fac["opened_on"] = pd.to_datetime([DATES[i][0] for i in ids])
        fac["closed_on"] = pd.to_datetime([DATES[i][1] for i in ids])
    return Dataset(grids=grids, facilities=fac, name="测试区", meta=(("as_of", "2024-03-31"),))


def _hand_share(ds: Dataset, ids: list[str], street: str | None = None) -> float:
    """Coverage computed on the facilities picked by hand (no dates involved)."""
    fac = ds.facilities[ds.facilities["facility_id"].isin(ids)].drop(columns=["opened_on", "closed_on"])
    grids = compute_coverage(ds.with_layer("facilities", fac), facility_types=("day_care",), radius_m=300.0,
                             distance="euclidean", weight="elderly").grids
    if street:
        grids = grids[grids["street"] == street]
    return float(district_totals(grids).covered_share)


def test_operating_at_the_end_of_each_day_by_hand():
    ds = _dataset()
    for day, ids in OPERATING.items():
        got = ds.facilities["facility_id"][operating_mask(ds.facilities, day)].tolist()
        assert got == ids, day


@pytest.mark.parametrize("street", [None, "西街"])
def test_coverage_history_equals_coverage_of_the_stations_picked_by_hand(street):
    ds = _dataset()
    days = list(OPERATING)
    hist = coverage_history(ds, days, street=street)
    expected = [_hand_share(ds, ids, street) for ids in OPERATING.values()]
    assert hist["covered_share"].tolist() == pytest.approx(expected)
    # the figures move: F2 (西街) adds coverage in February and takes it away on 03-10
    assert len(set(round(x, 9) for x in expected)) >= 3
    stations = [len([i for i in ids if street is None or ds.facilities.set_index("facility_id").street[i] == street])
                for ids in OPERATING.values()]
    assert hist["stations"].tolist() == stations


def test_without_dates_there_is_no_history_and_every_operating_station_counts():
    ds = _dataset(with_dates=False)
    assert not has_facility_dates(ds) and has_facility_dates(_dataset())
    assert operating_mask(ds.facilities, dt.date(2000, 1, 1)).tolist() == [True, True, True, True, False]
    trend = figure_trend(ds, year=2024, month=3, as_of=dt.date(2024, 3, 31), n=3)
    assert trend["month"].tolist() == ["2024-01", "2024-02", "2024-03"]
    assert trend["coverage"].isna().all() and trend["open"].isna().all()


def test_trend_coverage_by_month_end():
    ds = _dataset()
    trend = figure_trend(ds, year=2024, month=3, as_of=dt.date(2024, 3, 31), n=4)
    assert trend["month"].tolist() == ["2023-12", "2024-01", "2024-02", "2024-03"]
    assert trend["end"].tolist() == [dt.date(2023, 12, 31), dt.date(2024, 1, 31), dt.date(2024, 2, 29),
                                     dt.date(2024, 3, 31)]
    expected = [_hand_share(ds, OPERATING[d]) for d in trend["end"]]
    assert trend["coverage"].tolist() == pytest.approx(expected)


def _fu(i, meeting, due, done_on=None):
    return FollowUp(id=i, title=f"事项{i}", unit="城管", due=due, meeting=meeting, done_on=done_on,
                    note="已办" if done_on else None)


def test_followups_of_a_month_with_their_states():
    items = [
        _fu(1, "2024-01", "2024-02"),                # carried, not done, due Feb: overdue at 04-30
        _fu(2, "2024-02", "2024-04"),                # carried, due April: open at 04-30 (the end of its due month)
        _fu(3, "2024-02", "2024-03", "2024-02-20"),  # done before March began: not listed in March
        _fu(4, "2024-02", "2024-03", "2024-03-15"),  # done in March: listed done
        _fu(5, "2024-03", "2024-05"),                # decided at this meeting
        _fu(6, "2024-04", "2024-05"),                # decided at a later meeting: not listed
        _fu(7, "2024-02", "2024-03", "2024-05-03"),  # closed after the state day: still overdue in March's material
    ]
    day = state_day("2024-03", today=dt.date(2026, 1, 1))
    assert day == dt.date(2024, 4, 30)
    assert state_day("2024-03", today=dt.date(2024, 4, 2)) == dt.date(2024, 4, 2)
    frame = followups_for_month(items, "2024-03", day=day)
    assert list(frame.columns) == list(FOLLOWUP_COLUMNS)
    assert frame[["id", "state", "decided_here"]].values.tolist() == [
        [1, "overdue", False], [7, "overdue", False], [2, "open", False], [5, "open", True], [4, "done", False]]
    assert frame.loc[frame["id"] == 4, ["done_on", "note"]].values.tolist() == [["2024-03-15", "已办"]]
    assert frame.loc[frame["id"] == 7, "done_on"].isna().all()


def test_trend_of_the_meeting_fixture_by_hand():
    """`tests.analysis.meeting_fixtures`'s table, month by month (as of 2024-03-20): open/overdue at each month's
    end, the month's closure rate, committees formed by then (E1 02-10, E2 03-15, E3 03-25)."""
    from analysis.meeting import meeting_brief
    from tests.analysis.meeting_fixtures import meeting_dataset

    trend = meeting_brief(meeting_dataset()).trend
    last3 = trend.tail(3)
    assert last3["month"].tolist() == ["2024-01", "2024-02", "2024-03"]
    assert last3["open"].tolist() == [1, 3, 5]  # C9 | C2 C3 C9 | C3 C5 C6 C8 C9
    assert last3["overdue"].tolist() == [1, 3, 4]  # C9 | C2 C3 C9 | C3 C6 C8 C9
    assert last3["closure_rate"].tolist() == pytest.approx([0.0, 1 / 3, 2 / 5])  # C9 | C1 of C1-C3 | C4 C7 of C4-C8
    assert last3["committees"].tolist() == [0, 1, 2]
    assert trend["coverage"].isna().all()  # no opening dates
    assert trend.head(9)[["open", "overdue", "closure_rate"]].isna().all().all()  # before the first case


def test_the_overview_trend_is_the_meetings():
    from analysis.meeting import meeting_brief, trend_of
    from tests.analysis.meeting_fixtures import meeting_dataset

    ds = meeting_dataset()
    for street in (None, "西街"):
        pd.testing.assert_frame_equal(trend_of(ds, street=street), meeting_brief(ds, street=street).trend)
