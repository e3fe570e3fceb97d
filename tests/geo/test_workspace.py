"""What only the GeoPackage workspace does: the current version as a plain GeoPackage (QGIS opens it), unchanged
layers shared as hard links, the demo's workspace copy, external edits taken in as versions, workspace names,
the dataset list, the derived cache on disk.

The storage contract both backends keep (versions, replace and upsert, restore, checksums, failed imports,
scenarios, concurrent writers) is tested on both in test_store_contract.py."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal

from geo.dataset import DEMO_PATH, read_dataset, write_dataset
from geo.errors import StorageError
from geo.scenarios import Scenario
from geo.storage import DatasetStore
from geo.workspace import GpkgStore, list_datasets, open_store
from tests.storefixtures import small_dataset, small_grids


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def store(home, tmp_path) -> GpkgStore:
    src = write_dataset(small_dataset(), tmp_path / "src.gpkg")
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
    assert_geodataframe_equal(ds.grids, small_grids())
    # the current version is a plain GeoPackage under the plain layer names: another GIS reads it as it is
    names = {row[0] for row in pyogrio.list_layers(store.location)}
    assert names == {"grids", "facilities", "meta"}
    plain = pyogrio.read_dataframe(store.location, layer="grids")
    assert plain["grid_id"].tolist() == ["G1", "G2", "G3"] and plain["elderly"].tolist() == [5, 11, 7]
    # and it reads back through the validating reader as the same data
    assert_geodataframe_equal(read_dataset(store.location).grids, ds.grids, check_dtype=False)


def test_unchanged_layers_are_shared_not_copied(store):
    before_sum = store.current().checksum
    new = small_grids((5, 12, 9))
    new.loc[2, "grid_id"] = "G4"
    store.import_layer("grids", new, mode="replace", source="网格.xlsx", user="clerk")
    assert store.verify(1).checksum == before_sum
    v1 = store.history / "v0001" / "layers" / "facilities.parquet"
    v2 = store.history / "v0002" / "layers" / "facilities.parquet"
    assert v1.stat().st_ino == v2.stat().st_ino


def test_a_restore_rewrites_the_plain_geopackage(store):
    store.import_layer("grids", small_grids((1, 2, 3)), source="a.csv")
    assert pyogrio.read_dataframe(store.location, layer="grids")["elderly"].tolist() == [1, 2, 3]
    info = store.restore(1, user="admin")
    assert info.checksum == store.verify(1).checksum
    assert pyogrio.read_dataframe(store.location, layer="grids")["elderly"].tolist() == [5, 11, 7]


def test_external_edit_becomes_a_new_version(store):
    ds = store.load()
    write_dataset(ds.with_layer("grids", small_grids((6, 11, 7))), store.location)
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
    s.import_layer("grids", small_grids(), source="grids.gpkg")
    assert path.exists() and s.current().id == 1
    assert {row[0] for row in pyogrio.list_layers(path)} == {"grids", "meta"}


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


def test_derived_cache_is_on_disk_beside_the_version(store):
    assert store.derived().get("answer", lambda: {"x": 42}) == {"x": 42}
    assert (store.history / "v0001" / "derived" / "answer.pkl").is_file()
    (store.history / "v0001" / "derived" / "answer.pkl").write_bytes(b"damaged")
    assert open_store("测试").derived(1).get("answer", lambda: "rebuilt") == "rebuilt"


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
    open_store("测试").import_dataset(small_dataset(), source="x")
    ext = write_dataset(small_dataset(), tmp_path / "外部.gpkg")
    monkeypatch.setenv("GRIDATLAS_DATA", str(ext))
    entries = list_datasets()
    specs = [e.spec for e in entries]
    assert specs[:3] == [str(ext.resolve()), "shifeng_demo", "测试"]
    assert len(specs) == len(set(specs))
    assert len({e.label for e in entries}) == len(entries)


def test_a_database_is_listed_without_its_password(home, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_DATA", "postgresql://atlas:s3cret@db.local:5432/gis?dataset=wuhan")
    first = list_datasets()[0]
    assert first.spec.startswith("postgresql://") and not first.in_workspace
    assert first.label == "wuhan (PostGIS db.local)"


def test_rows_of_a_large_layer_are_read_without_reading_the_whole_layer(home, tmp_path, monkeypatch):
    """Overdue lists, a grid's cases and "today" take rows and columns of the stored cases, never all of them."""
    import numpy as np
    import pandas as pd

    import geo.workspace as ws
    from analysis.cases import CaseFilter, case_table_from_dataset, cases_in_grid, overdue_list, resolve_as_of
    from geo.dataset import LazyLayer

    monkeypatch.setattr(ws, "LAZY_ROWS", 10)  # the demo's cases count as a large layer here
    store = open_store(str(tmp_path / "d.gpkg"))
    store.import_dataset(read_dataset(DEMO_PATH), source="demo")
    full = store.load()  # read whole, the way it was before: the reference
    table = case_table_from_dataset(full)
    lazy = store.load().lazy_layer("cases")
    assert isinstance(lazy, LazyLayer) and not lazy.loaded and len(lazy) == len(full.cases)

    rows = np.array([5, 0, 17, len(lazy) - 1])
    got = lazy.take_rows(rows, ["case_id", "reported_at", "description", "no_such_column"])
    pd.testing.assert_frame_equal(got, full.cases.iloc[rows][["case_id", "reported_at", "description"]]
                                  .reset_index(drop=True))
    for mask in (True, False):
        pd.testing.assert_frame_equal(overdue_list(lazy, table, CaseFilter(), mask=mask),
                                      overdue_list(full.cases, table, CaseFilter(), mask=mask))
    grid = str(full.cases["grid_id"].dropna().iloc[0])
    pd.testing.assert_frame_equal(cases_in_grid(lazy, table, grid, CaseFilter(), mask=False),
                                  cases_in_grid(full.cases, table, grid, CaseFilter(), mask=False))
    assert resolve_as_of({}, lazy) == resolve_as_of({}, full.cases)
    assert not lazy.loaded  # none of this read the million cases


