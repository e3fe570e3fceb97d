"""The storage interface's contract (`geo.storage`), on every backend: the GeoPackage workspace and PostGIS.

Each test runs once per backend (the ``store_url`` fixture, tests/storefixtures.py): versions numbered
1, 2, … per dataset, replace and upsert by id, restore as a new version, the checksum refusing a damaged
version, a failed import changing nothing, cases given their grid at import, scenarios, the derived-value
cache and two writers at once. Backend-specific behaviour (the GeoPackage's file layout and crash safety,
SQL counts) is tested in test_workspace.py, test_workspace_crash.py and test_postgis.py.
"""

from __future__ import annotations

import json
import threading

import geopandas as gpd
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Point, box

from geo.errors import AnalysisError, DataError, StorageError
from geo.scenarios import Scenario
from geo.schema import validate_layer
from geo.storage import DatasetStore, VersionInfo, open_store
from i18n import error_text
from tests.storefixtures import (
    REAL_CASE_ORDERS,
    fail_writes_with_full_disk,
    real_export_dataset,
    small_dataset,
    small_facilities,
    small_grids,
    tamper,
)


@pytest.fixture
def store(store_url) -> DatasetStore:
    s = open_store(store_url)
    s.import_dataset(small_dataset(), source="src.gpkg")
    return s


def test_an_empty_dataset_has_no_version(store_url):
    s = open_store(store_url)
    assert isinstance(s, DatasetStore) and not s.exists()
    with pytest.raises(StorageError) as err:
        s.current()
    assert err.value.code == "storage.dataset_missing" and err.value.params["name"] == s.name
    assert error_text(err.value, lang="en") == f"dataset {s.name} has no version yet: import its grids and " \
                                               "facilities first."


def test_first_version_loads_as_imported(store):
    info = store.current()
    assert (info.id, info.kind, info.source, info.rows_added, info.user) == (1, "create", "src.gpkg", 5, None)
    assert dict(info.layers) == {"grids": 3, "facilities": 2} and len(info.checksum) == 64
    assert [v.id for v in store.versions()] == [1] and store.exists()
    ds = store.load()
    assert ds.name == "测试区" and ds.meta_dict == {"name": "测试区", "as_of": "2019-06-30"}
    assert_geodataframe_equal(ds.grids, small_grids())
    assert_geodataframe_equal(ds.facilities, small_facilities())
    assert ds.cases is None and ds.roads is None
    again = open_store(store.spec)
    assert again.token == store.token and again.current() == info


def test_replace_counts_rows_by_id_and_keeps_the_old_version(store):
    before_token, before_sum = store.token, store.current().checksum
    new = small_grids((5, 12, 9))  # G1 unchanged, G2 changed, G3 removed, G4 added
    new.loc[2, "grid_id"] = "G4"
    info = store.import_layer("grids", new, mode="replace", source="网格.xlsx", user="clerk")
    assert (info.id, info.kind, info.layer, info.user, info.source) == (2, "replace", "grids", "clerk", "网格.xlsx")
    assert (info.rows_added, info.rows_changed, info.rows_removed) == (1, 1, 1)
    assert store.token != before_token and store.current() == info
    assert store.load().grids["grid_id"].tolist() == ["G1", "G2", "G4"]
    assert store.load(1).grids["elderly"].tolist() == [5, 11, 7]
    assert len(store.load().facilities) == 2  # the other layers come along unchanged
    assert [v.id for v in store.versions()] == [1, 2] and store.versions()[0].checksum == before_sum


