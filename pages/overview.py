"""总览 Overview: key figures, the district map, streets at a glance."""

from __future__ import annotations

import streamlit as st

from analysis.needs import missing
from i18n import t
from reports.content import needs_line
from ui.context import get_context
from ui.htmltable import Col, html_table
from ui.layers import district_map
from ui.maps import legend, show_map
from ui.overview import DAY_CARE_RADIUS_M, FIGURE_NEEDS, figures, streets_at_a_glance, trend_strip
from ui.section import section

ctx = get_context()
ds = ctx.ds
if ctx.city and ctx.district is None and ctx.street is None:
    from ui.city import render_city_overview

    render_city_overview(ctx)
    st.stop()
district = ds.meta_dict.get("district") or ds.name
st.title(t("overview.title", district=district))

with section("overview.figures"):
    fig = figures(ctx)
    s = fig.summary
    # a layer that is there without the column a figure's note needs: the note goes, one line says why
    lacking = {key: missing(ds, key) for key in FIGURE_NEEDS}
    # the seven figures wrap onto a second line on narrow screens instead of being cut off ("1,086,…")
    row = st.container(horizontal=True, gap="medium")
    cols = [row.container(width="content") for _ in range(7)]
    cols[0].metric(t("overview.kpi.grids"), f"{s.grids:,}")
    cols[1].metric(t("overview.kpi.residents"), f"{s.population:,}")
    cols[2].metric(t("overview.kpi.elderly"), f"{s.elderly:,}", t("overview.kpi.elderly_share", share=100 * s.elderly_share),
                   delta_color="off", delta_arrow="off")
    cols[3].metric(t("overview.kpi.facilities"), f"{s.facilities:,}")
    coverage = fig.day_care
    if coverage is None:
        cols[4].metric(t("overview.kpi.coverage"), "—", t("overview.kpi.no_day_care"), delta_color="off", delta_arrow="off")
    else:
        cols[4].metric(t("overview.kpi.coverage"), f"{100 * coverage.covered_share:.1f}%",
                       t("overview.kpi.uncovered", n=f"{coverage.uncovered:,.0f}"), delta_color="off", delta_arrow="off",
                       help=t("overview.kpi.coverage_help", radius=f"{DAY_CARE_RADIUS_M:.0f}"))
    cases = fig.cases
    if cases is None:
        cols[5].metric(t("overview.kpi.open_cases"), "—", t("overview.kpi.no_layer"), delta_color="off", delta_arrow="off")
    else:
        # without deadlines nothing is known to be overdue: no "0 overdue"
        cols[5].metric(t("overview.kpi.open_cases"), f"{cases['open']:,}",
                       t("overview.kpi.overdue", n=f"{cases['overdue']:,}") if lacking["overview.overdue"] is None
                       else None, delta_color="off", delta_arrow="off")
    if s.unmanaged_estates is None:
        cols[6].metric(t("overview.kpi.unmanaged"), "—", t("overview.kpi.no_layer"), delta_color="off", delta_arrow="off")
    else:
        # committees are counted over every estate, not only the unmanaged ones: the label and help say so
        cols[6].metric(t("overview.kpi.unmanaged"), f"{s.unmanaged_estates:,}",
                       t("overview.kpi.committees", n=f"{s.committees_formed or 0:,}")
                       if lacking["overview.committees"] is None else None, delta_color="off",
                       delta_arrow="off", help=t("overview.kpi.unmanaged_help", estates=f"{s.estates or 0:,}"))
    for m in lacking.values():
        if m is not None and m.column is not None:  # an absent layer already reads "no layer" on its figure
            st.caption(needs_line(m, ctx.lang))

with section("overview.trend"):  # the five figures over 12 months, as on the 调度会 page
    trend_strip(ctx)

with section("overview.map"):
    map_col, side_col = st.columns([3, 1])
    with map_col:
        st.subheader(t("overview.map.title"))
        # the estates reach the browser only once switched on (a rerun sends the map with them)
        show_estates = ds.rows("estates") > 0 and st.toggle(t("maps_light.show_estates"), key="overview_show_estates",
                                                             help=t("maps_light.show_estates_help"))
        m, legends = district_map(ctx.path, ctx.token, ctx.street, ctx.lang, ctx.tiles, ctx.tiles_attr, ctx.tiles_datum,
                                  layers=("estates",) if show_estates else ())
        show_map(m, key="overview_map", height=600)
        st.caption(t("overview.map.help"))
    with side_col:
        legend(t("overview.map.choropleth"), legends["density"])
        legend(t("overview.kpi.facilities"), legends["facilities"], shape="circle")
        if show_estates and "estates" in legends:
            legend(t("map.layer.estates"), legends["estates"])

with section("overview.streets"):
    st.subheader(t("overview.street_table"))
    table = streets_at_a_glance(ctx)
    if ctx.street is not None:
        table = table[table["street"] == ctx.street]
    html_table(table, [
        Col("street", t("col.street")), Col("grids", t("overview.col.grids"), "int"),
        Col("households", t("col.households"), "int"), Col("population", t("col.population"), "int"),
        Col("elderly", t("col.elderly"), "int"), Col("elderly_share", t("overview.col.elderly_share"), "percent"),
        Col("elderly_per_km2", t("overview.col.density"), "float0"),
        Col("facilities", t("overview.col.facilities"), "int"),
    ], empty="empty.streets")
