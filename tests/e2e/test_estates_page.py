"""The 小区自治 page in a real browser, offline, on the demo and on the Wuchang-scale dataset.

Expected figures are counted here from the stored layer (stage column and
dates), not through `analysis.estates`.
"""

from __future__ import annotations

import math
import subprocess

import pandas as pd
import pytest

from geo.dataset import DEMO_PATH, read_dataset
from tests.e2e.conftest import (
    ROOT,
    assert_no_exception,
    choose_option,
    screenshot,
    start_app,
    stop_app,
    wait_for_app,
    wait_for_map_count,
)

pytestmark = pytest.mark.e2e
WUCHANG = ROOT / "cache" / "wuchang.gpkg"
STAGE_ZH = {"none": "未启动", "committee_formed": "业委会已成立", "rules_adopted": "规约已通过",
            "managed": "已引入物业或自管", "fees_started": "已启动收费"}


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _behind_by_hand(estates: pd.DataFrame, meta: dict) -> dict[str, int]:
    """Streets short of the fees milestone due on as_of, counted from the dates."""
    start, target = pd.Timestamp(meta["estates_plan_start"]), pd.Timestamp(meta["estates_target"])
    as_of = pd.Timestamp(meta["as_of"])
    months = (target.year - start.year) * 12 + target.month - start.month + 1
    due = sum(1 for k in range(months) if (start + pd.offsets.MonthEnd(k + 1)) <= as_of)
    out = {}
    camp = estates[estates["governance_stage"].notna()]
    for street, part in camp.groupby("street"):
        n = len(part)
        base = int((part["fees_started_on"] < start).sum())
        planned = base + math.ceil((n - base) * due / months)
        actual = int((part["fees_started_on"] <= as_of).sum())
        if actual < planned:
            out[street] = planned - actual
    return out


_MAP_STATE = """() => {
    const m = Object.keys(window).filter(k => k.startsWith("map_")).map(k => window[k])
        .find(v => v && v.eachLayer);
    const radii = [];
    m.eachLayer(l => { if (l instanceof L.CircleMarker && l.options.className.includes("ga-estate-stage")) {
        radii.push(l.getRadius()); } });
    const b = m.getBounds();
    return {zoom: m.getZoom(), radii: radii, classes: m.getContainer().className,
            view: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]};
}"""


def _check_fit_and_marker_scaling(frame, bounds) -> None:
    state = frame.evaluate(_MAP_STATE)
    w, s, e, n = state["view"]
    minx, miny, maxx, maxy = bounds
    assert w <= minx and s <= miny and e >= maxx and n >= maxy  # all of the data in view
    fill = max((maxx - minx) / (e - w), (maxy - miny) / (n - s))
    assert fill > 0.9, f"the data fills only {fill:.0%} of the map"
    z = state["zoom"]
    factor = max(0.5, min(1.0, 2 ** ((z - 14) / 2)))
    assert z < 14 and len(state["radii"]) == 182
    assert state["radii"] == pytest.approx([8 * factor] * 182)  # a half at zoom 12, 8 px from zoom 14
    assert "ga-zoom-low" in state["classes"] or "ga-zoom-mid" in state["classes"]
    frame.evaluate("""() => { const m = Object.keys(window).filter(k => k.startsWith("map_"))
        .map(k => window[k]).find(v => v && v.eachLayer); m.setZoom(15, {animate: false}); }""")
    frame.wait_for_timeout(500)
    state = frame.evaluate(_MAP_STATE)
    assert state["zoom"] == 15 and set(state["radii"]) == {8}
    assert "ga-zoom-high" in state["classes"] and "ga-zoom-low" not in state["classes"]


