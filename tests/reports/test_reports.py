"""The meeting material opened as a reader would: PPTX (python-pptx), PDF (PyMuPDF), XLSX (openpyxl).

Built from the bundled demo (May 2019, the whole district) and from the hand-counted
district of tests/analysis/meeting_fixtures.py (whose case descriptions start with
= + - @ to prove the workbook never writes a formula).
"""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pymupdf
import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.oxml.ns import qn

from analysis.meeting import meeting_brief
from geo.dataset import DEMO_PATH, read_dataset
from geo.errors import AnalysisError
from i18n import t
from reports import build_report, format_of
from reports import content as rc
from reports.maps import DPI
from tests.analysis.meeting_fixtures import meeting_dataset

SECTIONS_ZH = ["本月主要指标", "近 12 个月主要指标走势", "街道排名", "责任单位排名", "养老服务覆盖缺口", "事件热点", "小区自治进展", "养老服务公平性",
               "本月问题清单"]


@pytest.fixture(scope="module")
def demo():
    ds = read_dataset(DEMO_PATH)
    return ds, meeting_brief(ds, month="2019-05")


@pytest.fixture(scope="module")
def pptx_deck(demo):
    ds, b = demo
    return Presentation(io.BytesIO(build_report(ds, b, "pptx", lang="zh")))


@pytest.fixture(scope="module")
def pdf_doc(demo):
    ds, b = demo
    return pymupdf.open(stream=build_report(ds, b, "pdf", lang="zh"), filetype="pdf")


def _texts(slide) -> list[str]:
    return [s.text_frame.text for s in slide.shapes if s.has_text_frame]


# --- PPTX ------------------------------------------------------------------------------

def test_pptx_has_a_title_slide_and_one_slide_per_section(pptx_deck, demo):
    _, b = demo
    slides = list(pptx_deck.slides)
    assert len(slides) == 1 + len(SECTIONS_ZH)
    assert _texts(slides[0])[0] == "石峰区 2019-05 月调度会"
    assert [_texts(s)[0] for s in slides[1:]] == SECTIONS_ZH
    assert "示例数据" in _texts(slides[0])[1]


def test_pptx_figures_equal_the_brief(pptx_deck, demo):
    _, b = demo
    text = "\n".join(_texts(pptx_deck.slides[1]))
    open_ = b.figure("open")
    assert f"{open_.value:,}" in text and f"较上月 {open_.delta:+,}" in text
    assert f"{100 * b.figure('closure_rate').value:.1f}%" in text
    assert f"{100 * b.figure('coverage').value:.1f}%" in text
    # the demo's stations carry opening dates: coverage has its change since last month (2019-04's stations)
    cov = b.figure("coverage")
    assert cov.previous is not None and cov.delta is not None
    assert rc.cards(b, "zh")[0].delta in text and "设施无启用日期，无法比较上月" not in text


def test_pptx_league_tables_are_native_tables_equal_to_the_brief(pptx_deck, demo):
    _, b = demo
    for slide, frame, name in ((pptx_deck.slides[3], b.street_league, "street"),
                               (pptx_deck.slides[4], b.unit_league, "unit")):
        tables = [s.table for s in slide.shapes if s.has_table]
        assert len(tables) == 1
        tbl = tables[0]
        assert tbl.cell(0, 0).text == "关注排名" and tbl.cell(0, 2).text == ("街道" if name == "street" else "责任单位")
        rows = min(len(frame), 11)
        assert len(tbl.rows) == rows + 1
        for i in range(rows):
            r = frame.iloc[i]
            assert tbl.cell(i + 1, 0).text == str(r["rank"])
            assert tbl.cell(i + 1, 2).text == str(r[name])
            assert tbl.cell(i + 1, 7).text == f"{int(r['overdue']):,}"
            assert tbl.cell(i + 1, 4).text == f"{100 * r['closure_rate']:.1f}%"


def test_pptx_maps_and_chart_are_crisp_pictures(pptx_deck):
    for index in (5, 6, 7):  # gaps, hot spots, estates
        pics = [s for s in pptx_deck.slides[index].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pics) == 1
        pic = pics[0]
        px_w, _ = pic.image.size
        shown_in = pic.width / 914400
        assert px_w / shown_in >= 150


def test_every_pptx_run_has_an_east_asian_font(pptx_deck):
    runs = 0
    for slide in pptx_deck.slides:
        for r in slide.shapes._spTree.iter(qn("a:r")):
            rpr = r.find(qn("a:rPr"))
            assert rpr is not None and rpr.find(qn("a:ea")) is not None, r.findtext(qn("a:t"))
            assert rpr.find(qn("a:ea")).get("typeface")
            runs += 1
    assert runs > 100


# --- PDF -------------------------------------------------------------------------------

def test_pdf_is_a4_landscape_with_a_page_per_section(pdf_doc):
    assert pdf_doc.page_count == 1 + len(SECTIONS_ZH)
    for page in pdf_doc:
        assert (round(page.rect.width), round(page.rect.height)) == (842, 595)
    assert pdf_doc[0].get_text().startswith("石峰区 2019-05 月调度会")
    for page, title in zip(list(pdf_doc)[1:], SECTIONS_ZH, strict=True):
        assert page.get_text().startswith(title)


def test_pdf_text_is_selectable_and_equals_the_brief(pdf_doc, demo):
    _, b = demo
    figures = pdf_doc[1].get_text()
    assert f"{b.figure('overdue').value:,}" in figures
    assert f"较上月 {b.figure('overdue').delta:+,}" in figures
    units = pdf_doc[4].get_text()
    for unit in b.unit_league["unit"]:
        assert unit in units
    problems = pdf_doc[9].get_text()
    for item in b.problems:
        assert item.subject in problems


