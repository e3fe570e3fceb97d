"""The meeting material as PDF: A4 landscape, one page per section, Chinese text selectable.

Made with fpdf2, which embeds a subset of the font (a CID font with a
ToUnicode map): the Chinese text can be selected and searched, and the file
shows the same on a machine without the font. The font is WenQuanYi Micro Hei
(Debian ``fonts-wqy-microhei``, TrueType outlines), else Noto Sans CJK SC
(``fonts-noto-cjk``, CFF outlines, which fpdf2 also embeds but parses and
subsets about 2.5 times slower: a second per face on this machine). One face
only: headings are set apart by size and colour, which halves the font work.
ReportLab was not used: it cannot embed CFF-based OpenType fonts such as Noto
Sans CJK. Without either font, `AnalysisError` ``report.font_missing``.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from analysis.meeting import MeetingBrief
from geo.dataset import Dataset
from geo.errors import AnalysisError
from i18n import t
from reports import content, equity, loop
from reports.maps import pictures

FONT_DIRS = ("/usr/share/fonts/truetype/wqy", "/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto",
             "/usr/share/fonts/opentype", "/usr/share/fonts/truetype", "/usr/local/share/fonts")
# (file, family name of the face to take from a collection), in order of preference
FONT_FILES = (("wqy-microhei.ttc", ("WenQuanYi Micro Hei",)),
              ("NotoSansCJK-Regular.ttc", ("Noto Sans CJK SC", "Noto Sans SC")))
FAMILY = "GridAtlasCJK"
NAVY = (31, 58, 95)
GREY = (85, 85, 85)
RED = (192, 57, 43)
GREEN = (30, 132, 73)
PAGE_W, PAGE_H, MARGIN = 297.0, 210.0, 12.0


@dataclass(frozen=True)
class CjkFont:
    """A font file and, in a collection (.ttc), the index of its Simplified Chinese face."""

    path: Path
    index: int


def _face_index(path: Path, names: tuple[str, ...]) -> int:
    from fontTools.ttLib import TTCollection

    if path.suffix.lower() != ".ttc":
        return 0
    with TTCollection(str(path), lazy=True) as coll:
        for i, face in enumerate(coll.fonts):
            if face["name"].getDebugName(1) in names:
                return i
    return 0


@functools.cache
def find_cjk_font() -> CjkFont:
    """The first Chinese font of `FONT_FILES` found in the system's font folders."""
    for name, faces in FONT_FILES:
        for folder in FONT_DIRS:
            hits = sorted(Path(folder).rglob(name)) if Path(folder).is_dir() else []
            if hits:
                return CjkFont(hits[0], _face_index(hits[0], faces))
    wanted = " or ".join(n for n, _ in FONT_FILES)
    raise AnalysisError(f"no Chinese font ({wanted}) found in {', '.join(FONT_DIRS)}: install fonts-wqy-microhei "
                        "or fonts-noto-cjk", code="report.font_missing", params={"font": wanted})


class _Doc(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_auto_page_break(auto=True, margin=14)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        f = find_cjk_font()
        self.add_font(FAMILY, "", str(f.path), collection_font_number=f.index)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 5, f"{self.footer_text}    {self.page_no()}", align="R")


