"""The meeting's loop in every format: follow-ups (督办), the figures over 12 months, the quarter's 考核 table.

Text for the PPTX and PDF builders, the XLSX sheets and the 调度会 page, from the `analysis.meeting.MeetingBrief`
(``followups``, ``trend``, ``targets``/``scorecard``); the trend chart is a matplotlib `Figure` (never pyplot).
A section with nothing to show says so in one line (no table of headers alone).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.followups import state_counts
from analysis.meeting import MeetingBrief
from i18n import label_of, t
from reports.content import TextTable, fmt_count, fmt_share, needs_line
from reports.maps import font, png_bytes

STRIP_DPI = 110  # the overview's sparklines picture, as the page shows it

FOLLOWUPS, TREND, TARGETS = "followups", "trend", "targets"
TREND_FIGURES: tuple[str, ...] = ("coverage", "open", "overdue", "closure_rate", "committees")
SHARE_FIGURES = ("coverage", "closure_rate")


def section_title(section: str, brief: MeetingBrief, lang: str) -> str:
    if section == TARGETS:
        return t("loop.sec.targets", lang=lang, quarter=brief.quarter or "")
    if section == TREND:  # one of the material's fixed sections (reports.content.SECTIONS)
        return t("meeting.sec.trend", lang=lang)
    return t(f"loop.sec.{section}", lang=lang)


# --- follow-ups -------------------------------------------------------------------------------------------------

def followups_summary(brief: MeetingBrief, lang: str) -> str | None:
    """One line: how many follow-ups are listed, done, open and overdue at the state day; None when none given."""
    f = brief.followups
    if f is None:
        return None
    if len(f) == 0:
        return t("loop.followups.none", lang=lang)
    c = state_counts(f)
    return t("loop.followups.summary", lang=lang, n=len(f), done=c["done"], open=c["open"], overdue=c["overdue"],
             day=brief.followups_day.isoformat() if brief.followups_day else "")


def followups_table(brief: MeetingBrief, lang: str, *, top: int | None = None) -> TextTable | None:
    """The follow-ups as text (overdue first); rows overdue highlighted; None when there are none to list."""
    f = brief.followups
    if f is None or len(f) == 0:
        return None
    keys = ("id", "title", "unit", "street", "due", "state", "done")
    rows, mark = [], []
    for r in (f if top is None else f.head(top)).to_dict("records"):
        state = label_of("followup_state", r["state"], lang=lang)
        if r["decided_here"]:
            state = t("loop.followups.new", lang=lang, state=state)
        done = f"{r['done_on']} {r['note']}" if r["state"] == "done" else ""
        street = r["street"] if isinstance(r["street"], str) and r["street"] else "—"
        rows.append((str(r["id"]), str(r["title"]), str(r["unit"]), street, str(r["due"]), state, done))
        mark.append(r["state"] == "overdue")
    return TextTable(tuple(t(f"loop.col.{k}", lang=lang) for k in keys), tuple(rows),
                     (True, False, False, False, False, False, False), tuple(mark))


# --- figures over time ------------------------------------------------------------------------------------------

def trend_lines(brief: MeetingBrief, lang: str) -> list[str]:
    """What the trend section says besides the chart: what coverage history lacks (one needs line)."""
    return [needs_line(brief.history_needs, lang)] if brief.history_needs is not None else []


def trend_table(brief: MeetingBrief, lang: str) -> TextTable | None:
    """The five figures at each month end, months as rows (oldest first)."""
    tr = brief.trend
    if tr is None or len(tr) == 0:
        return None
    heads = (t("loop.col.month", lang=lang), *(t(f"meeting.fig.{k}", lang=lang) for k in TREND_FIGURES))
    rows = tuple((str(r["month"]), *(fmt_share(r[k]) if k in SHARE_FIGURES else fmt_count(r[k])
                                     for k in TREND_FIGURES)) for r in tr.to_dict("records"))
    return TextTable(heads, rows, (False, *(True for _ in TREND_FIGURES)),
                     tuple(r[0] == brief.month for r in rows))


def trend_chart(brief: MeetingBrief, *, lang: str, width_in: float = 12.0, height_in: float = 4.2,
                sparkline: bool = False) -> Figure | None:
    """Five small line charts (one per figure) over the brief's trend; see `frame_chart`."""
    return frame_chart(brief.trend, lang=lang, width_in=width_in, height_in=height_in, sparkline=sparkline)


