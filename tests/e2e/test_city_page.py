"""The city level in a real browser, offline: district outlines on the whole city, a district's grids once chosen."""

from __future__ import annotations

import pytest

from geo import demo_city
from tests.e2e.conftest import (
    assert_no_exception,
    choose_option,
    screenshot,
    start_app,
    stop_app,
    wait_for_app,
    wait_for_map_count,
)

pytestmark = pytest.mark.e2e
DISTRICTS = ("江汉区", "青山区", "汉南区")


@pytest.fixture(scope="module")
def city_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("city_e2e") / "city3.gpkg"
    demo_city.write_gpkg(path, seed=7, n_grids=2_000, n_cases=60_000, districts=DISTRICTS)
    proc, url = start_app(str(path))
    yield url, str(path)
    stop_app(proc)


def test_city_map_shows_districts_then_a_district_shows_its_grids(city_url, offline_page):
    url, path = city_url
    page = offline_page
    page.goto(f"{url}/")
    wait_for_app(page)
    frame = wait_for_map_count(page, "path.ga-district", 3)
    assert frame.locator("path.ga-grid").count() == 0  # the city's grids never reach the browser
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "武汉市 网格服务总览（3 个区）" in body and "各区一览" in body
    assert_no_exception(page)
    screenshot(page, "city_overview_zh")
    assert page.traffic.blocked == [] and page.js_errors == []



def test_choosing_a_district_in_the_sidebar_shows_its_grids_and_streets(city_url, offline_page):
    import pyogrio

    url, path = city_url
    grids = pyogrio.read_dataframe(path, layer="grids", columns=["district", "street"], read_geometry=False)
    mine = grids[grids["district"] == "青山区"]
    page = offline_page
    page.goto(f"{url}/")
    wait_for_app(page)
    wait_for_map_count(page, "path.ga-district", 3)
    sidebar = page.locator('[data-testid="stSidebar"]')
    boxes = sidebar.locator('[data-testid="stSelectbox"]')  # dataset, district, then (once chosen) street
    assert boxes.nth(1).locator("label").inner_text().strip() == "区"
    choose_option(page, boxes.nth(1), "青山区")
    wait_for_app(page)
    # one district: its own grids on the map (never the other districts'), its streets to choose from
    wait_for_map_count(page, "path.ga-grid", len(mine))
    assert "青山区" in page.locator('[data-testid="stMain"] h1').first.inner_text()
    assert boxes.nth(2).locator("label").inner_text().strip() == "街道"
    boxes.nth(2).click()
    page.get_by_role("option", name="全部街道", exact=True).wait_for(timeout=30_000)  # the list is open
    offered = [o.strip() for o in page.get_by_role("option").all_inner_texts()]
    assert sorted(o for o in offered if o != "全部街道") == sorted(mine["street"].unique())
    page.keyboard.press("Escape")
    assert_no_exception(page)
    screenshot(page, "city_district_zh")
    assert page.traffic.blocked == [] and page.js_errors == []
