"""The city overview derived at import: equal to a direct computation from the layers, and the whole city's
first visit reading no grid or case layer (both stores).

A two-district city (江汉区, 汉南区) is written by ``cli.py demo --scale wuhan`` itself (the generator's write
goes through the import and its derive step, as for the real city); expected figures are computed here from
the written layers with pandas and shapely, never through `analysis.districts`.
"""

from __future__ import annotations

import json
import uuid

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from streamlit.testing.v1 import AppTest

import cli
from analysis.cases import build_case_table
from analysis.districts import CITY_OVERVIEW, OUTLINE_SIMPLIFY_M, city_overview_of
from analysis.hotspots import emerging_hot_spots, hot_spots, queen_weights
from geo.crs import metric_crs
from geo.dataset import read_dataset
from geo.postgis import PostgisStore
from geo.storage import open_store
from geo.workspace import GpkgStore
from tests.e2e.conftest import ROOT
from tests.storefixtures import require_pg

APP = str(ROOT / "app.py")
DISTRICTS = ("江汉区", "汉南区")
AS_OF = "2025-12-31"
READS = ("load", "case_counts", "district_names")  # every way a store reads a layer's rows


@pytest.fixture(scope="module")
def city_file(tmp_path_factory):
    """The city as the generator writes it (a plain GeoPackage): the reference the figures are computed from."""
    path = tmp_path_factory.mktemp("city_cold") / "plain.gpkg"
    from geo import demo_city

    demo_city.write_gpkg(path, seed=7, n_grids=2_000, n_cases=40_000, districts=DISTRICTS)
    return path


def _demo(out: str, capsys) -> None:
    code = cli.main(["demo", "--scale", "wuhan", "--districts", ",".join(DISTRICTS), "--grids", "2000",
                     "--cases", "40000", "--seed", "7", "--out", out])
    assert code == 0, capsys.readouterr().err
    json.loads(capsys.readouterr().out)


@pytest.fixture
def city_store(backend, tmp_path, monkeypatch, capsys):
    """A city made by ``cli.py demo --scale wuhan`` on one backend, in a workspace of the test's own."""
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GRIDATLAS_DATA", raising=False)
    out = f"{require_pg()}?dataset=cold_{uuid.uuid4().hex[:8]}" if backend == "postgis" else str(tmp_path / "c.gpkg")
    _demo(out, capsys)
    return open_store(out)


def _expected(path):
    """Per district from the written layers: grids, streets, residents, aged 60+, facilities inside (a
    point-in-polygon loop), cases, open and overdue at the end of AS_OF; the dissolved outlines."""
    grids = pyogrio.read_dataframe(path, layer="grids")
    facilities = pyogrio.read_dataframe(path, layer="facilities")
    cases = pyogrio.read_dataframe(path, layer="cases", read_geometry=False,
                                   columns=["grid_id", "status", "deadline", "reported_at"])
    cases = cases.merge(grids[["grid_id", "district"]], on="grid_id")
    cutoff = pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
    known = pd.to_datetime(cases["reported_at"]) < cutoff
    is_open = known & (cases["status"] == "open")
    overdue = is_open & (pd.to_datetime(cases["deadline"]) < cutoff)
    rows, shapes = {}, {}
    for name in DISTRICTS:
        mine = grids[grids["district"] == name]
        union = shapely.union_all(mine.geometry.values)
        shapes[name] = union
        inside = sum(1 for pt in facilities.geometry if shapely.within(pt, union))
        in_district = (cases["district"] == name).to_numpy()
        rows[name] = {"grids": len(mine), "streets": mine["street"].nunique(),
                      "population": int(mine["population"].sum()), "elderly": int(mine["elderly"].sum()),
                      "facilities": inside, "cases": int((known & in_district).sum()),
                      "open": int((is_open & in_district).sum()), "overdue": int((overdue & in_district).sum())}
    return pd.DataFrame.from_dict(rows, orient="index"), shapes, grids


def test_derived_overview_equals_a_direct_computation(city_store, city_file):
    assert CITY_OVERVIEW in city_store.derived().names()  # made by the demo's import, not by this test
    ov = city_overview_of(city_store)
    want, shapes, grids = _expected(city_file)
    assert ov.districts == DISTRICTS
    n_cases = pyogrio.read_info(city_file, layer="cases")["features"]
    assert dict(ov.layers)["cases"] == n_cases and dict(ov.layers)["grids"] == len(grids)
    assert dict(ov.meta)["as_of"] == AS_OF and ov.name
    table = ov.table.set_index("district")
    assert table.index.tolist() == list(DISTRICTS)
    for col in want.columns:
        assert table[col].astype("int64").to_dict() == want[col].to_dict(), col
    assert table["cases"].sum() == n_cases and table["overdue"].sum() > 0
    # outlines: within the simplification's tolerance of the grids' union, figures of the union before it
    crs = metric_crs(grids)
    outlines = ov.outlines.set_index("district")
    assert outlines.crs.to_epsg() == 4326
    for name, union in shapes.items():
        pair = gpd.GeoSeries([union, outlines.loc[name, "geometry"]], crs=4326).to_crs(crs)
        assert pair.iloc[0].hausdorff_distance(pair.iloc[1]) <= OUTLINE_SIMPLIFY_M + 1.0
        assert shapely.get_num_coordinates(pair.iloc[1]) < shapely.get_num_coordinates(pair.iloc[0])
        area_km2 = pair.iloc[0].area / 1e6
        assert outlines.loc[name, "population"] == want.loc[name, "population"]
        assert outlines.loc[name, "elderly_per_km2"] == pytest.approx(want.loc[name, "elderly"] / area_km2, abs=0.5)