def test_pdf_embeds_the_cjk_font(pdf_doc):
    seen = set()
    for i in range(pdf_doc.page_count):
        for xref, _ext, _type, name, *_ in pdf_doc.get_page_fonts(i):
            if xref in seen:
                continue
            seen.add(xref)
            assert "WenQuanYiMicroHei" in name or "NotoSansCJKSC" in name, name
            basename, extension, _, buffer = pdf_doc.extract_font(xref)
            assert extension != "n/a" and len(buffer) > 1000, (name, extension)
    assert seen


def test_pdf_pages_render_with_maps(pdf_doc, tmp_path):
    for index in (5, 6, 7):
        assert len(pdf_doc[index].get_images()) == 1
    pix = pdf_doc[5].get_pixmap(dpi=60)
    out = tmp_path / "gaps.png"
    pix.save(out)
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape[1] == round(842 * 60 / 72)
    # the map's red (uncovered) grids are on the page
    red = (img[:, :, 0] > 150) & (img[:, :, 1] < 60) & (img[:, :, 2] < 70)
    assert red.sum() > 2000


# --- XLSX ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small():
    ds = meeting_dataset()
    b = meeting_brief(ds)
    return b, openpyxl.load_workbook(io.BytesIO(build_report(ds, b, "xlsx", lang="zh")))


def test_xlsx_sheets_headers_and_frozen_rows(small):
    _, wb = small
    assert wb.sheetnames == ["汇总", "街道排名", "责任单位排名", "超期未办结事件", "养老服务覆盖缺口", "小区自治进展",
                             "指标走势"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
    assert [c.value for c in wb["责任单位排名"][1]] == ["关注排名", "上月排名", "责任单位", "本月事件", "本月已办结",
                                                  "办结率", "超期办结", "月末未办结", "月末逾期"]


def test_xlsx_values_equal_the_hand_counts_with_number_formats(small):
    _, wb = small
    ws = wb["责任单位排名"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert rows == [[1, 3, "环保", 1, 0, 0, 0, 2, 2], [2, 1, "住建", 2, 2, 1, 1, 1, 1],
                    [3, 2, "城管", 2, 0, 0, 0, 2, 1]]
    assert ws["F2"].number_format == "0.0%" and ws["D2"].number_format == "#,##0"
    summary = {r[0].value: r[1].value for r in wb["汇总"].iter_rows(min_row=2, max_row=6)}
    assert summary["月末未办结"] == 5 and summary["月末逾期未办结"] == 4
    assert summary["本月办结率"] == pytest.approx(0.4)
    assert summary["业委会已成立"] == 2
    overdue = wb["超期未办结事件"]
    assert [c.value for c in overdue["A"][1:]] == ["C9", "C3", "C6", "C8"]
    assert overdue["F2"].number_format == "yyyy-mm-dd hh:mm"
    assert [c.value for c in overdue["J"][1:]] == ["138****5678"] * 4


def test_xlsx_text_that_looks_like_a_formula_stays_text(small):
    _, wb = small
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    desc = {r[0].value: r[8] for r in wb["超期未办结事件"].iter_rows(min_row=2)}
    expected = {"C9": "@油烟扰民", "C3": "=1+1", "C6": "+86 来电", "C8": "-5 度"}
    for case, text in expected.items():
        cell = desc[case]
        assert cell.value == text and cell.data_type == "s"
        assert cell.quotePrefix  # editing the cell in Excel keeps it text


def test_xlsx_masks_phones_unless_told_not_to():
    ds = meeting_dataset()
    raw = meeting_brief(ds, mask_personal=False)
    for mask, expected in ((True, "138****5678"), (False, "13812345678")):
        wb = openpyxl.load_workbook(io.BytesIO(build_report(ds, raw, "xlsx", mask_personal=mask)))
        assert [c.value for c in wb["超期未办结事件"]["J"][1:]] == [expected] * 4


def test_xlsx_in_english(demo):
    ds, b = demo
    wb = openpyxl.load_workbook(io.BytesIO(build_report(ds, b, "xlsx", lang="en")))
    assert wb.sheetnames[:3] == ["Summary", "Street league table", "Responsible-unit league table"]
    ws = wb["Street league table"]
    assert [c.value for c in ws[1]][:3] == ["Rank", "Last month's rank", "Street"]
    assert [c.value for c in ws["C"][1:]] == list(b.street_league["street"])


# --- formats and content -----------------------------------------------------------------------

def test_sheet_names_are_valid():
    from reports.xlsx import sheet_name

    assert sheet_name("Estates: progress [2019/05]?") == "Estates progress 2019 05"
    assert len(sheet_name("x" * 40)) == 31


def test_format_from_suffix():
    assert [format_of(p) for p in ("a.pptx", "b.PDF", "c/d.xlsx")] == ["pptx", "pdf", "xlsx"]
    for bad in ("deck.docx", "deck"):
        with pytest.raises(AnalysisError, match="the output file must end in .pptx, .pdf or .xlsx") as e:
            format_of(bad)
        assert e.value.code == "report.format_unknown"


def test_rank_change_words():
    assert [rc.rank_change(v, "zh") for v in (2, -1, 0, None)] == ["↑2", "↓1", "持平", "新"]
    assert rc.rank_change(0, "en") == "same"


def test_maps_are_rendered_at_projector_resolution():
    assert DPI >= 150
    assert t("meeting.map.north", lang="zh") == "北"
