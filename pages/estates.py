"""小区自治 Estates: stages on the map, progress against the plan per street, estates per stage, red/black list."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analysis.estates import DISTRICT, STAGES
from geo.errors import AnalysisError
from i18n import error_text, label_of, t
from ui import auth, widgets
from ui.context import get_context
from ui.estates import (
    STAGE_COLORS,
    Plan,
    burn_down,
    campaign_table,
    default_plan,
    league_table,
    progress_tables,
    stage_label,
    stage_map,
)
from ui.maps import legend, show_map
from ui.section import needs, needs_text, section
from ui.tables import table as show_table

MISSING = "—"  # shown for a missing value in a table, instead of Streamlit's English "None"

ctx = get_context()
ds = ctx.ds
st.title(t("estates.title"))
st.caption(t("estates.intro"))
if ds.estates is None or len(ds.estates) == 0:
    st.info(t("estates.no_layer"))
    st.stop()
# estates without a street are shown district-wide; one street of them cannot be picked out
if ctx.street is not None and not needs(ds, "estates.by_street"):
    st.stop()
has_stages = needs_text(ds, "estates.stages") is None

# --- the plan: from the dataset, adjustable ------------------------------------------------------
plan = default_plan(ds)
with st.expander(t("estates.plan"), expanded=not plan.from_meta):
    if not plan.from_meta:
        st.warning(t("estates.plan.no_target"))
    c1, c2, c3 = st.columns(3)
    start = c1.date_input(t("estates.plan.start"), value=plan.start.date(), key="estates_plan_start")
    target = c2.date_input(t("estates.plan.target"), value=plan.target.date(), key="estates_plan_target")
    as_of = c3.date_input(t("estates.plan.as_of"), value=plan.as_of.date(), key="estates_plan_as_of")
plan = Plan(pd.Timestamp(start if isinstance(start, dt.date) else plan.start),
            pd.Timestamp(target if isinstance(target, dt.date) else plan.target),
            pd.Timestamp(as_of if isinstance(as_of, dt.date) else plan.as_of), plan.from_meta)
st.caption(t("estates.plan.from_meta", start=plan.start.strftime("%Y-%m-%d"),
             target=plan.target.strftime("%Y-%m-%d"), as_of=plan.as_of.strftime("%Y-%m-%d")))

try:
    camp = campaign_table(ctx, plan)
except AnalysisError as err:
    st.info(t("estates.none_in_campaign") if err.code == "analysis.estates_none_in_campaign"
            else error_text(err))
    st.stop()
if ctx.street is not None:  # estates have streets here (checked above)
    camp = camp[camp["street"] == ctx.street]
    if camp.empty:
        st.info(t("estates.none_in_street", street=ctx.street))
        st.stop()

# --- headline figures ----------------------------------------------------------------------------
has_dates = needs_text(ds, "estates.progress") is None
stage = widgets.radio(t("estates.progress.stage"), list(STAGES[1:]), key="estates_stage_tracked", lang=ctx.lang,
                      default="fees_started", horizontal=True, format_func=stage_label) if has_dates else STAGES[-1]
try:
    counts, progress, plan_rows = progress_tables(ctx, plan, stage)
except AnalysisError as err:
    st.error(error_text(err))
    st.stop()
row = counts.set_index("street").loc[ctx.street or DISTRICT]
streets_only = progress[progress["street"] != DISTRICT]
behind = streets_only[streets_only["behind"]].sort_values("shortfall", ascending=False)

with section("estates.figures"):
    if not has_stages:
        needs(ds, "estates.stages")
    cols = st.columns(len(STAGES) + 2)
    cols[0].metric(t("estates.kpi.total"), f"{int(row['total']):,}",
                   t("estates.kpi.done_share", share=float(row["done_share"])) if has_stages else None,
                   delta_color="off", delta_arrow="off")
    for i, code in enumerate(STAGES, start=1):
        cols[i].metric(stage_label(code), f"{int(row[code]):,}" if has_stages else "—")
    if not has_dates:
        pass  # no plan to be behind: the progress section below says what it needs
    elif ctx.street is None:
        cols[-1].metric(t("estates.kpi.behind"), f"{len(behind)}",
                        t("estates.kpi.behind_of", n=len(streets_only)) if len(behind)
                        else t("estates.kpi.behind_none"), delta_color="off", delta_arrow="off")
    else:  # one street: is it behind, and by how many
        mine = progress[progress["street"] == ctx.street].iloc[0]
        cols[-1].metric(t("estates.kpi.street_plan"),
                        t("estates.kpi.short", n=int(mine["shortfall"])) if mine["behind"] else t("estates.status.on_plan"),
                        t("estates.kpi.planned_done", planned=int(mine["planned"]), actual=int(mine["actual"])),
                        delta_color="off", delta_arrow="off")

# --- filters: stages on the map and in the list --------------------------------------------------
stages = widgets.multiselect(t("estates.filter.stages"), list(STAGES), key="estates_stages", lang=ctx.lang,
                             format_func=stage_label, placeholder=t("estates.filter.all"))
shown_stages = tuple(stages) or STAGES

# --- map -----------------------------------------------------------------------------------------
with section("estates.map"):
    map_col, side_col = st.columns([3, 1])
    with map_col:
        st.subheader(t("estates.map.title"))
        m = stage_map(ctx.path, ctx.token, ctx.street, shown_stages, str(plan.as_of.date()), ctx.lang, ctx.tiles,
                      ctx.tiles_attr, ctx.tiles_datum)
        show_map(m, key="estates_map", height=560)
        st.caption(t("estates.map.help"))
    with side_col:
        current = camp["stage"].value_counts()
        legend(t("estates.map.legend"), [(STAGE_COLORS[c], f"{stage_label(c)} ({int(current.get(c, 0))})")
                                         for c in STAGES if c in shown_stages], shape="circle")

# --- progress against the plan -------------------------------------------------------------------
with section("estates.progress"):
    st.subheader(t("estates.progress.title"))
    if needs(ds, "estates.progress"):
        if ctx.street is None:
            if len(behind):
                items = ("、" if ctx.lang == "zh" else ", ").join(t("estates.progress.behind_item", street=s, n=int(n))
                                 for s, n in zip(behind["street"], behind["shortfall"], strict=True))
                st.warning(t("estates.progress.behind", streets=items))
            else:
                st.success(t("estates.progress.on_plan"))
        shown_progress = progress if ctx.street is None else progress[progress["street"] == ctx.street]
        st.plotly_chart(burn_down(plan_rows, shown_progress, plan, stage=stage, lang=ctx.lang), width="stretch",
                        key="estates_burn_down")
        st.caption(t("estates.chart.help"))
        table = shown_progress.assign(
            street=[t("sidebar.all_streets") if s == DISTRICT else s for s in shown_progress["street"]],
            status=[t("estates.status.behind") if b else t("estates.status.on_plan") for b in shown_progress["behind"]],
        )
        st.dataframe(
            table[["street", "total", "planned", "actual", "shortfall", "status", "months_left", "required_per_month",
                   "actual_per_month"]],
            hide_index=True, width="stretch", placeholder=MISSING,
            column_config={
                "street": t("estates.col.street"), "total": t("estates.col.total"), "planned": t("estates.col.planned"),
                "actual": t("estates.col.actual"), "shortfall": t("estates.col.shortfall"),
                "status": t("estates.col.status"), "months_left": t("estates.col.months_left"),
                "required_per_month": st.column_config.NumberColumn(t("estates.col.required"), format="%.1f"),
                "actual_per_month": st.column_config.NumberColumn(t("estates.col.pace"), format="%.1f"),
            },
        )

with section("estates.counts"):
    st.subheader(t("estates.counts.title"))
    if needs(ds, "estates.stages"):
        shown_counts = counts if ctx.street is None else counts[counts["street"].isin([ctx.street])]
        shown_counts = shown_counts.assign(street=[t("sidebar.all_streets") if s == DISTRICT else s
                                                   for s in shown_counts["street"]])
        # the share as a percentage with one decimal, like the rest of the page (not 40% beside 24.24%)
        shown_counts = shown_counts.assign(done_share=shown_counts["done_share"] * 100)
        st.dataframe(shown_counts[["street", *STAGES, "total", "done_share"]], hide_index=True, width="stretch",
                     placeholder=MISSING,
                     column_config={"street": t("estates.col.street"), "total": t("estates.col.total"),
                                    "done_share": st.column_config.NumberColumn(
                                        t("estates.col.done_share", stage=stage_label("fees_started")),
                                        format="%.1f%%"),
                                    **{c: stage_label(c) for c in STAGES}})

# --- estates at each stage -----------------------------------------------------------------------
with section("estates.list"):
    st.subheader(t("estates.list.title"))
    list_counts = camp["stage"].value_counts()
    pick = widgets.radio(t("estates.list.stage"), list(shown_stages), key="estates_list_stage", lang=ctx.lang,
                         horizontal=True, default=shown_stages[0],
                         format_func=lambda c: t("estates.list.count", stage=stage_label(c), n=int(list_counts.get(c, 0))))
    rows = camp[camp["stage"] == pick]
    if rows.empty:
        st.info(t("estates.list.empty"))
    else:
        out = pd.DataFrame(rows.drop(columns="geometry")).assign(
            self_gov_model=[label_of("self_gov_model", v) if isinstance(v, str) else "" for v in rows["self_gov_model"]],
            since=[d.strftime("%Y-%m-%d") if pd.notna(d) else "" for d in rows["since"]])
        columns = ["name", "street", "community", "households", "grid_id", "grid_name", "grid_worker", "since",
                   "days_at_stage", "self_gov_model"]
        st.dataframe(out[columns], hide_index=True, width="stretch", placeholder=MISSING, column_config={
            "name": t("col.name"), "street": t("col.street"), "community": t("col.community"),
            "households": t("col.households"), "grid_id": t("col.grid_id"), "grid_name": t("col.grid_name"),
            "grid_worker": t("col.grid_worker"),
            "since": t("estates.col.since"),
            "days_at_stage": t("estates.col.days"), "self_gov_model": t("col.self_gov_model"),
        })
        auth.download_button(st, t("estates.download"), auth.table_files(out[columns])[0], file_name=f"estates_{pick}.csv",
                             mime="text/csv", key="estates_list_csv")

# --- property companies: red and black lists ------------------------------------------------------
with section("estates.league"):
    st.subheader(t("estates.league.title"))
    c1, c2 = st.columns(2)
    min_estates = c1.number_input(t("estates.league.min"), min_value=1, max_value=50, value=2, step=1,
                                  key="estates_league_min")
    n_list = c2.number_input(t("estates.league.n"), min_value=1, max_value=20, value=3, step=1, key="estates_league_n")
    league = league_table(ctx, min_estates=int(min_estates), n=int(n_list))
    if not needs(ds, "estates.league"):
        pass
    elif league.empty:
        st.info(t("estates.league.none"))
    else:
        config = {"rank": t("estates.col.rank"), "property_company": t("col.property_company"),
                  "estates": t("estates.col.estates"), "households": t("col.households"),
                  "mean_satisfaction": st.column_config.NumberColumn(t("estates.col.mean"), format="%.1f"),
                  "min_satisfaction": st.column_config.NumberColumn(t("estates.col.min"), format="%.1f"),
                  "list": t("estates.col.list")}
        def _small_table(part: pd.DataFrame) -> pd.DataFrame:
            """A short list as a static table (readable on a projector), numbers formatted, headers translated."""
            out = pd.DataFrame({
                t("estates.col.rank"): part["rank"].astype(int).to_numpy(),
                t("col.property_company"): part["property_company"].to_numpy(),
                t("estates.col.estates"): part["estates"].astype(int).to_numpy(),
                t("col.households"): [f"{int(v):,}" for v in part["households"]],
                t("estates.col.mean"): [f"{v:.1f}" for v in part["mean_satisfaction"]],
                t("estates.col.min"): [f"{v:.1f}" for v in part["min_satisfaction"]],
            })
            return out  # the rank a column of its own: st.table hides the index

        red_col, black_col = st.columns(2)
        red_col.markdown(f"**:red[●] {t('estates.league.red')}**")  # a colour emoji is tofu without an emoji font
        show_table(_small_table(league[league["list"] == "red"]), static=True, where=red_col, hide_index=True)
        black_col.markdown(f"**● {t('estates.league.black')}**")
        show_table(_small_table(league[league["list"] == "black"].iloc[::-1]), static=True, where=black_col,
                   hide_index=True)
        with st.expander(t("estates.league.all")):
            lists = {"red": t("code.league.red"), "black": t("code.league.black"), "": ""}
            st.dataframe(league.assign(list=[lists[v] for v in league["list"]]),
                         hide_index=True, width="stretch", placeholder=MISSING, column_config=config)
        st.caption(t("estates.league.help"))