def test_derived_hot_spots_equal_each_district_analysed_alone(city_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    _demo(str(tmp_path / "c.gpkg"), capsys)
    table = city_overview_of(open_store(str(tmp_path / "c.gpkg"))).table.set_index("district")
    ds = read_dataset(city_file)
    for name in DISTRICTS:
        grids = ds.grids[ds.grids["district"] == name].reset_index(drop=True)
        own = build_case_table(ds.cases[ds.cases["grid_id"].isin(set(grids["grid_id"]))], grids, as_of=AS_OF)
        w = queen_weights(grids)
        if len(grids) < 30:  # below Gi*'s minimum: no figure, never 0
            assert pd.isna(table.loc[name, "hot_grids"]) and pd.isna(table.loc[name, "emerging"])
            continue
        hot = int((hot_spots(own, w, permutations=0).frame["gi_bin"] > 0).sum())
        pattern = emerging_hot_spots(own, w).frame["pattern"].fillna("")
        emerging = int(pattern.isin(["new_hot_spot", "intensifying_hot_spot"]).sum())
        assert (table.loc[name, "hot_grids"], table.loc[name, "emerging"]) == (hot, emerging)
    assert np.nanmax(table["hot_grids"].to_numpy(dtype="float64")) > 0


def _spy(monkeypatch) -> list[str]:
    """Record every read of grid or case rows through either store."""
    calls: list[str] = []
    for cls in (GpkgStore, PostgisStore):
        for name in READS:
            real = getattr(cls, name)

            def spy(self, *args, _real=real, _name=name, _cls=cls.__name__, **kw):
                calls.append(f"{_cls}.{_name}")
                return _real(self, *args, **kw)

            monkeypatch.setattr(cls, name, spy)
    return calls


def test_first_visit_of_the_city_reads_no_grid_or_case_layer(city_store, city_file, monkeypatch):
    want, _, _ = _expected(city_file)
    calls = _spy(monkeypatch)
    monkeypatch.setenv("GRIDATLAS_DATA", city_store.spec)
    at = AppTest.from_file(APP, default_timeout=300)
    at.switch_page("pages/overview.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert calls == []
    assert at.title[0].value == "武汉市 网格服务总览（2 个区）"
    figures = {m.label: m.value for m in at.metric}
    assert figures["网格"] == f"{int(want['grids'].sum()):,}"
    assert figures["事件"] == f"{int(want['cases'].sum()):,}"
    assert figures["未办结事件"] == f"{int(want['open'].sum()):,}"
    league = at.dataframe[0].value.set_index("district")
    assert league["overdue"].to_dict() == want["overdue"].to_dict()
    assert league["facilities"].to_dict() == want["facilities"].to_dict()
    assert [s.key for s in at.selectbox] == ["dataset_choice", "district_choice__zh"]
    # a district chosen reads that district (its grids and cases), as before
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["district_choice"] = "汉南区"
    at.switch_page("pages/overview.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "汉南区 网格服务总览", [t.value for t in at.title]
    assert any(c.endswith(".load") for c in calls), calls


def test_a_version_made_before_derives_once_on_first_open_and_keeps_it(city_file, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    store = open_store(str(tmp_path / "older.gpkg"))
    store.import_dataset(read_dataset(city_file), source="older.gpkg")  # no derive step: as before this
    assert CITY_OVERVIEW not in store.derived().names()
    first = city_overview_of(store)
    assert CITY_OVERVIEW in store.derived().names()
    calls = _spy(monkeypatch)
    again = city_overview_of(open_store(str(tmp_path / "older.gpkg")))
    assert calls == []
    pd.testing.assert_frame_equal(again.table, first.table)
    want, _, _ = _expected(city_file)
    assert again.table.set_index("district")["cases"].to_dict() == want["cases"].to_dict()


def test_server_warm_up_reads_the_city_overview_not_the_city(city_store, monkeypatch):
    from ui import serve
    from ui.city import overview

    monkeypatch.setenv("GRIDATLAS_DATA", city_store.spec)
    calls = _spy(monkeypatch)
    serve.warm(modules=(), then=())
    assert calls == []  # neither the whole city (on PostGIS: its 10 M cases) nor the city without its cases
    store = open_store(city_store.spec)
    assert overview(store.spec, store.token).districts == DISTRICTS  # in memory for the first visitor


def test_data_page_import_on_the_whole_city_derives_its_overview(city_file, tmp_path, monkeypatch):
    from ui.context import PageContext
    from ui.progress import prepare_version

    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    spec = str(tmp_path / "page.gpkg")
    store = open_store(spec)
    store.import_dataset(read_dataset(city_file), source="page.gpkg")  # a store write: no derive step of its own
    assert CITY_OVERVIEW not in store.derived().names()
    stages: list[tuple[str, float]] = []
    ctx = PageContext(ds=None, path=f"{store.spec}#city", token="", street=None, lang="zh", tiles=None,
                      tiles_attr="", tiles_datum="wgs84", district=None, city=store.spec)
    calls = _spy(monkeypatch)
    assert prepare_version(ctx, lambda stage, done: stages.append((stage, done))) == ["city"]
    assert CITY_OVERVIEW in store.derived().names() and stages[-1] == ("derive", 1.0)
    assert "GpkgStore.load" in calls and "GpkgStore.case_counts" in calls  # built here, from the layers
    want, _, _ = _expected(city_file)
    got = city_overview_of(open_store(spec)).table.set_index("district")
    assert got["open"].to_dict() == want["open"].to_dict()
