"""The siting page in a real browser: solve the demo case, see the chosen sites on the map and in the table,
save two scenarios into the dataset, compare them, delete one; a bad N gives a message, not a traceback."""

import re
import shutil
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from geo._gpkg_scenarios import list_in
from geo.storage import open_store
from tests.e2e.conftest import ROOT, assert_no_exception, map_frame, screenshot, start_app, stop_app, wait_for_app


@pytest.fixture(scope="module")
def siting_app(tmp_path_factory):
    """The app on a copy of the demo dataset (scenarios are written into it, not into the bundled file).

    The copy has its own name, so the sidebar's dataset list tells it from the bundled demo.
    """
    data = tmp_path_factory.mktemp("siting") / "siting_demo.gpkg"
    shutil.copy(ROOT / "data" / "shifeng_demo.gpkg", data)
    proc, url = start_app(str(data))
    yield url, data
    stop_app(proc)


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _set_number(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True).first  # the coverage objective's form comes first
    box.fill(value)
    box.press("Tab")


def _run(page) -> None:
    page.get_by_role("button", name="开始选址").click()
    page.wait_for_timeout(500)
    wait_for_app(page, timeout_ms=120_000)


def _site_markers(page, *, expected: int, timeout_s: float = 60.0) -> int:
    """New-site markers drawn in the map (the iframe is replaced when the map changes: retry on that)."""
    deadline = time.monotonic() + timeout_s
    n = -1
    while True:
        try:
            frame = map_frame(page)
            frame.wait_for_selector("path.ga-site", state="attached", timeout=10_000)
            n = frame.locator("path.ga-site").count()
            if n == expected:
                return n
        except PlaywrightError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the map shows {n} new sites, not {expected}, after {timeout_s:.0f} s")
        page.wait_for_timeout(500)


@pytest.mark.e2e
def test_siting_page_solves_the_demo_and_keeps_scenarios(offline_page, siting_app):
    url, data = siting_app
    page = offline_page
    page.goto(url)
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("选址规划").click()
    page.wait_for_url("**/siting")
    page.get_by_role("heading", name=re.compile("选址规划")).wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)

    # N = 5 day-care stations, 300 m, exact.
    _set_number(page, "新建站点数 N", "5")
    _run(page)
    assert_no_exception(page)
    assert _metric(page, "新建站点") == "5"
    assert _metric(page, "已证明最优") == "是"
    before = float(_metric(page, "现有覆盖率").rstrip("%"))
    after = float(_metric(page, "规划后覆盖率").rstrip("%"))
    assert after > before
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for(timeout=30_000)
    assert _site_markers(page, expected=5) == 5
    frame = map_frame(page)
    assert frame.locator("path.ga-site-area").count() == 5
    assert frame.locator(".ga-site-rank").count() == 5
    assert frame.locator("path.ga-siting-grid").count() == 232
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    screenshot(page, "siting_n5")

    # Save it as a scenario, run N = 8 greedy, save that too.
    page.get_by_label("方案名称").fill("五站方案")
    page.get_by_role("button", name="保存方案").click()
    page.get_by_text("已保存方案“五站方案”").wait_for(timeout=30_000)
    _set_number(page, "新建站点数 N", "8")
    page.get_by_text("贪心", exact=True).click()
    _run(page)
    assert _metric(page, "新建站点") == "8"
    assert _site_markers(page, expected=8) == 8
    page.get_by_label("方案名称").fill("八站贪心")
    page.get_by_role("button", name="保存方案").click()
    page.get_by_text("已保存方案“八站贪心”").wait_for(timeout=30_000)
    wait_for_app(page)
    saved = open_store(data).list_scenarios(kind="siting")
    assert [s.name for s in saved] == ["五站方案", "八站贪心"]
    assert len(saved[0].result["site_ids"]) == 5 and len(saved[1].result["site_ids"]) == 8

    # Compare side by side: A = 五站方案, B = 八站贪心.
    page.get_by_text("方案对比").wait_for(timeout=30_000)
    # The two latest are compared: A = 五站方案 (5 sites), B = 八站贪心 (8 sites, more covered).
    page.get_by_text(re.compile("两个方案共有 5 个相同站址；B 比 A 的覆盖率高 \\+\\d")).wait_for(timeout=30_000)
    screenshot(page, "siting_scenarios")

    # Delete one.
    page.get_by_role("button", name="删除", exact=True).click()
    wait_for_app(page)
    deadline = time.monotonic() + 30
    while [s.name for s in open_store(data).list_scenarios(kind="siting")] != ["八站贪心"]:
        assert time.monotonic() < deadline, "the scenario was not deleted"
        page.wait_for_timeout(300)
    assert_no_exception(page)

    # N larger than the candidates: a clear message, no traceback.
    _set_number(page, "新建站点数 N", "999")
    _run(page)
    err = page.locator('[data-testid="stAlert"]').filter(has_text="无法完成选址")
    err.wait_for(timeout=30_000)
    assert err.inner_text() == "无法完成选址：要求新建 999 个站点，但只有 150 个候选站点；最多填 150。"
    assert_no_exception(page)

    # A target the candidates cannot reach: a clear message too.
    page.get_by_text("达到覆盖率目标所需最少站点").click()
    _set_number(page, "覆盖率目标（%）", "95")
    _run(page)
    err = page.locator('[data-testid="stAlert"]').filter(has_text="无法完成选址")
    err.wait_for(timeout=30_000)
    assert "无法达到 95.0% 的目标：即使用上全部 150 个候选站点" in err.inner_text()
    assert_no_exception(page)
    assert page.traffic.blocked == []
    assert page.js_errors == []
    assert list_in(ROOT / "data" / "shifeng_demo.gpkg", all_districts=True) == []  # the bundled demo was not touched
