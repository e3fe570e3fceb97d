"""Case handling figures against a fixture counted by hand."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from analysis.cases import (
    CaseFilter,
    build_case_table,
    case_kpis,
    case_mask,
    cases_in_grid,
    counts_over_time,
    kpis_over_time,
    mask_phone,
    overdue_list,
    resolve_as_of,
    unit_league,
    week_index,
    week_start,
)
from geo.errors import AnalysisError
from tests.analysis.case_fixtures import lattice_grids

T = pd.Timestamp
AS_OF = "2024-03-10"  # counted at the end of that day: 2024-03-11 00:00

# case, grid, category, unit, status, reported, deadline, closed
ROWS = [
    ("A1", "G0000", "路灯", "城管", "closed", "2024-03-01 08:00", "2024-03-03 08:00", "2024-03-02 08:00"),  # 24 h
    ("A2", "G0000", "路灯", "城管", "closed", "2024-03-01 08:00", "2024-03-02 08:00", "2024-03-04 20:00"),  # late, 84 h
    ("A3", "G0000", "油烟", "环保", "open", "2024-03-05 09:00", "2024-03-08 09:00", None),  # overdue
    ("A4", "G0001", "油烟", "环保", "open", "2024-03-09 09:00", "2024-03-12 09:00", None),  # open, not yet due
    ("A5", "G0001", "路灯", "城管", "open", "2024-02-20 10:00", "2024-02-25 10:00", None),  # overdue
    ("A6", "G0002", "路灯", "城管", "closed", "2024-02-26 10:00", "2024-02-28 10:00", "2024-02-27 22:00"),  # 36 h
    ("A7", "G0100", "油烟", "环保", "closed", "2024-03-08 10:00", None, "2024-03-09 10:00"),  # no deadline, 24 h
    ("A8", "G0100", "路灯", "城管", "closed", "2024-03-09 12:00", "2024-03-10 12:00", "2024-03-12 12:00"),
    # A8: closed after the as-of day: open at the as-of day, and overdue (deadline 03-10 12:00 passed)
    ("A9", None, "油烟", "环保", "open", "2024-03-06 10:00", "2024-03-07 10:00", None),  # outside every grid
    ("A10", "G0101", "路灯", "城管", "open", "2024-03-12 10:00", "2024-03-14 10:00", None),  # after the as-of day
]


@pytest.fixture(scope="module")
def grids():
    return lattice_grids(2, 2)  # G0000 G0001 (东街, 西街), G0100 G0101


@pytest.fixture(scope="module")
def cases(grids):
    df = pd.DataFrame(ROWS, columns=["case_id", "grid_id", "category", "responsible_unit", "status",
                                     "reported_at", "deadline", "closed_at"])
    for col in ("reported_at", "deadline", "closed_at"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
    df["description"] = ["<b>灯不亮</b>"] + ["问题"] * (len(df) - 1)
    df["reporter_phone"] = ["13812345678"] + [None] * (len(df) - 1)
    df["source"] = "网格员巡查"
    centres = grids.set_index("grid_id").geometry.representative_point()
    far = gpd.points_from_xy([114.0], [30.0])[0]
    pts = [centres.get(g, far) if g else far for g in df["grid_id"]]
    df["grid_id"] = df["grid_id"].astype("string")
    return gpd.GeoDataFrame(df, geometry=pts, crs="EPSG:4326")


@pytest.fixture(scope="module")
def table(cases, grids):
    return build_case_table(cases, grids, as_of=AS_OF)


def test_district_figures(table):
    k = case_kpis(table).iloc[0]
    # known: A1..A9 (A10 comes after the as-of day); closed: A1, A2, A6, A7 (A8 closed later)
    assert k["cases"] == 9
    assert k["closed"] == 4
    assert k["open"] == 5  # A3, A4, A5, A8, A9
    assert k["overdue"] == 4  # A3, A5, A8, A9
    assert k["closed_late"] == 1  # A2
    assert k["closure_rate"] == pytest.approx(4 / 9)
    assert k["median_hours_to_close"] == pytest.approx(30.0)  # 24, 24, 36, 84
    assert table.outside == 2  # A9 has no grid; A6 names a grid that does not exist


def test_by_grid_street_category_unit(table):
    g = case_kpis(table, by="grid").set_index("grid")
    assert g.loc["G0000", ["cases", "open", "overdue", "closed", "closed_late"]].tolist() == [3, 1, 1, 2, 1]
    assert g.loc["G0000", "median_hours_to_close"] == pytest.approx(54.0)
    assert g.loc["G0001", ["cases", "open", "overdue"]].tolist() == [2, 2, 1]
    assert g.loc["G0101", "cases"] == 0 and np.isnan(g.loc["G0101", "closure_rate"])
    s = case_kpis(table, by="street").set_index("street")
    # 东街: G0000, G0100 -> A1 A2 A3 A7 A8; 西街: G0001, G0101 -> A4 A5 (A10 not yet known)
    assert s.loc["东街", ["cases", "overdue", "closed"]].tolist() == [5, 2, 3]
    assert s.loc["西街", ["cases", "overdue", "closed"]].tolist() == [2, 1, 0]
    c = case_kpis(table, by="category").set_index("category")
    assert c.loc["路灯", ["cases", "open", "overdue", "closed_late"]].tolist() == [5, 2, 2, 1]
    assert c.loc["油烟", ["cases", "open", "overdue"]].tolist() == [4, 3, 2]
    u = case_kpis(table, by="unit").set_index("unit")
    assert u.loc["环保", "median_hours_to_close"] == pytest.approx(24.0)


def test_unknown_grid_is_outside(cases, table):
    # A6 names grid G0002, which does not exist: it is counted outside, like A9
    assert table.grid[cases.index[cases["case_id"] == "A6"][0]] == -1
    assert case_kpis(table, by="grid")["cases"].sum() == 7


def test_as_of_changes_state(table):
    k = case_kpis(table, as_of="2024-03-13").iloc[0]
    # now A10 is known (open, not due); A8 closed late (deadline 03-10 12:00, closed 03-12 12:00)
    assert (k["cases"], k["closed"], k["open"], k["overdue"], k["closed_late"]) == (10, 5, 5, 4, 2)
    early = case_kpis(table, as_of="2024-02-29").iloc[0]
    # known: A5, A6; A5 overdue since 02-25
    assert (early["cases"], early["closed"], early["overdue"]) == (2, 1, 1)


def test_filters(table):
    assert case_mask(table, CaseFilter(categories=("油烟",))).sum() == 4
    assert case_mask(table, CaseFilter(since=dt.date(2024, 3, 5), until=dt.date(2024, 3, 8))).sum() == 3
    assert case_mask(table, CaseFilter(statuses=("open",))).sum() == 5  # recorded status, A10 included
    assert case_mask(table, CaseFilter(units=("城管",), streets=("东街",))).sum() == 3
    with pytest.raises(AnalysisError, match=r"category '垃圾' does not exist; the cases have: 油烟, 路灯"):
        case_mask(table, CaseFilter(categories=("垃圾",)))
    with pytest.raises(AnalysisError, match=r"status 'pending' does not exist; use open or closed"):
        case_mask(table, CaseFilter(statuses=("pending",)))
    with pytest.raises(AnalysisError, match=r"street '南街' does not exist"):
        case_mask(table, CaseFilter(streets=("南街",)))
    with pytest.raises(AnalysisError, match=r"the period starts \(2024-03-09\) after it ends \(2024-03-01\)"):
        case_mask(table, CaseFilter(since=dt.date(2024, 3, 9), until=dt.date(2024, 3, 1)))
    with pytest.raises(AnalysisError, match="`by` was 'colour' but is expected to be one of: street, grid"):
        case_kpis(table, by="colour")


def test_overdue_list(cases, table):
    od = overdue_list(cases, table)
    assert od["case_id"].tolist() == ["A5", "A9", "A3", "A8"]
    # A5: deadline 02-25 10:00, as-of end 03-11 00:00 -> 14 days 14 h = 14.58 days
    assert od["days_overdue"].tolist() == [14.6, 3.6, 2.6, 0.5]
    assert od.loc[0, "age_days"] == pytest.approx(19.6)
    assert od.loc[1, "street"] == "" and pd.isna(od.loc[1, "grid_id"])
    one = overdue_list(cases, table, CaseFilter(categories=("路灯",)))
    assert one["case_id"].tolist() == ["A5", "A8"]


def test_cases_in_grid_masks_phone(cases, table):
    rows = cases_in_grid(cases, table, "G0000")
    assert rows["case_id"].tolist() == ["A3", "A1", "A2"]  # newest first (A1 and A2 tie: layer order)
    assert rows["state"].tolist() == ["overdue", "closed", "closed"]
    assert rows.loc[rows["case_id"] == "A1", "reporter_phone"].item() == "138****5678"
    assert rows.loc[rows["case_id"] == "A1", "description"].item() == "<b>灯不亮</b>"  # raw here; escaped when shown
    with pytest.raises(AnalysisError, match="grid 'G9999' does not exist"):
        cases_in_grid(cases, table, "G9999")


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("027-8765 4321") == "027****4321"
    assert mask_phone("12345") == "*****"
    assert mask_phone(None) == "" and mask_phone(pd.NA) == "" and mask_phone(float("nan")) == ""


def test_over_time(table):
    weekly = kpis_over_time(table, period="week")
    # weeks (Mondays): 02-19 (A5), 02-26 (A1 A2 A6), 03-04 (A3 A7 A8 A9 at 03-05..03-09), A4 03-09 -> same week
    assert weekly["period_start"].dt.strftime("%Y-%m-%d").tolist() == ["2024-02-19", "2024-02-26", "2024-03-04"]
    assert weekly["cases"].tolist() == [1, 3, 5]
    assert weekly["overdue"].tolist() == [1, 0, 3]
    monthly = counts_over_time(table, period="month", by="category")
    m = monthly.set_index(["period_start", "category"])["cases"]
    assert m[(T("2024-02-01"), "路灯")] == 2 and m[(T("2024-03-01"), "油烟")] == 4
    assert m[(T("2024-02-01"), "油烟")] == 0
    assert m.sum() == 10


def test_unit_league(table):
    league = unit_league(table)
    assert league["unit"].tolist() == ["城管", "环保"]
    top = league.iloc[0]
    # 城管 and 环保 both have 2 overdue; 城管 has 1 closed late, so it ranks first
    assert top["unit"] == "城管" and top["rank"] == 1
    assert league.set_index("unit").loc["环保", "overdue_share"] == pytest.approx(2 / 3)


def test_week_numbers():
    days = (pd.to_datetime(["2024-03-04", "2024-03-10", "2024-03-11"]).values.astype("datetime64[D]")
            .astype("int64"))
    w = week_index(days)
    assert w[0] == w[1] and w[2] == w[1] + 1
    assert str(week_start(w[0])) == "2024-03-04"


def test_resolve_as_of(cases):
    assert resolve_as_of({"as_of": "2024-03-10"}, cases) == T("2024-03-10")
    assert resolve_as_of({}, cases) == T("2024-03-12")
    assert resolve_as_of({"as_of": "soon"}, cases) == T("2024-03-12")


def test_bad_layers(grids, cases):
    with pytest.raises(AnalysisError, match=r"the dataset has no cases: load a cases layer \(网格事件\) first"):
        build_case_table(cases.iloc[:0], grids)
    with pytest.raises(AnalysisError, match="the cases layer has no column 'status'"):
        build_case_table(cases.drop(columns="status"), grids)
    t = build_case_table(cases, grids)
    assert t.as_of == T("2024-03-12")
    assert_array_equal(t.closed, cases["status"].eq("closed").to_numpy())
