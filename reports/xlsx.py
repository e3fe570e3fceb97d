"""The meeting workbook: one sheet per table, Chinese (or English) headers, frozen header row.

Sheets: summary (the key figures), street league, unit league, overdue list,
gaps by grid, estates by stage. Numbers keep their type with a number format
(counts ``#,##0``, shares ``0.0%``, days ``0.0``, times ``yyyy-mm-dd hh:mm``).
Text is always written as text: the writer never turns a string into a
formula or a link, and text beginning with ``=``, ``+``, ``-`` or ``@`` also
gets Excel's quote prefix, so that editing the cell keeps it text (no formula
injection from a case description).
"""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pandas as pd
import xlsxwriter

from analysis.cases import mask_phone
from analysis.meeting import MeetingBrief
from i18n import TABLE, label_of, t
from reports import content, loop

FORMULA_START = ("=", "+", "-", "@")
# (frame column, header key, kind); kind: text | count | share | days | time | rank
STREET_COLUMNS = (("rank", "meeting.col.rank", "count"), ("previous_rank", "meeting.col.previous_rank", "count"),
                  ("street", "meeting.col.street", "text"), ("cases", "meeting.col.cases", "count"),
                  ("closed", "meeting.col.closed", "count"), ("closure_rate", "meeting.col.closure_rate", "share"),
                  ("closed_late", "meeting.col.closed_late", "count"), ("open", "meeting.col.open", "count"),
                  ("overdue", "meeting.col.overdue", "count"),
                  ("covered_share", "meeting.col.covered_share", "share"))
UNIT_COLUMNS = tuple(("unit", "meeting.col.unit", "text") if c[0] == "street" else c for c in STREET_COLUMNS[:-1])
OVERDUE_COLUMNS = (("case_id", "meeting.col.case_id", "text"), ("street", "meeting.col.street", "text"),
                   ("grid_id", "meeting.col.grid_id", "text"), ("category", "meeting.col.category", "text"),
                   ("responsible_unit", "meeting.col.unit", "text"),
                   ("reported_at", "meeting.col.reported_at", "time"), ("deadline", "meeting.col.deadline", "time"),
                   ("days_overdue", "meeting.col.days_overdue", "days"),
                   ("description", "meeting.col.description", "text"), ("reporter_phone", "meeting.col.phone", "text"))
GAP_COLUMNS = (("rank", "meeting.col.gap_rank", "count"), ("grid_id", "meeting.col.grid_id", "text"),
               ("street", "meeting.col.street", "text"), ("community", "meeting.col.community", "text"),
               ("elderly", "meeting.col.elderly", "count"), ("uncovered_elderly", "meeting.col.uncovered", "count"),
               ("covered_share", "meeting.col.share", "share"), ("nearest_m", "meeting.col.nearest_m", "count"))
PLAN_COLUMNS = (("street", "meeting.col.street", "text"), ("stage", "meeting.col.stage", "text"),
                ("total", "meeting.col.total", "count"), ("planned", "meeting.col.planned", "count"),
                ("actual", "meeting.col.actual", "count"), ("shortfall", "meeting.col.shortfall", "count"),
                ("behind", "meeting.col.behind", "text"), ("required_per_month", "meeting.col.pace", "days"))
WIDTHS = {"text": 14, "count": 11, "share": 10, "days": 10, "time": 17}


def sheet_name(title: str) -> str:
    """A title made a valid sheet name: without Excel's forbidden characters, at most 31 characters."""
    return re.sub(r"\s+", " ", re.sub(r"[\[\]:*?/\\]", " ", title)).strip()[:31]


