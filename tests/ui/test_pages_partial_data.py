"""Every page on a district's first files: only the required columns (AppTest, no browser).

The dataset is the demo cut to what DESIGN.md requires (estates as points, no
stage, no dates, no street; cases without deadline, closing time or unit; no
candidates, no roads; a meta table with the district's name only). Each page
runs without an exception, says in one line what each section lacks (asserted
by the string keys of those lines) and never shows a table without rows
(Streamlit's own "empty" is English).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from geo.dataset import DEMO_PATH, read_dataset, write_dataset
from i18n import t
from tests.e2e.conftest import ROOT
from tests.partial import required_only

APP = str(ROOT / "app.py")
PAGES = ("pages/overview.py", "pages/coverage.py", "pages/siting.py", "pages/cases.py", "pages/estates.py",
         "pages/meeting.py", "pages/data.py")


@pytest.fixture(scope="module")
def required_path(tmp_path_factory):
    ds = required_only(read_dataset(DEMO_PATH))
    points = ds.estates.set_geometry(ds.estates.geometry.representative_point())
    ds = dataclasses.replace(ds.with_layer("estates", points), meta=(("district", "石峰区"), ("name", "石峰区")))
    return write_dataset(ds, tmp_path_factory.mktemp("partial") / "required.gpkg")


def _open(path, page: str, monkeypatch, *, lang: str = "zh", street: str | None = None) -> AppTest:
    monkeypatch.setenv("GRIDATLAS_DATA", str(path))
    at = AppTest.from_file(APP, default_timeout=180)
    if lang != "zh":
        at.session_state["lang"] = lang  # the sidebar's language switch keeps its choice here
    if street is not None:
        at.session_state["street_choice"] = street  # ui.widgets keeps the chosen street here for every language
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown(at: AppTest) -> list[str]:
    """Every line of text on the page, markdown escapes removed."""
    items = [*at.info, *at.caption, *at.markdown, *at.warning, *at.success]
    return [str(x.value).replace("\\", "") for x in items]


def _no_table_without_rows(at: AppTest) -> None:
    assert [len(d.value) for d in at.dataframe if len(d.value) == 0] == []
    assert [len(tb.value) for tb in at.table if len(tb.value) == 0] == []
    assert not at.error, [e.value for e in at.error]


def _column_line(layer: str, column: str, section: str, lang: str = "zh") -> str:
    return t("needs.column", lang=lang, layer=t(f"code.layer.{layer}", lang=lang), column=column,
             label=t(f"needs.col.{layer}.{column}", lang=lang), what=t(f"needs.what.{section}", lang=lang))


def test_overview_names_what_its_figures_lack(required_path, monkeypatch):
    at = _open(required_path, "pages/overview.py", monkeypatch)
    shown = _shown(at)
    assert _column_line("cases", "deadline", "overview.overdue") in shown
    assert _column_line("estates", "committee_formed_on", "overview.committees") in shown
    deltas = {m.label: m.proto.delta for m in at.metric}
    assert deltas[t("overview.kpi.open_cases", lang="zh")] == ""  # no "0 overdue" without deadlines
    assert deltas[t("overview.kpi.unmanaged", lang="zh")] == ""


@pytest.mark.parametrize("page", PAGES)
def test_the_full_demo_shows_no_table_without_rows_either(page, monkeypatch):
    at = _open(DEMO_PATH, page, monkeypatch)
    _no_table_without_rows(at)
    assert not [x for x in _shown(at) if x.startswith(t("needs.layer", lang="zh")[:2])]  # nothing lacking


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_required_columns_only(required_path, page, monkeypatch):
    at = _open(required_path, page, monkeypatch)
    _no_table_without_rows(at)
    assert len(at.title) >= 1


def test_estates_page_says_what_progress_and_the_league_need(required_path, monkeypatch):
    # no target date and no as_of in meta, no stage dates: the plan is the calendar year of the cases' last day
    at = _open(required_path, "pages/estates.py", monkeypatch)
    shown = _shown(at)
    assert _column_line("estates", "committee_formed_on", "estates.progress") in shown
    assert _column_line("estates", "property_company", "estates.league") in shown
    assert at.date_input(key="estates_plan_target").value == dt.date(2019, 12, 31)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["列入推进的小区"] == "182"  # the unmanaged estates of the demo


def test_estates_page_in_english(required_path, monkeypatch):
    at = _open(required_path, "pages/estates.py", monkeypatch, lang="en")
    assert _column_line("estates", "committee_formed_on", "estates.progress", "en") in _shown(at)
    _no_table_without_rows(at)


def test_meeting_page_keeps_every_section_and_names_what_is_missing(required_path, monkeypatch):
    at = _open(required_path, "pages/meeting.py", monkeypatch)
    shown = _shown(at)
    for layer, column, section in (("estates", "committee_formed_on", "meeting.committees"),
                                   ("cases", "deadline", "meeting.overdue"),
                                   ("cases", "closed_at", "meeting.changes"),
                                   ("cases", "responsible_unit", "meeting.units")):
        assert _column_line(layer, column, section) in shown, section
    # the sections that have their data are whole: figures, street league, gaps, hot spots, equity; the follow-ups
    # (none recorded), the trend (coverage history says it needs opened_on) and the quarter's targets (none set) stay
    assert [s.value for s in at.subheader] == [t("loop.sec.followups", lang="zh")] + \
        [t(f"meeting.sec.{k}", lang="zh") for k in ("figures", "trend", "streets", "units", "gaps", "hot", "estates",
                                                     "equity")] \
        + [t("loop.sec.targets", lang="zh", quarter="2019Q2"), t("meeting.sec.problems", lang="zh"),
           t("meeting.download", lang="zh")]
    assert _column_line("facilities", "opened_on", "history.coverage") in shown
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("meeting.fig.overdue", lang="zh")] == "—"
    assert metrics[t("meeting.fig.committees", lang="zh")] == "—"
    assert metrics[t("meeting.fig.open", lang="zh")] not in ("—", "0")
    # the unit league is a line, not a table of headers; the trend's table (by month) comes first
    trend, streets, gaps, equity = at.table
    assert len(trend.value) == 12
    assert len(streets.value) == 5 and len(gaps.value) == 5
    assert len(equity.value) == 6  # five streets and the district
    assert t("empty.units", lang="zh") not in shown
    _no_table_without_rows(at)


def test_cases_page_units_and_overdue_say_what_they_need(required_path, monkeypatch):
    at = _open(required_path, "pages/cases.py", monkeypatch)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("cases.kpi.overdue", lang="zh")] == "—"  # unknown without deadlines, not 0
    at.radio(key="cases_view__zh").set_value("units").run()
    assert not at.exception
    assert _column_line("cases", "responsible_unit", "cases.units") in _shown(at)
    at.radio(key="cases_view__zh").set_value("overdue").run()
    assert not at.exception
    shown = _shown(at)
    assert _column_line("cases", "deadline", "cases.overdue") in shown
    assert t("cases.overdue.none", lang="zh") not in shown  # "none overdue" would be a claim the data cannot make
    _no_table_without_rows(at)


@pytest.mark.parametrize("page", ["pages/estates.py", "pages/meeting.py", "pages/cases.py", "pages/overview.py"])
def test_one_street_chosen_on_required_columns_only(required_path, page, monkeypatch):
    at = _open(required_path, page, monkeypatch, street="田心")
    _no_table_without_rows(at)


@pytest.fixture(scope="module")
def empty_layers_path(tmp_path_factory):
    ds = read_dataset(DEMO_PATH)
    ds = dataclasses.replace(ds, cases=ds.cases.iloc[0:0], estates=ds.estates.iloc[0:0], candidates=None, roads=None)
    return write_dataset(ds, tmp_path_factory.mktemp("partial") / "empty_layers.gpkg")


def _layer_line(layer: str, section: str) -> str:
    return t("needs.layer", lang="zh", layer=t(f"code.layer.{layer}", lang="zh"),
             what=t(f"needs.what.{section}", lang="zh"))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_empty_optional_layers(empty_layers_path, page, monkeypatch):
    at = _open(empty_layers_path, page, monkeypatch)
    _no_table_without_rows(at)


def test_meeting_with_empty_layers_says_each_missing_layer_once_per_section(empty_layers_path, monkeypatch):
    at = _open(empty_layers_path, "pages/meeting.py", monkeypatch)
    lines = [str(x.value).replace("\\", "") for x in at.info]
    lines = [x for x in lines if x.startswith("需要")]  # the sidebar's synthetic-data note aside
    assert lines == [
        _layer_line("estates", "meeting.committees"), _layer_line("cases", "meeting.overdue"),  # figures
        _layer_line("cases", "meeting.streets"),  # streets
        _layer_line("cases", "meeting.units"),  # units
        _layer_line("cases", "meeting.hot"),  # hot spots
        _layer_line("estates", "meeting.estates"),  # estates
        _layer_line("cases", "meeting.units"), _layer_line("estates", "meeting.estates"),  # problems not judged
    ]
