"""The meeting material from a district's first files: every format comes out, says what is missing, keeps the rest.

The dataset is the demo cut to the required columns (`tests.partial.required_only`,
estates without street, stage or dates; cases without deadline, closing time or
unit), and a few shapes real exports have: one street, every case closed, a month
without cases, empty optional layers. Files are read back as a reader would
(python-pptx, PyMuPDF, openpyxl); the figures that remain are checked against a
count made here from the cases themselves.
"""

from __future__ import annotations

import dataclasses
import io
import re

import openpyxl
import pandas as pd
import pymupdf
import pytest
from pptx import Presentation

from analysis.hotspots import MIN_GRIDS
from analysis.meeting import meeting_brief
from analysis.needs import Missing
from geo.dataset import DEMO_PATH, Dataset, read_dataset
from i18n import t
from reports import build_report
from reports import content as rc
from tests.partial import required_only

MONTH = "2019-06"  # the demo's as-of month


def _line(layer: str, column: str | None, section: str, lang: str = "zh") -> str:
    """A needs line spelled out from its string keys (not through the code under test)."""
    what = t(f"needs.what.{section}", lang=lang)
    if column is None:
        return t("needs.layer", lang=lang, layer=t(f"code.layer.{layer}", lang=lang), what=what)
    return t("needs.column", lang=lang, layer=t(f"code.layer.{layer}", lang=lang), column=column,
             label=t(f"needs.col.{layer}.{column}", lang=lang), what=what)


COMMITTEES = ("estates", "committee_formed_on", "meeting.committees")
OVERDUE = ("cases", "deadline", "meeting.overdue")
CHANGES = ("cases", "closed_at", "meeting.changes")
UNITS = ("cases", "responsible_unit", "meeting.units")
ESTATES = ("estates", "committee_formed_on", "meeting.estates")
BY_STREET = ("estates", "street", "meeting.estates_by_street")


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO_PATH)


@pytest.fixture(scope="module")
def required(demo):
    ds = required_only(demo)
    return ds, meeting_brief(ds, month=MONTH)


def _month_cases_by_street(ds: Dataset, month: str) -> dict[str, int]:
    """Cases reported in ``month`` per street, counted here: each case's street is its grid's."""
    cases = pd.DataFrame(ds.cases.drop(columns="geometry"))
    street = cases["grid_id"].map(ds.grids.set_index("grid_id")["street"])
    in_month = pd.to_datetime(cases["reported_at"]).dt.strftime("%Y-%m") == month
    counts = street[in_month].value_counts()
    return {s: int(counts.get(s, 0)) for s in ds.streets}


def _slide_texts(slide) -> list[str]:
    out = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            out.extend(p.text for p in shape.text_frame.paragraphs)
        if shape.has_table:
            out.extend(c.text for row in shape.table.rows for c in row.cells)
    return out


def _tables(slide) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in s.table.rows] for s in slide.shapes if s.has_table]


def test_the_brief_computes_what_it_can_and_marks_the_rest(required, demo):
    ds, b = required
    # no stage dates: the estates section says that once (its by-street line would be a second line)
    assert set(b.needs) == {Missing(s, layer, col) for layer, col, s in (COMMITTEES, OVERDUE, CHANGES, UNITS,
                                                                         ESTATES)}
    fig = {f.key: f for f in b.figures}
    assert fig["overdue"].value is None and fig["committees"].value is None
    assert fig["open"].value is not None and fig["open"].previous is None  # no closing times: no last month
    assert fig["coverage"].value is not None and 0 < fig["coverage"].value < 1
    assert b.estates_by_stage is None and b.estates_plan is None
    assert len(b.unit_league) == 0
    expected = _month_cases_by_street(ds, MONTH)
    assert dict(zip(b.street_league["street"], b.street_league["cases"].astype(int), strict=True)) == expected
    assert b.street_league["overdue"].isna().all() and b.street_league["closed_late"].isna().all()
    assert b.n_cases_month == sum(expected.values())
    # the full dataset's brief has none of these gaps
    assert meeting_brief(demo, month=MONTH).needs == ()