def test_upsert_replaces_rows_in_place_and_appends_new_ids(store):
    upd = small_facilities(ids=("F2", "F9"), names=("北岭站（新址）", "新站"))
    info = store.import_layer("facilities", upd, mode="upsert", source="站点.csv")
    assert (info.kind, info.rows_added, info.rows_changed, info.rows_removed) == ("upsert", 1, 1, 0)
    fac = store.load().facilities
    assert fac["facility_id"].tolist() == ["F1", "F2", "F9"]
    assert fac["name"].tolist() == ["东门日照中心", "北岭站（新址）", "新站"]
    assert fac.geometry.iloc[1].x == pytest.approx(113.105)  # F2 took the row's new position
    again = store.import_layer("facilities", upd, mode="upsert", source="站点.csv")
    assert (again.rows_added, again.rows_changed, again.rows_removed) == (0, 0, 0)


def test_upsert_keeps_columns_the_new_rows_lack(store):
    with_capacity = small_facilities().assign(capacity=pd.array([20, 30], dtype="Int64"))
    store.import_layer("facilities", with_capacity, source="a.csv")
    store.import_layer("facilities", small_facilities(ids=("F3",), names=("三号站",)), mode="upsert", source="b.csv")
    fac = store.load().facilities
    assert fac["facility_id"].tolist() == ["F1", "F2", "F3"]
    assert fac["capacity"].tolist()[:2] == [20, 30] and pd.isna(fac["capacity"].iloc[2])


def test_bad_imports_are_refused_with_the_same_codes_and_change_nothing(store):
    roads = gpd.GeoDataFrame({"walkable": [True]}, geometry=[box(113.1, 27.8, 113.2, 27.9).boundary], crs=4326)
    with pytest.raises(DataError) as no_id:
        store.import_layer("roads", roads, mode="upsert", source="roads.shp")
    assert no_id.value.problems[0].code == "data.upsert_without_id"
    with pytest.raises(StorageError) as mode:
        store.import_layer("grids", small_grids(), mode="merge", source="x")  # type: ignore[arg-type]
    assert mode.value.code == "storage.mode_unknown" and "replace, upsert" in str(mode.value)
    with pytest.raises(DataError, match="there is no layer named 'parks'") as layer:
        store.import_layer("parks", small_grids(), source="x")
    assert layer.value.problems[0].code == "data.layer_unknown"
    assert [v.id for v in store.versions()] == [1]


def test_restore_round_trip(store):
    store.import_layer("grids", small_grids((1, 2, 3)), source="a.csv")
    store.import_layer("facilities", small_facilities(ids=("F7",), names=("七号站",)), source="b.csv")
    info = store.restore(1, user="admin")
    assert (info.id, info.kind, info.restored_from, info.user) == (4, "restore", 1, "admin")
    # against version 3: grids G1..G3 all changed back, F7 removed, F1 and F2 added again
    assert (info.rows_added, info.rows_changed, info.rows_removed) == (2, 3, 1)
    assert info.checksum == store.versions()[0].checksum
    a, b = store.load(1), store.load()
    assert_geodataframe_equal(a.grids, b.grids)
    assert_geodataframe_equal(a.facilities, b.facilities)
    assert b.meta_dict == a.meta_dict
    assert [v.kind for v in store.versions()] == ["create", "replace", "replace", "restore"]


def test_a_missing_version_is_named(store):
    for call in (store.restore, store.load, store.derived):
        with pytest.raises(StorageError) as err:
            call(7)
        assert err.value.code == "storage.version_missing" and err.value.params["version"] == 7
        assert str(err.value) == f"dataset {store.name} has no version 7 (versions 1–1)"


def test_a_damaged_version_is_refused_and_the_others_still_open(store):
    store.import_layer("facilities", small_facilities(ids=("NEW1",), names=("新站",)), mode="upsert", source="x")
    tamper(store, 1)
    for call in (lambda: store.load(1), lambda: store.restore(1)):
        with pytest.raises(StorageError) as err:
            call()
        assert err.value.code == "storage.checksum_failed" and err.value.params["version"] == 1
        assert "不符" in error_text(err.value, lang="zh")
    assert store.current().id == 2 and "NEW1" in set(store.load().facilities["facility_id"])
    assert [v.id for v in store.versions()] == [1, 2]


