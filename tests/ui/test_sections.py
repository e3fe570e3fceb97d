"""Page sections (ui.section): contained failures with an error id, strict re-raising, needs lines, empty tables."""

from __future__ import annotations

import logging
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis.needs import NEEDS, STAGE_DATES, Missing, missing
from geo.dataset import DEMO_PATH, read_dataset
from i18n import TABLE, t
from reports.content import needs_line
from tests.partial import partial_dataset, required_only


def _failing_page() -> None:
    import streamlit as st

    from ui.section import section

    st.title("before")
    with section("test.boom"):
        st.write("inside")
        raise ZeroDivisionError("boom in a section")
    st.subheader("after")


def _stopping_page() -> None:
    import streamlit as st

    from ui.section import section

    with section("test.stop"):
        st.write("inside")
        st.stop()
    st.subheader("never drawn")


def _empty_table_page() -> None:
    import pandas as pd
    import streamlit as st

    from ui.section import table

    table(pd.DataFrame({"a": []}), empty="empty.cases")
    table(pd.DataFrame({"a": [1, 2]}), hide_index=True)
    table(pd.DataFrame({"b": []}), static=True)
    table(pd.DataFrame({"b": [3]}), static=True)
    st.write("end")


def test_a_failing_section_shows_an_id_logs_it_and_the_rest_renders(monkeypatch, caplog):
    monkeypatch.setenv("GRIDATLAS_STRICT", "0")
    at = AppTest.from_function(_failing_page)
    with caplog.at_level(logging.ERROR, logger="gridatlas.section"):
        at.run()
    assert not at.exception
    assert [s.value for s in at.subheader] == ["after"]  # the rest of the page
    [box] = at.error
    pattern = re.escape(t("section.failed", lang="zh", error_id="@@")).replace("@@", "([0-9a-f]{8})")
    match = re.fullmatch(pattern, box.value)
    assert match, box.value
    error_id = match.group(1)
    [record] = [r for r in caplog.records if r.name == "gridatlas.section"]
    assert record.getMessage() == f"page section test.boom failed [error id {error_id}]"
    assert record.exc_info[0] is ZeroDivisionError and str(record.exc_info[1]) == "boom in a section"


def test_the_message_follows_the_page_language(monkeypatch):
    monkeypatch.setenv("GRIDATLAS_STRICT", "0")
    at = AppTest.from_function(_failing_page)
    at.session_state["lang"] = "en"
    at.run()
    [box] = at.error
    assert box.value.startswith("This part cannot be shown right now (error id ")


def test_under_the_tests_the_section_re_raises():
    # tests/conftest.py sets GRIDATLAS_STRICT=1 for the whole suite
    at = AppTest.from_function(_failing_page)
    at.run()
    assert [e.value for e in at.exception] == ["boom in a section"]
    assert not at.error and not at.subheader


def test_st_stop_inside_a_section_still_stops_the_page(monkeypatch):
    monkeypatch.setenv("GRIDATLAS_STRICT", "0")
    at = AppTest.from_function(_stopping_page)
    at.run()
    assert not at.exception and not at.error and not at.subheader
    assert [m.value for m in at.markdown] == ["inside"]


def test_a_table_without_rows_is_our_note_never_an_empty_frame():
    at = AppTest.from_function(_empty_table_page)
    at.run()
    assert not at.exception
    assert [len(d.value) for d in at.dataframe] == [2]
    assert [len(tb.value) for tb in at.table] == [1]
    assert [c.value for c in at.caption] == [t("empty.cases", lang="zh"), t("empty.rows", lang="zh")]


# --- the needs table --------------------------------------------------------------------------------

def test_every_section_and_column_has_its_words_in_both_languages():
    for section, needs in NEEDS.items():
        assert f"needs.what.{section}" in TABLE, section
        for need in needs:
            if need.columns:
                assert f"needs.col.{need.layer}.{need.columns[0]}" in TABLE, (section, need)


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO_PATH)


def test_the_demo_lacks_nothing(demo):
    assert demo.roads is not None and demo.candidates is not None
    assert {s: m for s in NEEDS if (m := missing(demo, s)) is not None} == {}


