"""The meeting deck as PPTX (python-pptx): a title slide, then one slide per section.

Tables are native PowerPoint tables; maps and charts are pictures (`reports.maps`).
Every text run gets its East Asian font (``a:ea``) as well as its Latin one:
python-pptx's ``font.name`` sets only the Latin font, and PowerPoint on a Mac,
LibreOffice and WPS show boxes for Chinese without it (python-pptx#768).
"""

from __future__ import annotations

import io

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from analysis.meeting import MeetingBrief
from geo.dataset import Dataset
from i18n import t
from reports import content, equity, loop
from reports.maps import pictures

LATIN_FONT = "Arial"
EA_FONT = "Microsoft YaHei"  # 微软雅黑: on every Windows PC; LibreOffice and WPS substitute a CJK font
SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
NAVY = RGBColor(0x1F, 0x3A, 0x5F)
GREY = RGBColor(0x55, 0x55, 0x55)
RED = RGBColor(0xC0, 0x39, 0x2B)
GREEN = RGBColor(0x1E, 0x84, 0x49)
HEAD_FILL = RGBColor(0x1F, 0x3A, 0x5F)
MARK_FILL = RGBColor(0xFF, 0xF2, 0xCC)


def _set_fonts(run, *, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    font = run.font
    font.size = Pt(size)
    font.bold = bold
    font.name = LATIN_FONT
    if color is not None:
        font.color.rgb = color
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:ea", "a:cs"):
        el = rpr.find(qn(tag))
        if el is None:
            el = rpr.makeelement(qn(tag), {})
            rpr.append(el)
        el.set("typeface", EA_FONT)


def _text(slide, left, top, width, height, lines, *, size: float, bold: bool = False,
          color: RGBColor | None = None, align=PP_ALIGN.LEFT) -> None:
    """A text box; ``lines`` is a string or a list of (text, size, bold, color) / strings."""
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    items = [lines] if isinstance(lines, str) else list(lines)
    for i, item in enumerate(items):
        text, sz, b, c = (item, size, bold, color) if isinstance(item, str) else item
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.alignment = align
        run = para.add_run()
        run.text = text
        _set_fonts(run, size=sz, bold=b, color=c)


def _slide(prs: Presentation, heading: str, brief: MeetingBrief, lang: str):
    slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank
    _text(slide, Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.8), heading, size=30, bold=True, color=NAVY)
    _text(slide, Inches(0.5), Inches(7.0), Inches(12.3), Inches(0.4), content.title(brief, lang), size=11,
          color=GREY)
    return slide


def _table(slide, table: content.TextTable, left, top, width, *, size: float = 14, row_h=Inches(0.42)) -> None:
    n_rows, n_cols = len(table.rows) + 1, len(table.headers)
    shape = slide.shapes.add_table(n_rows, n_cols, left, top, width, Emu(int(row_h) * n_rows))
    tbl = shape.table
    for j, head in enumerate(table.headers):
        cell = tbl.cell(0, j)
        cell.fill.solid()
        cell.fill.fore_color.rgb = HEAD_FILL
        _cell_text(cell, head, size=size, bold=True, color=RGBColor(0xFF, 0xFF, 0xFF),
                   align=PP_ALIGN.RIGHT if table.numeric[j] else PP_ALIGN.LEFT)
    for i, row in enumerate(table.rows, start=1):
        mark = bool(table.highlight and table.highlight[i - 1])
        for j, value in enumerate(row):
            cell = tbl.cell(i, j)
            if mark:
                cell.fill.solid()
                cell.fill.fore_color.rgb = MARK_FILL
            _cell_text(cell, value, size=size, bold=mark, align=PP_ALIGN.RIGHT if table.numeric[j] else PP_ALIGN.LEFT)


def _cell_text(cell, text: str, *, size: float, bold: bool = False, color: RGBColor | None = None,
               align=PP_ALIGN.LEFT) -> None:
    frame = cell.text_frame
    frame.clear()
    para = frame.paragraphs[0]
    para.alignment = align
    run = para.add_run()
    run.text = text
    _set_fonts(run, size=size, bold=bold, color=color)


def _picture(slide, png: bytes, left, top, *, width=None, height=None) -> None:
    slide.shapes.add_picture(io.BytesIO(png), left, top, width=width, height=height)


def _card_color(card: content.Card) -> RGBColor:
    if card.sign is None or card.sign == 0:
        return GREY
    worse = (card.sign > 0) == card.worse_when_up
    return RED if worse else GREEN