def test_a_failed_import_changes_nothing_and_the_same_import_works_later(store, monkeypatch):
    before_current, before_token = store.current(), store.token
    fail_writes_with_full_disk(store, monkeypatch)
    with pytest.raises(StorageError) as info:
        store.import_layer("facilities", small_facilities(ids=("NEW1",), names=("新站",)), mode="upsert", source="x")
    err = info.value
    assert err.code == "storage.disk_full" and err.params["version"] == 2 and err.params["name"] == store.name
    assert "the current version is unchanged" in err.message
    assert error_text(err, lang="zh").startswith(f"磁盘已满，数据集 {store.name} 的第 2 版未能写入；当前版本未受影响。")
    assert store.current() == before_current and store.token == before_token
    assert store.versions() == [before_current] and len(store.load().facilities) == 2
    monkeypatch.undo()
    again = store.import_layer("facilities", small_facilities(ids=("NEW1",), names=("新站",)), mode="upsert",
                               source="x")
    assert (again.id, again.rows_added) == (2, 1) and "NEW1" in set(store.load().facilities["facility_id"])


def test_cases_get_their_grid_at_import(store):
    cases = validate_layer(gpd.GeoDataFrame(
        {"case_id": ["C1", "C2", "C3"], "category": ["市容环境"] * 3, "reported_at": ["2019-01-02"] * 3,
         "status": ["open"] * 3, "grid_id": [None, "G1", None]},
        geometry=[Point(113.125, 27.805), Point(113.125, 27.805), Point(113.105, 27.805)], crs=4326), "cases")
    store.import_layer("cases", cases, source="事件.csv")
    # C1 lies in G3 (113.12–113.13); C2 keeps the grid it came with; C3 lies in G1
    assert store.load().cases["grid_id"].tolist() == ["G3", "G1", "G1"]


def test_text_with_tabs_newlines_and_backslashes_survives(store):
    text = "日间照料\t中心\\二号\n楼\r\\N \"东\" '西',"
    store.import_layer("facilities", small_facilities(names=(text, "北岭站")), source="x")
    assert store.load().facilities["name"].tolist() == [text, "北岭站"]


def test_scenarios_saved_listed_overwritten_deleted_and_kept_across_versions(store):
    saved = store.save_scenario(Scenario("  方案一 ", "siting", {"n_new": 3}, {"site_ids": ["S1"]}))
    assert saved.name == "方案一" and saved.saved_at
    store.save_scenario(Scenario("方案二", "coverage", {"x": 1}))
    with pytest.raises(DataError, match="a scenario named '方案一' already exists") as taken:
        store.save_scenario(Scenario("方案一", "siting", {"n_new": 6}))
    assert taken.value.problems[0].code == "data.scenario_exists"
    with pytest.raises(DataError, match="the scenario name is empty"):
        store.save_scenario(Scenario(" ", "siting"))
    store.save_scenario(Scenario("方案一", "siting", {"n_new": 6}, {"site_ids": ["S2"]}), overwrite=True)
    store.import_layer("grids", small_grids((1, 2, 3)), source="a.csv")
    store.restore(1)
    listed = store.list_scenarios()  # oldest first: a replaced scenario counts as saved anew
    assert [(s.name, s.kind, s.params, s.result) for s in listed] == [
        ("方案二", "coverage", {"x": 1}, {}), ("方案一", "siting", {"n_new": 6}, {"site_ids": ["S2"]})]
    assert [s.name for s in store.list_scenarios(kind="siting")] == ["方案一"]
    assert store.list_scenarios(kind="other") == []
    store.delete_scenario("方案一")
    with pytest.raises(DataError, match="there is no scenario named '方案一'") as gone:
        store.delete_scenario("方案一")
    assert gone.value.problems[0].code == "data.scenario_missing"
    assert [s.name for s in store.list_scenarios()] == ["方案二"]


