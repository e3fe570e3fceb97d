"""The coverage page in a real browser: map drawn offline, a threshold change changes the figures."""

import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import assert_no_exception, map_frame, screenshot, wait_for_app


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.]", "", text))


def _grid_paths(page, *, minimum: int, timeout_s: float = 60.0) -> int:
    """Grid polygons drawn in the map (the map iframe is replaced when the map changes: retry on that)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            frame = map_frame(page)
            frame.wait_for_selector("path.ga-coverage-grid", state="attached", timeout=10_000)
            n = frame.locator("path.ga-coverage-grid").count()
            if n >= minimum:
                return n
        except PlaywrightError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the map did not draw {minimum} grids within {timeout_s:.0f} s")
        page.wait_for_timeout(500)


@pytest.mark.e2e
def test_coverage_page_draws_map_and_threshold_changes_figures(offline_page, app_url):
    page = offline_page
    page.goto(app_url)
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("覆盖分析").click()
    page.wait_for_url("**/coverage")
    page.get_by_role("heading", name=re.compile("服务覆盖分析")).wait_for(timeout=60_000)
    page.locator('[data-testid="stMetric"]').filter(has_text="覆盖率").wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)

    assert _grid_paths(page, minimum=232) == 232  # every grid of the demo, drawn
    frame = map_frame(page)
    assert frame.locator("path.ga-service-area").count() >= 1
    assert frame.locator(".ga-facility").count() > 0
    before_share = _metric(page, "覆盖率")
    before_covered = _number(_metric(page, "覆盖范围内"))
    assert before_share.endswith("%")
    screenshot(page, "coverage_300m")

    # 15-minute life circle, 1000 m: more residents within reach.
    page.get_by_text("15分钟 1000米").click()
    page.wait_for_function(
        """(before) => {
            const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
                .find(e => e.innerText.includes('覆盖率'));
            return m && !m.innerText.includes(before);
        }""", arg=before_share, timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    after_covered = _number(_metric(page, "覆盖范围内"))
    assert after_covered > before_covered
    assert page.locator('input[aria-label="阈值（米）"]').input_value() in ("1000", "1000.00")
    assert _grid_paths(page, minimum=232) == 232
    screenshot(page, "coverage_1000m")

    # In English the same choice stays selected and the figures stay the same.
    share_1000 = _metric(page, "覆盖率")
    page.locator('[data-testid="stSidebar"]').get_by_text("English").click()
    page.get_by_role("heading", name=re.compile("service coverage")).wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_role("radio", name="15-min 1000 m").is_checked()
    assert _metric(page, "Share covered") == share_1000
    page.locator('[data-testid="stSidebar"]').get_by_text("中文").click()
    page.get_by_role("heading", name=re.compile("服务覆盖分析")).wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_role("radio", name="15分钟 1000米").is_checked()

    # Free entry: an absurd threshold is refused with a clear message, not a traceback.
    page.get_by_text("自定义").click()
    wait_for_app(page)
    box = page.locator('input[aria-label="阈值（米）"]')
    box.fill("0")
    box.press("Enter")
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=60_000)
    # the error's own text, by its code, in the page's language
    assert page.locator('[data-testid="stAlertContentError"]').first.inner_text() == (
        "无法完成覆盖分析：参数 radius_m 的值 0.0 无效，必须大于 0。")
    assert_no_exception(page)
    assert page.traffic.blocked == []
    assert page.js_errors == []