def test_estates_page_on_the_demo(app_url, offline_page):
    page = offline_page
    ds = read_dataset(DEMO_PATH)
    est = ds.estates
    stages = est["governance_stage"].value_counts()
    page.goto(f"{app_url}/estates")
    wait_for_app(page)
    page.wait_for_selector("text=小区自治 · 挂图作战", timeout=90_000)
    frame = wait_for_map_count(page, "path.ga-estate-stage", 182)
    assert frame.locator("path.ga-estates-grid").count() == len(ds.grids) == 232
    assert frame.locator("path.ga-street").count() == 5
    for code, n in stages.items():
        assert frame.locator(f"path.ga-stage-{code}").count() == n, code
    # figures: the list, each stage, the streets behind on fees
    page.wait_for_selector('[data-testid="stMetric"]:has-text("列入推进的小区")', timeout=60_000)
    assert _metric(page, "列入推进的小区") == "182"
    for code, label in STAGE_ZH.items():
        assert _metric(page, label) == f"{int(stages.get(code, 0)):,}", label
    behind = _behind_by_hand(est, ds.meta_dict)
    assert sorted(behind) == ["井龙", "清水塘"]
    assert _metric(page, "落后街道") == "2"
    warning = page.locator('[data-testid="stAlert"]').filter(has_text="落后于计划").inner_text()
    for street, short in behind.items():
        assert f"{street}（差 {short} 个）" in warning
    # the burn-down has a panel per street and the district
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.wait_for(timeout=60_000)
    chart.locator("g.annotation-text-g text").first.wait_for(timeout=60_000)
    titles = chart.locator("g.annotation-text-g text").all_text_contents()
    assert sum("落后" in x for x in titles) == 3 and len(titles) == 6  # two streets and the district
    # the red/black list: best and worst companies by mean satisfaction, counted here
    scored = est[est["property_company"].notna()]
    means = scored.groupby("property_company")["satisfaction"].agg(["mean", "size"])
    means = means[means["size"] >= 2].sort_values("mean", ascending=False)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert means.index[0] in body and means.index[-1] in body
    assert "红榜" in body and "黑榜" in body
    assert_no_exception(page)
    screenshot(page, "estates_zh")
    assert page.traffic.blocked == []
    assert page.js_errors == []

    # readable at district scale: the map fits the grids edge to edge, markers shrink when zoomed out
    _check_fit_and_marker_scaling(frame, ds.grids.total_bounds)

    # the stage filter: only estates not started on the map
    choose_option(page, page.locator('[data-testid="stMultiSelect"]').first, "未启动")
    page.keyboard.press("Escape")
    wait_for_app(page)
    wait_for_map_count(page, "path.ga-estate-stage", int(stages["none"]))
    # the sidebar's street: one street's grids and estates
    street = "清水塘"
    choose_option(page, page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1), street)
    wait_for_app(page)
    n_none = int(((est["street"] == street) & (est["governance_stage"] == "none")).sum())
    frame = wait_for_map_count(page, "path.ga-estate-stage", n_none)
    assert frame.locator("path.ga-estates-grid").count() == int((ds.grids["street"] == street).sum())
    assert _metric(page, "列入推进的小区") == str(int(((est["street"] == street) & est["governance_stage"].notna()).sum()))
    assert _metric(page, "对照计划") == f"差 {behind[street]} 个"
    assert_no_exception(page)
    screenshot(page, "estates_street_none")


def test_estates_page_in_english(app_url, offline_page):
    page = offline_page
    page.goto(f"{app_url}/estates")
    wait_for_app(page)
    page.get_by_text("English", exact=True).click()
    wait_for_app(page)
    page.wait_for_selector("text=Estates self-governance", timeout=60_000)
    page.wait_for_selector('[data-testid="stMetric"]:has-text("Estates on the list")', timeout=60_000)
    assert _metric(page, "Estates on the list") == "182"
    # the rest of the page is drawn after the figures: wait for it rather than read too early
    page.wait_for_selector("text=Behind the plan: 清水塘 (10 short), 井龙 (2 short).", timeout=60_000)
    page.wait_for_selector("text=Red list (most satisfied owners)", timeout=60_000)
    wait_for_map_count(page, "path.ga-estate-stage", 182)
    assert_no_exception(page)
    screenshot(page, "estates_en")


@pytest.fixture(scope="module")
def wuchang_url():
    """The app on the Wuchang-scale dataset (built with `make wuchang`'s command when missing)."""
    if not WUCHANG.exists():
        subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "cli.py", "demo", "--scale", "wuchang", "--out",
                        str(WUCHANG)], cwd=ROOT, check=True)
    proc, url = start_app(str(WUCHANG))
    yield url
    stop_app(proc)


def test_estates_page_on_wuchang(wuchang_url, offline_page):
    page = offline_page
    ds = read_dataset(WUCHANG)
    est = ds.estates
    listed = est["governance_stage"].notna()
    page.goto(f"{wuchang_url}/estates")
    wait_for_app(page, timeout_ms=240_000)
    page.wait_for_selector("text=小区自治 · 挂图作战", timeout=240_000)
    frame = wait_for_map_count(page, "path.ga-estate-stage", int(listed.sum()), timeout_ms=240_000)
    assert frame.locator("path.ga-estates-grid").count() == len(ds.grids) == 1811
    assert _metric(page, "列入推进的小区") == f"{int(listed.sum()):,}"
    behind = _behind_by_hand(est, ds.meta_dict)
    assert _metric(page, "落后街道") == str(len(behind))
    warning = page.locator('[data-testid="stAlert"]').filter(has_text="落后于计划").inner_text()
    for street, short in behind.items():
        assert f"{street}（差 {short} 个）" in warning
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.locator("g.annotation-text-g text").first.wait_for(timeout=120_000)
    titles = chart.locator("g.annotation-text-g text").all_text_contents()
    assert len(titles) == len(ds.streets) + 1 == 15
    assert_no_exception(page)
    screenshot(page, "estates_wuchang")
    assert page.traffic.blocked == []
    assert page.js_errors == []
