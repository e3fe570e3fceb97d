"""What only the PostGIS store does, on a real server (`make test` starts one: scripts/pg.sh, GRIDATLAS_TEST_PG).

The storage contract both backends keep (versions, upsert, restore, checksum, failed imports, scenarios,
derived values, concurrent writers) is tested on both in test_store_contract.py; here: the whole demo
through COPY and back, the catalogue (schemas per version, dropping, the audit table), counts in SQL and
grid assignment in SQL. Each test works in a dataset of its own (the ``pg_url`` fixture,
tests/storefixtures.py). Expected values come from the GeoPackage dataset read with pyogrio and counted
with numpy/pandas, not from the store.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.cases import build_case_table
from analysis.hotspots import period_counts
from geo.assign import assign_grid_ids
from geo.dataset import read_dataset
from geo.errors import DataError, StorageError
from geo.storage import DatasetStore

DEMO = Path(__file__).resolve().parents[2] / "data" / "shifeng_demo.gpkg"


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO)


def _same_layer(got, want, *, sort_by):
    got = got.sort_values(sort_by).reset_index(drop=True)
    want = want.sort_values(sort_by).reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    for c in want.columns:
        if c == "geometry":
            assert shapely.equals_exact(np.asarray(got.geometry.values), np.asarray(want.geometry.values),
                                        tolerance=1e-12).all()
        elif pd.api.types.is_datetime64_any_dtype(want[c]):
            pd.testing.assert_series_equal(got[c].astype("datetime64[ns]"), want[c].astype("datetime64[ns]"),
                                           check_names=False)
        elif pd.api.types.is_numeric_dtype(want[c]):
            np.testing.assert_allclose(got[c].astype("float64"), want[c].astype("float64"), rtol=0, atol=0)
        else:
            assert got[c].astype("string").fillna("").tolist() == want[c].astype("string").fillna("").tolist(), c


def test_import_then_load_gives_back_every_layer(pg_url, demo):
    from geo.postgis import open_store

    store = open_store(pg_url)
    assert isinstance(store, DatasetStore) and not store.exists()
    with pytest.raises(StorageError, match="has no version yet: import one first"):
        store.load()
    with pytest.raises(StorageError, match="has no version yet: import one first") as info:
        store.current()
    assert info.value.code == "storage.dataset_missing"
    v = store.import_dataset(demo, user="clerk", source="shifeng_demo.gpkg")
    assert (v.kind, v.user, v.source, v.layer) == ("create", "clerk", "shifeng_demo.gpkg", None)
    assert v.rows_added == sum(len(demo.layer(n)) for n in demo.present_layers())
    assert store.current() == v and store.exists()
    assert dict(v.layers) == {n: len(demo.layer(n)) for n in demo.present_layers()}
    assert len(v.checksum) == 64
    got = store.load()
    assert got.name == demo.name and got.meta_dict == {"name": demo.name, **demo.meta_dict}
    for name, key in (("grids", "grid_id"), ("facilities", "facility_id"), ("estates", "estate_id"),
                      ("candidates", "site_id"), ("cases", "case_id")):
        _same_layer(got.layer(name), demo.layer(name), sort_by=key)
    assert len(got.roads) == len(demo.roads)
    assert store.token.endswith(f":{store.name}:{v.id}") and open_store(store.spec).token == store.token
    assert store.location.endswith(f"schema {store._version(None)[2]}")
    assert store.district_names() == ()  # a district dataset: no district column



def test_layer_import_upsert_restore_and_authors(pg_url, demo, home):
    from geo.postgis import open_store

    store = open_store(pg_url)
    v1 = store.import_dataset(demo, user="a", source="demo")
    fewer = demo.facilities.iloc[:10]
    v2 = store.import_layer("facilities", fewer, user="b", source="ten.xlsx")
    assert [v.id for v in store.versions()] == [v1.id, v2.id]
    assert store.current().id == v2.id
    assert (v2.kind, v2.layer, v2.rows_added, v2.rows_changed, v2.rows_removed) == \
        ("replace", "facilities", 0, 0, len(demo.facilities) - 10)
    ds2 = store.load()
    assert len(ds2.facilities) == 10 and len(ds2.grids) == len(demo.grids) and len(ds2.cases) == len(demo.cases)
    assert len(store.load(v1.id).facilities) == len(demo.facilities)  # history unchanged
    # upsert: two rows renamed, two new rows; the others kept
    changed = demo.facilities.iloc[:2].assign(name=["改名一", "改名二"])
    new = demo.facilities.iloc[-2:].assign(facility_id=["NEW-1", "NEW-2"])
    v3 = store.import_layer("facilities", pd.concat([changed, new]), mode="upsert", user="b", source="fix.xlsx")
    assert (v3.kind, v3.rows_added, v3.rows_changed, v3.rows_removed) == ("upsert", 2, 2, 0)
    fac = store.load().facilities
    assert fac["facility_id"].tolist() == [*fewer["facility_id"], "NEW-1", "NEW-2"]  # replaced in place
    assert fac["name"].tolist()[:2] == ["改名一", "改名二"] and fac["name"].tolist()[2:10] == fewer["name"].tolist()[2:]
    again = store.import_layer("facilities", pd.concat([changed, new]), mode="upsert", source="fix.xlsx")
    assert (again.rows_added, again.rows_changed, again.rows_removed) == (0, 0, 0)
    store.restore(v3.id)
    with pytest.raises(DataError) as err:
        store.import_layer("roads", demo.roads, mode="upsert", source="roads.shp")
    assert err.value.problems[0].code == "data.upsert_without_id"
    v4 = store.restore(v1.id, user="c")
    assert (v4.kind, v4.restored_from) == ("restore", v1.id) and store.current().id == v4.id
    _same_layer(store.load().facilities, demo.facilities, sort_by="facility_id")
    # who made each version stays with it (what the PostGIS-only audit table used to say)
    versions = store.versions()
    assert [(v.kind, v.user or "") for v in versions] == [("create", "a"), ("replace", "b"), ("upsert", "b"),
                                                          ("upsert", ""), ("restore", ""), ("restore", "c")]
    assert versions[5].restored_from == v1.id
    with pytest.raises(StorageError, match=r"has no version 999999"):
        store.restore(999999)
    with pytest.raises(StorageError, match="is current and cannot be dropped"):
        store.drop_version(v4.id)
    store.drop_version(v2.id, user="ops")
    assert [v.id for v in store.versions()][:3] == [v1.id, v3.id, again.id] and store.versions()[-1].id == v4.id
    with pytest.raises(StorageError, match="mode was 'merge' but must be one of replace, upsert"):
        store.import_layer("facilities", fewer, mode="merge")
    # the app's one audit log has the drop (the pages and the CLI record imports and restores themselves);
    # the store keeps no second log of its own
    from geo.audit import AuditLog

    assert [(e.action, e.user, e.target) for e in AuditLog(home).entries()] == [("version_drop", "ops",
                                                                               f"{store.name}/{v2.id}")]
    with store._conn() as con:
        assert con.execute("SELECT to_regclass('gridatlas.audit')").fetchone()[0] is None


def test_tables_changed_behind_the_store_fail_the_checksum(pg_url, demo):
    from geo.postgis import open_store

    store = open_store(pg_url)
    v = store.import_dataset(demo)
    schema = store._version(v.id)[2]
    with store._conn() as con:
        con.execute(f"DELETE FROM {schema}.facilities WHERE fid = 1")
    with pytest.raises(StorageError, match=f"version {v.id} of '{store.name}' was changed outside GridAtlas") as info:
        store.load()
    assert info.value.code == "storage.checksum_failed"




def test_counts_in_sql_equal_counts_in_python(pg_url, demo):
    from geo.postgis import open_store

    store = open_store(pg_url)
    store.import_dataset(demo)
    table = build_case_table(demo.cases, demo.grids, as_of=demo.meta_dict["as_of"])
    ref, weeks = period_counts(table, period="week")
    got = store.case_counts(("grid_id", "week"))
    matrix = np.zeros_like(ref)
    gpos = {g: i for i, g in enumerate(table.grid_ids)}
    inside = got[(got["week"] >= weeks[0]) & (got["week"] <= weeks[-1])]
    matrix[[gpos[g] for g in inside["grid_id"]], (inside["week"] - weeks[0]).to_numpy()] = inside["cases"]
    np.testing.assert_array_equal(matrix, ref)
    assert got["cases"].sum() == demo.cases["grid_id"].notna().sum()

    cases = demo.cases
    cutoff = pd.Timestamp(demo.meta_dict["as_of"]) + pd.Timedelta(days=1)
    by_cat = store.case_counts(("category",)).set_index("category")
    want = cases.groupby("category").size()
    assert by_cat["cases"].to_dict() == want.to_dict()
    is_open = cases["status"] == "open"
    overdue = (is_open & (cases["deadline"] < cutoff)).groupby(cases["responsible_unit"]).sum()
    by_unit = store.case_counts(("responsible_unit",)).set_index("responsible_unit")
    assert by_unit["overdue"].to_dict() == overdue.astype("int64").to_dict()
    assert by_unit["overdue"].sum() > 0
    by_street = store.case_counts(("street",), categories=("油烟",), since="2019-01-01").set_index("street")
    sel = cases[(cases["category"] == "油烟") & (cases["reported_at"] >= "2019-01-01") & cases["grid_id"].notna()]
    street_of = demo.grids.set_index("grid_id")["street"]
    assert by_street["cases"].to_dict() == sel["grid_id"].map(street_of).value_counts().to_dict()
    with pytest.raises(StorageError, match="cannot group cases by colour"):
        store.case_counts(("colour",))


def test_cases_without_grid_get_it_at_import_in_sql(pg_url, demo):
    from geo.postgis import open_store

    cases = demo.cases.drop(columns="grid_id").iloc[:3000]
    store = open_store(pg_url)
    store.import_dataset(demo.with_layer("cases", cases))
    got = store.load().cases.set_index("case_id")["grid_id"]
    want = assign_grid_ids(cases, demo.grids)
    want.index = cases["case_id"]
    pd.testing.assert_series_equal(got.loc[want.index].astype("string"), want, check_names=False)



def test_unreachable_server_and_bad_names_are_clear_errors():
    from geo.postgis import open_store

    with pytest.raises(StorageError, match="is not a postgresql:// URL"):
        open_store("city.gpkg")
    with pytest.raises(StorageError, match="dataset name 'a b' in the URL is not allowed"):
        open_store("postgresql://u@127.0.0.1:1/db?dataset=a b")
    with pytest.raises(StorageError, match=r"cannot connect to the PostgreSQL server at postgresql://…@127\.0\.0\.1:1"
                       ) as info:
        open_store("postgresql://u:secret@127.0.0.1:1/db?connect_timeout=1")
    assert "secret" not in str(info.value) and info.value.code == "storage.db_unreachable"


def test_a_failed_write_leaves_no_schema_and_its_number_is_taken_again(pg_url, demo):
    from geo.postgis import open_store

    store = open_store(pg_url)
    v1 = store.import_dataset(demo)

    def broken(sink):
        sink("grids", demo.grids)
        raise RuntimeError("generator failed")

    with pytest.raises(RuntimeError, match="generator failed"):
        store._write_version(broken, {"name": "x"}, user=None, source="", kind="replace")
    assert [v.id for v in store.versions()] == [v1.id] and store.current().id == v1.id
    with store._conn() as con:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM gridatlas.versions WHERE dataset = %s",
                                             (store.dataset,)).fetchall()}
        present = {r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert len(schemas) == 2 and schemas - present == {s for s in schemas if s != store._version(None)[2]}
    assert store.import_layer("facilities", demo.facilities.iloc[:3]).id == 2


def test_of_two_concurrent_imports_the_one_finished_later_is_current(pg_url, demo):
    from geo.postgis import open_store

    store = open_store(pg_url)
    first = demo.with_layer("facilities", demo.facilities.iloc[:20])
    second = demo.with_layer("facilities", demo.facilities.iloc[:30])
    barrier = threading.Barrier(2)

    def run(tag, ds):
        barrier.wait()
        open_store(pg_url).import_dataset(ds, user=tag, source=f"{tag}.gpkg")

    threads = [threading.Thread(target=run, args=(t, d)) for t, d in (("office-1", first), ("office-2", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store._conn() as con:
        ready = dict(con.execute("SELECT author, ready_at FROM gridatlas.versions WHERE dataset = %s",
                                 (store.dataset,)).fetchall())
    assert sorted(ready) == ["office-1", "office-2"] and store.current().user == max(ready, key=ready.get)
    assert sorted(v.user for v in store.versions()) == ["office-1", "office-2"]  # both listed, with their authors
