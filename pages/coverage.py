"""覆盖分析 Coverage: who lives beyond reach of each service, by grid and street."""

from __future__ import annotations

import streamlit as st

from analysis.coverage import DEFAULT_RADIUS_M, LIFE_CIRCLE_PRESETS_M, district_totals, gap_list
from analysis.options import DISTANCES, WEIGHTS
from geo.errors import AnalysisError
from geo.schema import FACILITY_TYPES
from i18n import error_text, label_of, t
from ui import widgets
from ui.city import require_district
from ui.context import get_context
from ui.coverage import (
    cached_accessibility,
    cached_coverage,
    cached_street_chart,
    coverage_map,
    street_chart_height,
    table_downloads,
)
from ui.demand import Demand
from ui.maps import legend, show_map
from ui.planning import demand_label, equity_section, plan_controls, whatif_section
from ui.section import needs_text, section
from ui.section import table as show_table

PRESETS = ("default", *LIFE_CIRCLE_PRESETS_M, "custom")

ctx = get_context()
require_district(ctx)
ds = ctx.ds
st.title(t("coverage.title", district=ds.meta_dict.get("district") or ds.name))
st.caption(t("coverage.intro"))

present = [c for c in FACILITY_TYPES if c in set(ds.facilities["type"].astype(str))]
if not present:
    st.warning(t("coverage.no_types"))
    st.stop()

token, demand = plan_controls(ctx, key="cov_plan")  # a plan year or the aged 80+: part of the results' token


def _sync_radius() -> None:
    preset = st.session_state["cov_preset"]  # set by ui.widgets.radio before this runs
    if preset in LIFE_CIRCLE_PRESETS_M:
        st.session_state["cov_radius"] = LIFE_CIRCLE_PRESETS_M[preset]
    elif preset == "default":
        chosen = st.session_state.get("cov_types") or present[:1]
        st.session_state["cov_radius"] = DEFAULT_RADIUS_M[chosen[0]]


st.session_state.setdefault("cov_radius", DEFAULT_RADIUS_M["day_care" if "day_care" in present else present[0]])

c_types, c_threshold, c_distance, c_weight, c_planned = st.columns([3, 5, 2, 2, 1.5])
with c_types:
    types = widgets.multiselect(t("coverage.types"), present, key="cov_types", lang=ctx.lang,
                                default=["day_care"] if "day_care" in present else present[:1],
                                format_func=lambda c: label_of("facility", c), help=t("coverage.types.help"))
with c_threshold:
    preset = widgets.radio(t("coverage.threshold"), PRESETS, key="cov_preset", lang=ctx.lang, horizontal=True,
                           on_change=_sync_radius, format_func=lambda p: t(f"coverage.preset.{p}"))
    radius = st.number_input(t("coverage.radius_m"), step=50.0, key="cov_radius", disabled=preset != "custom")
    if preset == "default" and types:
        st.caption(t("coverage.radius.default_note", detail="，".join(
            f"{label_of('facility', c)} {DEFAULT_RADIUS_M[c]:.0f} m" for c in types)))
with c_distance:
    distance = widgets.radio(t("coverage.distance"), DISTANCES, key="cov_distance", lang=ctx.lang,
                             format_func=lambda m: t(f"coverage.distance.{m}"))
with c_weight:
    # the first choice counts the plan's people (a plan year, the aged 80+) when the plan controls chose them
    weight = widgets.radio(t("coverage.weight"), WEIGHTS, key="cov_weight", lang=ctx.lang,
                           format_func=lambda w: demand_label(demand) if w == "elderly" and demand != Demand()
                           else t(f"coverage.weight.{w}"))
planned = c_planned.checkbox(t("coverage.include_planned"), key="cov_planned")
walking_needs = needs_text(ds, "coverage.walking")
if walking_needs:
    c_distance.caption(walking_needs)

if not types:
    st.info(t("coverage.choose_type"))
    st.stop()

question = (ctx.path, token, tuple(types), None if preset == "default" else float(radius), distance, weight,
            bool(planned))
try:
    with st.spinner():
        res = cached_coverage(*question)
except AnalysisError as err:
    st.error(t("coverage.error", message=error_text(err)))
    st.stop()

table = res.grids if ctx.street is None else res.grids[res.grids["street"] == ctx.street]
tot = district_totals(table)
weight_label = demand_label(demand) if weight == "elderly" and demand != Demand() else t(f"coverage.weight.{weight}")
fac = res.facilities
n_planned = int((fac["status"].astype("string") == "planned").sum())
with section("coverage.figures"):
    k = st.columns(5)
    k[0].metric(t("coverage.kpi.total", weight=weight_label), f"{tot.total:,.0f}")
    k[1].metric(t("coverage.kpi.covered"), f"{tot.covered:,.0f}")
    k[2].metric(t("coverage.kpi.share"), f"{100 * tot.covered_share:.1f}%" if tot.total > 0 else "—")
    k[3].metric(t("coverage.kpi.gap_grids"), f"{tot.gap_grids:,}", t("coverage.kpi.of_grids", n=f"{tot.grids:,}"),
                delta_color="off", delta_arrow="off")
    k[4].metric(t("coverage.kpi.facilities"), f"{len(fac):,}", t("coverage.kpi.planned", n=n_planned) if n_planned
                else None, delta_color="off", delta_arrow="off")

