"""The app on a city dataset: district choice, city overview with its league table, pages per district.

A three-district city is generated once (GeoPackage, and PostGIS when a server
is given); expected figures are counted from the written layers with pandas.
"""

from __future__ import annotations

import uuid

import pandas as pd
import pyogrio
import pytest
from streamlit.testing.v1 import AppTest

from geo import demo_city
from tests.e2e.conftest import ROOT
from tests.storefixtures import require_pg

APP = str(ROOT / "app.py")
DISTRICTS = ("江汉区", "青山区", "汉南区")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    path = tmp_path_factory.mktemp("city") / "city3.gpkg"
    demo_city.write_gpkg(path, seed=7, n_grids=2_000, n_cases=60_000, districts=DISTRICTS)
    return str(path)


def _expected(path):
    grids = pyogrio.read_dataframe(path, layer="grids", read_geometry=False)
    cases = pyogrio.read_dataframe(path, layer="cases", read_geometry=False, columns=["grid_id", "status", "deadline"])
    cases = cases.merge(grids[["grid_id", "district"]], on="grid_id")
    cutoff = pd.Timestamp("2025-12-31") + pd.Timedelta(days=1)
    is_open = cases["status"] == "open"
    overdue = (is_open & (pd.to_datetime(cases["deadline"]) < cutoff)).groupby(cases["district"]).sum()
    return grids, cases, is_open.groupby(cases["district"]).sum(), overdue


def _run(monkeypatch, data, page="pages/overview.py", district=None, lang="zh"):
    monkeypatch.setenv("GRIDATLAS_DATA", data)
    at = AppTest.from_file(APP, default_timeout=300)
    if district:
        at.session_state["district_choice"] = district
    if lang != "zh":
        at.session_state["lang"] = lang
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_city_overview_figures_and_league_table(monkeypatch, city):
    grids, cases, open_by, overdue_by = _expected(city)
    at = _run(monkeypatch, city)
    assert at.title[0].value == "武汉市 网格服务总览（3 个区）"
    figures = {m.label: m.value for m in at.metric}
    assert figures["网格"] == f"{len(grids):,}"
    assert figures["常住人口"] == f"{int(grids['population'].sum()):,}"
    assert figures["事件"] == f"{len(cases):,}"
    assert figures["未办结事件"] == f"{int(open_by.sum()):,}"
    league = at.dataframe[0].value.set_index("district")
    assert sorted(league.index) == sorted(DISTRICTS)
    want = grids.groupby("district")
    assert league["grids"].to_dict() == want.size().to_dict()
    assert league["population"].to_dict() == want["population"].sum().to_dict()
    assert league["cases"].to_dict() == cases.groupby("district").size().to_dict()
    assert league["overdue"].to_dict() == overdue_by.astype("int64").to_dict()
    assert league["coverage"].between(0, 1).all() and league["coverage"].max() > 0
    # no street choice and no grids while the whole city is shown
    assert [s.key for s in at.selectbox] == ["dataset_choice", "district_choice__zh"]


def test_city_map_draws_districts_not_grids(city):
    grids = pyogrio.read_dataframe(city, layer="grids")
    from ui.city import district_outlines

    outlines = district_outlines(grids)
    assert len(outlines) == 3 and len(outlines) < len(grids)
    assert outlines.set_index("district")["population"].to_dict() == \
        grids.groupby("district")["population"].sum().to_dict()


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/coverage.py", "pages/cases.py", "pages/siting.py"])
def test_every_page_works_on_one_district(monkeypatch, city, page):
    grids, cases, open_by, _ = _expected(city)
    at = _run(monkeypatch, city, page=page, district="江汉区")
    assert at.title, "the page drew nothing"
    if page == "pages/overview.py":
        figures = {m.label: m.value for m in at.metric}
        assert at.title[0].value == "江汉区 网格服务总览"
        assert figures["网格"] == f"{int((grids['district'] == '江汉区').sum()):,}"
        assert figures["未办结事件"] == f"{int(open_by['江汉区']):,}"
        streets = at.selectbox(key="street_choice__zh").options
        assert all(s.startswith("江汉·") for s in streets[1:])


@pytest.mark.parametrize("page", ["pages/coverage.py", "pages/cases.py", "pages/siting.py"])
def test_pages_ask_for_a_district_on_the_whole_city(monkeypatch, city, page):
    at = _run(monkeypatch, city, page=page, lang="en")
    texts = [i.value for i in at.info]
    assert any("This is a city dataset: choose a district in the sidebar" in x for x in texts), texts
    assert not at.title


def test_city_overview_from_postgis_counts_in_sql(monkeypatch, city):
    from geo.dataset import read_dataset
    from geo.postgis import close_pools, open_store

    url = f"{require_pg()}?dataset=ui_{uuid.uuid4().hex[:8]}"
    open_store(url).import_dataset(read_dataset(city), source="city3.gpkg")
    grids, cases, _, overdue_by = _expected(city)
    at = _run(monkeypatch, url)
    league = at.dataframe[0].value.set_index("district")
    assert league["cases"].to_dict() == cases.groupby("district").size().to_dict()
    assert league["overdue"].to_dict() == overdue_by.astype("int64").to_dict()
    at = _run(monkeypatch, url, district="青山区")
    figures = {m.label: m.value for m in at.metric}
    assert figures["网格"] == f"{int((grids['district'] == '青山区').sum()):,}"
    close_pools()


def test_league_hot_spots_equal_the_per_district_analysis(monkeypatch, city):
    from analysis.cases import build_case_table
    from analysis.hotspots import emerging_hot_spots, hot_spots, queen_weights
    from geo.dataset import read_dataset

    at = _run(monkeypatch, city)
    league = at.dataframe[0].value.set_index("district")
    ds = read_dataset(city)
    for name in ("江汉区", "青山区"):
        grids = ds.grids[ds.grids["district"] == name].reset_index(drop=True)
        cases = ds.cases[ds.cases["grid_id"].isin(set(grids["grid_id"]))]
        table = build_case_table(cases, grids, as_of="2025-12-31")
        w = queen_weights(grids)
        hot = int((hot_spots(table, w, permutations=0).frame["gi_bin"] > 0).sum())
        pattern = emerging_hot_spots(table, w).frame["pattern"].fillna("")
        emerging = int(pattern.isin(["new_hot_spot", "intensifying_hot_spot"]).sum())  # new or intensifying
        assert (league.loc[name, "hot_grids"], league.loc[name, "emerging"]) == (hot, emerging)
    assert pd.isna(league.loc["汉南区", "hot_grids"])  # 24 grids: below Gi*'s 30
    assert league["hot_grids"].max() > 0
