"""Cases page (事件热点): hot spots, heat map, emerging patterns, trend, unit league, overdue list."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis.cases import CaseFilter, cases_in_grid, counts_over_time, unit_league
from analysis.options import MEASURES, PERIODS, WEIGHTS_SCHEMES
from geo.errors import AnalysisError
from i18n import error_text, t
from ui import auth, widgets
from ui.cases import (
    DEFAULT_PRESET,
    case_table,
    clicked_grid,
    density_cached,
    emerging_cached,
    emerging_map,
    explain_error,
    heat_map,
    hot_spots_cached,
    hotspot_legend,
    hotspot_payload,
    kpis_cached,
    overdue_cached,
    pattern_counts,
)
from ui.charts import style
from ui.city import require_district
from ui.context import get_context
from ui.coverage import table_downloads
from ui.maps import legend, show_map
from ui.section import needs, needs_text, section
from ui.section import table as show_table

ctx = get_context()
require_district(ctx)
ds = ctx.ds
st.title(t("cases.title"))
st.caption(t("cases.intro"))
if ds.rows("cases") == 0:  # counted without reading a million cases
    st.info(t("cases.no_layer"))
    st.stop()
try:
    table = case_table(ctx)
except AnalysisError as err:
    st.error(t("cases.error", msg=error_text(err)))
    st.stop()
if table.outside:
    st.warning(t("cases.outside", n=f"{table.outside:,}"))

# --- filters -------------------------------------------------------------------------------
PRESETS = ["30", "90", "182", "365", "all", "custom"]  # days back from the data's date, all, or a chosen range
first_day = pd.Timestamp(int(table.day.min()), unit="D").date()
last_day = max(pd.Timestamp(int(table.day.max()), unit="D").date(), table.as_of.date())
default_start = max(first_day, (table.as_of - pd.Timedelta(days=182)).date())
with st.container(border=True):
    c1, c2, c3, c4 = st.columns([2.2, 2, 2, 1.6])
    with c1:
        preset = widgets.selectbox(t("cases.period"), PRESETS, default=DEFAULT_PRESET,
                                   key="cases_preset", lang=ctx.lang, format_func=lambda p: t(f"cases.preset.{p}"))
    if preset == "custom":
        period = c1.date_input(t("cases.period.custom"), value=(default_start, table.as_of.date()),
                               min_value=first_day, max_value=last_day, key="cases_period")
    elif preset == "all":
        period = (first_day, last_day)
    else:
        period = (max(first_day, (table.as_of - pd.Timedelta(days=int(preset) - 1)).date()), table.as_of.date())
    categories = c2.multiselect(t("cases.category"), table.categories, key="cases_categories",
                                placeholder=t("cases.all"), select_all=False)
    sources = c3.multiselect(t("cases.source"), table.sources, key="cases_sources", placeholder=t("cases.all"),
                             select_all=False)
    with c4:
        statuses = widgets.multiselect(t("cases.status"), ["open", "closed"], key="cases_statuses", lang=ctx.lang,
                                       format_func=lambda s: t(f"code.case_status.{s}"), placeholder=t("cases.all"))
    c5, c6, c7 = st.columns([2, 2, 3])
    with c5:
        measure = widgets.radio(t("cases.measure"), MEASURES, horizontal=True, key="cases_measure",
                                lang=ctx.lang, format_func=lambda m: t(f"cases.measure.{m}"))
    with c6:
        step = widgets.radio(t("cases.step"), PERIODS, horizontal=True, key="cases_step", lang=ctx.lang,
                             format_func=lambda s: t(f"cases.step.{s}"))
    with c7.expander(t("cases.advanced")):
        weights_scheme = widgets.radio(t("cases.weights"), WEIGHTS_SCHEMES, key="cases_weights", lang=ctx.lang,
                                       format_func=lambda s: t(f"cases.weights.{s}"))

since, until = (period + (None, None))[:2] if isinstance(period, tuple) else (period, None)
flt = CaseFilter(since=since if isinstance(since, dt.date) else None,
                 until=until if isinstance(until, dt.date) else None,
                 categories=tuple(categories), sources=tuple(sources), statuses=tuple(statuses),
                 streets=(ctx.street,) if ctx.street else ())
k = kpis_cached(ctx, flt).iloc[0]
# open and overdue cases reported outside the period still wait for handling: say how many the period leaves out
k_any_time = kpis_cached(ctx, replace(flt, since=None, until=None)).iloc[0] if flt.since or flt.until else k
outside = {c: int(k_any_time[c]) - int(k[c]) for c in ("open", "overdue")}
as_of = t("cases.as_of", date=table.as_of.strftime("%Y-%m-%d"))
st.caption(as_of + (t("cases.outside_period", open=f"{outside['open']:,}", overdue=f"{outside['overdue']:,}")
                    if outside["open"] else ""))

# --- headline figures ----------------------------------------------------------------------
# without deadlines no case is overdue or late, without closing times none has a time to close: unknown, not 0
has_deadline = needs_text(ds, "cases.overdue") is None
has_closed_at = needs_text(ds, "cases.hours") is None
with section("cases.figures"):
    cols = st.columns(6)
    cols[0].metric(t("cases.kpi.cases"), f"{int(k['cases']):,}")
    cols[1].metric(t("cases.kpi.open"), f"{int(k['open']):,}")
    cols[2].metric(t("cases.kpi.overdue"), f"{int(k['overdue']):,}" if has_deadline else "—")
    cols[3].metric(t("cases.kpi.closed_late"), f"{int(k['closed_late']):,}" if has_deadline and has_closed_at else "—")
    cols[4].metric(t("cases.kpi.closure_rate"), "—" if pd.isna(k["closure_rate"]) else f"{k['closure_rate']:.1%}")
    cols[5].metric(t("cases.kpi.median_hours"),
                   "—" if pd.isna(k["median_hours_to_close"]) else f"{k['median_hours_to_close']:.1f}")
    for key in ("cases.overdue", "cases.hours"):
        line = needs_text(ds, key)
        if line:
            st.caption(line)

# one view at a time: only what is shown is computed, and maps never draw into a hidden tab
VIEWS = ["hotspots", "heat", "emerging", "trend", "units", "overdue"]
view = widgets.radio(t("cases.view"), VIEWS, horizontal=True, key="cases_view", lang=ctx.lang,
                     label_visibility="collapsed", format_func=lambda v: t(f"cases.tab.{v}"))

# --- hot spots -----------------------------------------------------------------------------
if view == "hotspots":
    with section("cases.hotspots"):
        try:
            hot = hot_spots_cached(ctx, flt, measure=measure, weights_scheme=weights_scheme)
        except AnalysisError as err:
            explain_error(err)
            hot = None
        if hot is not None:
            f = hot.frame
            st.caption(t("cases.hot.summary", n=f"{hot.n_cases:,}", grids=hot.n_grids_analysed,
                         hot=int((f["gi_bin"] > 0).sum()), cold=int((f["gi_bin"] < 0).sum()),
                         sim=int((f["gi_p_sim"] < 0.05).sum())))
            if not (f["gi_bin"] != 0).any():
                st.info(t("cases.hot.none"))
            left, right = st.columns([4, 1])
            with left:
                state = show_map(hotspot_payload(ctx, hot, flt, measure=measure, weights_scheme=weights_scheme),
                                 key="cases_hot_map", returned_objects=["last_active_drawing"])
            with right:
                hotspot_legend()
                st.caption(t("cases.hot.help", perm=hot.permutations))
            gid = clicked_grid(state)
            if gid and gid != st.session_state.get("cases_last_click"):
                st.session_state["cases_last_click"] = gid
                widgets.set_choice("cases_grid_pick", gid, lang=ctx.lang)
            options = [""] + ctx.grids()["grid_id"].astype(str).tolist()
            pick = widgets.selectbox(t("cases.grid_pick"), options, key="cases_grid_pick", lang=ctx.lang,
                                     format_func=lambda g: g or t("cases.grid_none"))
            if pick:
                rows = cases_in_grid(ds.lazy_layer("cases"), table, pick, flt, limit=200, mask=not auth.can_see_personal())
                st.markdown(f"**{t('cases.grid_cases', grid=pick, n=len(rows))}**")
                if not auth.can_see_personal():
                    st.caption(t("auth.personal_masked"))
                rows = rows.assign(state=[t(f"code.case_state.{s}") for s in rows["state"]])
                show_table(
                    rows[["case_id", "category", "state", "reported_at", "deadline", "closed_at", "responsible_unit",
                          "description", "reporter_phone"]],
                    empty="empty.cases", hide_index=True, width="stretch",
                    column_config={"case_id": t("ccol.case_id"), "category": t("ccol.category"),
                                   "state": t("ccol.state"), "reported_at": t("ccol.reported_at"),
                                   "deadline": t("ccol.deadline"), "closed_at": t("ccol.closed_at"),
                                   "responsible_unit": t("ccol.unit"), "description": t("ccol.description"),
                                   "reporter_phone": t("ccol.phone")})

# --- heat map ------------------------------------------------------------------------------
if view == "heat":
    with section("cases.heat"):
        try:
            kd = density_cached(ctx, flt)
            st.caption(t("cases.heat.help", h=kd.bandwidth_m))
            show_map(heat_map(ctx, kd), key="cases_heat_map")
        except AnalysisError as err:
            explain_error(err)

# --- emerging hot spots --------------------------------------------------------------------
if view == "emerging":
    with section("cases.emerging"):
        try:
            em = emerging_cached(ctx, flt, measure=measure, period=step, weights_scheme=weights_scheme)
        except AnalysisError as err:
            explain_error(err)
            em = None
        if em is not None:
            st.caption(t("cases.emerging.help", step=t(f"cases.step.{step}"), n=len(em.period_starts)))
            left, right = st.columns([4, 1])
            m, items = emerging_map(ctx, em)
            with left:
                show_map(m, key="cases_emerging_map")
            with right:
                legend(t("cases.emerging.legend"), items)
                show_table(pattern_counts(em), empty="empty.patterns", hide_index=True, width="stretch")

# --- trend by category ---------------------------------------------------------------------
if view == "trend":
    with section("cases.trend"):
        try:
            trend = counts_over_time(table, flt, period=step, by="category")
        except AnalysisError as err:
            explain_error(err)
            trend = None
        if trend is not None and len(trend):
            fig = go.Figure()
            for cat, part in trend.groupby("category", sort=True):
                if part["cases"].sum() > 0:
                    fig.add_trace(go.Scatter(x=part["period_start"], y=part["cases"], mode="lines", name=str(cat)))
            st.plotly_chart(style(fig, title=t("cases.trend.title"), height=380), width="stretch")

# --- responsible units ---------------------------------------------------------------------
if view == "units":
    with section("cases.units"):
        st.subheader(t("cases.units.title"))
        league = unit_league(table, flt) if needs(ds, "cases.units") else None
        if league is not None:
            show_table(
                league[["rank", "unit", "cases", "open", "overdue", "overdue_share", "closed_late", "closure_rate",
                        "median_hours_to_close"]],
                empty="empty.units", hide_index=True, width="stretch",
                column_config={
                    "rank": t("ccol.rank"), "unit": t("ccol.unit"), "cases": t("ccol.cases"), "open": t("ccol.open"),
                    "overdue": t("ccol.overdue"),
                    "overdue_share": st.column_config.NumberColumn(t("ccol.overdue_share"), format="percent"),
                    "closed_late": t("ccol.closed_late"),
                    "closure_rate": st.column_config.NumberColumn(t("ccol.closure_rate"), format="percent"),
                    "median_hours_to_close": st.column_config.NumberColumn(t("ccol.median_hours"), format="%.1f"),
                })

# --- overdue list (清零) -------------------------------------------------------------------
if view == "overdue":
    with section("cases.overdue"):
        # without deadlines nothing can be overdue: one line says what is needed, not "none overdue"
        od = overdue_cached(ctx, flt, mask=not auth.can_see_personal()) if needs(ds, "cases.overdue") else None
        if od is not None and outside["overdue"]:
            st.warning(t("cases.overdue.outside", n=f"{outside['overdue']:,}"))
        if od is None:
            pass
        elif len(od) == 0:
            st.success(t("cases.overdue.none"))
        else:
            st.subheader(t("cases.overdue.title", n=f"{len(od):,}"))
            if not auth.can_see_personal():
                st.caption(t("auth.personal_masked"))
            labels = {"case_id": t("ccol.case_id"), "days_overdue": t("ccol.days_overdue"), "age_days": t("ccol.age_days"),
                      "street": t("col.street"), "grid_id": t("col.grid_id"), "category": t("ccol.category"),
                      "responsible_unit": t("ccol.unit"), "reported_at": t("ccol.reported_at"),
                      "deadline": t("ccol.deadline"), "description": t("ccol.description"),
                      "reporter_phone": t("ccol.phone")}
            shown = od[list(labels)]
            st.dataframe(shown.head(2000), hide_index=True, width="stretch", column_config=labels)
            # the files carry every overdue case with the headers shown here
            table_downloads(shown.rename(columns=labels), file_stem=t("cases.overdue.file"), key="cases_overdue")
