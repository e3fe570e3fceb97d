"""The 调度会 page with a plan year and the aged 80+ (Streamlit's AppTest, no browser), on the bundled demo and on
the demo without age bands.

Expected figures: `analysis.meeting.meeting_brief` with that demand (checked against a direct coverage computation
in tests/reports/test_meeting_plan.py) and `analysis.equity` on the projected grids.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import i18n
from analysis.equity import DISTRICT_ROW, equity_by_grid
from analysis.meeting import meeting_brief
from analysis.needs import Missing
from analysis.projection import with_demand
from geo.dataset import DEMO_PATH, read_dataset, write_dataset
from i18n import t
from reports.content import fmt_count, fmt_share, needs_line
from tests.e2e.conftest import ROOT
from tests.partial import required_only
from ui.meeting import file_name

APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO_PATH)


def _page(lang: str = "zh", monkeypatch=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    if lang != "zh":
        at.session_state["lang"] = lang
    at.switch_page("pages/meeting.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if monkeypatch is not None:
        # AppTest formats the widgets' options again in the test's own thread, where the session's language
        # cannot be read (the string table falls back to zh): there, the page's language
        page_source = i18n._language_source

        def source() -> str | None:
            try:
                return page_source() or lang
            except Exception:
                return lang

        monkeypatch.setattr(i18n, "_language_source", source)
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _who(lang: str, year: int | None, weight: str) -> str:
    who = t(f"planning.weight.{weight}", lang=lang)
    return who if year is None else t("planning.who_in_year", lang=lang, who=who, year=year)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_plan_year_and_the_80_plus_change_the_meeting_s_figures_and_labels(demo, lang, monkeypatch):
    at = _page(lang, monkeypatch)
    today = meeting_brief(demo)
    assert _metrics(at)[t("meeting.fig.coverage", lang=lang)] == fmt_share(today.figure("coverage").value)
    at.number_input(key="meet_plan_year").set_value(2030).run()
    assert not at.exception, [e.value for e in at.exception]
    b = meeting_brief(demo, year=2030)
    who = _who(lang, 2030, "elderly")
    label = t("meeting_plan.card.coverage_year", lang=lang, band="60+", year=2030)
    assert _metrics(at)[label] == fmt_share(b.figure("coverage").value)
    assert [m.help for m in at.metric if m.label == label][0].startswith(
        t("meeting_plan.fig.coverage.help", lang=lang, who=who))
    assert b.figure("coverage").value != today.figure("coverage").value
    heads = [h.value for h in at.subheader]
    for section in ("gaps", "equity"):
        assert t("meeting_plan.sec.with_who", lang=lang, title=t(f"meeting.sec.{section}", lang=lang), who=who) \
            in heads
    assert t("meeting_plan.trend", lang=lang) in [c.value for c in at.caption]

    at.radio(key=f"meet_plan_weight__{lang}").set_value("elderly_80").run()
    assert not at.exception, [e.value for e in at.exception]
    b80 = meeting_brief(demo, year=2030, weight="elderly_80")
    who = _who(lang, 2030, "elderly_80")
    assert _metrics(at)[t("meeting_plan.card.coverage_year", lang=lang, band="80+", year=2030)] == fmt_share(
        b80.figure("coverage").value)
    equity = next(tb.value for tb in at.table if who in tb.value.columns)
    want = equity_by_grid(with_demand(demo, year=2030, weight="elderly_80"), facility_types=("day_care",),
                          radius_m=300.0).streets.set_index("street").loc[DISTRICT_ROW]
    district = equity.iloc[-1]
    assert district.iloc[0] == t("equity.district", lang=lang)
    assert district[who] == fmt_count(want["elderly"])
    assert district[t("equity.col.beyond", lang=lang)] == fmt_count(want["beyond"])
    gaps = next(tb.value for tb in at.table if t("meeting_plan.col.uncovered", lang=lang, who=who) in tb.value.columns)
    assert len(gaps) == 5
    assert file_name(b80, "pptx") == "石峰区_2019-06_调度会_2030_80+.pptx"
    assert file_name(today, "xlsx") == "石峰区_2019-06_调度会.xlsx"


def test_without_age_bands_the_page_says_what_a_plan_year_needs(tmp_path, monkeypatch):
    path = write_dataset(required_only(read_dataset(DEMO_PATH)), tmp_path / "nobands.gpkg")
    monkeypatch.setenv("GRIDATLAS_DATA", str(path))
    at = _page()
    need = needs_line(Missing("coverage.plan_year", "grids", "aged_55_59"), "zh")
    assert need in [i.value for i in at.info]
    assert not [n for n in at.number_input if n.key == "meet_plan_year"]
    assert t("meeting.fig.coverage", lang="zh") in _metrics(at)  # today's aged 60+: the meeting's own labels
    assert t("meeting.sec.gaps", lang="zh") in [h.value for h in at.subheader]
