"""The cases page in a real browser: the hot spot map draws offline, and changing the period changes it."""

import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import assert_no_exception, choose_option, map_frame, screenshot, wait_for_app

DEMO_GRIDS = 232


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _hotspot_paths(page, *, timeout_s: float = 60.0):
    """The hot spot map's frame once every grid is drawn (the iframe is replaced when the map changes)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            frame = map_frame(page, index=0)
            frame.wait_for_selector("path.ga-hotspot", state="attached", timeout=10_000)
            if frame.locator("path.ga-hotspot").count() == DEMO_GRIDS:
                return frame
        except (PlaywrightError, AttributeError):  # the iframe was replaced meanwhile
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the hot spot map did not draw {DEMO_GRIDS} grids within {timeout_s:.0f} s")
        page.wait_for_timeout(500)


def _tooltips(page, indices: list[int], *, timeout_s: float = 60.0) -> list[str]:
    """Tooltip text of some grids (hovered one by one; retried when the map iframe is replaced meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            frame = _hotspot_paths(page)
            texts = []
            for i in indices:
                frame.locator("path.ga-hotspot").nth(i).hover(force=True)
                frame.wait_for_timeout(200)
                tip = frame.locator(".leaflet-tooltip").last
                tip.wait_for(timeout=10_000)
                texts.append(tip.inner_text())
            return texts
        except (PlaywrightError, AttributeError):  # the iframe was replaced meanwhile
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(500)


def _fills(page) -> list[str]:
    frame = _hotspot_paths(page)
    return frame.eval_on_selector_all("path.ga-hotspot", "els => els.map(e => e.getAttribute('fill'))")


def _wait_metric_change(page, label: str, before: str) -> None:
    page.wait_for_function(
        """([label, before]) => {
            const m = [...document.querySelectorAll('[data-testid="stMetric"]')].find(e => e.innerText.includes(label));
            return m && !m.innerText.includes(before);
        }""", arg=[label, before], timeout=60_000)
    wait_for_app(page)


@pytest.mark.e2e
def test_cases_page_hotspot_map_follows_the_period(offline_page, app_url):
    page = offline_page
    page.goto(app_url)
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("事件热点").click()
    page.wait_for_url("**/cases")
    page.get_by_role("heading", name=re.compile("事件热点与办理")).wait_for(timeout=60_000)
    page.locator('[data-testid="stMetric"]').filter(has_text="逾期未办结").wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)

    _hotspot_paths(page)
    assert page.get_by_text("热点 99% 置信度").first.is_visible()
    assert page.get_by_text("冷点 99% 置信度").first.is_visible()
    cases_half_year = _metric(page, "事件数")
    tips_before = _tooltips(page, [0, 57, 120])
    assert all("事件数" in tip and "置信度" in tip for tip in tips_before)
    screenshot(page, "cases_half_year")

    # clicking a grid lists its cases (phones masked)
    grid_id = tips_before[1].split("\n")[0].split("\t")[-1]
    deadline = time.monotonic() + 60
    while not page.get_by_text(re.compile(f"网格 {grid_id} 的事件")).count():
        assert time.monotonic() < deadline, "clicking a grid did not list its cases"
        try:
            _hotspot_paths(page).locator("path.ga-hotspot").nth(57).click(force=True)
        except (PlaywrightError, AttributeError):  # the iframe was replaced meanwhile
            pass
        page.wait_for_timeout(1500)
    wait_for_app(page)
    assert_no_exception(page)
    screenshot(page, "cases_grid_clicked")

    # the whole period: more cases, other counts on the map
    choose_option(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="上报时间段"), "全部")
    _wait_metric_change(page, "事件数", cases_half_year)
    assert_no_exception(page)
    assert int(_metric(page, "事件数").replace(",", "")) > int(cases_half_year.replace(",", ""))
    deadline = time.monotonic() + 60
    while (tips_after := _tooltips(page, [0, 57, 120])) == tips_before:  # the map redraws after the metrics
        assert time.monotonic() < deadline, f"the map still shows the old figures: {tips_after}"
        page.wait_for_timeout(1000)
    assert all("事件数" in tip for tip in tips_after)
    screenshot(page, "cases_all_period")

    # binary weights (ArcGIS's z) by default: the demo's clusters show as hot spots in the hot colours
    deadline = time.monotonic() + 60
    while not any(f in ("#d62f27", "#ed7551", "#fab984") for f in _fills(page)):
        assert time.monotonic() < deadline, "no hot spot drawn with binary weights"
        page.wait_for_timeout(500)
    assert_no_exception(page)
    screenshot(page, "cases_binary_weights")

    # the heat map view draws its layer; the overdue list shows masked phones only
    page.get_by_text("热力图", exact=True).click()
    wait_for_app(page)
    deadline = time.monotonic() + 60
    while True:  # the hot spot map's iframe is replaced by the heat map's
        try:
            if map_frame(page, index=0).locator("canvas.leaflet-heatmap-layer").count() == 1:
                break
        except (PlaywrightError, AttributeError):  # the iframe was replaced meanwhile
            pass
        assert time.monotonic() < deadline, "the heat map layer was not drawn"
        page.wait_for_timeout(500)
    screenshot(page, "cases_heat_map")
    page.get_by_text("逾期清零").click()
    page.get_by_text(re.compile("逾期未办结事件")).first.wait_for(timeout=30_000)
    assert not re.search(r"1[3-9]\d{9}", page.locator('[data-testid="stMain"]').inner_text())
    assert page.traffic.blocked == []
    assert page.js_errors == []