def test_derived_values_are_kept_per_version(store):
    calls = []
    assert store.derived().get("answer", lambda: calls.append(1) or {"x": 42}) == {"x": 42}
    assert open_store(store.spec).derived(1).get("answer", lambda: calls.append(2) or None) == {"x": 42}
    assert calls == [1] and store.derived().names() == ["answer"]
    store.import_layer("grids", small_grids((1, 2, 3)), source="a.csv")
    assert store.derived().names() == []
    assert store.derived().get("answer", lambda: "rebuilt") == "rebuilt"
    assert store.derived(1).names() == ["answer"]
    with pytest.raises(AnalysisError) as bad:
        store.derived().get("../x", lambda: 1)
    assert bad.value.code == "analysis.bad_choice"


def test_version_info_round_trips_through_json(store):
    info = store.current()
    assert VersionInfo.from_dict(json.loads(json.dumps(info.as_dict()))) == info


def test_a_dataset_without_facilities_is_not_loadable(store_url):
    s = open_store(store_url)
    s.import_layer("grids", small_grids(), source="grids.gpkg")
    assert s.current().id == 1
    with pytest.raises(DataError) as missing:
        s.load()
    assert [(p.layer, p.code) for p in missing.value.problems] == [("facilities", "data.layer_missing")]
    s.import_layer("facilities", small_facilities(), source="fac.csv")
    assert len(s.load().facilities) == 2 and open_store(store_url).token == s.token