with section("coverage.map"):
    map_col, side_col = st.columns([3, 1.2])
    with map_col:
        st.subheader(t("coverage.map.title"))
        payload, share_legend = coverage_map(ctx.path, token, ctx.street, ctx.tiles, ctx.tiles_attr,
                                             ctx.tiles_datum, ctx.lang, *question[2:])
        show_map(payload, key="coverage_map", height=600)
        st.caption(t("coverage.map.help"))
    with side_col:
        legend(t("coverage.map.share"), share_legend)
        chart, n_streets = cached_street_chart(*question, ctx.lang)  # the district's: the same for every session
        st.altair_chart(chart, width="stretch", height=street_chart_height(n_streets), key="coverage_streets")


@st.fragment
def gap_section(table, weight: str, weight_label: str) -> None:
    """Filters, the ranked gap table and its downloads (reruns alone when a filter changes)."""
    with section("coverage.gaps"):
        st.subheader(t("coverage.gaps.title"))
        f1, f2 = st.columns(2)
        min_unc = f1.number_input(t("coverage.gaps.min_uncovered"), min_value=0.0, value=1.0, step=5.0,
                                  key="cov_gap_min")
        max_share = f2.slider(t("coverage.gaps.max_share"), 0, 100, 100, step=5, format="%d%%", key="cov_gap_share")
        gaps = gap_list(table, min_uncovered=max(float(min_unc), 0.5))
        gaps = gaps[gaps["covered_share"] <= max_share / 100 + 1e-9]
        view = gaps.assign(
            placement=[t(f"coverage.placement.{p}") for p in gaps["placement"]],
            **{f"covered_{weight}": gaps[f"covered_{weight}"].round(1),
               f"uncovered_{weight}": gaps[f"uncovered_{weight}"].round(1),
               "covered_share": (100 * gaps["covered_share"]).round(1),
               "nearest_m": gaps["nearest_m"].round(0)},
        )[["rank", "grid_id", "street", "community", "placement", weight, f"covered_{weight}", f"uncovered_{weight}",
           "covered_share", "nearest_m"]]
        view.columns = [t("coverage.col.rank"), t("col.grid_id"), t("col.street"), t("col.community"),
                        t("coverage.col.placement"), weight_label, t("coverage.col.covered"),
                        t("coverage.col.uncovered"), f"{t('coverage.col.share')} (%)", t("coverage.col.nearest_m")]
        st.caption(t("coverage.gaps.count", n=len(view), people=float(gaps[f"uncovered_{weight}"].sum())))
        show_table(view, empty="empty.gaps", hide_index=True, width="stretch", height=380)
        table_downloads(view, file_stem=t("coverage.gaps.file"), key="cov_gaps")


gap_section(table, weight, weight_label)


@st.fragment
def access_section(question: tuple, street: str | None, weight_label: str) -> None:
    """2SFCA supply per demand, computed only when asked for."""
    with section("coverage.access"):
        st.subheader(t("coverage.access.title"))
        a1, a2 = st.columns([1, 3])
        show = a1.toggle(t("coverage.access.show"), key="cov_access_on")
        enhanced = a2.checkbox(t("coverage.access.enhanced"), key="cov_access_e2sfca")
        st.caption(t("coverage.access.help", weight=weight_label))
        if not show:
            return
        try:
            acc = cached_accessibility(*question, bool(enhanced))
        except AnalysisError as err:
            st.error(t("coverage.error", message=error_text(err)))
            return
        grids = acc.grids if street is None else acc.grids[acc.grids["street"] == street]
        if acc.capacity_filled:
            st.info(t("coverage.access.filled", n=acc.capacity_filled))
        g1, g2 = st.columns(2)
        show_table(grids.sort_values("per_1000").assign(per_1000=grids["per_1000"].round(2),
                                                        reach_share=(100 * grids["reach_share"]).round(1)),
                   where=g1, hide_index=True, width="stretch", height=320,
                   column_config={"grid_id": t("col.grid_id"), "street": t("col.street"),
                                  question[5]: weight_label, "per_1000": t("coverage.access.per_1000"),
                                  "reach_share": f"{t('coverage.access.reach_share')} (%)"})
        show_table(acc.facilities.assign(type=[label_of("facility", c) for c in acc.facilities["type"]],
                                         demand_in_reach=acc.facilities["demand_in_reach"].round(0),
                                         per_1000=acc.facilities["per_1000"].round(2)),
                   where=g2, hide_index=True, width="stretch", height=320,
                   column_config={"facility_id": "ID", "name": t("col.name"), "type": t("col.type"),
                                  "capacity": t("col.capacity"),
                                  "demand_in_reach": t("coverage.access.facility_demand"),
                                  "per_1000": t("coverage.access.per_1000")})


access_section(question, ctx.street, weight_label)
equity_section(ctx, token, question)
whatif_section(ctx, token, question)