class _Writer:
    def __init__(self, buf: io.BytesIO):
        self.book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                              "strings_to_urls": False, "strings_to_numbers": False,
                                              "nan_inf_to_errors": False})
        b = self.book
        self.head = b.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F3A5F", "text_wrap": True,
                                  "valign": "vcenter", "font_name": "Microsoft YaHei"})
        self.fmt = {
            "text": b.add_format({"font_name": "Microsoft YaHei"}),
            "quoted": b.add_format({"font_name": "Microsoft YaHei", "quote_prefix": True}),
            "count": b.add_format({"num_format": "#,##0"}),
            "share": b.add_format({"num_format": "0.0%"}),
            "days": b.add_format({"num_format": "0.0"}),
            "time": b.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        }

    def cell(self, ws, row: int, col: int, value: object, kind: str) -> None:
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
            ws.write_blank(row, col, None, self.fmt["text"])
            return
        if kind == "text":
            text = str(value)
            ws.write_string(row, col, text, self.fmt["quoted" if text.startswith(FORMULA_START) else "text"])
        elif kind == "time":
            ts = pd.Timestamp(value)
            ws.write_datetime(row, col, ts.to_pydatetime().replace(tzinfo=None), self.fmt["time"])
        else:
            ws.write_number(row, col, float(value), self.fmt[kind])

    def sheet(self, name: str, frame: pd.DataFrame, columns, lang: str, *, lines: list[str] | None = None) -> None:
        """One table as a sheet; ``lines`` (what the table lacks, or that it has no rows) go under it."""
        ws = self.book.add_worksheet(sheet_name(name))
        cols = [c for c in columns if c[0] in frame.columns]
        for j, (_, key, kind) in enumerate(cols):
            ws.write_string(0, j, t(key, lang=lang) if key in TABLE else key, self.head)
            ws.set_column(j, j, 40 if key == "meeting.col.description" else WIDTHS[kind])
        ws.set_row(0, 30)
        ws.freeze_panes(1, 0)
        for i, record in enumerate(frame[[c[0] for c in cols]].itertuples(index=False), start=1):
            for j, value in enumerate(record):
                self.cell(ws, i, j, value, cols[j][2])
        if len(frame):
            ws.autofilter(0, 0, len(frame), len(cols) - 1)
        for i, line in enumerate(lines or [], start=len(frame) + 2):
            self.cell(ws, i, 0, line, "text")

    def lines_sheet(self, name: str, lines: list[str]) -> None:
        """A sheet that holds only lines of text (a section that lacks its data says what it needs)."""
        ws = self.book.add_worksheet(sheet_name(name))
        ws.set_column(0, 0, 90)
        for i, line in enumerate(lines):
            self.cell(ws, i, 0, line, "text")


def _summary(w: _Writer, brief: MeetingBrief, lang: str) -> None:
    ws = w.book.add_worksheet(sheet_name(t("meeting.sec.summary", lang=lang)))
    heads = ("meeting.col.figure", "meeting.col.value", "meeting.col.previous", "meeting.col.delta")
    for j, key in enumerate(heads):
        ws.write_string(0, j, t(key, lang=lang), w.head)
        ws.set_column(j, j, 26 if j == 0 else 14)
    ws.freeze_panes(1, 0)
    for i, f in enumerate(brief.figures, start=1):
        kind = "share" if f.kind == "share" else "count"
        label = content.coverage_label(brief, lang) if f.key == "coverage" else t(f"meeting.fig.{f.key}", lang=lang)
        w.cell(ws, i, 0, label, "text")
        for j, v in enumerate((f.value, f.previous, f.delta), start=1):
            w.cell(ws, i, j, v, kind)
    row = len(brief.figures) + 2
    needs = [line for section in content.SECTIONS for line in content.needs_lines(brief, section, lang)]
    for line in (content.title(brief, lang), content.subtitle(brief, lang), *dict.fromkeys(needs),
                 *content.notes(brief, lang)):
        w.cell(ws, row, 0, line, "text")
        row += 1


FOLLOWUP_SHEET_COLUMNS = (("id", "loop.col.id", "count"), ("title", "loop.col.title", "text"),
                          ("unit", "loop.col.unit", "text"), ("street", "loop.col.street", "text"),
                          ("due", "loop.col.due", "text"), ("meeting", "loop.col.meeting", "text"),
                          ("state", "loop.col.state", "text"), ("done_on", "loop.col.done_on", "text"),
                          ("note", "loop.col.note", "text"))
TREND_SHEET_COLUMNS = (("month", "loop.col.month", "text"), ("coverage", "meeting.fig.coverage", "share"),
                       ("open", "meeting.fig.open", "count"), ("overdue", "meeting.fig.overdue", "count"),
                       ("closure_rate", "meeting.fig.closure_rate", "share"),
                       ("committees", "meeting.fig.committees", "count"))
SCORE_SHEET_COLUMNS = (("kind", "loop.col.kind", "text"), ("subject", "loop.col.subject", "text"),
                       ("targets", "loop.col.score", "count"), ("met", "loop.met", "count"),
                       ("not_met", "loop.col.not_met", "count"), ("not_judged", "loop.col.not_judged", "count"))
TARGET_SHEET_COLUMNS = (("kind", "loop.col.kind", "text"), ("subject", "loop.col.subject", "text"),
                        ("measure", "loop.col.measure", "text"), ("target", "loop.col.target", "text"),
                        ("value", "loop.col.value", "text"), ("result", "loop.col.met", "text"),
                        ("cases", "loop.col.cases", "count"))


