"""The PostGIS store on a real server (`make test` starts one: scripts/pg.sh, GRIDATLAS_TEST_PG).

Each test works in a dataset of its own (``?dataset=…``), so tests do not see
each other's versions. Expected values come from the GeoPackage dataset read
with pyogrio and counted with numpy/pandas, not from the store.
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.cases import build_case_table
from analysis.coverage import compute_coverage
from analysis.hotspots import hot_spots, period_counts, queen_weights
from geo.assign import assign_grid_ids
from geo.dataset import read_dataset
from geo.errors import DataError, StorageError
from geo.scenarios import Scenario
from geo.storage import DatasetStore

DEMO = Path(__file__).resolve().parents[2] / "data" / "shifeng_demo.gpkg"
PG = os.environ.get("GRIDATLAS_TEST_PG")  # tests may read the environment (geo.settings is for the app)
needs_pg = pytest.mark.skipif(not PG, reason="no PostGIS server: run through `make test` (scripts/pg.sh)")


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO)


@pytest.fixture()
def url():
    return f"{PG}?dataset=t_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module", autouse=True)
def _close_pools():
    yield
    if PG:
        from geo.postgis import close_pools

        close_pools()


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


@needs_pg
def test_import_then_load_gives_back_every_layer(url, demo):
    from geo.postgis import open_store

    store = open_store(url)
    assert isinstance(store, DatasetStore) and not store.exists()
    with pytest.raises(StorageError, match="has no version yet: import one first"):
        store.load()
    with pytest.raises(StorageError, match="has no version yet: import one first") as info:
        store.current()
    assert info.value.code == "storage.no_version"
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
    assert store.location.endswith(f"schema ga_v{v.id}")
    assert store.district_names() == ()  # a district dataset: no district column


@needs_pg
def test_text_with_tabs_newlines_and_backslashes_survives(url, demo):
    from geo.postgis import open_store

    fac = demo.facilities.copy()
    fac.loc[fac.index[0], "name"] = "日间照料\t中心\\二号\n楼"
    store = open_store(url)
    store.import_dataset(demo.with_layer("facilities", fac))
    names = store.load(layers=("grids", "facilities")).facilities.set_index("facility_id")["name"]
    assert names[fac["facility_id"].iloc[0]] == "日间照料 中心\\二号 楼"
    assert store.load(layers=("grids",)).cases is None


@needs_pg
def test_layer_import_upsert_restore_and_audit(url, demo):
    from geo.postgis import open_store

    store = open_store(url)
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
    log = store.audit()
    assert log["action"].tolist() == ["create", "replace", "upsert", "upsert", "restore", "restore"]
    assert log["actor"].tolist() == ["a", "b", "b", "", "", "c"]
    assert log["detail"].iloc[5]["restored_from"] == v1.id
    with pytest.raises(StorageError, match=r"has no version 999999"):
        store.restore(999999)
    with pytest.raises(StorageError, match="is current and cannot be dropped"):
        store.drop_version(v4.id)
    store.drop_version(v2.id)
    assert [v.id for v in store.versions()][:3] == [v1.id, v3.id, again.id] and store.versions()[-1].id == v4.id
    with pytest.raises(StorageError, match="`mode` was 'merge' but is expected to be 'replace' or 'upsert'"):
        store.import_layer("facilities", fewer, mode="merge")


@needs_pg
def test_tables_changed_behind_the_store_fail_the_checksum(url, demo):
    from geo.postgis import open_store

    store = open_store(url)
    v = store.import_dataset(demo)
    with store._conn() as con:
        con.execute(f"DELETE FROM ga_v{v.id}.facilities WHERE fid = 1")
    with pytest.raises(StorageError, match=f"version {v.id} of '{store.name}' was changed outside GridAtlas") as info:
        store.load()
    assert info.value.code == "storage.checksum_failed"


@needs_pg
def test_derived_values_are_kept_per_version(url, demo):
    from geo.postgis import open_store

    store = open_store(url)
    v1 = store.import_dataset(demo)
    calls = []
    cache = store.derived()
    assert cache.get("weights", lambda: calls.append(1) or {"n": 232}) == {"n": 232}
    assert open_store(url).derived(v1.id).get("weights", lambda: calls.append(2) or {}) == {"n": 232}
    assert calls == [1] and cache.names() == ["weights"]
    store.import_layer("facilities", demo.facilities.iloc[:5])
    assert store.derived().names() == []

@needs_pg
def test_failed_import_changes_nothing(url, demo):
    from geo.postgis import open_store

    store = open_store(url)
    v1 = store.import_dataset(demo)
    with pytest.raises(StorageError, match="`layer` was 'parks' but is expected to be one of"):
        store.import_layer("parks", demo.facilities)

    def broken(sink):
        sink("grids", demo.grids)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        store._write_version(broken, {"name": "x"}, user=None, source="", kind="replace")
    assert [v.id for v in store.versions()] == [v1.id] and store.current().id == v1.id
    with store._conn() as con:
        left = con.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s",
                           (f"ga_v{v1.id + 2}",)).fetchone()[0]
    assert left == 0


@needs_pg
def test_two_concurrent_imports_both_listed_later_current_nothing_lost(url, demo):
    from geo.postgis import open_store

    store = open_store(url)
    first = demo.with_layer("facilities", demo.facilities.iloc[:20])
    second = demo.with_layer("facilities", demo.facilities.iloc[:30])
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def run(tag, ds):
        barrier.wait()
        try:
            results[tag] = open_store(url).import_dataset(ds, user=tag, source=f"{tag}.gpkg")
        except Exception as exc:  # reported by the assertion below
            results[tag] = exc

    threads = [threading.Thread(target=run, args=(t, d)) for t, d in (("office-1", first), ("office-2", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(not isinstance(r, Exception) for r in results.values()), results
    listed = store.versions()
    assert sorted(v.user for v in listed) == ["office-1", "office-2"]
    with store._conn() as con:
        ready = dict(con.execute("SELECT author, ready_at FROM gridatlas.versions WHERE dataset = %s",
                                 (store.dataset,)).fetchall())
    later = max(ready, key=ready.get)
    assert store.current().user == later
    for v in listed:
        ds = store.load(v.id)
        assert len(ds.facilities) == (20 if v.user == "office-1" else 30)
        assert len(ds.cases) == len(demo.cases) and len(ds.grids) == len(demo.grids)
    assert sorted(store.audit()["actor"]) == ["office-1", "office-2"]


@needs_pg
def test_counts_in_sql_equal_counts_in_python(url, demo):
    from geo.postgis import open_store

    store = open_store(url)
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


@needs_pg
def test_cases_without_grid_get_it_at_import_in_sql(url, demo):
    from geo.postgis import open_store

    cases = demo.cases.drop(columns="grid_id").iloc[:3000]
    store = open_store(url)
    store.import_dataset(demo.with_layer("cases", cases))
    got = store.load().cases.set_index("case_id")["grid_id"]
    want = assign_grid_ids(cases, demo.grids)
    want.index = cases["case_id"]
    pd.testing.assert_series_equal(got.loc[want.index].astype("string"), want, check_names=False)


@needs_pg
def test_scenarios_saved_listed_overwritten_deleted(url, demo):
    from geo.postgis import open_store

    store = open_store(url)
    saved = store.save_scenario(Scenario("  方案一 ", "siting", {"n": 5}, {"covered": 0.5}))
    assert saved.name == "方案一" and saved.saved_at
    with pytest.raises(DataError, match="a scenario named '方案一' already exists"):
        store.save_scenario(Scenario("方案一", "siting", {"n": 6}, {}))
    store.save_scenario(Scenario("方案一", "siting", {"n": 6}, {"covered": 0.6}), overwrite=True)
    listed = store.list_scenarios(kind="siting")
    assert [(s.name, s.params, s.result) for s in listed] == [("方案一", {"n": 6}, {"covered": 0.6})]
    assert store.list_scenarios(kind="other") == []
    with pytest.raises(DataError, match="the scenario name is empty"):
        store.save_scenario(Scenario(" ", "siting"))
    store.import_dataset(demo)  # scenarios belong to the dataset, not to a version
    assert [s.name for s in store.list_scenarios()] == ["方案一"]
    store.delete_scenario("方案一")
    with pytest.raises(DataError, match="there is no scenario named '方案一'"):
        store.delete_scenario("方案一")


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


@pytest.mark.parametrize("backend", ["gpkg", pytest.param("postgis", marks=needs_pg)])
def test_analyses_give_the_same_answer_on_both_backends(backend, demo, url):
    if backend == "postgis":
        from geo.postgis import open_store

        store = open_store(url)
        store.import_dataset(demo)
        ds = store.load()
    else:
        ds = read_dataset(DEMO)
    cov = compute_coverage(ds, facility_types=("day_care",), radius_m=300.0).totals.as_dict()
    ref = compute_coverage(demo, facility_types=("day_care",), radius_m=300.0).totals.as_dict()
    assert cov == pytest.approx(ref)
    table = build_case_table(ds.cases, ds.grids, as_of=ds.meta_dict["as_of"])
    hot = hot_spots(table, queen_weights(ds.grids), permutations=0).frame
    ref_table = build_case_table(demo.cases, demo.grids, as_of=demo.meta_dict["as_of"])
    ref_hot = hot_spots(ref_table, queen_weights(demo.grids), permutations=0).frame
    np.testing.assert_allclose(hot["gi_z"], ref_hot["gi_z"], rtol=1e-12)
    assert (hot["gi_bin"] != 0).sum() == (ref_hot["gi_bin"] != 0).sum() > 0
