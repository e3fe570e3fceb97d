"""Streamlit-side pieces of the 调度会 page: the cached brief, its pictures and the generated files.

The brief reuses the case table, the queen weights and the day-care coverage
the cases, coverage and overview pages already keep (one definition, one
cache). Pictures and files are cached per dataset version + street + month +
language, so a second download, or a second session, costs nothing.

The demand (a plan year, the aged 80+: `ui.planning.plan_controls`) travels in the token
(`ui.demand.demand_token`), so the brief, its pictures, its equity and its files are cached per demand
too; today's aged 60+ is the plain version token, the same keys as before.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.meeting import (
    COVERAGE_RADIUS_M,
    COVERAGE_TYPE,
    MeetingBrief,
    available_months,
    default_month,
    meeting_brief,
)
from geo.errors import AnalysisError
from i18n import t
from reports import build_report
from reports import content as rc
from reports.equity import meeting_equity
from reports.maps import estates_chart, gap_map, hot_map, png_bytes
from ui import auth
from ui.cases import case_table, grid_weights
from ui.context import PageContext
from ui.coverage import cached_coverage
from ui.data import STREET_ENTRIES, get_dataset
from ui.demand import split_token
from ui.text import md  # noqa: F401  (the meeting pages' import of it)

PAGE_DPI = 110


def card_label(card, lang: str) -> str:
    """A key figure's label on the page: the deck's (`reports.content.cards`), but the closure rate's shorter —
    "Closure rate this month" is cut off in its column, so the month goes to its help."""
    return t("meeting_staff.fig.closure_rate", lang=lang) if card.key == "closure_rate" else card.label


@st.cache_data(show_spinner=False, max_entries=8)
def _months(path: str, token: str) -> tuple[list[str], str]:
    ds = get_dataset(path)
    return available_months(ds), default_month(ds)


def months(ctx: PageContext) -> tuple[list[str], str]:
    """The months a meeting can be held on (newest first) and the default one, once per dataset version."""
    return _months(ctx.path, ctx.token)


def _coverage(ctx: PageContext, token: str):
    """The meeting's coverage question counting the token's demand (the coverage page's cache)."""
    try:
        return cached_coverage(ctx.path, token, (COVERAGE_TYPE,), COVERAGE_RADIUS_M, "euclidean", "elderly", False)
    except AnalysisError:
        return None


@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def _brief(path: str, token: str, street: str | None, month: str, mask: bool, records_key: str, _ctx: PageContext,
           _records: tuple) -> MeetingBrief:
    ds = _ctx.ds
    has_cases = ds.rows("cases") > 0  # counted without reading the cases
    followups, targets = _records
    _, demand = split_token(token)
    plan = {} if demand is None else {"year": demand.year, "weight": demand.weight, "survival": demand.table()}
    return meeting_brief(ds, street=street, month=month, table=case_table(_ctx) if has_cases else None,
                         weights=grid_weights(_ctx) if has_cases else None, coverage=_coverage(_ctx, token),
                         mask_personal=mask, followups=followups, targets=targets, **plan)


def brief(ctx: PageContext, month: str, records: tuple | None = None, token: str | None = None) -> MeetingBrief:
    """The meeting brief of the context's street and ``month``, once per dataset version and demand (``token``:
    `ui.planning.plan_controls`' token; default the plain version token, today's aged 60+) and per state of its
    follow-ups and targets (``records`` is `ui.meeting_loop.records`).

    Reporters' phones are masked unless the viewer's role is staff or above (one brief per case, cached apart).
    """
    followups, targets, key = records if records is not None else (None, None, "")
    return _brief(ctx.path, token or ctx.token, ctx.street, month, not auth.can_see_personal(), key, ctx,
                  (followups, targets))


@st.cache_resource(show_spinner=False, max_entries=8)
def _equity(path: str, token: str, month_end: str, _brief: MeetingBrief):
    return meeting_equity(get_dataset(path), _brief)


def equity(ctx: PageContext, b: MeetingBrief, token: str | None = None):
    """The equity slide's figures (`reports.equity.meeting_equity`, the brief's demand) once per dataset version
    and demand; None without a day-care station."""
    return _equity(ctx.path, token or ctx.token, b.month_end.isoformat(), b)  # stations of the month's end


@st.cache_data(show_spinner=False, max_entries=48)
def _picture(path: str, token: str, street: str | None, month: str, lang: str, which: str,
             _brief: MeetingBrief) -> bytes | None:
    ds = get_dataset(path)
    if which == "gaps":
        fig = gap_map(ds, _brief, lang=lang)
    elif which == "hot":
        fig = hot_map(ds, _brief, lang=lang)
    else:
        fig = estates_chart(_brief, lang=lang)
    return None if fig is None else png_bytes(fig, dpi=PAGE_DPI)


def picture(ctx: PageContext, b: MeetingBrief, which: str, token: str | None = None) -> bytes | None:
    """The gap map (``gaps``), hot spot map (``hot``) or estates chart (``estates``) as PNG, cached (per demand:
    ``token`` as `brief`'s)."""
    return _picture(ctx.path, token or ctx.token, ctx.street, b.month, ctx.lang, which, b)


@st.cache_data(show_spinner=False, max_entries=48)
def _file(path: str, token: str, street: str | None, month: str, lang: str, fmt: str, mask: bool,
          _brief: MeetingBrief, records_key: str = "") -> bytes:
    return build_report(get_dataset(path), _brief, fmt, lang=lang)


def report_file(ctx: PageContext, b: MeetingBrief, fmt: str, records_key: str = "", token: str | None = None) -> bytes:
    """The PPTX, PDF or XLSX of this brief in the page's language, made once per dataset version and demand
    (``token`` as `brief`'s), masking, and state of the follow-ups and targets."""
    return _file(ctx.path, token or ctx.token, ctx.street, b.month, ctx.lang, fmt, not auth.can_see_personal(), b,
                 records_key)


def file_name(b: MeetingBrief, fmt: str) -> str:
    """``<scope>_<month>_调度会.<fmt>``; with a plan year or the aged 80+ they follow (``_2030_80+``)."""
    scope = b.street or b.district
    plan = "".join(f"_{part}" for part in (b.demand_year, "80+" if b.demand_weight == "elderly_80" else None)
                   if part is not None)
    return f"{scope}_{b.month}_调度会{plan}.{fmt}"


def text_frame(table: rc.TextTable) -> pd.DataFrame:
    """A `reports.content.TextTable` as a frame of strings for st.table."""
    return pd.DataFrame(list(table.rows), columns=list(table.headers))