def frame_chart(tr: pd.DataFrame | None, *, lang: str, width_in: float = 12.0, height_in: float = 4.2,
                sparkline: bool = False) -> Figure | None:
    """Five small line charts (one per figure of `analysis.history.TREND_COLUMNS`) over the months; a figure
    never known is left blank with "—". ``sparkline``: no axes, for the overview's leaders' strip."""
    if tr is None or len(tr) == 0:
        return None
    fig = Figure(figsize=(width_in, height_in))
    axes = fig.subplots(1, len(TREND_FIGURES))
    x = np.arange(len(tr))
    for ax, key in zip(axes, TREND_FIGURES, strict=True):
        y = tr[key].to_numpy(dtype="float64") * (100.0 if key in SHARE_FIGURES else 1.0)
        ax.set_title(t(f"meeting.fig.{key}", lang=lang), fontproperties=font(10 if not sparkline else 9, bold=True))
        known = ~np.isnan(y)
        if known.any():
            ax.plot(x[known], y[known], color="#1F3A5F", lw=1.8, marker="o" if not sparkline else None, ms=3)
            last = y[known][-1]
            text = f"{last:.1f}%" if key in SHARE_FIGURES else f"{last:,.0f}"
            ax.annotate(text, (x[known][-1], last), textcoords="offset points", xytext=(0, 6), ha="center",
                        fontproperties=font(9, bold=True))
        else:
            ax.text(0.5, 0.5, "—", ha="center", va="center", transform=ax.transAxes, fontproperties=font(14))
        if sparkline:
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ("top", "right", "left"):
                ax.spines[side].set_visible(False)
        else:
            ticks = [i for i in range(len(tr)) if i % 3 == (len(tr) - 1) % 3]
            ax.set_xticks(ticks, [str(tr["month"].iloc[i])[2:] for i in ticks], fontproperties=font(8))
            for label in ax.get_yticklabels():
                label.set_fontproperties(font(8))
            ax.grid(axis="y", color="#dddddd", lw=0.6)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            margin = 0.05 * (np.nanmax(y) - np.nanmin(y) if known.any() and np.nanmax(y) > np.nanmin(y) else 1.0)
            if known.any():
                ax.set_ylim(np.nanmin(y) - margin, np.nanmax(y) + 3 * margin)
    fig.subplots_adjust(left=0.04, right=0.99, top=0.85, bottom=0.12, wspace=0.35)
    return fig


def strip_png(tr: pd.DataFrame | None, *, lang: str) -> bytes | None:
    """The overview's sparklines (`frame_chart` as a leaders' strip) as a PNG; None when there is nothing to draw."""
    fig = frame_chart(tr, lang=lang, width_in=12.0, height_in=1.6, sparkline=True)
    return None if fig is None else png_bytes(fig, dpi=STRIP_DPI)


def keep_strip(store: object, lang: str) -> list[str]:
    """Keep the whole district's sparklines picture in ``lang`` beside ``store``'s current version, drawn from the
    trend `analysis.pagedata.prepare_store` keeps, so a server's first visit after a CLI import reads it back
    (`ui.overview.strip_png`); the labels built (``trend_png:``), nothing for a store without a place for them or a
    city (`analysis.pagedata.prepare_store`'s rule)."""
    from analysis import pagedata

    if not hasattr(store, "derived") or len(store.district_names()) >= 2:
        return []
    get = store.derived().get

    def draw() -> bytes:  # the version is read only when its trend is not kept yet (the import keeps it)
        figures = get(pagedata.trend_name(None), lambda: pagedata.build_trend(store.load(), None, get))
        return strip_png(figures, lang=lang)

    get(pagedata.trend_png_name(None, lang), draw)
    return ["trend_png:"]


def trend_png(brief: MeetingBrief, *, lang: str, **kwargs) -> bytes | None:
    fig = trend_chart(brief, lang=lang, **kwargs)
    return png_bytes(fig) if fig is not None else None


# --- the quarter's 考核 table ------------------------------------------------------------------------------------

def _value_text(measure: str, v: float) -> str:
    return fmt_share(v) if measure in ("closure_rate", "coverage") else fmt_count(v)


def target_text(r: dict, lang: str) -> str:
    sign = "≥" if r["bound"] == "min" else "≤"
    return f"{label_of('measure', r['measure'], lang=lang)} {sign} {_value_text(r['measure'], r['threshold'])}"


def score_table(brief: MeetingBrief, lang: str) -> TextTable | None:
    """Per unit, then street: targets met of targets set, not met, not judged."""
    card = brief.scorecard
    if card is None or len(card) == 0:
        return None
    keys = ("kind", "subject", "score", "not_met", "not_judged")
    rows = tuple((label_of("subject_kind", r["kind"], lang=lang), str(r["subject"]),
                  t("loop.score", lang=lang, met=r["met"], n=r["targets"]), str(r["not_met"]), str(r["not_judged"]))
                 for r in card.to_dict("records"))
    return TextTable(tuple(t(f"loop.col.{k}", lang=lang) for k in keys), rows,
                     (False, False, True, True, True), tuple(r["not_met"] > 0 for r in card.to_dict("records")))


def targets_table(brief: MeetingBrief, lang: str) -> TextTable | None:
    """Each target with the figure behind it: subject, target, value, met / not met / not judged (why)."""
    check = brief.targets
    if check is None or len(check) == 0:
        return None
    keys = ("subject", "target", "value", "met")
    rows, mark = [], []
    for r in check.to_dict("records"):
        met = r["met"]
        if met is pd.NA or met is None:
            verdict = label_of("target_note", r["note"], lang=lang)
        else:
            verdict = t("loop.met" if met else "loop.not_met", lang=lang)
        value = "—" if pd.isna(r["value"]) else _value_text(r["measure"], r["value"])
        rows.append((str(r["subject"]), target_text(r, lang), value, verdict))
        mark.append(met is False or (met is not pd.NA and met is not None and not met))
    return TextTable(tuple(t(f"loop.col.{k}", lang=lang) for k in keys), tuple(rows), (False, False, True, False),
                     tuple(mark))


def targets_caption(brief: MeetingBrief, lang: str) -> str | None:
    check = brief.targets
    if check is None or len(check) == 0:
        return None
    end = check["end"].iloc[0]
    key = "loop.targets.final" if bool(check["final"].iloc[0]) else "loop.targets.not_final"
    met = check["met"]
    return t(key, lang=lang, quarter=brief.quarter, end=str(end), met=int(met.fillna(False).sum()), n=len(check))