def _equity_slide(slide, ds: Dataset, brief: MeetingBrief, lang: str) -> None:
    """Street and district rows of `reports.equity`, the worst-off grids beside them, what the figures mean."""
    needs = content.needs_lines(brief, equity.SECTION, lang)
    result = equity.meeting_equity(ds, brief) if not needs else None
    if result is None:
        _text(slide, Inches(0.5), Inches(1.4), Inches(12.3), Inches(1.0),
              needs or [t("meeting.note.no_day_care", lang=lang)], size=20, color=GREY)
        return
    table = equity.equity_table(result, brief, lang)
    _table(slide, table, Inches(0.5), Inches(1.3), Inches(8.3), size=14)
    _text(slide, Inches(9.1), Inches(1.3), Inches(4.0), Inches(4.6),
          [(t("equity.worst_title", lang=lang), 15, True, NAVY),
           *((line, 12, False, None) for line in equity.worst_lines(result, brief, lang))], size=12)
    _text(slide, Inches(0.5), Inches(5.9), Inches(12.3), Inches(1.0), equity.definition_lines(lang, brief), size=11,
          color=GREY)


def _followups_slide(prs, brief: MeetingBrief, lang: str) -> None:
    """Last meetings' follow-ups with their state (only when the brief was given the dataset's follow-ups)."""
    if brief.followups is None:
        return
    slide = _slide(prs, loop.section_title(loop.FOLLOWUPS, brief, lang), brief, lang)
    table = loop.followups_table(brief, lang, top=10)
    _text(slide, Inches(0.5), Inches(1.15), Inches(12.3), Inches(0.5), loop.followups_summary(brief, lang), size=16)
    if table is not None:
        _table(slide, table, Inches(0.5), Inches(1.7), Inches(12.3), size=12, row_h=Inches(0.44))
        more = content.more_text(len(table.rows), len(brief.followups), lang)
        if more:
            _text(slide, Inches(0.5), Inches(6.55), Inches(12.3), Inches(0.4), more, size=12, color=GREY)


def _trend_slide(prs, brief: MeetingBrief, lang: str) -> None:
    """The five figures at the last 12 month ends, as small line charts."""
    slide = _slide(prs, loop.section_title(loop.TREND, brief, lang), brief, lang)
    png = loop.trend_png(brief, lang=lang)
    if png is not None:
        _picture(slide, png, Inches(0.4), Inches(1.4), height=Inches(4.3))
    _text(slide, Inches(0.5), Inches(5.9), Inches(12.3), Inches(0.9), loop.trend_lines(brief, lang) or
          [t("loop.trend.help", lang=lang)], size=13, color=GREY)


TARGET_ROWS = 11  # rows of the 考核 slide's detail table (the not-met first)


def _targets_slide(prs, brief: MeetingBrief, lang: str) -> None:
    """In a quarter's last month with targets: the 考核 table and each target's figure."""
    if brief.quarter is None:
        return
    slide = _slide(prs, loop.section_title(loop.TARGETS, brief, lang), brief, lang)
    _text(slide, Inches(0.5), Inches(1.1), Inches(12.3), Inches(0.5), loop.targets_caption(brief, lang), size=14,
          color=GREY)
    score = loop.score_table(brief, lang)
    if score is not None:
        _table(slide, score, Inches(0.5), Inches(1.6), Inches(5.0), size=11, row_h=Inches(0.34))
    detail = loop.targets_table(brief, lang)
    if detail is not None:  # the figures behind the not-met ones first; the whole list is in the XLSX
        order = sorted(range(len(detail.rows)), key=lambda i: not detail.highlight[i])[:TARGET_ROWS]
        shown = content.TextTable(detail.headers, tuple(detail.rows[i] for i in order), detail.numeric,
                                  tuple(detail.highlight[i] for i in order))
        _table(slide, shown, Inches(5.8), Inches(1.6), Inches(7.2), size=10, row_h=Inches(0.34))
        more = content.more_text(len(shown.rows), len(detail.rows), lang)
        if more:
            _text(slide, Inches(5.8), Inches(6.55), Inches(7.2), Inches(0.3), more, size=10, color=GREY)