def test_the_case_table_of_a_stored_version_reads_its_columns_without_keeping_the_layer(home, tmp_path, monkeypatch):
    """The table a server keeps for the cases page is built from the columns it encodes, read for it and let go."""
    import dataclasses
    from functools import partial

    import numpy as np

    import geo.workspace as ws
    from analysis.cases import build_case_table, case_table_from_dataset, resolve_as_of
    from geo.dataset import LazyLayer

    monkeypatch.setattr(ws, "LAZY_ROWS", 10)  # the demo's cases count as a large layer here
    # batches of 100 rows: the batched read (a million cases' path) is the one under test
    monkeypatch.setattr(ws, "read_layer_parquet", partial(ws.read_layer_parquet, batch_rows=100))
    store = open_store(str(tmp_path / "d.gpkg"))
    store.import_dataset(read_dataset(DEMO_PATH), source="demo")
    reference = read_dataset(DEMO_PATH)  # the cases as imported, every column: what the table was built from before
    want = build_case_table(reference.cases, reference.grids, as_of=resolve_as_of(reference.meta_dict, reference.cases),
                            crs=reference.metric_crs)

    ds = store.load()
    lazy = ds.lazy_layer("cases")
    assert isinstance(lazy, LazyLayer) and not lazy.loaded
    got = case_table_from_dataset(ds)
    assert not lazy.loaded  # built, and the layer is not kept
    for f in dataclasses.fields(want):
        a, b = getattr(got, f.name), getattr(want, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f.name)
        else:
            assert a == b, f.name
    part = lazy.read(["category", "no_such_column", "geometry"])
    assert list(part.columns) == ["category", "geometry"] and len(part) == len(reference.cases)


def test_overdue_lists_of_any_filter_come_from_the_overdue_rows_read_once(home, tmp_path, monkeypatch):
    """`analysis.cases.KeptRows`: the overdue rows read once give every filter's list, equal to the whole frame's."""
    import numpy as np
    import pandas as pd

    import geo.workspace as ws
    from analysis.cases import CaseFilter, KeptRows, case_table_from_dataset, handling_state, overdue_list

    monkeypatch.setattr(ws, "LAZY_ROWS", 10)
    store = open_store(str(tmp_path / "d.gpkg"))
    store.import_dataset(read_dataset(DEMO_PATH), source="demo")
    ds = store.load()
    table = case_table_from_dataset(ds)
    reference = read_dataset(DEMO_PATH).cases  # every row and column, as imported
    reads = []
    lazy = ds.lazy_layer("cases")
    original = lazy._take
    lazy._take = lambda rows, columns: reads.append(len(rows)) or original(rows, columns)
    overdue = np.flatnonzero(handling_state(table).overdue)
    assert len(overdue) > 20
    kept = KeptRows(lazy, overdue)
    assert reads == [len(overdue)] and len(kept) == len(reference)
    streets = table.streets
    filters = [CaseFilter(), CaseFilter(streets=(streets[0],)), CaseFilter(streets=(streets[-1],), since=table.as_of.date()
               - pd.Timedelta(days=90)), CaseFilter(categories=(table.categories[0],))]
    for flt in filters:
        for mask in (True, False):
            pd.testing.assert_frame_equal(overdue_list(kept, table, flt, mask=mask),
                                          overdue_list(reference, table, flt, mask=mask))
    assert reads == [len(overdue)]  # nothing read again
    # a row that is not kept is read from the layer
    other = int(np.setdiff1d(np.arange(len(reference)), overdue)[0])
    got = kept.take_rows(np.array([overdue[0], other]), ["case_id"])
    assert got["case_id"].tolist() == reference["case_id"].iloc[[overdue[0], other]].tolist() and len(reads) == 2
