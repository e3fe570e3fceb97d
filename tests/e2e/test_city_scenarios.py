"""A district of a city in a real browser, on a city GeoPackage and on a city in PostGIS: choose the district, run
siting, save the scenario, restart the server, find the scenario again (issue: one storage interface).

The city is `tests.storefixtures.small_city`: 东区 (G1-G3, candidates S1 and S3) and 西区 (G4-G6, S2). After the
restart the scenario is listed for 东区 only, and the store says the same (`list_scenarios(district=…)`).
"""

from __future__ import annotations

import uuid

import pytest

from geo.dataset import write_dataset
from geo.storage import open_store
from i18n import t
from tests.e2e.conftest import assert_no_exception, choose_option, screenshot, start_app, stop_app, wait_for_app
from tests.storefixtures import require_pg, small_city

pytestmark = pytest.mark.e2e
NAME = "东区新增一站"


def _city(backend: str, tmp_path) -> str:
    if backend == "postgis":
        spec = f"{require_pg()}?dataset=t_{uuid.uuid4().hex[:10]}"
        open_store(spec).import_dataset(small_city(), source="city.gpkg")
        return spec
    return str(write_dataset(small_city(), tmp_path / "city.gpkg"))


def _open_district_siting(page, url: str) -> None:
    page.goto(f"{url}/siting")
    wait_for_app(page)
    # the page's first run has drawn (the whole city: choose a district) before the district is chosen; a choice
    # made while the browser has not yet been told which page it shows reruns the default page (the overview)
    page.get_by_text(t("city.choose_district", lang="zh", n="")[:12]).first.wait_for(timeout=120_000)
    boxes = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')  # dataset, district, street
    assert boxes.nth(1).locator("label").inner_text().strip() == t("city.district", lang="zh")
    choose_option(page, boxes.nth(1), "东区")
    wait_for_app(page)
    page.wait_for_timeout(1000)
    wait_for_app(page)
    assert "东区" in page.locator('[data-testid="stMain"] h1').first.inner_text()


@pytest.mark.parametrize("backend", ["gpkg", "postgis"])
def test_a_districts_scenario_saved_in_the_browser_is_found_after_a_restart(backend, tmp_path, browser):
    spec = _city(backend, tmp_path)
    env = {"GRIDATLAS_HOME": str(tmp_path / "home")}
    proc, url = start_app(spec, env_extra=env)
    try:
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        _open_district_siting(page, url)
        n_new = page.get_by_label(t("siting.n_new", lang="zh")).first  # the coverage objective's form
        n_new.wait_for(timeout=120_000)
        n_new.fill("1")
        page.get_by_role("button", name=t("siting.run", lang="zh")).first.click()
        wait_for_app(page, timeout_ms=120_000)
        page.get_by_label(t("siting.scn.name", lang="zh")).fill(NAME)
        page.get_by_label(t("siting.scn.name", lang="zh")).press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name=t("siting.scn.save", lang="zh")).click()
        page.get_by_text(t("siting.scn.saved", lang="zh", name=NAME)).wait_for(timeout=60_000)
        assert_no_exception(page)
        page.close()
    finally:
        stop_app(proc)

    (saved,) = open_store(spec).list_scenarios(district="东区")
    assert saved.name == NAME and set(saved.result["site_ids"]) <= {"S1", "S3"}
    assert open_store(spec).list_scenarios(district="西区") == []

    proc, url = start_app(spec, env_extra=env)  # a restarted server: nothing kept in memory
    try:
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        _open_district_siting(page, url)
        # the saved scenario is offered for comparison (its name shown in the page's scenario pickers)
        page.wait_for_function(
            """name => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stSelectbox"] input')]
                          .some(i => i.value === name)""", arg=NAME, timeout=60_000)
        assert_no_exception(page)
        screenshot(page, f"city_scenario_after_restart_{backend}")
        page.close()
    finally:
        stop_app(proc)