def test_required_columns_only_lack_exactly_the_optional_data(demo):
    ds = required_only(demo)
    got = {s: missing(ds, s) for s in NEEDS}
    expected = {
        "coverage.walking": Missing("coverage.walking", "roads"),
        "coverage.plan_year": Missing("coverage.plan_year", "grids", "aged_55_59"),
        "overview.overdue": Missing("overview.overdue", "cases", "deadline"),
        "overview.committees": Missing("overview.committees", "estates", "committee_formed_on"),
        "cases.overdue": Missing("cases.overdue", "cases", "deadline"),
        "cases.units": Missing("cases.units", "cases", "responsible_unit"),
        "cases.hours": Missing("cases.hours", "cases", "closed_at"),
        "estates.stages": Missing("estates.stages", "estates", "governance_stage"),
        "estates.progress": Missing("estates.progress", "estates", "committee_formed_on"),
        "estates.by_street": Missing("estates.by_street", "estates", "street"),
        "estates.league": Missing("estates.league", "estates", "property_company"),
        "meeting.committees": Missing("meeting.committees", "estates", "committee_formed_on"),
        "meeting.overdue": Missing("meeting.overdue", "cases", "deadline"),
        "meeting.changes": Missing("meeting.changes", "cases", "closed_at"),
        "meeting.units": Missing("meeting.units", "cases", "responsible_unit"),
        "meeting.estates": Missing("meeting.estates", "estates", "committee_formed_on"),
        "meeting.estates_by_street": Missing("meeting.estates_by_street", "estates", "street"),
        "history.coverage": Missing("history.coverage", "facilities", "opened_on"),
    }
    assert {s: m for s, m in got.items() if m is not None} == expected


def test_one_stage_date_is_enough_and_an_empty_column_counts_as_absent(demo):
    only_fees = partial_dataset(demo, drop_columns={"estates": [c for c in STAGE_DATES if c != "fees_started_on"]})
    assert missing(only_fees, "estates.progress") is None
    blank = demo.estates.assign(committee_formed_on=pd.NaT, rules_adopted_on=pd.NaT, managed_on=pd.NaT,
                                fees_started_on=pd.NaT)
    assert missing(demo.with_layer("estates", blank), "estates.progress") == Missing(
        "estates.progress", "estates", "committee_formed_on")
    no_rows = demo.with_layer("cases", demo.cases.iloc[0:0])
    assert missing(no_rows, "cases.overdue") == Missing("cases.overdue", "cases")


def test_partial_dataset_refuses_required_columns_and_layers(demo):
    from geo.errors import AnalysisError

    with pytest.raises(AnalysisError, match=r"`drop_layers` was 'grids' but is expected to be one of: estates, "):
        partial_dataset(demo, drop_layers=["grids"])
    with pytest.raises(AnalysisError, match=r"`drop_columns\['estates'\]` was 'management' but is expected"):
        partial_dataset(demo, drop_columns={"estates": ["management"]})
    out = partial_dataset(demo, drop_columns={"estates": ["street", "no_such_column"]}, drop_layers=["roads"])
    assert "street" not in out.estates.columns and "street" in demo.estates.columns and out.roads is None


def test_the_needs_line_names_the_template_column_and_its_meaning():
    m = Missing("meeting.committees", "estates", "committee_formed_on")
    assert needs_line(m, "zh") == "需要小区图层的 committee_formed_on 列（业委会成立日期）才能显示推进进度。"
    assert needs_line(m, "en") == ("Needs the committee_formed_on column (date the owners' committee was formed) "
                                   "of the estates layer to show progress against the plan.")
    assert needs_line(Missing("meeting.hot", "cases"), "zh") == "需要网格事件图层才能显示事件热点。"


def test_an_unread_layer_is_judged_by_its_first_rows_once_without_reading_it(demo):
    from geo.dataset import LazyLayer

    cases = demo.cases.drop(columns=["responsible_unit"]).assign(deadline=pd.NaT)
    cases.loc[cases.index[-1], "deadline"] = pd.Timestamp("2019-06-01")  # beyond the sample: not seen
    calls = {"take": [], "load": 0}

    def take(rows, columns):
        calls["take"].append(tuple(columns))
        return pd.DataFrame(cases.drop(columns="geometry")).iloc[rows][[c for c in columns if c in cases.columns]]

    def load():
        calls["load"] += 1
        return cases

    lazy = LazyLayer(load, len(cases), take=take)
    ds = demo.with_layer("cases", lazy)
    for _ in range(3):
        assert missing(ds, "cases.overdue") == Missing("cases.overdue", "cases", "deadline")
        assert missing(ds, "cases.units") == Missing("cases.units", "cases", "responsible_unit")
        assert missing(ds, "cases.hours") is None
    assert sorted(calls["take"]) == [("closed_at",), ("deadline",), ("responsible_unit",)] and calls["load"] == 0
