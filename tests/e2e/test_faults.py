"""Faults under a running server, in a real browser: the dataset file goes missing (the workspace's current
version, already loaded, keeps serving), is cut short (corrupt), or is missing from the start. A fault the app cannot
mend gives a clear page (no traceback, nothing else shown), and the app recovers once the file is back."""

from __future__ import annotations

import shutil

import pytest

from tests.e2e.conftest import ROOT, assert_no_exception, map_frame, screenshot, start_app, stop_app, wait_for_app
from ui.data import BRIEF_S

DEMO = ROOT / "data" / "shifeng_demo.gpkg"


@pytest.fixture(scope="module")
def fault_app(tmp_path_factory):
    base = tmp_path_factory.mktemp("faults")
    data = base / "fault_demo.gpkg"
    shutil.copy(DEMO, data)
    proc, url = start_app(str(data), env_extra={"GRIDATLAS_HOME": str(base / "home")})
    yield url, data
    stop_app(proc)


def _rerun(page) -> None:
    """A click that reruns the script in the same session: the language switch, to the other language."""
    radio = page.locator('[data-testid="stSidebar"] [data-testid="stRadio"]').first
    chosen = radio.locator("label").filter(has=page.locator("input:checked")).inner_text().strip()
    radio.get_by_text("English" if chosen == "中文" else "中文", exact=True).click()
    page.wait_for_timeout(800)
    wait_for_app(page)


def _shows_the_fault_page(page) -> None:
    assert_no_exception(page)
    body = page.inner_text("body")
    assert ("现在无法打开，页面内容暂不显示。已保存的数据与版本没有改动。" in body
            and "修复后（放回文件、释放磁盘空间或恢复一个版本）刷新页面即可继续使用。" in body) or \
        ("cannot be opened right now, so no page is shown. Nothing stored has been changed." in body
         and "Once the cause is fixed (the file put back, disk space freed, a version restored)" in body), body
    assert "Traceback" not in body
    assert page.locator('iframe[title="streamlit_folium.st_folium"]').count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 0


@pytest.mark.e2e
def test_file_vanishes_and_is_cut_short_under_a_running_server(offline_page, fault_app):
    url, data = fault_app
    page = offline_page
    page.goto(url)
    wait_for_app(page)
    map_frame(page)
    assert page.locator('[data-testid="stMetric"]').count() >= 7
    good = data.read_bytes()

    data.rename(data.with_suffix(".away"))  # the file disappears under the running server: the workspace
    _rerun(page)  # still holds its current version (loaded once, shared), and the page carries on
    assert_no_exception(page)
    map_frame(page)
    assert page.locator('[data-testid="stMetric"]').count() >= 7
    data.with_suffix(".away").rename(data)

    data.write_bytes(good[: len(good) // 3])  # cut short, as by a failed copy
    # A server sees a change to the file at most BRIEF_S later (ui.data.briefly keeps the store's token that long):
    # a rerun sooner may still draw the version it had.
    page.wait_for_timeout(BRIEF_S * 1000 + 500)
    _rerun(page)
    _shows_the_fault_page(page)
    screenshot(page, "fault_corrupt")
    data.write_bytes(good)
    page.reload()
    wait_for_app(page)
    map_frame(page)
    assert_no_exception(page)
    assert page.js_errors == []


@pytest.mark.e2e
def test_missing_from_the_start_is_a_clear_page(offline_page, tmp_path):
    proc, url = start_app(str(tmp_path / "never.gpkg"), env_extra={"GRIDATLAS_HOME": str(tmp_path / "home")})
    try:
        page = offline_page
        page.goto(url)
        page.locator('[data-testid="stAlert"]').first.wait_for(timeout=90_000)
        wait_for_app(page)
        _shows_the_fault_page(page)
        assert "never" in page.inner_text("body")
    finally:
        stop_app(proc)
