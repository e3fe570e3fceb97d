"""What every format shows, as text in one language: titles, figure cards, table rows, problem lines.

The PPTX and PDF builders and the 调度会 page lay these out; none of them
formats a number on its own, so a figure reads the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.estates import DISTRICT
from analysis.needs import Missing, needs_params
from i18n import label_of, t
from i18n.labels import demand_label

if TYPE_CHECKING:  # the brief's type only: importing analysis.meeting brings scipy to every page
    from analysis.meeting import MeetingBrief, MeetingItem

SECTIONS: tuple[str, ...] = ("figures", "trend", "streets", "units", "gaps", "hot", "estates", "equity",
                              "problems")
# which needs (`analysis.needs`, ``meeting.*``) each section, slide and sheet says it lacks
SECTION_NEEDS: dict[str, tuple[str, ...]] = {
    "figures": ("meeting.committees", "meeting.overdue", "meeting.changes"),
    "trend": (),  # what coverage history lacks is brief.history_needs (reports.loop.trend_lines)
    "streets": ("meeting.streets", "meeting.overdue"),
    "units": ("meeting.units",),
    "gaps": (),
    "hot": ("meeting.hot",),
    "estates": ("meeting.estates", "meeting.estates_by_street"),
    "problems": ("meeting.units", "meeting.overdue", "meeting.estates"),  # problems that cannot be judged
    "equity": ("meeting.equity",),  # the deck's equity slide (reports/equity.py)
}
TOP_ROWS = 12


@dataclass(frozen=True)
class Card:
    """A large figure: label, value as text, change as text, and the change's sign (+1, 0, −1; None unknown)."""

    key: str
    label: str
    value: str
    delta: str
    sign: int | None
    worse_when_up: bool
    change: str | None = None  # the signed change alone ("+32", "-0.5 个百分点"); None when unknown


