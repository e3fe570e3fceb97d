"""The overview in a real browser, offline: the whole map drawn from the app's own assets."""

import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from geo.dataset import DEMO_PATH, read_dataset
from tests.e2e.conftest import (
    assert_no_exception,
    choose_option,
    screenshot,
    stop_app,
    wait_for_app,
    wait_for_map_count,
)

pytestmark = pytest.mark.e2e


def test_overview_draws_every_grid_and_facility_offline(app_url, offline_page):
    page = offline_page
    ds = read_dataset(DEMO_PATH)
    page.goto(f"{app_url}/")
    wait_for_app(page)
    frame = wait_for_map_count(page, "path.ga-grid", len(ds.grids))
    assert frame.locator("path.ga-grid").count() == len(ds.grids) == 232
    assert frame.locator("path.ga-facility").count() == len(ds.facilities)
    for code in ds.facilities["type"].unique():
        assert frame.locator(f"path.ga-facility-{code}").count() == int((ds.facilities["type"] == code).sum())
    assert frame.locator("path.ga-street").count() == len(ds.streets)
    # figures on top, Chinese first
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "232" in body and "250,000" in body and "45,200" in body and "182" in body
    assert "网格服务总览" in body
    assert_no_exception(page)
    screenshot(page, "overview_zh")
    # nothing left the machine, and every script/style came from the app itself
    assert page.traffic.blocked == []
    assets = page.traffic.scripts_and_styles()
    assert any("/app/static/leaflet/leaflet.js" in u for u in assets)
    assert all(re.match(r"https?://(127\.0\.0\.1|localhost)(:\d+)?/", u) for u in assets), assets
    assert page.js_errors == []


def test_language_switch_and_street_filter(app_url, offline_page):
    page = offline_page
    page.goto(f"{app_url}/")
    wait_for_app(page)
    page.get_by_text("English", exact=True).click()
    wait_for_app(page)
    page.wait_for_selector("text=Overview", timeout=60_000)
    # the figures are drawn after the page title: wait for them rather than read too early
    page.wait_for_selector('[data-testid="stMetric"]:has-text("Aged 60+")', timeout=60_000)
    assert "Aged 60+" in page.locator('[data-testid="stMain"]').inner_text()
    # filter to one street: fewer grids on the map, figures of that street
    ds = read_dataset(DEMO_PATH)
    street = ds.streets[0]
    n = int((ds.grids["street"] == street).sum())
    choose_option(page, page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1), street)
    wait_for_app(page)
    wait_for_map_count(page, "path.ga-grid", n)
    page.wait_for_function(
        "n => { const m = document.querySelector('[data-testid=\"stMetric\"]'); return m && m.innerText.includes(n); }",
        arg=str(n), timeout=60_000)
    assert str(n) in page.locator('[data-testid="stMetric"]').first.inner_text()
    assert_no_exception(page)
    screenshot(page, "overview_en_street")


def test_direct_link_to_a_page_on_a_fresh_server(offline_page):
    """A bookmark to /coverage works even as the first request a new server sees."""
    from tests.e2e.conftest import start_app

    proc, url = start_app(str(DEMO_PATH))
    try:
        page = offline_page
        page.goto(f"{url}/coverage")
        wait_for_app(page)
        page.wait_for_selector("text=服务覆盖分析", timeout=90_000)
        assert_no_exception(page)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "总览" in nav and "覆盖分析" in nav  # the app's own navigation, not file names
        assert "app" not in nav.split()
    finally:
        stop_app(proc)


def test_configured_basemap_unreachable_still_draws_layers(offline_page):
    """A tile server that cannot be reached (here: outside the machine, blocked) leaves the layers drawn."""
    from tests.e2e.conftest import start_app

    tiles = "http://tiles.district.invalid/{z}/{x}/{y}.png"
    proc, url = start_app(str(DEMO_PATH), env_extra={"GRIDATLAS_TILES": tiles, "GRIDATLAS_TILES_ATTR": "区政务地图"})
    try:
        page = offline_page
        page.goto(f"{url}/")
        wait_for_app(page)
        frame = wait_for_map_count(page, "path.ga-grid", 232)
        assert frame.locator("img.leaflet-tile").count() > 0  # the basemap was asked for...
        assert page.traffic.blocked and all(u.startswith("http://tiles.district.invalid/") for u in page.traffic.blocked)
        assert "区政务地图" in frame.locator(".leaflet-control-attribution").inner_text()
        # ...and switching it off in the sidebar removes the tile layer
        page.get_by_text("无底图（离线）").click()
        wait_for_app(page)
        deadline = time.monotonic() + 60
        while True:
            frame = wait_for_map_count(page, "path.ga-grid", 232)
            try:
                if frame.locator("img.leaflet-tile").count() == 0:
                    break
            except PlaywrightError as exc:  # the rerun replaced the map's iframe meanwhile: look again
                assert "detached" in str(exc), exc
            assert time.monotonic() < deadline, "the tile layer is still on the map"
            page.wait_for_timeout(500)
        assert_no_exception(page)
    finally:
        stop_app(proc)
