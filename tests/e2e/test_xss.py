"""Markup and script in the data stay text: every page on the tainted dataset (tests/e2e/xss_fixture.py).

A dialog (alert) or a script error anywhere — the page, a map's iframe, a
tooltip — fails the test; the payload must be visible as literal text; the
downloaded spreadsheet holds no formula.
"""

from __future__ import annotations

import re
import time

import openpyxl
import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import assert_no_exception, map_frame, screenshot, start_app, stop_app, wait_for_app
from tests.e2e.xss_fixture import PAYLOAD, build_xss_dataset

LITERAL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def xss_app(tmp_path_factory):
    base = tmp_path_factory.mktemp("xss")
    data = build_xss_dataset(base / "xss_demo.gpkg")
    proc, url = start_app(str(data), env_extra={"GRIDATLAS_HOME": str(base / "home")})
    yield url
    stop_app(proc)


@pytest.fixture
def watched(offline_page):
    """The offline page, with every dialog (alert/confirm/prompt) recorded and dismissed."""
    page = offline_page
    page.dialogs = []

    def on_dialog(d):
        page.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    return page


def _go(page, url: str, link: str | None, heading: str) -> None:
    if link is None:
        page.goto(url)
    else:
        page.locator('[data-testid="stSidebarNav"]').get_by_text(link).click()
    page.get_by_role("heading", name=re.compile(heading)).first.wait_for(timeout=120_000)
    page.wait_for_timeout(500)
    wait_for_app(page, timeout_ms=120_000)
    assert_no_exception(page)


def _hover_tooltip(page, css: str, *, timeout_s: float = 60.0) -> str:
    """Hover the first feature matching ``css`` in the first map; the tooltip's text."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            frame = map_frame(page)
            frame.wait_for_selector(css, state="attached", timeout=10_000)
            frame.locator(css).first.hover(force=True)
            tip = frame.locator(".leaflet-tooltip").last
            tip.wait_for(timeout=10_000)
            return tip.inner_text()
        except PlaywrightError:
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(500)


def _clean(page) -> None:
    assert page.dialogs == [], f"a script ran: dialogs {page.dialogs}"
    assert page.js_errors == [], page.js_errors
    # nothing injected into the page or any map frame: no <img src=x> element, no <script>alert(1)</script>
    # element (the map's own script carries the names as JSON strings: data, not elements)
    for frame in page.frames:
        try:
            bad = frame.evaluate("""() => [...document.querySelectorAll('img[src="x"], script')]
                .filter(e => e.tagName === 'IMG' || (e.textContent || '').trim() === 'alert(1)').length""")
        except PlaywrightError:
            continue
        assert bad == 0, f"{bad} injected elements in {frame.url[:80]}"


@pytest.mark.e2e
def test_every_page_shows_the_payload_as_text(watched, xss_app, tmp_path):
    page = watched
    url = xss_app
    _go(page, url, None, "石峰区")
    assert LITERAL in page.locator("h1").first.inner_text()  # the district's name, literally
    tip = _hover_tooltip(page, "path.ga-grid")
    assert LITERAL in tip or "${alert(1)}" in tip, tip
    _clean(page)
    screenshot(page, "xss_overview")

    _go(page, url, "覆盖分析", "服务覆盖分析")
    map_frame(page)
    assert LITERAL in page.inner_text("body")  # street names in the chart and tables
    _clean(page)
    screenshot(page, "xss_coverage")

    _go(page, url, "选址规划", "选址规划")
    page.get_by_role("button", name="开始选址").click()
    page.wait_for_timeout(500)
    wait_for_app(page, timeout_ms=180_000)
    assert_no_exception(page)
    map_frame(page)
    _clean(page)
    screenshot(page, "xss_siting")

    _go(page, url, "事件热点", "事件热点与办理")
    map_frame(page)
    _clean(page)
    page.locator('[data-testid="stRadio"] label').filter(has_text="逾期清零").first.click()
    page.wait_for_timeout(500)
    wait_for_app(page, timeout_ms=120_000)
    assert_no_exception(page)
    with page.expect_download() as dl:
        page.locator('[data-testid="stDownloadButton"] button').filter(has_text="Excel").first.click()
    path = tmp_path / "overdue.xlsx"
    dl.value.save_as(path)
    _clean(page)
    screenshot(page, "xss_cases_overdue")

    ws = openpyxl.load_workbook(path).active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "formula cells in the download"
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert any(v.startswith("'=HYPERLINK(") for v in texts) and any(PAYLOAD in v for v in texts)
    assert not [v for v in texts if v.startswith(("=", "+", "@"))]

    for link, heading, shot in (("小区自治", "小区自治", "xss_estates"), ("调度会", "调度会", "xss_meeting"),
                                ("数据管理", "数据管理", "xss_data")):
        _go(page, url, link, heading)
        _clean(page)
        screenshot(page, shot)