def test_two_concurrent_imports_are_both_kept_and_one_is_current(store):
    base = store.load()
    first = base.with_layer("facilities", small_facilities(ids=("A1",), names=("甲",)))
    second = base.with_layer("facilities", small_facilities(ids=("B1", "B2"), names=("乙", "丙")))
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def run(tag, ds):
        barrier.wait()
        try:
            results[tag] = open_store(store.spec).import_dataset(ds, user=tag, source=f"{tag}.gpkg")
        except Exception as exc:  # reported by the assertion below
            results[tag] = exc

    threads = [threading.Thread(target=run, args=(t, d)) for t, d in (("office-1", first), ("office-2", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, VersionInfo) for r in results.values()), results
    listed = store.versions()
    assert [v.id for v in listed] == [1, 2, 3] and sorted(v.user for v in listed[1:]) == ["office-1", "office-2"]
    assert store.current().user in ("office-1", "office-2")
    for v in listed[1:]:
        assert store.load(v.id).facilities["facility_id"].tolist() == (["A1"] if v.user == "office-1"
                                                                       else ["B1", "B2"])


# --- values as real exports have them (issue 18): the same values back, whatever row a parser meets first ----------

T = pd.Timestamp
REAL_CASES_EXPECTED = {  # case_id: (reported_at, deadline, closed_at, grid_id, description), written out by hand
    "0000120": (T("2023-08-12 14:30:39"), T("2023-08-19"), T("2023-08-13 09:00:00.250"), "007301",
                "路灯不亮（东门　3栋）、已报修"),
    "0000121": (T("2025-06-15 07:42:30.831"), T("2025-06-22"), T("2025-06-16 18:05:00"), "007301", "占道经营 (早市)"),
    "0000122": (T("2024-02-29"), T("2024-03-07"), T("2024-03-01 08:15:30.500"), "007301", "井盖缺失【急】"),
    "0000123": (T("2024-11-03 21:07:45.120"), T("2024-11-10"), T("2024-11-04 10:00:00"), "007301", "油烟扰民　二楼"),
    "0000124": (T("2024-12-31 23:59:59.999"), T("2025-01-07"), T("2025-01-01 08:00:01"), "007301", "邻里纠纷：噪音"),
}


def _real_cases(ds) -> dict[str, tuple]:
    c = ds.cases
    return {r.case_id: (r.reported_at, r.deadline, r.closed_at, r.grid_id, r.description) for r in c.itertuples()}


@pytest.mark.parametrize("order", list(REAL_CASE_ORDERS), ids=list(REAL_CASE_ORDERS))
def test_a_real_export_loads_with_every_value_as_written(store_url, order):
    s = open_store(store_url)
    s.import_dataset(real_export_dataset(REAL_CASE_ORDERS[order]), source="导出（2025）.gpkg")
    for ds in (s.load(), open_store(store_url).load()):  # the same store, and one opened afresh
        cases = ds.cases
        assert cases["case_id"].tolist() == [f"000012{i}" for i in REAL_CASE_ORDERS[order]]  # import order kept
        assert _real_cases(ds) == REAL_CASES_EXPECTED
        for col in ("reported_at", "deadline", "closed_at"):
            assert cases[col].dtype == "datetime64[ns]", col
        assert set(cases["status"]) == {"closed"}  # no open case: normal input
        g = ds.grids
        assert g[["grid_id", "street", "community", "grid_name", "grid_worker"]].values.tolist() == [
            ["007301", "田心街道", "东门（一）社区", "东门　第一网格 (A区)", "欧阳 小红"]]
        assert (g["households"].tolist(), g["population"].tolist(), g["elderly"].tolist()) == ([420], [1130], [260])
        assert ds.facilities[["facility_id", "name", "type"]].values.tolist() == [
            ["3", "东门日间照料中心（二号楼）", "day_care"], ["41", "北岭 老年食堂、助餐点　(试运营)", "elderly_canteen"]]
        assert ds.candidates[["site_id", "name"]].values.tolist() == [["1", "党群服务中心［一楼］"], ["20", "原 粮站（东）"]]
        # ids are text in every layer, whatever the export had
        for layer, col in (("grids", "grid_id"), ("facilities", "facility_id"), ("candidates", "site_id"),
                           ("cases", "case_id"), ("cases", "grid_id"), ("estates", "estate_id")):
            assert isinstance(ds.layer(layer)[col].dtype, pd.StringDtype), (layer, col)
        # the empty estates layer is kept, with its columns and no row
        assert len(ds.estates) == 0 and ds.rows("estates") == 0
        assert list(ds.estates.columns) == ["estate_id", "name", "households", "management", "committee_formed_on",
                                            "geometry"]
        assert ds.estates["committee_formed_on"].dtype == "datetime64[ns]"
        # joins still match: every case in the one grid, by id
        joined = cases.drop(columns="geometry").merge(g.drop(columns="geometry"), on="grid_id", how="inner")
        assert sorted(joined["case_id"]) == sorted(REAL_CASES_EXPECTED) and set(joined["street"]) == {"田心街道"}
    assert dict(s.current().layers) == {"grids": 1, "facilities": 2, "estates": 0, "cases": 5, "candidates": 2}


def test_a_real_export_read_back_and_imported_again_changes_no_row(store_url):
    """What a store gives back is exactly what it took: importing it again counts no row as changed."""
    s = open_store(store_url)
    s.import_dataset(real_export_dataset(REAL_CASE_ORDERS["fraction_first"]), source="导出.gpkg")
    loaded = s.load()
    info = s.import_layer("cases", loaded.cases, mode="upsert", source="again.csv")
    assert (info.rows_added, info.rows_changed, info.rows_removed) == (0, 0, 0)
    info = s.import_dataset(loaded, source="again.gpkg")
    assert (info.rows_added, info.rows_changed, info.rows_removed) == (0, 0, 0)
    assert _real_cases(s.load()) == REAL_CASES_EXPECTED
    assert_geodataframe_equal(s.load().grids, loaded.grids)
    assert_geodataframe_equal(s.load().facilities, loaded.facilities)


def test_an_empty_optional_layer_is_imported_and_replaced(store):
    empty = validate_layer(gpd.GeoDataFrame({"estate_id": [], "name": [], "households": [], "management": []},
                                            geometry=gpd.GeoSeries([], crs=4326), crs=4326), "estates")
    info = store.import_layer("estates", empty, source="小区（空）.xlsx")
    assert (info.rows_added, info.rows_changed, info.rows_removed) == (0, 0, 0)
    assert dict(info.layers)["estates"] == 0 and len(store.load().estates) == 0
    points = validate_layer(gpd.GeoDataFrame(
        {"小区编号": pd.array([9, 10], dtype="int64"), "小区名称": ["锦绣（南区）", "东门 新村　一期"], "户数": [120, 80],
         "管理方式": ["无物业管理", "物业公司"]}, geometry=[Point(113.105, 27.805), Point(113.125, 27.805)], crs=4326),
        "estates")
    info = store.import_layer("estates", points, mode="upsert", source="小区.xlsx")
    assert (info.rows_added, info.rows_changed, info.rows_removed) == (2, 0, 0)
    est = store.load().estates
    assert est[["estate_id", "name", "management"]].values.tolist() == [
        ["9", "锦绣（南区）", "unmanaged"], ["10", "东门 新村　一期", "property_company"]]
    assert est["households"].tolist() == [120, 80]



def test_a_failed_write_gives_its_number_back_to_a_store_opened_later(store, monkeypatch):
    """A failed version's number goes to the next one, also when another process opens the dataset in between."""
    fail_writes_with_full_disk(store, monkeypatch)
    with pytest.raises(StorageError):
        store.import_layer("facilities", small_facilities(ids=("NEW1",), names=("新站",)), source="x")
    monkeypatch.undo()
    later = open_store(store.spec)
    info = later.import_layer("facilities", small_facilities(ids=("NEW1",), names=("新站",)), source="x")
    assert info.id == 2 and [v.id for v in later.versions()] == [1, 2] and later.current().id == 2

# --- the city level: districts, one district's layers, grouped case counts, scenarios per district ---------------

def _city_store(store_url, **kw) -> DatasetStore:
    from tests.storefixtures import small_city

    s = open_store(store_url)
    s.import_dataset(small_city(**kw), source="city.gpkg")
    return s


def _brute_counts(by, *, as_of, since=None, until=None, categories=(), district=None):
    """Every count of `CITY_CASES` by a loop over the rows (the rule of geo.calendar, end of the as_of day)."""
    from datetime import date, datetime, timedelta

    from tests.storefixtures import CITY_CASES, CITY_GRIDS

    def ts(text):
        return None if text is None else datetime.fromisoformat(text)

    end = datetime.combine(date.fromisoformat(as_of), datetime.min.time()) + timedelta(days=1)
    out: dict[tuple, list[int]] = {}
    for _case_id, grid, reported, status, deadline, closed_at, category, unit in CITY_CASES:
        rep, dl, cl = ts(reported), ts(deadline), ts(closed_at)
        if since and rep < datetime.fromisoformat(since):
            continue
        if until and rep >= datetime.fromisoformat(until) + timedelta(days=1):
            continue
        if categories and category not in categories:
            continue
        if district is not None and (grid is None or CITY_GRIDS[grid][0] != district):
            continue
        if grid is None and set(by) & {"grid_id", "district", "street"}:
            continue
        day = (rep.date() - date(1970, 1, 1)).days
        values = {"grid_id": grid, "district": CITY_GRIDS[grid][0] if grid else None,
                  "street": CITY_GRIDS[grid][1] if grid else None, "category": category,
                  "responsible_unit": unit, "week": (day + 3) // 7}
        if rep >= end:  # reported after the day: not counted yet
            continue
        closed = status == "closed" and (cl is None or cl < end)
        is_open = not closed
        overdue = is_open and dl is not None and dl < end
        row = out.setdefault(tuple(values[b] for b in by), [0, 0, 0, 0])
        row[0] += 1
        row[1] += int(is_open)
        row[2] += int(overdue)
        row[3] += int(closed and dl is not None and cl is not None and cl > dl)
    return out


def _as_dict(frame, by):
    return {tuple(None if pd.isna(v) else v for v in r[: len(by)]): list(r[len(by):])
            for r in frame[[*by, "cases", "open", "overdue", "closed_late"]].itertuples(index=False)}


def test_district_names_in_layer_order(store_url):
    city = _city_store(store_url)
    assert city.district_names() == ("东区", "西区")
    plain = open_store(store_url.replace("store.gpkg", "plain.gpkg") if "gpkg" in store_url
                       else store_url + "_plain")
    plain.import_dataset(small_dataset(), source="d.gpkg")
    assert plain.district_names() == ()


def test_district_names_are_read_once_per_version(store_url, backend, monkeypatch):
    """A page checks its district on every run (its scenarios, follow-ups, targets): the names are read once per
    version and kept by the backend (what it keeps is answered again, even to a new store object), and a new
    version's names are read."""
    from geo import postgis, workspace

    kept = postgis._DISTRICT_NAMES if backend == "postgis" else workspace._DISTRICT_NAMES
    city = _city_store(store_url)
    kept.clear()
    assert city.district_names() == ("东区", "西区")
    (key,) = kept
    monkeypatch.setitem(kept, key, ("已读过",))
    assert open_store(city.spec).district_names() == ("已读过",)  # not read again
    grids = city.load().grids
    grids.loc[grids["district"] == "西区", "district"] = "南区"
    city.import_layer("grids", grids, source="renamed.gpkg")
    assert open_store(city.spec).district_names() == ("东区", "南区")


def test_a_district_loads_as_a_dataset_of_its_own(store_url):
    city = _city_store(store_url)
    west = city.load(district="西区")
    assert west.name == "西区" and west.meta_dict["district"] == "西区" and west.meta_dict["as_of"] == "2024-03-10"
    assert west.grids["grid_id"].tolist() == ["G4", "G5", "G6"]
    assert west.cases["case_id"].tolist() == ["C5", "C6", "C7", "C9"]  # the cases in its grids, in layer order
    assert west.facilities["facility_id"].tolist() == ["F2"]
    assert west.estates["estate_id"].tolist() == ["E1"] and west.candidates["site_id"].tolist() == ["S2"]
    east = city.load(district="东区", layers=())  # grids and facilities only
    assert east.grids["grid_id"].tolist() == ["G1", "G2", "G3"]
    assert east.facilities["facility_id"].tolist() == ["F1", "F3"]
    assert east.cases is None and east.estates is None and east.candidates is None
    whole = city.load(layers=("estates", "candidates"))  # the whole city without its cases
    assert whole.cases is None and len(whole.grids) == 6 and len(whole.estates) == 2 and whole.name == "小城"
    assert len(city.load().cases) == 9
    with pytest.raises(StorageError) as err:
        city.load(district="北区")
    assert err.value.code == "storage.district_missing"
    assert str(err.value) == "the dataset has no district '北区' (districts: 东区, 西区)"
    assert error_text(err.value, lang="en") == "The dataset has no district “北区” (its districts: 东区, 西区)."


@pytest.mark.parametrize("by", [("district",), ("street",), ("grid_id",), ("responsible_unit",), ("category",),
                                ("week",), ("grid_id", "week"), ("district", "category")])
def test_case_counts_equal_a_count_by_hand(store_url, by):
    city = _city_store(store_url)
    got = city.case_counts(by)
    assert _as_dict(got, by) == _brute_counts(by, as_of="2024-03-10")
    assert list(got.columns) == [*by, "cases", "open", "overdue", "closed_late"]
    assert all(str(got[c].dtype) == "int64" for c in ("cases", "open", "overdue", "closed_late"))


def test_case_counts_by_district_checked_by_hand_and_at_another_day(store_url):
    city = _city_store(store_url)
    got = city.case_counts(("district",))
    # 东区: C1-C4, open C1, C3 (closed after the day), C4; overdue C1, C3; closed late C2. 西区: C6, C7, C9 (C5 is
    # reported the day after: not counted yet); open C7, C9; overdue C7 (C9 is due at midnight after the day)
    assert got.to_dict("list") == {"district": ["东区", "西区"], "cases": [4, 3], "open": [3, 2], "overdue": [2, 1],
                                   "closed_late": [1, 0]}
    later = city.case_counts(("district",), as_of="2024-03-12")  # C3 closed late on the 12th; C5 known, overdue
    assert later.to_dict("list") == {"district": ["东区", "西区"], "cases": [4, 4], "open": [2, 3],
                                     "overdue": [1, 3], "closed_late": [2, 0]}
    assert _as_dict(city.case_counts(("category",), as_of="2024-03-12"), ("category",)) == \
        _brute_counts(("category",), as_of="2024-03-12")
    picked = city.case_counts(("street",), since="2024-03-02", until="2024-03-09", categories=("路灯", "油烟"),
                              district="东区")
    assert _as_dict(picked, ("street",)) == _brute_counts(("street",), as_of="2024-03-10", since="2024-03-02",
                                                          until="2024-03-09", categories=("路灯", "油烟"),
                                                          district="东区")
    assert picked["street"].tolist() == ["乙街", "甲街"]  # keys sorted by code point on every backend
    with pytest.raises(StorageError, match="cannot group cases by colour") as err:
        city.case_counts(("colour",))
    assert err.value.code == "storage.bad_grouping"
    with pytest.raises(StorageError, match="has no district '北区'"):
        city.case_counts(("street",), district="北区")


def test_case_counts_without_as_of_take_the_latest_report(store_url):
    city = _city_store(store_url, as_of=None)
    assert _as_dict(city.case_counts(("district",)), ("district",)) == \
        _brute_counts(("district",), as_of="2024-03-11")  # C5, the latest report, on 2024-03-11
    plain = open_store(store_url.replace("store.gpkg", "plain.gpkg") if "gpkg" in store_url
                       else store_url + "_plain")
    plain.import_dataset(small_dataset(), source="d.gpkg")  # no cases layer: no rows
    assert plain.case_counts(("district",)).empty


def test_scenarios_belong_to_their_district_and_outlive_the_store(store_url):
    city = _city_store(store_url)
    east = city.save_scenario(Scenario("方案", "siting", {"n_new": 1}, {"site_ids": ["S1"]}), district="东区")
    assert east.district == "东区"
    city.save_scenario(Scenario("方案", "siting", {"n_new": 2}, {"site_ids": ["S2"]}), district="西区")
    city.save_scenario(Scenario("全市方案", "siting", {"n_new": 3}))
    with pytest.raises(DataError, match="a scenario named '方案' already exists"):
        city.save_scenario(Scenario("方案", "siting"), district="东区")
    with pytest.raises(StorageError, match="has no district '北区'"):
        city.save_scenario(Scenario("方案", "siting"), district="北区")
    again = open_store(city.spec)  # a new store (a restarted server, another process)
    assert [(s.name, s.params, s.district) for s in again.list_scenarios(district="东区")] == \
        [("方案", {"n_new": 1}, "东区")]
    assert [s.result for s in again.list_scenarios(district="西区", kind="siting")] == [{"site_ids": ["S2"]}]
    assert [s.name for s in again.list_scenarios()] == ["全市方案"]
    again.delete_scenario("方案", district="东区")
    assert again.list_scenarios(district="东区") == []
    assert [s.name for s in open_store(city.spec).list_scenarios(district="西区")] == ["方案"]
    with pytest.raises(DataError, match="there is no scenario named '方案'"):
        again.delete_scenario("方案", district="东区")