def _heading(pdf: _Doc, text: str) -> None:
    pdf.add_page()
    pdf.set_font(FAMILY, "", 22)
    pdf.set_text_color(*NAVY)
    pdf.cell(0, 12, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_text_color(0, 0, 0)


def _para(pdf: _Doc, text: str, *, size: float = 12, color=(0, 0, 0), w: float = 0) -> None:
    pdf.set_font(FAMILY, "", size)
    pdf.set_text_color(*color)
    # Chinese wraps between any two characters, never only at the few spaces (fpdf2 would break a line early at the
    # last space and stretch it across the page); left-aligned, so no line is stretched
    chinese = str(getattr(pdf, "lang", "")).startswith("zh")
    pdf.multi_cell(w, size * 0.5, text, new_x="LMARGIN" if not w else "LEFT", new_y="NEXT", align="L",
                   wrapmode="CHAR" if chinese else "WORD")
    pdf.set_text_color(0, 0, 0)


def _table(pdf: _Doc, table: content.TextTable, *, size: float = 11, width: float | None = None) -> None:
    pdf.set_font(FAMILY, "", size)
    align = tuple("RIGHT" if n else "LEFT" for n in table.numeric)
    head = FontFace(color=(255, 255, 255), fill_color=NAVY)
    with pdf.table(width=width or (PAGE_W - 2 * MARGIN), text_align=align, headings_style=head,
                   line_height=size * 0.62, align="LEFT", first_row_as_headings=True) as tbl:
        tbl.row(table.headers)
        for i, row in enumerate(table.rows):
            mark = bool(table.highlight and table.highlight[i])
            style = FontFace(fill_color=(255, 242, 204)) if mark else None
            tbl.row(row, style=style)


def _image(pdf: _Doc, png: bytes, *, x: float, y: float, h: float) -> None:
    pdf.image(io.BytesIO(png), x=x, y=y, h=h)


def _followups_page(pdf: _Doc, brief: MeetingBrief, lang: str) -> None:
    if brief.followups is None:
        return
    _heading(pdf, loop.section_title(loop.FOLLOWUPS, brief, lang))
    _para(pdf, loop.followups_summary(brief, lang), size=13)
    table = loop.followups_table(brief, lang)
    if table is not None:
        pdf.ln(2)
        _table(pdf, table, size=10)


def _trend_page(pdf: _Doc, brief: MeetingBrief, lang: str) -> None:
    _heading(pdf, loop.section_title(loop.TREND, brief, lang))
    png = loop.trend_png(brief, lang=lang)
    if png is not None:
        top = pdf.get_y()
        _image(pdf, png, x=MARGIN, y=top, h=90.0)
        pdf.set_xy(MARGIN, top + 92)
    for line in loop.trend_lines(brief, lang) or [t("loop.trend.help", lang=lang)]:
        _para(pdf, line, size=11, color=GREY)


def _targets_page(pdf: _Doc, brief: MeetingBrief, lang: str) -> None:
    if brief.quarter is None:
        return
    _heading(pdf, loop.section_title(loop.TARGETS, brief, lang))
    _para(pdf, loop.targets_caption(brief, lang), size=11, color=GREY)
    score = loop.score_table(brief, lang)
    if score is not None:
        pdf.ln(2)
        _table(pdf, score, size=10)
    detail = loop.targets_table(brief, lang)
    if detail is not None:
        pdf.ln(4)
        _table(pdf, detail, size=9)


def build_pdf(ds: Dataset, brief: MeetingBrief, *, lang: str = "zh") -> bytes:
    """The PDF as bytes: the same sections as the deck, one A4 landscape page each."""
    pdf = _Doc(content.title(brief, lang))
    pdf.set_title(content.title(brief, lang))
    pdf.set_creator("GridAtlas")
    pdf.set_lang("zh-CN" if lang == "zh" else "en")

    pdf.add_page()
    pdf.set_y(70)
    _para(pdf, content.title(brief, lang), size=30, color=NAVY)
    pdf.ln(4)
    _para(pdf, content.subtitle(brief, lang), size=14, color=GREY)
    _para(pdf, content.t_generated(lang), size=12, color=GREY)

    _followups_page(pdf, brief, lang)

    _heading(pdf, content.section_title("figures", lang))
    cards = content.cards(brief, lang)
    w = (PAGE_W - 2 * MARGIN) / len(cards)
    top = pdf.get_y() + 10
    for i, card in enumerate(cards):
        x = MARGIN + i * w
        pdf.set_draw_color(200, 200, 200)
        pdf.rect(x + 2, top, w - 4, 62)
        color = GREY if not card.sign else (RED if (card.sign > 0) == card.worse_when_up else GREEN)
        for text, size, col, dy in ((card.label, 13, GREY, 6), (card.value, 28, NAVY, 22), (card.delta, 11, color, 44)):
            pdf.set_xy(x + 4, top + dy)
            pdf.set_font(FAMILY, "", size)
            pdf.set_text_color(*col)
            pdf.multi_cell(w - 8, size * 0.45, text, align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(MARGIN, top + 72)
    for note in [*content.needs_lines(brief, "figures", lang), *content.notes(brief, lang)]:
        _para(pdf, note, size=11, color=GREY)

    _trend_page(pdf, brief, lang)

    for which, section in (("street", "streets"), ("unit", "units")):
        _heading(pdf, content.section_title(section, lang))
        table = content.league_table(brief, which, lang, top=15)
        needs = content.needs_lines(brief, section, lang)
        if not table.rows:  # no table of headers alone: what is missing, or that there is nothing
            for line in needs or [content.t_no_rows(section, lang)]:
                _para(pdf, line, size=14, color=GREY)
            continue
        _table(pdf, table, size=12)
        pdf.ln(3)
        frame = brief.street_league if which == "street" else brief.unit_league
        more = content.more_text(len(table.rows), len(frame), lang)
        _para(pdf, content.t_rank_help(lang) + (f" {more}" if more else ""), size=10, color=GREY)
        for line in needs:
            _para(pdf, line, size=10, color=GREY)

    pics = pictures(ds, brief, lang=lang)
    map_h = 118.0
    _heading(pdf, content.section_title("gaps", lang, brief))
    top = pdf.get_y()
    _image(pdf, pics["gaps"], x=MARGIN, y=top, h=map_h)
    side_x = MARGIN + map_h * 9.0 / 5.6 + 4
    side_w = PAGE_W - MARGIN - side_x
    pdf.set_xy(side_x, top)
    _para(pdf, content.gaps_summary(brief, lang), size=11, w=side_w)
    pdf.set_xy(side_x, pdf.get_y() + 2)
    small = content.gaps_table(brief, lang, top=10)
    small = content.TextTable((small.headers[0], small.headers[4]), tuple((r[0], r[4]) for r in small.rows),
                              (False, True))
    pdf.set_left_margin(side_x)
    if small.rows:
        _table(pdf, small, size=10, width=side_w)
    pdf.set_left_margin(MARGIN)

    _heading(pdf, content.section_title("hot", lang))
    top = pdf.get_y()
    _image(pdf, pics["hot"], x=MARGIN, y=top, h=map_h)
    pdf.set_xy(side_x, top)
    lines = [*content.needs_lines(brief, "hot", lang), content.hot_summary(brief, lang),
             *content.notes_for(brief, lang, "meeting.note.few_grids", "meeting.note.no_cases_month"),
             *(content.item_text(i, lang) for i in brief.problems if i.kind == "grid_new_hot")]
    for line in lines:
        pdf.set_x(side_x)
        _para(pdf, line, size=11, w=side_w)
        pdf.ln(1)

    _heading(pdf, content.section_title("estates", lang))
    summary = content.estates_summary(brief, lang)
    for line in [*([summary] if summary else []), *content.needs_lines(brief, "estates", lang)]:
        _para(pdf, line, size=14)
    chart = pics["estates"]
    if chart is not None:
        top, chart_h = pdf.get_y() + 2, 92.0
        _image(pdf, chart, x=MARGIN, y=top, h=chart_h)
        plan = content.plan_table(brief, lang, top=12)
        if plan is not None:
            side_x = MARGIN + chart_h * 9.0 / 4.8 + 4
            pdf.set_xy(side_x, top)
            _para(pdf, content.plan_caption(brief, lang), size=10, color=GREY, w=PAGE_W - MARGIN - side_x)
            pdf.set_left_margin(side_x)
            pdf.set_x(side_x)
            _table(pdf, plan, size=9, width=PAGE_W - MARGIN - side_x)
            pdf.set_left_margin(MARGIN)
        pdf.set_xy(MARGIN, top + chart_h + 3)
        table = content.estates_table(brief, lang)
        # the stage table under the chart when it fits on the page (its numbers are the chart's; all in the XLSX)
        if table is not None and pdf.get_y() + 6.5 * (len(table.rows) + 1) < PAGE_H - 16:
            _table(pdf, table, size=10)

    _heading(pdf, content.section_title(equity.SECTION, lang, brief))
    needs = content.needs_lines(brief, equity.SECTION, lang)
    result = equity.meeting_equity(ds, brief) if not needs else None
    if result is None:
        _para(pdf, "\n".join(needs or [t("meeting.note.no_day_care", lang=lang)]), size=14, color=GREY)
    else:
        _table(pdf, equity.equity_table(result, brief, lang), size=11)
        pdf.ln(3)
        _para(pdf, t("equity.worst_title", lang=lang), size=13, color=NAVY)
        for line in equity.worst_lines(result, brief, lang):
            _para(pdf, line, size=11)
        pdf.ln(2)
        for line in equity.definition_lines(lang, brief):
            _para(pdf, line, size=10, color=GREY)

    _targets_page(pdf, brief, lang)

    _heading(pdf, content.section_title("problems", lang))
    groups = content.problem_groups(brief, lang)
    needs = content.needs_lines(brief, "problems", lang)  # what could not be judged, never "no problems" for it
    if not groups and not needs:
        _para(pdf, content.t_no_problems(lang), size=14, color=GREY)
    for heading, items in groups:
        _para(pdf, heading, size=16, color=NAVY)
        for item in items:
            _para(pdf, f"• {item}", size=13)
        pdf.ln(3)
    for line in needs:
        _para(pdf, line, size=12, color=GREY)
    return bytes(pdf.output())
