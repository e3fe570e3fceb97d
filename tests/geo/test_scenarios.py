"""The scenario format (`geo.scenarios`: name check, errors) and the GeoPackage store's scenarios table.

Saving, listing and deleting through every store (and per district) is the storage contract
(test_store_contract.py); here what only the GeoPackage workspace does: the table lives in ``scenarios.gpkg``
beside the versions as a GeoPackage attributes table, saving leaves the dataset's GeoPackage and its
modification time alone, a GeoPackage's own table (written before scenarios had districts) is taken in when
the file is first opened, and a damaged scenarios file is a clear error.
"""

import os
import sqlite3

import pyogrio
import pytest

from geo.dataset import read_dataset, write_dataset
from geo.errors import DataError
from geo.scenarios import MAX_NAME_CHARS, Scenario, check_scenario_name
from geo.storage import open_store
from tests.storefixtures import small_dataset


@pytest.fixture
def gpkg(tmp_path):
    return write_dataset(small_dataset(), tmp_path / "d.gpkg")


def _scenario(name: str = "方案一", n: int = 3) -> Scenario:
    return Scenario(name=name, kind="siting", params={"radius_m": 300.0, "n_new": n},
                    result={"site_ids": ["S1", "S2"], "covered_share": 0.5})


def test_names_are_stripped_and_checked():
    assert check_scenario_name("  方案一 ") == "方案一"
    with pytest.raises(DataError, match="the scenario name is empty — give the scenario a name") as err:
        check_scenario_name("   ")
    assert err.value.problems[0].code == "data.scenario_name_empty"
    with pytest.raises(DataError, match=f"the scenario name has {MAX_NAME_CHARS + 1} characters — use at most "
                                        f"{MAX_NAME_CHARS}"):
        check_scenario_name("x" * (MAX_NAME_CHARS + 1))


def test_saving_leaves_the_dataset_file_alone_and_keeps_a_geopackage_table(gpkg):
    store = open_store(gpkg)
    store.current()  # taken in as version 1
    mtime = os.stat(gpkg).st_mtime_ns
    before = read_dataset(gpkg)
    saved = store.save_scenario(_scenario("  方案一 "))
    assert saved.name == "方案一" and saved.saved_at and saved.district is None
    assert os.stat(gpkg).st_mtime_ns == mtime and store.current().id == 1
    after = read_dataset(gpkg)
    assert after.present_layers() == before.present_layers() and after.grids.equals(before.grids)
    path = store.history / "scenarios.gpkg"
    assert {"scenarios"} <= {str(r[0]) for r in pyogrio.list_layers(path)}
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT data_type FROM gpkg_contents WHERE table_name='scenarios'").fetchone() == (
            "attributes",)
        assert con.execute("SELECT name, district FROM scenarios").fetchall() == [("方案一", "")]


def test_a_files_own_table_is_taken_in_when_first_opened(gpkg):
    con = sqlite3.connect(gpkg)  # the table as earlier versions wrote it into the dataset's file: no district column
    con.execute('CREATE TABLE "scenarios" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "name" TEXT NOT NULL, '
                '"kind" TEXT, "saved_at" TEXT, "params" TEXT, "result" TEXT)')
    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
                "VALUES ('scenarios', 'attributes', 'scenarios', '', '2024-01-01T00:00:00.000Z', 0)")
    con.execute('INSERT INTO "scenarios" (name, kind, saved_at, params, result) VALUES '
                "('A', 'siting', '2024-01-01T00:00:00+08:00', '{\"n_new\": 2}', '{}')")
    con.commit()
    con.close()
    store = open_store(gpkg)
    assert [(s.name, s.params, s.district) for s in store.list_scenarios()] == [("A", {"n_new": 2}, None)]
    store.save_scenario(_scenario("B"))
    with pytest.raises(DataError, match="a scenario named 'A' already exists — choose another name or replace it"):
        store.save_scenario(_scenario("A"))
    assert [s.name for s in open_store(gpkg).list_scenarios()] == ["A", "B"]


def test_a_damaged_scenarios_file_is_named(gpkg):
    store = open_store(gpkg)
    store.save_scenario(_scenario())
    (store.history / "scenarios.gpkg").write_text("not a database")
    with pytest.raises(DataError, match="scenarios.gpkg is not a usable GeoPackage") as err:
        store.list_scenarios()
    assert err.value.problems[0].code == "data.not_a_geopackage"