@dataclass(frozen=True)
class TextTable:
    """A table as text: headers and rows, with the columns that hold numbers (right-aligned)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    highlight: tuple[bool, ...] = ()


def title(brief: MeetingBrief, lang: str) -> str:
    scope = brief.street if brief.street else brief.district
    return t("meeting.title", lang=lang, scope=scope, month=brief.month)


def counted(brief: MeetingBrief, lang: str) -> str | None:
    """What the brief's coverage, gaps and equity count (`i18n.labels.demand_label`: 2030年80岁以上老人), or None
    for today's aged 60+, whose labels stay the meeting's own."""
    if brief.demand_is_today:
        return None
    return demand_label(brief.demand_year, brief.demand_weight, lang=lang)


def demand_line(brief: MeetingBrief, lang: str) -> str | None:
    """One line saying what the material counts, and from which survival table (None: today's aged 60+)."""
    who = counted(brief, lang)
    if who is None:
        return None
    if brief.survival is None:
        return t("meeting_plan.subtitle.today80", lang=lang, who=who)
    return t("meeting_plan.subtitle.projected", lang=lang, who=who, source=brief.survival.source,
             assumption=t("meeting_plan.assumption", lang=lang) if brief.survival.assumption else "")


def subtitle(brief: MeetingBrief, lang: str) -> str:
    text = t("meeting.subtitle", lang=lang, as_of=brief.as_of.isoformat(), end=brief.month_end.isoformat())
    if brief.synthetic:
        text += ("；" if lang == "zh" else "; ") + t("meeting.synthetic", lang=lang)
    line = demand_line(brief, lang)
    if line is not None:
        text += ("；" if lang == "zh" else "; ") + line
    return text


def section_title(section: str, lang: str, brief: MeetingBrief | None = None) -> str:
    """A section's title; the gaps and equity sections say what they count when it is not today's aged 60+."""
    title = t(f"meeting.sec.{section}", lang=lang)
    who = counted(brief, lang) if brief is not None and section in ("gaps", "equity") else None
    return title if who is None else t("meeting_plan.sec.with_who", lang=lang, title=title, who=who)


def coverage_label(brief: MeetingBrief, lang: str) -> str:
    """The coverage figure's label (老人覆盖率, or 2030年80岁以上老人覆盖率)."""
    who = counted(brief, lang)
    return t("meeting.fig.coverage", lang=lang) if who is None else t("meeting_plan.fig.coverage", lang=lang, who=who)


def coverage_card_label(brief: MeetingBrief, lang: str) -> str:
    """The coverage card's label: the meeting's own (老人覆盖率), or a short one naming the people counted
    (2030年80+覆盖率, "80+ covered, 2030"; `coverage_help` says it in full)."""
    if brief.demand_is_today:
        return t("meeting.fig.coverage", lang=lang)
    band = t(f"meeting_plan.card.band.{brief.demand_weight}", lang=lang)
    if brief.demand_year is None:
        return t("meeting_plan.card.coverage", lang=lang, band=band)
    return t("meeting_plan.card.coverage_year", lang=lang, band=band, year=brief.demand_year)


def in_sentence(who: str) -> str:
    """A demand label inside a sentence ("aged 80+ in 2030"; Chinese unchanged)."""
    return who[:1].lower() + who[1:]


def coverage_help(brief: MeetingBrief, lang: str) -> str:
    who = counted(brief, lang)
    if who is None:
        return t("meeting.fig.coverage.help", lang=lang)
    return t("meeting_plan.fig.coverage.help", lang=lang, who=who)


def fmt_count(v: float | int | None) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "—"
    return f"{int(round(float(v))):,}"


def fmt_share(v: float | None) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "—"
    return f"{100 * float(v):.1f}%"


def _fmt_delta(kind: str, delta: float, lang: str) -> str:
    if kind == "share":
        return t("meeting.pp", lang=lang, v=f"{100 * delta:+.1f}")
    return f"{int(round(delta)):+,}"


WORSE_WHEN_UP = {"coverage": False, "open": True, "overdue": True, "closure_rate": False, "committees": False}


def cards(brief: MeetingBrief, lang: str) -> list[Card]:
    """The five large figures with their change since last month."""
    out = []
    for f in brief.figures:
        value = fmt_share(f.value) if f.kind == "share" else fmt_count(f.value)
        d = f.delta
        change = None
        if d is None:
            note = "meeting.delta.coverage_none" if f.key == "coverage" and f.value is not None else "meeting.delta.none"
            delta, sign = t(note, lang=lang), None
        else:
            change = _fmt_delta(f.kind, d, lang)
            delta = t("meeting.delta.vs", lang=lang, delta=change)
            sign = int(np.sign(round(d, 9)))
        label = coverage_card_label(brief, lang) if f.key == "coverage" else t(f"meeting.fig.{f.key}", lang=lang)
        out.append(Card(f.key, label, value, delta, sign, WORSE_WHEN_UP[f.key], change))
    return out


def rank_change(v: object, lang: str) -> str:
    """``↑2`` (moved up, needs more attention), ``↓1`` (improved), ``持平``/``same``, ``新``/``new``."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return t("meeting.rank.new", lang=lang)
    n = int(v)
    if n == 0:
        return t("meeting.rank.same", lang=lang)
    return f"↑{n}" if n > 0 else f"↓{-n}"


def league_table(brief: MeetingBrief, which: str, lang: str, *, top: int = TOP_ROWS) -> TextTable:
    """The street (``which="street"``) or unit league as text, at most ``top`` rows."""
    frame = brief.street_league if which == "street" else brief.unit_league
    name = "street" if which == "street" else "unit"
    cols = ["rank", "change", name, "cases", "closure_rate", "closed_late", "open", "overdue"]
    if which == "street" and "covered_share" in frame.columns:
        cols.append("covered_share")
    headers = tuple(coverage_label(brief, lang) if c == "covered_share" else t(f"meeting.col.{c}", lang=lang)
                    for c in cols)
    rows = []
    no_history = brief.lacks("meeting.changes")  # no ranks last month: not "new", unknown
    for r in frame.head(top).to_dict("records"):
        row = []
        for c in cols:
            if c == "change":
                row.append("—" if no_history else rank_change(r["rank_change"], lang))
            elif c in ("closure_rate", "covered_share"):
                row.append(fmt_share(r[c]))
            elif c == name:
                row.append(str(r[c]))
            else:
                row.append(fmt_count(r[c]))
        rows.append(tuple(row))
    highlight = tuple(bool(r.get("selected", False)) for r in frame.head(top).to_dict("records"))
    return TextTable(headers, tuple(rows), tuple(c not in (name, "change") for c in cols), highlight)


def gaps_table(brief: MeetingBrief, lang: str, *, top: int = 8) -> TextTable:
    cols = ["grid_id", "street", "community", "elderly", "uncovered_elderly", "covered_share"]
    heads = ("grid_id", "street", "community", "elderly", "uncovered", "share")
    rows = []
    for r in brief.gaps.head(top).to_dict("records"):
        rows.append((str(r["grid_id"]), str(r["street"]), str(r["community"]), fmt_count(r["elderly"]),
                     fmt_count(r["uncovered_elderly"]), fmt_share(r["covered_share"])))
    return TextTable(gap_headers(brief, lang, heads), tuple(rows),
                     tuple(c in ("elderly", "uncovered_elderly", "covered_share") for c in cols))


def gap_headers(brief: MeetingBrief, lang: str, heads: tuple[str, ...]) -> tuple[str, ...]:
    """The gap table's headers (``meeting.col.<head>``), the people counted named when not today's aged 60+."""
    who = counted(brief, lang)
    if who is None:
        return tuple(t(f"meeting.col.{h}", lang=lang) for h in heads)
    special = {"elderly": who, "uncovered": t("meeting_plan.col.uncovered", lang=lang, who=who),
               "share": coverage_label(brief, lang)}
    return tuple(special.get(h) or t(f"meeting.col.{h}", lang=lang) for h in heads)


def gaps_summary(brief: MeetingBrief, lang: str) -> str:
    g = brief.gaps
    uncovered = float(g["uncovered_elderly"].sum()) if len(g) else 0.0
    who = counted(brief, lang)
    if who is not None:
        return t("meeting_plan.gaps.summary", lang=lang, gaps=f"{len(g):,}", uncovered=fmt_count(uncovered),
                 who=in_sentence(who))
    return t("meeting.gaps.summary", lang=lang, gaps=f"{len(g):,}", uncovered=fmt_count(uncovered))


def hot_summary(brief: MeetingBrief, lang: str) -> str:
    h = brief.hot
    hot = int((h["gi_bin"] >= 1).sum()) if h is not None else 0
    new = int(h["newly_hot"].sum()) if h is not None else 0
    return t("meeting.hot.summary", lang=lang, n=f"{brief.n_cases_month:,}", hot=hot, new=new)


def estates_table(brief: MeetingBrief, lang: str) -> TextTable | None:
    e = brief.estates_by_stage
    if e is None:
        return None
    stage_cols = [c for c in e.columns if c not in ("street", "estates")]
    headers = (t("meeting.col.street", lang=lang), t("meeting.col.estates", lang=lang),
               *(stage_label(c, lang) for c in stage_cols))
    rows = tuple((str(r["street"]), fmt_count(r["estates"]), *(fmt_count(r[c]) for c in stage_cols))
                 for r in e.to_dict("records"))
    return TextTable(headers, rows, (False, True, *(True for _ in stage_cols)))


def stage_label(stage: str, lang: str) -> str:
    """A governance stage's name (`analysis.estates.STAGES`)."""
    return label_of("governance_stage", stage, lang=lang)


PLAN_STAGE = "fees_started"


def plan_table(brief: MeetingBrief, lang: str, *, stage: str = PLAN_STAGE, top: int | None = None) -> TextTable | None:
    """Per street, the plan for ``stage`` at the month's end: due, done, behind by, pace needed per month.

    The district row first, then the streets most behind; at most ``top`` rows when given.
    """
    p = brief.estates_plan
    if p is None:
        return None
    rows = p[p["stage"] == stage].assign(_district=lambda f: f["street"] != DISTRICT)
    if brief.street is not None:  # one street: its district row is the street again
        rows = rows[rows["_district"]]
    rows = rows.sort_values(["_district", "shortfall", "street"], ascending=[True, False, True], kind="mergesort")
    if top is not None:
        rows = rows.head(top)
    headers = tuple(t(f"meeting.col.{c}", lang=lang) for c in ("street", "planned", "actual", "shortfall", "pace"))
    out = []
    for r in rows.to_dict("records"):
        pace = r["required_per_month"]
        out.append((str(r["street"]), fmt_count(r["planned"]), fmt_count(r["actual"]), fmt_count(r["shortfall"]),
                    "—" if pd.isna(pace) else f"{pace:.1f}"))
    return TextTable(headers, tuple(out), (False, True, True, True, True),
                     tuple(bool(r["behind"]) for r in rows.to_dict("records")))


def plan_caption(brief: MeetingBrief, lang: str, *, stage: str = PLAN_STAGE) -> str:
    return t("meeting.plan.caption", lang=lang, stage=stage_label(stage, lang), end=brief.month_end.isoformat())


def estates_summary(brief: MeetingBrief, lang: str) -> str | None:
    """The estates section's sentence; None when the section lacks its data (`needs_lines` says what)."""
    e = brief.estates_by_stage
    if e is None and (brief.lacks("meeting.estates") or brief.lacks("meeting.estates_by_street")):
        return None  # e.g. one street chosen, estates without streets: not "no estates data"
    if e is None:
        return t("meeting.estates.none", lang=lang)
    total = int(e["estates"].sum())
    formed = int(total - e["none"].sum())
    done = int(e["fees_started"].sum()) if "fees_started" in e.columns else 0
    return t("meeting.estates.summary", lang=lang, formed=f"{formed:,}", total=f"{total:,}",
             share=fmt_share(formed / total if total else None), done=f"{done:,}")


def item_text(item: MeetingItem, lang: str) -> str:
    values = {k: (f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in item.values.items()}
    if "stage" in values:
        values["stage"] = stage_label(values["stage"], lang)
    return t(f"meeting.item.{item.kind}", lang=lang, subject=item.subject, **values)


def problem_groups(brief: MeetingBrief, lang: str) -> list[tuple[str, list[str]]]:
    """This month's problems grouped by kind (heading, lines), in a fixed order; empty kinds left out."""
    out = []
    for kind in ("street_behind", "unit_overdue", "grid_new_hot"):
        lines = [item_text(i, lang) for i in brief.problems if i.kind == kind]
        if lines:
            out.append((t(f"meeting.kind.{kind}", lang=lang), lines))
    return out


def needs_line(m: Missing, lang: str) -> str:
    """One line naming what a section lacks (`analysis.needs`): the layer, or the template column and its meaning."""
    key, params = needs_params(m)
    fields = {"layer": label_of("layer", params["layer"], lang=lang), "what": t(params["what"], lang=lang)}
    if "column" in params:
        fields.update(column=params["column"], label=t(params["label"], lang=lang))
    return t(key, lang=lang, **fields)


def needs_lines(brief: MeetingBrief, section: str, lang: str) -> list[str]:
    """What ``section`` (one of `SECTIONS`) lacks, one line each (`SECTION_NEEDS`), the same line once, and an
    absent layer once (its first line)."""
    wanted = SECTION_NEEDS[section]
    lines, absent = [], set()
    by_section = {m.section: m for m in brief.needs}
    for m in (by_section[w] for w in wanted if w in by_section):  # in the section's own order
        if m.column is None and m.layer in absent:
            continue  # a missing layer is said once per section, not once per figure it feeds
        if m.column is None:
            absent.add(m.layer)
        lines.append(needs_line(m, lang))
    return list(dict.fromkeys(lines))


def notes(brief: MeetingBrief, lang: str) -> list[str]:
    return [t(code, lang=lang, **dict(params)) for code, params in brief.notes]


def notes_for(brief: MeetingBrief, lang: str, *codes: str) -> list[str]:
    """The notes with one of ``codes``, as text."""
    return [t(code, lang=lang, **dict(params)) for code, params in brief.notes if code in codes]


def t_rank_help(lang: str) -> str:
    return t("meeting.rank.help", lang=lang)


EMPTY_KEYS: dict[str, str] = {"streets": "empty.streets", "units": "empty.units", "gaps": "empty.gaps"}


def t_no_rows(section: str, lang: str) -> str:
    """What a section's table says when it has no rows (never a table of headers alone)."""
    return t(EMPTY_KEYS.get(section, "empty.rows"), lang=lang)


def t_no_problems(lang: str) -> str:
    return t("meeting.problems.none", lang=lang)


def t_generated(lang: str) -> str:
    return t("meeting.generated", lang=lang)


def more_text(shown: int, total: int, lang: str) -> str | None:
    """"n more not listed" when a table was cut to fit, else None."""
    return t("meeting.more", lang=lang, n=total - shown) if total > shown else None