def build_pptx(ds: Dataset, brief: MeetingBrief, *, lang: str = "zh") -> bytes:
    """The deck as bytes: title, last meetings' follow-ups (when given), key figures, the figures over 12 months,
    street league, unit league, gaps map, hot spot map, estates progress, equity of access, the quarter's 考核
    table (in a quarter's last month, with targets), this month's problems."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H

    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _text(slide, Inches(0.8), Inches(2.4), Inches(11.7), Inches(1.4), content.title(brief, lang), size=44,
          bold=True, color=NAVY)
    _text(slide, Inches(0.8), Inches(3.9), Inches(11.7), Inches(1.0),
          [content.subtitle(brief, lang), content.t_generated(lang)], size=18, color=GREY)

    _followups_slide(prs, brief, lang)  # the meeting opens with what it decided last time, and whether it is done

    slide = _slide(prs, content.section_title("figures", lang), brief, lang)
    cards = content.cards(brief, lang)
    w = Inches(12.3 / len(cards))
    for i, card in enumerate(cards):
        left = Inches(0.5) + Emu(int(w) * i)
        _text(slide, left, Inches(1.8), w, Inches(3.6),
              [(card.label, 18, False, GREY), (card.value, 44, True, NAVY), (card.delta, 16, True, _card_color(card))],
              size=18, align=PP_ALIGN.CENTER)
    for note_i, note in enumerate([*content.needs_lines(brief, "figures", lang), *content.notes(brief, lang)]):
        _text(slide, Inches(0.5), Inches(5.6 + 0.4 * note_i), Inches(12.3), Inches(0.4), note, size=14, color=GREY)

    _trend_slide(prs, brief, lang)

    for which, section in (("street", "streets"), ("unit", "units")):
        slide = _slide(prs, content.section_title(section, lang), brief, lang)
        table = content.league_table(brief, which, lang, top=11)
        needs = content.needs_lines(brief, section, lang)
        if not table.rows:  # no table of headers alone: what is missing, or that there is nothing
            _text(slide, Inches(0.5), Inches(1.4), Inches(12.3), Inches(1.0), needs or [content.t_no_rows(section, lang)],
                  size=20, color=GREY)
            continue
        _table(slide, table, Inches(0.5), Inches(1.3), Inches(12.3), size=15 if which == "street" else 14)
        frame = brief.street_league if which == "street" else brief.unit_league
        more = content.more_text(len(table.rows), len(frame), lang)
        _text(slide, Inches(0.5), Inches(6.35), Inches(12.3), Inches(0.6),
              [" ".join([content.t_rank_help(lang), *([more] if more else [])]), *needs], size=12, color=GREY)

    slide = _slide(prs, content.section_title("gaps", lang, brief), brief, lang)
    pics = pictures(ds, brief, lang=lang)
    _picture(slide, pics["gaps"], Inches(0.3), Inches(1.2), height=Inches(5.6))
    _text(slide, Inches(9.35), Inches(1.3), Inches(3.7), Inches(1.4), content.gaps_summary(brief, lang), size=13)
    small = content.gaps_table(brief, lang, top=8)
    small = content.TextTable((small.headers[0], small.headers[4]), tuple((r[0], r[4]) for r in small.rows),
                              (False, True))
    if small.rows:
        _table(slide, small, Inches(9.35), Inches(2.9), Inches(3.6), size=12, row_h=Inches(0.36))

    slide = _slide(prs, content.section_title("hot", lang), brief, lang)
    _picture(slide, pics["hot"], Inches(0.3), Inches(1.2), height=Inches(5.6))
    lines = [*content.needs_lines(brief, "hot", lang), content.hot_summary(brief, lang),
             *content.notes_for(brief, lang, "meeting.note.few_grids", "meeting.note.no_cases_month")]
    lines += [content.item_text(i, lang) for i in brief.problems if i.kind == "grid_new_hot"]
    _text(slide, Inches(9.35), Inches(1.3), Inches(3.7), Inches(5.4), lines, size=13)

    slide = _slide(prs, content.section_title("estates", lang), brief, lang)
    chart = pics["estates"]
    summary = content.estates_summary(brief, lang)
    _text(slide, Inches(0.5), Inches(1.2), Inches(12.3), Inches(0.6),
          [*([summary] if summary else []), *content.needs_lines(brief, "estates", lang)], size=18)
    if chart is not None:
        _picture(slide, chart, Inches(0.3), Inches(1.9), height=Inches(4.6))
    plan = content.plan_table(brief, lang, top=9)
    if plan is not None:
        _text(slide, Inches(9.0), Inches(1.9), Inches(4.1), Inches(0.7), content.plan_caption(brief, lang), size=12,
              color=GREY)
        short = content.TextTable(plan.headers[:4], tuple(r[:4] for r in plan.rows), plan.numeric[:4], plan.highlight)
        _table(slide, short, Inches(9.0), Inches(2.6), Inches(4.0), size=12, row_h=Inches(0.38))

    slide = _slide(prs, content.section_title(equity.SECTION, lang, brief), brief, lang)
    _equity_slide(slide, ds, brief, lang)

    _targets_slide(prs, brief, lang)

    slide = _slide(prs, content.section_title("problems", lang), brief, lang)
    groups = content.problem_groups(brief, lang)
    lines: list = []
    for heading, items in groups:
        lines.append((heading, 22, True, NAVY))
        lines.extend((f"• {x}", 18, False, None) for x in items)
    needs = content.needs_lines(brief, "problems", lang)
    lines.extend((x, 16, False, GREY) for x in needs)  # what could not be judged, never "no problems" for it
    if not lines:
        lines = [(content.t_no_problems(lang), 20, False, GREY)]
    _text(slide, Inches(0.6), Inches(1.3), Inches(12.1), Inches(5.5), lines, size=18)

    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()
