"""Every session is a first session: each sidebar widget works as the first thing done on a freshly started server.

Streamlit decides once per process whether an app with a ``pages/`` folder follows its old multipage convention,
and before `ui.serve` told it otherwise the first run after a start ran app.py as a page of that convention: the
sidebar's widgets had other ids in that run than in every later one, so the first session's first choice there
was lost (the language switch relabelled itself and fell back to 中文; the street, basemap and dataset went back
to their defaults). Tests sharing a server saw it only when they happened to visit first, so each test here starts
a server of its own (and a workspace of its own) and makes exactly one choice as the very first visit.
"""

from __future__ import annotations

import re
import time

import pytest

from geo.dataset import DEMO_PATH, Dataset, read_dataset, write_dataset
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

PART = "one_street"
DEMO_GRIDS = 232
TILES = "http://tiles.district.invalid/{z}/{x}/{y}.png"  # configured, unreachable (blocked): a second basemap option


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO_PATH)


@pytest.fixture
def fresh_app(tmp_path, demo):
    """A server started for this test alone on the demo, with a basemap configured and a one-street part of the
    demo in its workspace (so the sidebar lists two datasets); nobody has visited it yet. (url, part's grids)."""
    street = demo.streets[-1]
    part = Dataset(grids=demo.grids[demo.grids["street"] == street], facilities=demo.facilities,
                   name=f"{demo.name}（{street}）", meta=demo.meta)
    home = tmp_path / "home"
    (home / "datasets").mkdir(parents=True)
    write_dataset(part, home / "datasets" / f"{PART}.gpkg")
    proc, url = start_app(DEMO_PATH.stem, env_extra={"GRIDATLAS_HOME": str(home), "GRIDATLAS_TILES": TILES})
    try:
        yield url, int(len(part.grids))
    finally:
        stop_app(proc)


def _open(page, url: str) -> None:
    page.goto(f"{url}/")
    wait_for_app(page, timeout_ms=120_000)
    wait_for_map_count(page, "path.ga-grid", DEMO_GRIDS)


def _settle(page) -> None:
    wait_for_app(page, timeout_ms=120_000)
    page.wait_for_timeout(1000)  # a second rerun (the map's own answer) would undo a lost choice: let it come
    wait_for_app(page, timeout_ms=120_000)


def _sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def _checked(page, option: str) -> bool:
    box = _sidebar(page).locator('[data-testid="stRadio"] label').filter(has_text=re.compile(f"^{re.escape(option)}$"))
    return box.first.locator("input").is_checked()


def _selectbox(page, label: str):
    return _sidebar(page).locator('[data-testid="stSelectbox"]').filter(has_text=label).first


def _choose(page, label: str, option: str) -> None:
    choose_option(page, _selectbox(page, label), option)


def test_language_switch_on_the_first_visit(fresh_app, offline_page):
    url, _ = fresh_app
    page = offline_page
    _open(page, url)
    assert _checked(page, "中文") and "总览" in page.locator('[data-testid="stMain"]').inner_text()
    _sidebar(page).get_by_text("English", exact=True).click()
    _settle(page)
    page.wait_for_selector('[data-testid="stMetric"]:has-text("Aged 60+")', timeout=60_000)
    assert _checked(page, "English") and not _checked(page, "中文")
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "overview" in main and "Aged 60+" in main and "60岁以上" not in main
    side = _sidebar(page).inner_text()
    assert "Street" in side and "Basemap" in side and "街道" not in side.replace("语言", "")
    assert_no_exception(page)
    wait_for_map_count(page, "path.ga-grid", DEMO_GRIDS)
    screenshot(page, "first_session_overview_en")


def test_street_filter_on_the_first_visit(fresh_app, offline_page, demo):
    url, _ = fresh_app
    page = offline_page
    _open(page, url)
    street = demo.streets[0]
    n = int((demo.grids["street"] == street).sum())
    assert 0 < n < DEMO_GRIDS
    _choose(page, "街道", street)
    _settle(page)
    assert _selectbox(page, "街道").locator("input").first.input_value() == street
    wait_for_map_count(page, "path.ga-grid", n)
    page.wait_for_function(
        "n => { const m = document.querySelector('[data-testid=\"stMetric\"]'); return m && m.innerText.includes(n); }",
        arg=str(n), timeout=60_000)
    assert _selectbox(page, "街道").locator("input").first.input_value() == street
    assert_no_exception(page)


def test_basemap_switch_on_the_first_visit(fresh_app, offline_page):
    url, _ = fresh_app
    page = offline_page
    _open(page, url)
    frame = wait_for_map_count(page, "path.ga-grid", DEMO_GRIDS)
    assert frame.locator("img.leaflet-tile").count() > 0  # the configured basemap is the default
    _sidebar(page).get_by_text("无底图（离线）", exact=True).click()
    _settle(page)
    assert _checked(page, "无底图（离线）")
    deadline = time.monotonic() + 60
    while wait_for_map_count(page, "path.ga-grid", DEMO_GRIDS).locator("img.leaflet-tile").count():
        assert time.monotonic() < deadline, "the tile layer is still on the map"
        page.wait_for_timeout(500)
    assert _checked(page, "无底图（离线）")
    assert_no_exception(page)


def test_dataset_choice_on_the_first_visit(fresh_app, offline_page):
    url, grids = fresh_app
    page = offline_page
    _open(page, url)
    _choose(page, "数据集", PART)
    _settle(page)
    assert _selectbox(page, "数据集").locator("input").first.input_value() == PART
    wait_for_map_count(page, "path.ga-grid", grids)
    page.wait_for_function(
        "n => { const m = document.querySelector('[data-testid=\"stMetric\"]'); return m && m.innerText.includes(n); }",
        arg=str(grids), timeout=60_000)
    assert _selectbox(page, "数据集").locator("input").first.input_value() == PART
    assert_no_exception(page)
