"""The siting page's distance section (ui/siting_distance.py) on the demo, in both languages (AppTest, no browser)."""

import pytest
from streamlit.testing.v1 import AppTest

from analysis.siting import pmedian_sites
from geo.dataset import read_dataset
from i18n import t
from tests.e2e.conftest import ROOT

APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def expected():
    ds = read_dataset(ROOT / "data" / "shifeng_demo.gpkg")
    return {"n": pmedian_sites(ds, n_new=3), "budget": pmedian_sites(ds, budget=100.0, required=["SF-S-001"])}


def _page(lang: str = "zh", street: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    if lang != "zh":
        at.session_state["lang"] = lang  # the sidebar's language switch keeps its choice here
    if street is not None:
        at.session_state["street_choice"] = street  # ui.widgets keeps the chosen street here for every language
    at.switch_page("pages/siting.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict:
    return {m.label: m.value for m in at.metric}


def test_distance_section_n_and_budget(expected):
    at = _page()
    at.number_input(key="sd_n").set_value(3)
    next(b for b in at.button if b.label == "按距离选址").click().run()
    assert not at.exception, [e.value for e in at.exception]
    res = expected["n"]
    m = _metrics(at)
    assert m["平均距离"] == f"{res.mean_distance_m:,.0f} m"
    assert m["90% 老人在此距离内"] == f"{res.p90_distance_m:,.0f} m"
    assert m["已证明最优"] == "是"
    # the per-street table: one row per street of the demo, means as the analysis gives them
    streets = next(df.value for df in at.dataframe if "街道" in df.value.columns)
    assert len(streets) == len(res.by_street) == 5
    assert streets["平均距离·新建后（米）"].tolist() == res.by_street["mean_after_m"].round(0).tolist()
    sites = next(df.value for df in at.dataframe if "站点编号" in df.value.columns)
    assert sites["站点编号"].tolist() == list(res.site_ids)

    # by budget with a required site
    at.radio(key="sd_question__zh").set_value("budget")
    at.number_input(key="sd_budget").set_value(100.0)
    at.multiselect(key="sd_required__zh").set_value(["SF-S-001"])
    next(b for b in at.button if b.label == "按距离选址").click().run()
    assert not at.exception, [e.value for e in at.exception]
    res = expected["budget"]
    assert _metrics(at)["平均距离"] == f"{res.mean_distance_m:,.0f} m"
    sites = next(df.value for df in at.dataframe if "造价" in df.value.columns)
    assert sites["站点编号"].tolist() == list(res.site_ids)
    assert "SF-S-001" in sites["站点编号"].tolist() and sites["造价"].sum() <= 100.0


def test_distance_section_in_english(expected):
    at = _page("en", street=expected["n"].by_street["street"].iloc[0])
    assert t("siting_distance.whole_district", lang="en") in [c.value for c in at.caption]
    assert "Siting by distance (shortest mean distance)" in [h.value for h in at.subheader]
    assert "Site by distance" in [b.label for b in at.button]
    assert [r.label for r in at.radio if r.key == "sd_question__en"] == ["How many"]


def test_distance_section_error_is_shown_by_code():
    at = _page()
    at.number_input(key="sd_n").set_value(200)  # the demo has 150 candidates
    next(b for b in at.button if b.label == "按距离选址").click().run()
    assert not at.exception
    assert any("要求新建 200 个站点，但只有 150 个候选站点（另有 0 个被排除）" in e.value for e in at.error)
