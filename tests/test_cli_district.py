"""One district of a city, from the command line and on the siting page, on a city GeoPackage and in PostGIS.

`--district NAME` (or ``--data SPEC#district=NAME``) makes every command work on that district as a dataset of
its own; `site --save` keeps the answer as that district's scenario, which `scenarios --district` lists, the
siting page of that district shows, and a new store (a restarted server, another process) finds again. The city
is `tests.storefixtures.small_city`: 东区 (G1-G3, candidates S1 and S3, 120 aged 60+) and 西区 (G4-G6, S2).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import cli
from geo.storage import open_store
from tests.storefixtures import small_city

EAST_CANDIDATES = {"S1", "S3"}
EAST_ELDERLY = 40 + 60 + 20


@pytest.fixture
def city(backend, store_url) -> str:
    """The city: in PostGIS, or in the workspace under a dataset name (a city is a city whatever names it)."""
    spec = store_url if backend == "postgis" else "小城"
    open_store(spec).import_dataset(small_city(), source="city.gpkg")
    return spec


def _scenarios(capsys, *args: str) -> dict:
    assert cli.main(["scenarios", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_site_saves_a_districts_scenario_that_scenarios_lists_for_that_district(city, tmp_path, capsys):
    out = tmp_path / "east.csv"
    assert cli.main(["site", "--data", city, "--district", "东区", "--new", "1", "--save", "东区一站",
                     "--curve-max", "2", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    sites = pd.read_csv(out)["site_id"].tolist()
    assert summary["saved"] == "东区一站" and len(sites) == 1
    assert set(sites) <= EAST_CANDIDATES  # the district's own candidates: 西区's S2 is not among them
    assert 0 < summary["covered_elderly"] <= EAST_ELDERLY  # the district's own residents

    listed = _scenarios(capsys, "--data", city, "--district", "东区")
    assert listed["district"] == "东区"
    assert [(r["name"], r["sites"], r["n_new"]) for r in listed["scenarios"]] == [("东区一站", sites, 1)]
    assert _scenarios(capsys, "--data", f"{city}#district=东区")["scenarios"] == listed["scenarios"]
    assert _scenarios(capsys, "--data", city, "--district", "西区")["scenarios"] == []
    assert _scenarios(capsys, "--data", city)["scenarios"] == []  # not the whole city's

    again = open_store(city)  # what a restarted server or another process opens
    (kept,) = again.list_scenarios(kind="siting", district="东区")
    assert (kept.name, kept.district, kept.result["site_ids"]) == ("东区一站", "东区", sites)


def test_the_same_name_in_two_districts_and_clear_refusals(city, tmp_path, capsys):
    base = ["site", "--data", city, "--new", "1", "--curve-max", "1", "--save", "一站", "--out",
            str(tmp_path / "s.csv")]
    assert cli.main([*base, "--district", "东区"]) == 0
    assert cli.main([*base, "--district", "西区"]) == 0  # another district: another scenario
    capsys.readouterr()
    west = _scenarios(capsys, "--data", city, "--district", "西区")["scenarios"]
    assert [(r["name"], r["sites"]) for r in west] == [("一站", ["S2"])]  # 西区's one candidate
    assert cli.main(["--lang", "en", *base, "--district", "东区"]) == 2
    assert "A scenario named “一站” already exists." in capsys.readouterr().err
    assert cli.main(["--lang", "en", "scenarios", "--data", city, "--district", "北区"]) == 2
    assert capsys.readouterr().err == "error: The dataset has no district “北区” (its districts: 东区, 西区).\n"
    assert cli.main(["--lang", "en", "versions", "--data", city, "--district", "东区"]) == 2
    assert capsys.readouterr().err == ("error: versions works on the whole dataset, not on district “东区”: leave "
                                       "out --district.\n")
    assert cli.main(["--lang", "en", "scenarios", "--data", f"{city}#district=东区", "--district", "西区"]) == 2
    assert capsys.readouterr().err == "error: The dataset names district “东区” and --district “西区”; give one.\n"


def test_the_siting_page_of_a_district_saves_and_finds_its_scenario_after_a_restart(city, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from i18n import t
    from tests.e2e.conftest import ROOT

    monkeypatch.setenv("GRIDATLAS_DATA", city)

    def siting_page() -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.session_state["district_choice"] = "东区"
        at.switch_page("pages/siting.py").run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    at = siting_page()
    assert "东区" in at.title[0].value
    at.number_input(key="site_n").set_value(1)
    next(b for b in at.button if b.label == t("siting.run", lang="zh")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="scn_name").set_value("页面东区方案").run()
    at.button(key="scn_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (saved,) = open_store(city).list_scenarios(district="东区")
    assert saved.name == "页面东区方案" and set(saved.result["site_ids"]) <= EAST_CANDIDATES
    assert open_store(city).list_scenarios() == [] and open_store(city).list_scenarios(district="西区") == []

    st.cache_data.clear()  # a restarted server: nothing kept in memory
    st.cache_resource.clear()
    listed = siting_page().dataframe[0].value
    assert listed[t("siting.scn.name", lang="zh")].tolist() == ["页面东区方案"]
