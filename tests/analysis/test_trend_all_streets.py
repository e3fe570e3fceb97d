"""Every street's sparkline figures in one pass (`analysis.history.figure_trends`, `analysis.meeting.trends_of`,
`analysis.pagedata.build_trends`): frame for frame what the per-street `analysis.meeting.trend_of` gives, on the
demo and on a hand-made district with the shapes of real data (a street without cases, a street whose cases are all
older than the window, numeric ids, cases outside every grid, an estate without a street, one street only); the case
figures also against a plain loop over the cases; and what an import keeps (`pagedata.prepare`)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis import history, pagedata
from analysis.cases import case_table_from_dataset
from analysis.meeting import trend_of, trends_of
from geo.dataset import DEMO_PATH, Dataset, read_dataset
from geo.errors import AnalysisError
from tests.analysis.case_fixtures import lattice_grids

AS_OF = "2024-03-20"
# columns 0-1 东街, 2-3 西街, 4 南街 (no case), 5 北街 (cases only in 2022, before the 12 months up to 2024-03)
STREET_OF_COLUMN = ("东街", "东街", "西街", "西街", "南街", "北街")


def _street_of(grid_ids: pd.Series) -> pd.Series:
    return grid_ids.map(lambda g: STREET_OF_COLUMN[(int(g) - 1) % 6])


def _real_shapes(*, one_street: bool = False) -> Dataset:
    """A 6 × 6 district with numeric grid, case, facility and estate ids (as a spreadsheet exports them)."""
    grids = lattice_grids(6, 6)
    grids["grid_id"] = np.arange(1, 37, dtype="int64")  # row by row: grid g is in column (g - 1) % 6
    grids["street"] = pd.array(_street_of(grids["grid_id"]), dtype="string")
    centre = {g: geom.centroid for g, geom in zip(grids["grid_id"], grids.geometry, strict=True)}
    rng = np.random.default_rng(7)
    n = 400
    grid = rng.choice(np.array([g for g in range(1, 37) if (g - 1) % 6 < 4]), n)  # 东街 and 西街
    reported = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.uniform(0, 444 * 86400, n), unit="s")  # to 03-19
    grid = np.concatenate([grid, [6, 12, 18, 6], [1, 2]])  # 北街's four cases of 2022; two soon outside every grid
    reported = reported.append(pd.DatetimeIndex(["2022-03-05 10:00", "2022-06-01 08:00", "2022-11-30 23:00",
                                                 "2022-12-31 23:59", "2023-11-11 11:00", "2024-02-02 12:00"]))
    n = len(grid)
    deadline = reported + pd.to_timedelta(rng.integers(1, 40, n), unit="D")
    deadline = deadline.where(rng.random(n) > 0.1)  # one in ten without a deadline: never overdue
    closed_at = reported + pd.to_timedelta(rng.uniform(0.1, 60, n), unit="D")
    status = np.where(rng.random(n) < 0.75, "closed", "open")
    closed_at = closed_at.where((status == "closed") & (rng.random(n) > 0.05))  # some closed without a time
    status[-6:-2] = ["open", "closed", "open", "closed"]  # 北街: two of its 2022 cases still open
    points = [shapely.Point(centre[g].x + rng.uniform(-0.001, 0.001), centre[g].y) for g in grid]
    cases = gpd.GeoDataFrame({
        "case_id": np.arange(100001, 100001 + n, dtype="int64"),
        "category": pd.array(["市容环境"] * n, dtype="string"),
        "reported_at": reported.astype("datetime64[ns]"), "status": pd.array(status, dtype="string"),
        "deadline": deadline.astype("datetime64[ns]"), "closed_at": closed_at.astype("datetime64[ns]"),
        "grid_id": pd.array(grid, dtype="Int64"),
    }, geometry=points, crs="EPSG:4326")
    cases.loc[cases.index[-2:], "grid_id"] = pd.NA  # outside every grid: in the district's figures only
    facilities = gpd.GeoDataFrame({
        "facility_id": np.array([501, 502, 503, 504], dtype="int64"), "name": ["甲站", "乙站", "丙站", "丁站"],
        "type": ["day_care"] * 4, "status": ["operating"] * 4,
        "opened_on": pd.to_datetime(["2023-02-10", "2023-07-01", None, "2024-01-31"]),
        "closed_on": pd.to_datetime([None, "2023-12-15", None, None]),
    }, geometry=[centre[g] for g in (8, 10, 29, 17)], crs="EPSG:4326")
    estates = gpd.GeoDataFrame({
        "estate_id": np.arange(9001, 9008, dtype="int64"), "name": [f"{i}号院" for i in range(1, 8)],
        "households": [100, 120, 80, 60, 200, 90, 50],
        "management": ["unmanaged"] * 6 + ["property_company"],
        "street": pd.array(["东街", "东街", "西街", "北街", None, "西街", "东街"], dtype="string"),
        "committee_formed_on": pd.to_datetime(["2023-05-02", "2024-03-15", "2023-12-31", "2022-08-01", "2023-09-09",
                                               None, "2023-06-01"]),
    }, geometry=[centre[g] for g in (1, 7, 3, 6, 20, 15, 13)], crs="EPSG:4326")
    ds = Dataset(grids=grids, facilities=facilities, estates=estates, cases=cases, name="测试区",
                 meta=(("as_of", AS_OF), ("district", "测试区")))
    if one_street:
        keep = grids["street"] == "东街"
        ids = set(grids.loc[keep, "grid_id"])
        ds = Dataset(grids=grids[keep], facilities=facilities.iloc[[0]], estates=estates[estates["street"] == "东街"],
                     cases=cases[cases["grid_id"].isin(ids).fillna(False).to_numpy(dtype=bool)], name="测试区",
                     meta=ds.meta)
    return ds


def _assert_like_trend_of(ds: Dataset, *, table=None) -> dict:
    """`trends_of` against `trend_of`, street by street and for the whole district."""
    every = trends_of(ds, table=table)
    assert list(every) == [None, *ds.streets]
    for street in (None, *ds.streets):
        pd.testing.assert_frame_equal(every[street], trend_of(ds, street=street, table=table), obj=repr(street))
    return every


def test_every_street_of_the_demo_is_its_own_trend():
    ds = read_dataset(DEMO_PATH)
    every = _assert_like_trend_of(ds, table=case_table_from_dataset(ds))
    assert len(ds.streets) == 5
    # the demo has every figure: coverage from the stations' opening dates, cases, committees
    for street in (None, *ds.streets):
        assert every[street][["coverage", "open", "closure_rate", "committees"]].notna().all().all()
    assert every[None]["committees"].iloc[-1] == sum(every[s]["committees"].iloc[-1] for s in ds.streets)


def test_real_data_shapes_give_the_per_street_trends():
    ds = _real_shapes()
    assert ds.streets == ["东街", "北街", "南街", "西街"]
    every = _assert_like_trend_of(ds)
    months = every[None]["month"].tolist()
    assert months[0] == "2023-04" and months[-1] == "2024-03" and len(months) == 12
    south, north = every["南街"], every["北街"]
    assert (south[["open", "overdue"]] == 0).all().all() and south["closure_rate"].isna().all()
    assert south["committees"].isna().all()  # no campaign estate in 南街: unknown, not 0
    assert (north["open"] == 2).all() and north["closure_rate"].isna().all()  # nothing reported in the window
    assert (north["committees"] == 1).all()
    # coverage changes as stations open and close (hand: 502 opens 07-01 and closes 12-15, 504 opens 01-31)
    cov = every[None].set_index("month")["coverage"]
    assert cov["2023-06"] < cov["2023-07"] and cov["2023-12"] < cov["2023-11"] and cov["2024-01"] > cov["2023-12"]


def test_one_street_only_and_no_cases_layer():
    one = _real_shapes(one_street=True)
    assert one.streets == ["东街"]
    every = _assert_like_trend_of(one)
    pd.testing.assert_frame_equal(every[None].drop(columns="committees"), every["东街"].drop(columns="committees"))
    no_cases = one.with_layer("cases", None)
    every = _assert_like_trend_of(no_cases)
    assert every["东街"][["open", "overdue", "closure_rate"]].isna().all().all()


def test_estates_without_a_street_leave_the_streets_committees_unknown():
    ds = _real_shapes()
    ds = ds.with_layer("estates", ds.estates.drop(columns=["street"]))
    every = _assert_like_trend_of(ds)
    assert every[None]["committees"].notna().all()
    assert all(every[s]["committees"].isna().all() for s in ds.streets)


def test_the_case_figures_by_a_plain_loop_over_the_cases():
    """Open and overdue at each month's end, the month's closure rate and committees formed by then, counted case
    by case with the handling rule written out (`analysis.cases`: known if reported before the end of the day;
    closed if its status says so and it has no closing time or closed before then; overdue if open past its
    deadline), street by street and for the whole district (cases outside every grid too)."""
    ds = _real_shapes()
    every = trends_of(ds)
    street_of = dict(zip(ds.grids["grid_id"].astype(str), ds.grids["street"], strict=True))
    rows = list(ds.cases.itertuples())
    camp = ds.estates[ds.estates["management"] == "unmanaged"]
    for street in (None, *ds.streets):
        for _, got in every[street].iterrows():
            end = got["end"]
            after = pd.Timestamp(end) + pd.Timedelta(days=1)
            start = pd.Timestamp(dt.date(end.year, end.month, 1))
            n_open = n_overdue = n_month = n_closed = 0
            for c in rows:
                if street is not None and (pd.isna(c.grid_id) or street_of[str(c.grid_id)] != street):
                    continue
                if not c.reported_at < after:
                    continue
                closed = c.status == "closed" and (pd.isna(c.closed_at) or c.closed_at < after)
                n_open += not closed
                n_overdue += (not closed) and pd.notna(c.deadline) and c.deadline < after
                if start <= c.reported_at:
                    n_month += 1
                    n_closed += closed
            assert (got["open"], got["overdue"]) == (n_open, n_overdue), (street, end)
            if n_month:
                assert got["closure_rate"] == pytest.approx(n_closed / n_month, rel=1e-15), (street, end)
            else:
                assert np.isnan(got["closure_rate"]), (street, end)
            mine = camp if street is None else camp[camp["street"] == street]
            formed = int((mine["committee_formed_on"] < after).sum())
            assert got["committees"] == formed if len(mine) else np.isnan(got["committees"]), (street, end)


def test_a_street_the_cases_do_not_know_is_left_out_and_refused_alone():
    ds = _real_shapes()
    every = trends_of(ds, streets=("东街", "无此街"))
    assert list(every) == [None, "东街"]
    unknown = "street '无此街' does not exist; the cases have: 东街, 北街, 南街, 西街"
    with pytest.raises(AnalysisError, match=unknown) as per_street:
        trend_of(ds, street="无此街")
    kept: dict[str, object] = {}
    with pytest.raises(AnalysisError, match=unknown) as page_data:
        pagedata.build_trend(ds, "无此街", lambda name, build: kept.setdefault(name, build()))
    assert per_street.value.code == page_data.value.code == "analysis.unknown_value"


def test_an_import_keeps_every_streets_trend_from_one_pass(monkeypatch):
    ds = _real_shapes()
    passes, one_by_one = [], []
    one_pass, per_street = history.figure_trends, history.figure_trend
    monkeypatch.setattr(history, "figure_trends", lambda *a, **k: passes.append(k["streets"]) or one_pass(*a, **k))
    monkeypatch.setattr(history, "figure_trend", lambda *a, **k: one_by_one.append(k) or per_street(*a, **k))
    kept: dict[str, object] = {}

    def get(name, build):
        if name not in kept:
            kept[name] = build()
        return kept[name]

    labels = pagedata.prepare(ds, get)
    assert passes == [("东街", "北街", "南街", "西街")] and one_by_one == []
    assert labels == ["case_table", "coverage_inputs", "figures:", "trend:", "streets", "queen_weights",
                      *(f"{what}:{s}" for s in ds.streets for what in ("figures", "trend"))]
    monkeypatch.undo()
    for street in (None, *ds.streets):
        pd.testing.assert_frame_equal(kept[pagedata.trend_name(street)], trend_of(ds, street=street))

    # what is kept is read back: the pass is not made again (a restarted warm-up, the pages)
    def refuse(*_a, **_k):
        raise AssertionError("built again instead of read back")

    monkeypatch.setattr(history, "figure_trends", refuse)
    monkeypatch.setattr(history, "figure_trend", refuse)
    for street in (None, *ds.streets):
        assert pagedata.trend(ds, street, get) is kept[pagedata.trend_name(street)]
    assert pagedata.prepare(ds, get) == labels
