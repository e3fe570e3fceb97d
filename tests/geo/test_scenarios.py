"""Scenarios kept in the dataset GeoPackage: save, list, replace, delete; layers and mtime untouched;
write_dataset carries the table over."""

import os
import sqlite3

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point, box

from geo.dataset import Dataset, read_dataset, write_dataset
from geo.errors import DataError, StorageError
from geo.scenarios import (
    MAX_NAME_CHARS,
    Scenario,
    delete_scenario,
    get_scenario,
    list_scenarios,
    save_scenario,
)
from geo.schema import validate_layer


def _dataset() -> Dataset:
    grids = validate_layer(gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"], "street": ["田心", "田心"], "community": ["东门", "北岭"], "households": [10, 20],
         "population": [30, 60], "elderly": [5, 11]},
        geometry=[box(113.10, 27.80, 113.11, 27.81), box(113.11, 27.80, 113.12, 27.81)], crs=4326), "grids")
    fac = validate_layer(gpd.GeoDataFrame(
        {"facility_id": ["F1"], "name": ["东门日照中心"], "type": ["day_care"]},
        geometry=[Point(113.105, 27.805)], crs=4326), "facilities")
    return Dataset(grids=grids, facilities=fac, name="测试区", meta=(("as_of", "2019-06-30"),))


@pytest.fixture
def gpkg(tmp_path):
    return write_dataset(_dataset(), tmp_path / "d.gpkg")


def _scenario(name: str = "方案一", n: int = 3) -> Scenario:
    return Scenario(name=name, kind="siting", params={"radius_m": 300.0, "n_new": n},
                    result={"site_ids": ["S1", "S2"], "covered_share": 0.5})


def test_save_list_get_delete_round_trip(gpkg):
    assert list_scenarios(gpkg) == []
    saved = save_scenario(gpkg, _scenario("  方案一 "))
    assert saved.name == "方案一" and saved.saved_at
    save_scenario(gpkg, Scenario(name="other", kind="coverage", params={"x": 1}))
    listed = list_scenarios(gpkg)
    assert [s.name for s in listed] == ["方案一", "other"]
    assert [s.name for s in list_scenarios(gpkg, kind="siting")] == ["方案一"]
    got = get_scenario(gpkg, "方案一")
    assert got.params == {"radius_m": 300.0, "n_new": 3}
    assert got.result == {"site_ids": ["S1", "S2"], "covered_share": 0.5}
    delete_scenario(gpkg, "方案一")
    assert [s.name for s in list_scenarios(gpkg)] == ["other"]


def test_saving_keeps_every_layer_and_the_modification_time(gpkg):
    before = read_dataset(gpkg)
    mtime = os.stat(gpkg).st_mtime_ns
    save_scenario(gpkg, _scenario())
    assert os.stat(gpkg).st_mtime_ns == mtime
    after = read_dataset(gpkg)
    assert after.present_layers() == before.present_layers()
    assert after.grids.equals(before.grids)
    assert after.facilities.equals(before.facilities)
    assert after.meta == before.meta
    # A proper GeoPackage attributes table, listed beside the layers.
    layers = {str(r[0]) for r in pyogrio.list_layers(gpkg)}
    assert {"grids", "facilities", "meta", "scenarios"} <= layers
    with sqlite3.connect(gpkg) as con:
        assert con.execute("SELECT data_type FROM gpkg_contents WHERE table_name='scenarios'").fetchone() == (
            "attributes",)


def test_write_dataset_carries_scenarios_over(gpkg):
    save_scenario(gpkg, _scenario("A", 2))
    save_scenario(gpkg, _scenario("B", 5))
    ds = read_dataset(gpkg)
    write_dataset(ds.with_layer("grids", ds.grids.assign(elderly=ds.grids["elderly"] + 1)), gpkg)
    assert read_dataset(gpkg).grids["elderly"].tolist() == [6, 12]
    kept = list_scenarios(gpkg)
    assert [(s.name, s.params["n_new"]) for s in kept] == [("A", 2), ("B", 5)]
    # and the carried-over table still takes new scenarios and deletions
    save_scenario(gpkg, _scenario("C"))
    delete_scenario(gpkg, "A")
    assert [s.name for s in list_scenarios(gpkg)] == ["B", "C"]


def test_same_name_needs_overwrite(gpkg):
    save_scenario(gpkg, _scenario("A", 2))
    with pytest.raises(DataError, match="a scenario named 'A' already exists — choose another name or replace it"):
        save_scenario(gpkg, _scenario("A", 9))
    save_scenario(gpkg, _scenario("A", 9), overwrite=True)
    assert [(s.name, s.params["n_new"]) for s in list_scenarios(gpkg)] == [("A", 9)]


def test_bad_names_and_files(gpkg, tmp_path):
    with pytest.raises(DataError, match="the scenario name is empty — give the scenario a name"):
        save_scenario(gpkg, _scenario("   "))
    with pytest.raises(DataError, match=f"use at most {MAX_NAME_CHARS}"):
        save_scenario(gpkg, _scenario("x" * (MAX_NAME_CHARS + 1)))
    with pytest.raises(DataError, match="there is no scenario named 'nope'"):
        delete_scenario(gpkg, "nope")
    with pytest.raises(DataError, match="there is no scenario named 'nope'"):
        get_scenario(gpkg, "nope")
    with pytest.raises(DataError, match="does not exist"):
        list_scenarios(tmp_path / "missing.gpkg")
    # a database keeps its scenarios itself (tests/test_cli_site.py runs them on PostGIS); an unreachable one says so
    with pytest.raises(StorageError, match="cannot connect to the PostgreSQL server at postgresql://…@host/db"):
        list_scenarios("postgresql://user@host/db")
    junk = tmp_path / "junk.gpkg"
    junk.write_text("not a database")
    with pytest.raises(DataError, match="is not a usable GeoPackage"):
        list_scenarios(junk)