def test_pptx_says_what_is_missing_on_its_slide_and_keeps_the_rest(required):
    ds, b = required
    deck = Presentation(io.BytesIO(build_report(ds, b, "pptx", lang="zh")))
    slides = {s.shapes[0].text_frame.text: s for s in list(deck.slides)[1:]}
    assert list(slides) == [rc.section_title(k, "zh") for k in rc.SECTIONS]
    figures = _slide_texts(slides[rc.section_title("figures", "zh")])
    for need in (COMMITTEES, OVERDUE, CHANGES):
        assert _line(*need) in figures
    units = _slide_texts(slides[rc.section_title("units", "zh")])
    assert _line(*UNITS) in units and not _tables(slides[rc.section_title("units", "zh")])
    estates = _slide_texts(slides[rc.section_title("estates", "zh")])
    assert _line(*ESTATES) in estates and _line(*BY_STREET) not in estates
    assert t("meeting.estates.none", lang="zh") not in estates  # not "no estates data": what is missing
    # the street league is whole: five streets, this month's cases as counted from the cases
    [league] = _tables(slides[rc.section_title("streets", "zh")])
    head = league[0]
    got = {row[head.index(t("meeting.col.street", lang="zh"))]: int(row[head.index(t("meeting.col.cases",
                                                                                   lang="zh"))].replace(",", ""))
           for row in league[1:]}
    assert got == _month_cases_by_street(ds, MONTH)
    assert {row[head.index(t("meeting.col.overdue", lang="zh"))] for row in league[1:]} == {"—"}
    # without closing times there are no ranks last month: the change is unknown, not "new"
    assert {row[head.index(t("meeting.col.change", lang="zh"))] for row in league[1:]} == {"—"}
    problems = _slide_texts(slides[rc.section_title("problems", "zh")])
    assert t("meeting.problems.none", lang="zh") not in problems  # units and estates could not be judged
    assert _line(*UNITS) in problems and _line(*ESTATES) in problems


def test_pptx_in_english(required):
    ds, b = required
    deck = Presentation(io.BytesIO(build_report(ds, b, "pptx", lang="en")))
    every = [x for s in deck.slides for x in _slide_texts(s)]
    for need in (COMMITTEES, OVERDUE, CHANGES, UNITS, ESTATES):
        assert _line(*need, lang="en") in every


def _pdf_text(data: bytes) -> str:
    doc = pymupdf.open(stream=data, filetype="pdf")
    return re.sub(r"\s+", "", "".join(page.get_text() for page in doc))


def test_pdf_carries_the_needs_lines_and_the_street_league(required):
    ds, b = required
    text = _pdf_text(build_report(ds, b, "pdf", lang="zh"))
    for need in (COMMITTEES, OVERDUE, CHANGES, UNITS, ESTATES):
        assert re.sub(r"\s+", "", _line(*need)) in text, need
    for street in ds.streets:
        assert street in text