def _loop_sheets(w: _Writer, brief: MeetingBrief, lang: str) -> None:
    """督办事项 (when the brief was given the follow-ups), 指标走势, and in a quarter's last month with targets
    季度考核 and 考核明细."""
    f = brief.followups
    if f is not None:
        shown = f.assign(state=[label_of("followup_state", v, lang=lang) for v in f["state"]])
        w.sheet(t("loop.sheet.followups", lang=lang), shown, FOLLOWUP_SHEET_COLUMNS, lang,
                lines=[loop.followups_summary(brief, lang)])
    if brief.trend is not None:
        w.sheet(t("loop.sheet.trend", lang=lang), brief.trend, TREND_SHEET_COLUMNS, lang,
                lines=loop.trend_lines(brief, lang))
    if brief.quarter is not None and brief.scorecard is not None:
        card = brief.scorecard.assign(kind=[label_of("subject_kind", v, lang=lang) for v in brief.scorecard["kind"]])
        w.sheet(t("loop.sheet.score", lang=lang), card, SCORE_SHEET_COLUMNS, lang,
                lines=[loop.targets_caption(brief, lang)])
        detail = loop.targets_table(brief, lang)
        check = brief.targets
        rows = pd.DataFrame({
            "kind": [label_of("subject_kind", v, lang=lang) for v in check["kind"]], "subject": check["subject"],
            "measure": [label_of("measure", v, lang=lang) for v in check["measure"]],
            "target": [r[1] for r in detail.rows], "value": [r[2] for r in detail.rows],
            "result": [r[3] for r in detail.rows], "cases": check["cases"].astype("float64")})
        w.sheet(t("loop.sheet.targets", lang=lang), rows, TARGET_SHEET_COLUMNS, lang)


def _counted_columns(brief: MeetingBrief, columns: tuple, lang: str) -> tuple:
    """``columns`` with the headers of what the brief counts (coverage, aged 60+, out of reach) naming its demand
    when it is not today's aged 60+ (a header that is not a string key is written as it is)."""
    if brief.demand_is_today:
        return columns
    heads = {"covered_share": content.coverage_label(brief, lang)}
    if any(c[0] == "uncovered_elderly" for c in columns):  # the gap sheet: its own words, as the gap table's
        elderly, uncovered, share = content.gap_headers(brief, lang, ("elderly", "uncovered", "share"))
        heads = {"elderly": elderly, "uncovered_elderly": uncovered, "covered_share": share}
    return tuple((c[0], heads.get(c[0], c[1]), c[2]) for c in columns)


def build_xlsx(brief: MeetingBrief, *, lang: str = "zh", mask_personal: bool = True) -> bytes:
    """The workbook as bytes; reporters' phones masked (138****5678) unless ``mask_personal=False``."""
    buf = io.BytesIO()
    w = _Writer(buf)
    _summary(w, brief, lang)
    for section, frame, columns in (("streets", brief.street_league, _counted_columns(brief, STREET_COLUMNS, lang)),
                                    ("units", brief.unit_league, UNIT_COLUMNS)):
        needs = content.needs_lines(brief, section, lang)
        w.sheet(t(f"meeting.sec.{section}", lang=lang), frame, columns, lang,
                lines=needs or ([] if len(frame) else [content.t_no_rows(section, lang)]))
    overdue = brief.overdue
    if mask_personal and "reporter_phone" in overdue.columns:
        # a phone the brief already masked keeps its stars (masking it again would drop them)
        overdue = overdue.assign(reporter_phone=[v if "*" in str(v) else mask_phone(v)
                                                 for v in overdue["reporter_phone"]])
    w.sheet(t("meeting.sec.overdue", lang=lang), overdue, OVERDUE_COLUMNS, lang,
            lines=[content.needs_line(m, lang) for m in brief.needs if m.section == "meeting.overdue"]
            or ([] if len(overdue) else [t("empty.rows", lang=lang)]))
    w.sheet(t("meeting.sec.gaps", lang=lang), brief.gaps, _counted_columns(brief, GAP_COLUMNS, lang), lang,
            lines=[] if len(brief.gaps) else [content.t_no_rows("gaps", lang)])
    e = brief.estates_by_stage
    if e is None and content.needs_lines(brief, "estates", lang):
        w.lines_sheet(t("meeting.sec.estates", lang=lang), content.needs_lines(brief, "estates", lang))
    if e is not None:
        stage_cols = tuple((c, content.stage_label(c, lang), "count") for c in e.columns
                           if c not in ("street", "estates"))
        cols = (("street", "meeting.col.street", "text"), ("estates", "meeting.col.estates", "count"), *stage_cols)
        w.sheet(t("meeting.sec.estates", lang=lang), e, cols, lang, lines=content.needs_lines(brief, "estates", lang))
    if brief.estates_plan is not None:
        plan = brief.estates_plan.assign(stage=[content.stage_label(v, lang) for v in brief.estates_plan["stage"]],
                                         behind=[t("meeting.yes" if v else "meeting.no", lang=lang)
                                                 for v in brief.estates_plan["behind"]])
        w.sheet(t("meeting.sec.plan", lang=lang), plan, PLAN_COLUMNS, lang)
    _loop_sheets(w, brief, lang)
    w.book.set_properties({"title": content.title(brief, lang), "company": "GridAtlas",
                           "created": dt.datetime(brief.month_end.year, brief.month_end.month, brief.month_end.day)})
    w.book.close()
    return buf.getvalue()
