"""The GeoPackage workspace: versions, replace and upsert by id, restore, checksums, the demo copy,
external edits, scenarios beside the versions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Point, box

from geo.dataset import DEMO_PATH, Dataset, read_dataset, write_dataset
from geo.errors import DataError, StorageError
from geo.scenarios import Scenario
from geo.schema import validate_layer
from geo.storage import DatasetStore, VersionInfo
from geo.workspace import GpkgStore, list_datasets, open_store


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _grids(elderly=(5, 11, 7)) -> gpd.GeoDataFrame:
    n = len(elderly)
    return validate_layer(gpd.GeoDataFrame(
        {"grid_id": [f"G{i + 1}" for i in range(n)], "street": ["田心"] * n, "community": ["东门"] * n,
         "households": [10] * n, "population": [30] * n, "elderly": list(elderly)},
        geometry=[box(113.10 + 0.01 * i, 27.80, 113.11 + 0.01 * i, 27.81) for i in range(n)], crs=4326), "grids")


def _facilities(ids=("F1", "F2"), names=("东门日照中心", "北岭站")) -> gpd.GeoDataFrame:
    return validate_layer(gpd.GeoDataFrame(
        {"facility_id": list(ids), "name": list(names), "type": ["day_care"] * len(ids)},
        geometry=[Point(113.105 + 0.01 * i, 27.805) for i in range(len(ids))], crs=4326), "facilities")


def _dataset() -> Dataset:
    return Dataset(grids=_grids(), facilities=_facilities(), name="测试区", meta=(("as_of", "2019-06-30"),))


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GRIDATLAS_DATA", raising=False)
    return tmp_path / "home"


@pytest.fixture
def store(home, tmp_path) -> GpkgStore:
    src = write_dataset(_dataset(), tmp_path / "src.gpkg")
    s = open_store("测试")
    s.import_dataset(read_dataset(src), source="src.gpkg")
    return s


def test_store_keeps_the_protocol(store):
    assert isinstance(store, DatasetStore)
    assert store.location == str(store.history.parent / "测试.gpkg")


def test_first_version_and_plain_geopackage(store):
    info = store.current()
    assert (info.id, info.kind, info.source, info.rows_added) == (1, "create", "src.gpkg", 5)
    assert dict(info.layers) == {"grids": 3, "facilities": 2}
    ds = store.load()
    assert ds.name == "测试区" and ds.meta_dict["as_of"] == "2019-06-30"
    assert_geodataframe_equal(ds.grids, _grids())
    # the current version is a plain GeoPackage under the plain layer names: another GIS reads it as it is
    names = {row[0] for row in pyogrio.list_layers(store.location)}
    assert names == {"grids", "facilities", "meta"}
    plain = pyogrio.read_dataframe(store.location, layer="grids")
    assert plain["grid_id"].tolist() == ["G1", "G2", "G3"] and plain["elderly"].tolist() == [5, 11, 7]
    # and it reads back through the validating reader as the same data
    assert_geodataframe_equal(read_dataset(store.location).grids, ds.grids, check_dtype=False)


def test_replace_counts_rows_by_id_and_keeps_the_old_version(store):
    before_token, before_sum = store.token, store.current().checksum
    # G1 unchanged, G2 changed (elderly 11 -> 12), G3 removed, G4 added
    new = _grids((5, 12, 9))
    new.loc[2, "grid_id"] = "G4"
    info = store.import_layer("grids", new, mode="replace", source="网格.xlsx", user="clerk")
    assert (info.id, info.kind, info.layer, info.user) == (2, "replace", "grids", "clerk")
    assert (info.rows_added, info.rows_changed, info.rows_removed) == (1, 1, 1)
    assert store.token != before_token
    assert store.load().grids["grid_id"].tolist() == ["G1", "G2", "G4"]
    assert store.load(1).grids["elderly"].tolist() == [5, 11, 7]
    assert store.verify(1).checksum == before_sum
    assert [v.id for v in store.versions()] == [1, 2]
    # unchanged layers are shared, not copied
    v1 = store.history / "v0001" / "layers" / "facilities.parquet"
    v2 = store.history / "v0002" / "layers" / "facilities.parquet"
    assert v1.stat().st_ino == v2.stat().st_ino


def test_upsert_replaces_rows_in_place_and_appends_new_ids(store):
    upd = _facilities(ids=("F2", "F9"), names=("北岭站（新址）", "新站"))
    info = store.import_layer("facilities", upd, mode="upsert", source="站点.csv")
    assert (info.rows_added, info.rows_changed, info.rows_removed) == (1, 1, 0)
    fac = store.load().facilities
    assert fac["facility_id"].tolist() == ["F1", "F2", "F9"]
    assert fac["name"].tolist() == ["东门日照中心", "北岭站（新址）", "新站"]
    assert fac.geometry.iloc[1].x == pytest.approx(113.105)  # F2 took the row's new position
    # upserting the same rows again changes nothing
    again = store.import_layer("facilities", upd, mode="upsert", source="站点.csv")
    assert (again.rows_added, again.rows_changed, again.rows_removed) == (0, 0, 0)


def test_upsert_needs_an_id_column(store):
    roads = gpd.GeoDataFrame({"walkable": [True]}, geometry=[box(113.1, 27.8, 113.2, 27.9).boundary], crs=4326)
    with pytest.raises(DataError) as err:
        store.import_layer("roads", roads, mode="upsert", source="roads.shp")
    assert err.value.problems[0].code == "data.upsert_without_id"
    assert "cannot be upserted" in str(err.value)
    assert store.current().id == 1


def test_unknown_mode_and_layer_change_nothing(store):
    with pytest.raises(StorageError) as err:
        store.import_layer("grids", _grids(), mode="merge", source="x")  # type: ignore[arg-type]
    assert err.value.code == "storage.mode_unknown" and "replace, upsert" in str(err.value)
    with pytest.raises(DataError, match="there is no layer named 'parks'"):
        store.import_layer("parks", _grids(), source="x")
    assert store.current().id == 1


def test_restore_round_trip(store):
    store.import_layer("grids", _grids((1, 2, 3)), source="a.csv")
    store.import_layer("facilities", _facilities(ids=("F7",), names=("七号站",)), source="b.csv")
    info = store.restore(1, user="admin")
    assert (info.id, info.kind, info.restored_from, info.user) == (4, "restore", 1, "admin")
    # against version 3: grids G1..G3 all changed back, F7 removed, F1 and F2 added again
    assert (info.rows_added, info.rows_changed, info.rows_removed) == (2, 3, 1)
    assert info.checksum == store.verify(1).checksum
    a, b = store.load(1), store.load()
    assert_geodataframe_equal(a.grids, b.grids)
    assert_geodataframe_equal(a.facilities, b.facilities)
    assert pyogrio.read_dataframe(store.location, layer="grids")["elderly"].tolist() == [5, 11, 7]
    assert [v.kind for v in store.versions()] == ["create", "replace", "replace", "restore"]


def test_missing_version(store):
    with pytest.raises(StorageError) as err:
        store.restore(7)
    assert err.value.code == "storage.version_missing"
    assert str(err.value) == "dataset 测试 has no version 7 (versions 1–1)"


def test_checksum_mismatch_is_refused(store):
    path = store.history / "v0001" / "layers" / "grids.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError) as err:
        store.load()
    assert err.value.code == "storage.checksum_failed"
    assert "version 1 of dataset 测试 does not match the checksum recorded when it was imported" in str(err.value)
    assert err.value.params["version"] == 1


def test_cases_get_their_grid_at_import(store):
    cases = validate_layer(gpd.GeoDataFrame(
        {"case_id": ["C1", "C2", "C3"], "category": ["市容环境"] * 3, "reported_at": ["2019-01-02"] * 3,
         "status": ["open"] * 3, "grid_id": [None, "G1", None]},
        geometry=[Point(113.125, 27.805), Point(113.125, 27.805), Point(113.105, 27.805)], crs=4326), "cases")
    store.import_layer("cases", cases, source="事件.csv")
    # C1 lies in G3 (113.12–113.13); C2 keeps the grid it came with; C3 lies in G1
    assert store.load().cases["grid_id"].tolist() == ["G3", "G1", "G1"]


def test_external_edit_becomes_a_new_version(store):
    ds = store.load()
    write_dataset(ds.with_layer("grids", _grids((6, 11, 7))), store.location)
    token = store.token
    info = store.current()
    assert (info.id, info.kind, info.rows_changed) == (2, "external", 1)
    assert store.load().grids["elderly"].tolist() == [6, 11, 7]
    assert store.token == token  # settled: asking again changes nothing


def test_a_new_file_path_is_created_by_its_first_import(home, tmp_path):
    path = tmp_path / "new" / "区.gpkg"
    s = open_store(str(path))
    assert not s.exists()
    with pytest.raises(StorageError) as err:
        s.current()
    assert err.value.code == "storage.dataset_missing"
    s.import_layer("grids", _grids(), source="grids.gpkg")
    assert path.exists() and s.current().id == 1
    with pytest.raises(DataError) as missing:  # facilities are required before the dataset can be opened
        s.load()
    assert [p.layer for p in missing.value.problems] == ["facilities"]
    s.import_layer("facilities", _facilities(), source="fac.csv")
    assert len(s.load().facilities) == 2
    assert open_store(str(path)).token == s.token


def test_demo_opens_as_its_workspace_copy_and_data_is_never_written(home):
    before = _sha(DEMO_PATH)
    s = open_store(None)
    assert s.name == "shifeng_demo" and s.location == str(home / "datasets" / "shifeng_demo.gpkg")
    assert open_store(str(DEMO_PATH)).location == s.location
    ds = s.load()
    ref = read_dataset(DEMO_PATH)
    assert len(ds.grids) == len(ref.grids) == 232
    assert_geodataframe_equal(ds.cases, ref.cases, check_dtype=False, check_less_precise=True)
    s.save_scenario(Scenario(name="方案一", kind="siting", params={"n_new": 3}))
    assert [x.name for x in open_store(None).list_scenarios(kind="siting")] == ["方案一"]
    assert _sha(DEMO_PATH) == before
    assert s.current().kind == "adopt" and s.current().source == "data/shifeng_demo.gpkg"


def test_scenarios_survive_imports_and_restores(store):
    store.save_scenario(Scenario(name="方案一", kind="siting", params={"n_new": 3}, result={"site_ids": ["S1"]}))
    store.import_layer("grids", _grids((1, 2, 3)), source="a.csv")
    store.restore(1)
    got = store.list_scenarios()
    assert [(s.name, s.params, s.result) for s in got] == [("方案一", {"n_new": 3}, {"site_ids": ["S1"]})]
    store.delete_scenario("方案一")
    assert store.list_scenarios() == []


def test_derived_cache_is_per_version_and_on_disk(store):
    calls = []
    assert store.derived().get("answer", lambda: calls.append(1) or {"x": 42}) == {"x": 42}
    assert open_store("测试").derived(1).get("answer", lambda: calls.append(1) or None) == {"x": 42}
    assert calls == [1]
    store.import_layer("grids", _grids((1, 2, 3)), source="a.csv")
    assert store.derived().get("answer", lambda: "rebuilt") == "rebuilt"
    assert store.derived(1).names() == ["answer"]


def test_version_info_round_trips_through_json(store):
    info = store.current()
    assert VersionInfo.from_dict(json.loads(json.dumps(info.as_dict()))) == info


def test_names_and_specs(home, tmp_path):
    with pytest.raises(StorageError) as err:
        open_store("../etc")
    assert err.value.code in ("storage.name_invalid", "storage.not_gpkg")
    with pytest.raises(StorageError) as bad:
        open_store("a b")
    assert bad.value.code == "storage.name_invalid"
    with pytest.raises(StorageError) as shp:
        open_store(str(tmp_path / "grids.shp"))
    assert shp.value.code == "storage.not_gpkg"


def test_list_datasets_lists_each_once(home, tmp_path, monkeypatch):
    open_store("测试").import_dataset(_dataset(), source="x")
    ext = write_dataset(_dataset(), tmp_path / "外部.gpkg")
    monkeypatch.setenv("GRIDATLAS_DATA", str(ext))
    entries = list_datasets()
    specs = [e.spec for e in entries]
    assert specs[:3] == [str(ext.resolve()), "shifeng_demo", "测试"]
    assert len(specs) == len(set(specs))
    assert len({e.label for e in entries}) == len(entries)


def test_upsert_keeps_columns_the_new_rows_lack(store):
    with_capacity = _facilities().assign(capacity=pd.array([20, 30], dtype="Int64"))
    store.import_layer("facilities", with_capacity, source="a.csv")
    store.import_layer("facilities", _facilities(ids=("F3",), names=("三号站",)), mode="upsert", source="b.csv")
    fac = store.load().facilities
    assert fac["facility_id"].tolist() == ["F1", "F2", "F3"]
    assert fac["capacity"].tolist()[:2] == [20, 30] and pd.isna(fac["capacity"].iloc[2])