def test_xlsx_puts_the_needs_lines_where_the_tables_would_be(required):
    ds, b = required
    book = openpyxl.load_workbook(io.BytesIO(build_report(ds, b, "xlsx", lang="zh")))
    values = {ws.title: [[c for c in row] for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    summary = [row[0] for row in values[t("meeting.sec.summary", lang="zh")] if row and row[0]]
    for need in (COMMITTEES, OVERDUE, CHANGES, UNITS, ESTATES):
        assert _line(*need) in summary
    units = values[t("meeting.sec.units", lang="zh")]
    assert units[0][0] == t("meeting.col.rank", lang="zh") and units[2][0] == _line(*UNITS)
    assert values[t("meeting.sec.estates", lang="zh")] == [[_line(*ESTATES)]]
    overdue = values[t("meeting.sec.overdue", lang="zh")]
    assert overdue[2][0] == _line(*OVERDUE)
    streets = values[t("meeting.sec.streets", lang="zh")]
    head = streets[0]
    rows = [r for r in streets[1:] if r[head.index(t("meeting.col.street", lang="zh"))]]
    got = {r[head.index(t("meeting.col.street", lang="zh"))]: int(r[head.index(t("meeting.col.cases", lang="zh"))])
           for r in rows}
    assert got == _month_cases_by_street(ds, MONTH)


# --- shapes real exports have ------------------------------------------------------------------------

def _one_street(ds: Dataset, street: str) -> Dataset:
    grids = ds.grids[ds.grids["street"] == street]
    cases = ds.cases[ds.cases["grid_id"].isin(grids["grid_id"])]
    estates = ds.estates[ds.estates["street"] == street] if "street" in ds.estates.columns else ds.estates
    facilities = ds.facilities[ds.facilities.within(grids.union_all())]
    return dataclasses.replace(ds, grids=grids, cases=cases, estates=estates, facilities=facilities)


def _all_formats(ds: Dataset, b) -> dict[str, bytes]:
    return {fmt: build_report(ds, b, fmt, lang="zh") for fmt in ("pptx", "pdf", "xlsx")}


def test_one_street_only(demo):
    ds = _one_street(demo, "井龙")
    b = meeting_brief(ds, month=MONTH)
    files = _all_formats(ds, b)
    assert list(b.street_league["street"]) == ["井龙"]
    assert b.street_league["cases"].iloc[0] == _month_cases_by_street(ds, MONTH)["井龙"]
    assert b.needs == ()
    assert "井龙" in _pdf_text(files["pdf"])


def test_one_grid_says_hot_spots_need_more_grids(demo):
    grids = demo.grids.iloc[:1]
    ds = dataclasses.replace(demo, grids=grids, cases=demo.cases[demo.cases["grid_id"].isin(grids["grid_id"])])
    b = meeting_brief(ds, month=MONTH)
    assert b.hot is None
    note = t("meeting.note.few_grids", lang="zh", n=1, min=MIN_GRIDS)
    deck = Presentation(io.BytesIO(_all_formats(ds, b)["pptx"]))
    hot_slide = [s for s in deck.slides if s.shapes[0].text_frame.text == rc.section_title("hot", "zh")][0]
    assert note in _slide_texts(hot_slide)


def test_every_case_closed_and_a_month_without_cases(demo):
    cases = demo.cases.assign(status="closed")
    cases = cases[pd.to_datetime(cases["reported_at"]).dt.strftime("%Y-%m") != MONTH]
    ds = demo.with_layer("cases", cases)
    b = meeting_brief(ds, month=MONTH)
    fig = {f.key: f for f in b.figures}
    assert fig["open"].value == 0 and fig["overdue"].value == 0
    assert b.n_cases_month == 0 and b.hot is None
    assert ("meeting.note.no_cases_month", ()) in b.notes
    files = _all_formats(ds, b)
    assert re.sub(r"\s+", "", t("meeting.note.no_cases_month", lang="zh")) in _pdf_text(files["pdf"])
    assert len(b.unit_league) == 0 or (b.unit_league["overdue"] == 0).all()


def test_empty_optional_layers(demo):
    ds = dataclasses.replace(demo, cases=demo.cases.iloc[0:0], estates=demo.estates.iloc[0:0], candidates=None,
                             roads=None)
    b = meeting_brief(ds)
    assert {m.section for m in b.needs} >= {"meeting.hot", "meeting.units", "meeting.estates", "meeting.streets"}
    files = _all_formats(ds, b)
    deck = Presentation(io.BytesIO(files["pptx"]))
    every = [x for s in deck.slides for x in _slide_texts(s)]
    assert _line("cases", None, "meeting.units") in every and _line("estates", None, "meeting.estates") in every
    assert t("empty.streets", lang="zh") in every or _line("cases", None, "meeting.streets") in every
    book = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    assert book.worksheets[0].title == t("meeting.sec.summary", lang="zh")


def test_estates_with_dates_but_no_street_are_counted_district_wide(demo):
    from analysis.estates import DISTRICT, STAGES
    from geo.schema import STAGE_DATE_COLUMNS

    ds = demo.with_layer("estates", demo.estates.drop(columns=["street"]))
    b = meeting_brief(ds, month=MONTH)
    assert b.needs == (Missing("meeting.estates_by_street", "estates", "street"),)
    [row] = b.estates_by_stage.to_dict("records")
    # by hand: each unmanaged-campaign estate's furthest stage dated on or before the month's end
    camp = ds.estates[ds.estates["governance_stage"].notna()]
    end = pd.Timestamp(b.month_end) + pd.Timedelta(days=1)
    expected = dict.fromkeys(STAGES, 0)
    for _, e in camp.iterrows():
        reached = "none"
        columns = list(STAGE_DATE_COLUMNS.values())
        for k, stage in enumerate(STAGE_DATE_COLUMNS):
            later = columns[k:]  # reaching a later stage means this one was reached by then
            dates = [pd.Timestamp(e[c]) for c in later if pd.notna(e[c])]
            if dates and min(dates) < end:
                reached = stage
        expected[reached] += 1
    assert row["street"] == DISTRICT and row["estates"] == len(camp)
    assert {s: int(row[s]) for s in STAGES} == expected
    deck = Presentation(io.BytesIO(build_report(ds, b, "pptx", lang="zh")))
    estates = [s for s in deck.slides if s.shapes[0].text_frame.text == rc.section_title("estates", "zh")][0]
    assert _line(*BY_STREET) in _slide_texts(estates)


@pytest.mark.parametrize("fmt", ["pptx", "pdf", "xlsx"])
def test_cli_report_on_required_columns_only(demo, tmp_path, capsys, fmt):
    import json

    from cli import main
    from geo.dataset import write_dataset

    gpkg = write_dataset(required_only(demo), tmp_path / "required.gpkg")
    out = tmp_path / f"meeting.{fmt}"
    assert main(["report", "--data", str(gpkg), "--out", str(out)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert out.stat().st_size == got["bytes"] > 0
    assert got["figures"]["overdue"] is None and got["figures"]["committees"] is None
    assert got["figures"]["open"] is not None
    assert [(n["section"], n["layer"], n["column"], n["text"]) for n in got["needs"]] == [
        (s, layer, col, _line(layer, col, s)) for layer, col, s in (COMMITTEES, OVERDUE, CHANGES, UNITS, ESTATES)]


def test_one_street_chosen_when_estates_have_no_street(demo):
    ds = demo.with_layer("estates", demo.estates.drop(columns=["street"]))
    b = meeting_brief(ds, street="田心", month=MONTH)
    assert b.estates_by_stage is None and b.figure("committees").value is None
    assert rc.needs_lines(b, "estates", "zh") == [_line(*BY_STREET)]
    assert rc.estates_summary(b, "zh") is None  # not "this dataset has no estates data"
    assert len(b.street_league) == len(ds.streets)  # the case sections are whole
    assert rc.needs_lines(b, "figures", "zh") == [_line("estates", "street", "meeting.committees")]
    assert b.street_league.loc[b.street_league["selected"], "street"].tolist() == ["田心"]
