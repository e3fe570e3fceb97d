"""The siting page's scenarios in a real browser, on a copy of the demo: a distance answer and a coverage answer
saved, listed with objective and demand, compared with their equity; a site marked opened; the same in English."""

import re
import shutil

import pytest

from analysis.siting import DistanceRun, load_run
from geo.storage import open_store
from tests.e2e.conftest import ROOT, assert_no_exception, screenshot, start_app, stop_app, wait_for_app


@pytest.fixture(scope="module")
def scenarios_app(tmp_path_factory):
    data = tmp_path_factory.mktemp("siting_scn") / "scenarios_demo.gpkg"
    shutil.copy(ROOT / "data" / "shifeng_demo.gpkg", data)
    proc, url = start_app(str(data))
    yield url, data
    stop_app(proc)


def _number(page, label: str, value: str, *, nth: int = 0) -> None:
    box = page.get_by_label(label, exact=True).nth(nth)
    box.fill(value)
    box.press("Tab")


@pytest.mark.e2e
def test_scenarios_of_both_objectives_in_both_languages(offline_page, scenarios_app):
    url, data = scenarios_app
    page = offline_page
    page.goto(url)
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("选址规划").click()
    page.wait_for_url("**/siting")
    page.get_by_role("heading", name=re.compile("选址规划")).wait_for(timeout=60_000)
    wait_for_app(page)

    # the distance objective: N = 3, saved under a name
    _number(page, "新建站点数 N", "3", nth=1)  # the coverage form's N comes first
    page.get_by_role("button", name="按距离选址").click()
    wait_for_app(page, timeout_ms=120_000)
    name = page.get_by_placeholder("例如：2030年按距离新建5个")
    name.fill("距离三站")
    name.press("Tab")
    wait_for_app(page)
    page.get_by_role("button", name="保存为方案").click()
    page.get_by_text("已保存方案“距离三站”").wait_for(timeout=30_000)
    wait_for_app(page)
    # the coverage objective: N = 3, saved under another name
    _number(page, "新建站点数 N", "3")
    page.get_by_role("button", name="开始选址").click()
    wait_for_app(page, timeout_ms=120_000)
    name = page.get_by_placeholder("例如：2025年新建5个日照中心")
    name.fill("覆盖三站")
    name.press("Tab")
    wait_for_app(page)
    page.get_by_role("button", name="保存方案", exact=True).click()
    page.get_by_text("已保存方案“覆盖三站”").wait_for(timeout=30_000)
    wait_for_app(page)
    saved = open_store(data).list_scenarios(kind="siting")
    assert [s.name for s in saved] == ["距离三站", "覆盖三站"]
    assert isinstance(load_run(saved[0]), DistanceRun)
    page.get_by_text("公平性（全区，按本方案的需求）").first.wait_for(timeout=60_000)
    page.get_by_text("两个方案共有").first.wait_for(timeout=30_000)
    assert_no_exception(page)
    page.get_by_text("方案对比").scroll_into_view_if_needed()
    screenshot(page, "siting_scenarios_objectives_zh")

    # mark the distance scenario's first site opened, today
    site = saved[0].result["site_ids"][0]
    page.get_by_role("button", name="标记启用").click()
    page.get_by_text(re.compile(f"站点 {site} 已标记为 .* 启用（版本 2）")).wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    fac = open_store(data).load().facilities
    assert site in set(fac["facility_id"])
    screenshot(page, "siting_scenarios_opened_zh")

    # English
    page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    wait_for_app(page)
    page.get_by_text("Equity (district, this scenario's demand)").first.wait_for(timeout=60_000)
    page.get_by_text("Mark a site opened").wait_for(timeout=30_000)
    assert_no_exception(page)
    screenshot(page, "siting_scenarios_objectives_en")
