"""Every count the app shows, three ways on the same data: the store's counts (GeoPackage: pandas over its
version files; PostGIS: SQL built from geo.calendar's expressions), `analysis.cases` (the pages' case table),
and a plain loop over the rows written here with datetime (the rule as docs/meeting.md words it).

Counted per district, street, grid, responsible unit, category and week, at the dataset's own as-of day and at
other days, with cases closed after the day, reported after it, without a deadline, without closed_at, without a
unit, outside every grid, in weeks across a year end, and a dataset whose meta has no as_of. Runs on both
backends (`store_url`: PostGIS under `make test`, see tests/storefixtures.py).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from analysis.cases import build_case_table, case_kpis, case_table_from_dataset, kpis_over_time, resolve_as_of
from geo.calendar import week_index
from geo.dataset import Dataset
from geo.schema import validate_layer
from geo.storage import open_store

COUNTS = ("cases", "open", "overdue", "closed_late")
BYS = (("district",), ("street",), ("grid_id",), ("responsible_unit",), ("category",), ("week",))
AS_OF = "2024-12-31"

# 16 grids on a 4 x 4 lattice: two districts of two streets each
GRIDS = [(f"G{i:02d}", "东区" if i < 8 else "西区", ("甲街", "乙街", "丙街", "丁街")[i // 4]) for i in range(16)]


def _grid_box(i: int):
    x, y = 113.10 + 0.01 * (i % 4), 27.80 + 0.01 * (i // 4)
    return box(x, y, x + 0.01, y + 0.01)


def _cases(seed: int = 11) -> list[tuple]:
    """(case_id, grid index or None, reported, status, deadline, closed_at, category, unit) — edge cases by
    hand, then a seeded bulk."""
    rows = [
        # closed after the as-of day: open (and overdue) at 2024-12-31
        ("E01", 0, "2024-12-20 09:00:00", "closed", "2024-12-25 09:00:00", "2025-01-02 10:00:00", "路灯", "城管"),
        # closed after the day, not yet due then
        ("E02", 1, "2024-12-30 09:00:00", "closed", "2025-01-06 09:00:00", "2025-01-03 10:00:00", "路灯", "城管"),
        # no deadline: never overdue, open or closed
        ("E03", 2, "2024-11-01 08:00:00", "open", None, None, "油烟", "环保"),
        ("E04", 2, "2024-11-01 08:00:00", "closed", None, "2024-11-20 08:00:00", "油烟", "环保"),
        # closed without closed_at: closed, never late
        ("E05", 3, "2024-10-01 08:00:00", "closed", "2024-10-02 08:00:00", None, "道路破损", "住建"),
        # closed late, and closed in time
        ("E06", 4, "2024-09-01 08:00:00", "closed", "2024-09-02 08:00:00", "2024-09-05 08:00:00", "道路破损", "住建"),
        ("E07", 4, "2024-09-01 08:00:00", "closed", "2024-09-05 08:00:00", "2024-09-02 08:30:00.250", "渣土扬尘",
         "城管"),
        # due the last second of the day / at midnight after it
        ("E08", 5, "2024-12-28 08:00:00", "open", "2024-12-31 23:59:59", None, "路灯", "城管"),
        ("E09", 5, "2024-12-28 08:00:00", "open", "2025-01-01 00:00:00", None, "路灯", "城管"),
        # reported after the as-of day: not known yet (but counted at a later day)
        ("E10", 9, "2025-01-01 00:00:00", "open", "2025-01-02 00:00:00", None, "违章建筑", "城管"),
        ("E11", 9, "2025-01-05 23:00:00", "closed", "2025-01-08 00:00:00", "2025-01-06 12:00:00", "违章建筑", None),
        # no responsible unit; reported at midnight starting the day, due at midnight ending it
        ("E12", 10, "2024-12-29 18:00:00", "open", "2024-12-30 18:00:00", None, "邻里纠纷", None),
        ("E13", 11, "2024-12-31 00:00:00", "open", "2025-01-01 00:00:00", None, "邻里纠纷", "司法所"),
        # outside every grid: in the totals, by category and unit, not per grid, street or district
        ("E14", None, "2024-12-01 08:00:00", "open", "2024-12-02 08:00:00", None, "路灯", "城管"),
        # the week that spans the new year (Monday 2024-12-30 .. Sunday 2025-01-05) and the ones around it
        ("E15", 12, "2024-12-29 23:59:59", "open", None, None, "市容环境", "城管"),
        ("E16", 13, "2024-12-30 00:00:00", "open", None, None, "市容环境", "城管"),
        ("E17", 14, "2025-01-06 00:00:00", "open", None, None, "市容环境", "城管"),
    ]
    def text(v):
        return None if v is None else str(v).replace("T", " ")

    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-06-01T00:00:00")
    categories = ("路灯", "油烟", "道路破损", "市容环境", "邻里纠纷")
    units = ("城管", "环保", "住建", "司法所", None)
    for k in range(400):
        reported = start + np.timedelta64(int(rng.integers(0, 235 * 86400)), "s")
        deadline = reported + np.timedelta64(int(rng.integers(1, 15 * 86400)), "s") if rng.random() > 0.15 else None
        closed = rng.random() < 0.7
        closed_at = reported + np.timedelta64(int(rng.integers(3600, 25 * 86400)), "s") \
            if closed and rng.random() > 0.1 else None
        rows.append((f"R{k:03d}", int(rng.integers(0, 16)), text(reported), "closed" if closed else "open",
                     text(deadline), text(closed_at), categories[int(rng.integers(0, 5))],
                     units[int(rng.integers(0, 5))]))
    return rows


CASES = _cases()


def _dataset(*, as_of: str | None) -> Dataset:
    grids = gpd.GeoDataFrame(
        {"grid_id": [g[0] for g in GRIDS], "district": [g[1] for g in GRIDS], "street": [g[2] for g in GRIDS],
         "community": ["一社区"] * 16, "households": [100] * 16, "population": [300] * 16, "elderly": [60] * 16},
        geometry=[_grid_box(i) for i in range(16)], crs=4326)
    rng = np.random.default_rng(3)
    points = []
    for row in CASES:
        if row[1] is None:
            points.append(Point(112.0, 27.0))  # far outside the lattice
        else:
            b = _grid_box(row[1]).bounds
            points.append(Point(b[0] + 0.002 + 0.006 * rng.random(), b[1] + 0.002 + 0.006 * rng.random()))
    cases = gpd.GeoDataFrame(
        {"case_id": [r[0] for r in CASES], "category": [r[6] for r in CASES],
         "reported_at": pd.to_datetime([r[2] for r in CASES], format="ISO8601"),
         "status": pd.array([r[3] for r in CASES], dtype="string"),
         "deadline": pd.to_datetime([r[4] for r in CASES], format="ISO8601"),
         "closed_at": pd.to_datetime([r[5] for r in CASES], format="ISO8601"),
         "responsible_unit": pd.array([r[7] for r in CASES], dtype="string")},
        geometry=points, crs=4326)
    facilities = gpd.GeoDataFrame({"facility_id": ["F1"], "name": ["站"], "type": ["day_care"]},
                                  geometry=[Point(113.115, 27.805)], crs=4326)
    meta = (("as_of", as_of),) if as_of else ()
    return Dataset(grids=validate_layer(grids, "grids"), facilities=validate_layer(facilities, "facilities"),
                   cases=validate_layer(cases, "cases"), name="对账区", meta=meta)


def _brute(by: tuple[str, ...], as_of: str) -> dict[tuple, list[int]]:
    """The rule by a loop over the rows, with datetime: known, open, overdue and closed late at the end of
    ``as_of``; rows whose key is missing are left out; groups with nothing known are left out."""
    end = dt.datetime.combine(dt.date.fromisoformat(as_of), dt.time()) + dt.timedelta(days=1)

    def ts(text):
        return None if text is None else dt.datetime.fromisoformat(text)

    out: dict[tuple, list[int]] = {}
    for _id, grid, reported, status, deadline, closed_at, category, unit in CASES:
        rep, dl, cl = ts(reported), ts(deadline), ts(closed_at)
        if rep >= end:
            continue
        monday = rep.date() - dt.timedelta(days=rep.weekday())
        values = {"grid_id": GRIDS[grid][0] if grid is not None else None,
                  "district": GRIDS[grid][1] if grid is not None else None,
                  "street": GRIDS[grid][2] if grid is not None else None,
                  "category": category, "responsible_unit": unit,
                  "week": (monday - dt.date(1969, 12, 29)).days // 7}  # week 0 starts Monday 1969-12-29
        key = tuple(values[b] for b in by)
        if any(v is None for v in key):
            continue
        closed = status == "closed" and (cl is None or cl < end)
        is_open = not closed
        row = out.setdefault(key, [0, 0, 0, 0])
        row[0] += 1
        row[1] += int(is_open)
        row[2] += int(is_open and dl is not None and dl < end)
        row[3] += int(closed and dl is not None and cl is not None and cl > dl)
    return out


def _store_counts(store, by: tuple[str, ...], as_of: str | None) -> dict[tuple, list[int]]:
    frame = store.case_counts(by, as_of=as_of)
    out = {}
    for row in frame[[*by, *COUNTS]].itertuples(index=False):
        key = tuple(None if pd.isna(v) else (int(v) if b == "week" else str(v)) for b, v in zip(by, row, strict=False))
        counts = [int(v) for v in row[len(by):]]
        if any(v is None for v in key) or not any(counts):
            continue
        out[key] = counts
    return out


def _analysis_counts(table, grids: pd.DataFrame, by: str, as_of: str | None) -> dict[tuple, list[int]]:
    """The same figures through analysis.cases (case_kpis by group, kpis_over_time by week)."""
    if by == "week":
        frame = kpis_over_time(table, period="week", as_of=as_of)
        days = frame["period_start"].to_numpy().astype("datetime64[D]").astype("int64")
        frame = frame.assign(week=week_index(days))
    elif by == "district":
        frame = case_kpis(table, by="grid", as_of=as_of)
        district = grids.set_index("grid_id")["district"]
        frame = frame.assign(district=district.loc[frame["grid"].astype(str)].to_numpy())
        frame = frame.groupby("district", as_index=False)[list(COUNTS)].sum()
    else:
        name = {"grid_id": "grid", "responsible_unit": "unit"}.get(by, by)
        frame = case_kpis(table, by=name, as_of=as_of).rename(columns={name: by})
    out = {}
    for row in frame[[by, *COUNTS]].itertuples(index=False):
        counts = [int(v) for v in row[1:]]
        if any(counts):
            out[(int(row[0]) if by == "week" else str(row[0]),)] = counts
    return out


@pytest.fixture
def stored(store_url):
    store = open_store(store_url)
    store.import_dataset(_dataset(as_of=AS_OF), source="parity.gpkg")
    return store


@pytest.mark.parametrize("as_of", [None, AS_OF, "2024-09-30", "2025-01-05"])
@pytest.mark.parametrize("by", BYS, ids=lambda b: b[0])
def test_every_count_three_ways(stored, by, as_of):
    ds = stored.load()
    day = as_of or ds.meta_dict["as_of"]
    want = _brute(by, day)
    assert want, "the comparison is not between empty counts"
    assert _store_counts(stored, by, as_of) == want
    table = case_table_from_dataset(ds)
    assert _analysis_counts(table, ds.grids, by[0], as_of) == want


def test_grid_by_week_three_ways(stored):
    want = _brute(("grid_id", "week"), AS_OF)
    assert _store_counts(stored, ("grid_id", "week"), None) == want
    # the city page's hot-spot counts: cases per grid and week from the store
    weeks = {k[1] for k in want}
    assert {week_index((dt.date(2024, 12, 30) - dt.date(1970, 1, 1)).days)} <= weeks  # the new-year week


def test_the_edge_cases_are_where_the_rule_says(stored):
    """A few figures read off the table of cases above, by hand, at the end of 2024-12-31."""
    got = stored.case_counts(("category",), as_of=AS_OF).set_index("category")
    want = _brute(("category",), AS_OF)
    assert {k[0]: v for k, v in want.items()} == {c: [int(got.loc[c, n]) for n in COUNTS] for c in got.index
                                                  if got.loc[c, "cases"]}
    # 违章建筑 is E10 and E11 alone, both reported after the day: no row then. At 2025-01-05: both known (E11 at
    # 23:00 that day), both open (E11 is closed on the 6th), E10 overdue since the 2nd, E11 due on the 8th
    assert "违章建筑" not in got.index
    later = stored.case_counts(("category",), as_of="2025-01-05").set_index("category")
    assert [int(later.loc["违章建筑", n]) for n in COUNTS] == [2, 2, 1, 0]
    # 道路破损 closed late: E06 (closed three days after its deadline), not E05 (closed, no closed_at)
    assert got.loc["道路破损", "closed_late"] >= 1


def test_missing_as_of_means_the_latest_report_everywhere(store_url):
    store = open_store(store_url)
    store.import_dataset(_dataset(as_of=None), source="no_as_of.gpkg")
    ds = store.load()
    latest = max(dt.datetime.fromisoformat(r[2]) for r in CASES).date()  # 2025-01-06
    assert resolve_as_of({}, ds.cases) == pd.Timestamp(latest)
    table = case_table_from_dataset(ds)
    assert table.as_of == pd.Timestamp(latest)
    for by in BYS:
        want = _brute(by, latest.isoformat())
        assert _store_counts(store, by, None) == want, by
        assert _analysis_counts(table, ds.grids, by[0], None) == want, by
    # and the meta's as_of, when the dataset has one, is what every path takes
    built = build_case_table(ds.cases, ds.grids, as_of=resolve_as_of({"as_of": AS_OF}, ds.cases))
    assert _analysis_counts(built, ds.grids, "district", None) == _brute(("district",), AS_OF)
