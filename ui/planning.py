"""Streamlit-side planning: the plan-year controls, and the equity and what-if sections of the coverage page.

The chosen demand travels in the token (`ui.demand`), so the page's cached results follow it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.equity import DISTRICT_ROW, compare_equity, equity_by_grid
from analysis.options import DEMAND_WEIGHTS
from analysis.projection import MAX_YEARS_AHEAD, base_year, demand_values
from analysis.whatif import SCENARIO_KIND, what_if, whatif_scenario
from geo.errors import AnalysisError, DataError
from i18n import error_text, label_of, problem_text, t
from i18n.labels import demand_label as label_demand
from ui import auth, widgets
from ui.context import PageContext
from ui.coverage import _graph, coverage_inputs
from ui.data import get_ref, get_store
from ui.demand import Demand, demand_token, register_survival, split_token
from ui.section import needs_text, section
from ui.section import table as show_table
from ui.uploads import file_uploader


def demand_label(demand: Demand | None) -> str:
    """What the page counts, for figure labels: 60岁以上老人 / 80岁以上老人, with the plan year
    (`i18n.labels.demand_label`, the words the meeting's files use too)."""
    d = demand or Demand()
    return label_demand(d.year, d.weight)


def plan_controls(ctx: PageContext, *, key: str) -> tuple[str, Demand]:
    """Plan year, aged 80+ and survival table widgets; the token the page's cached results use, and the demand.

    A dataset without age bands shows one line saying what the plan year needs and keeps today's data; a demand
    the data cannot give (a bad survival file) shows its coded message and falls back to today's data.
    """
    ds = ctx.ds
    lacking = needs_text(ds, "coverage.plan_year")
    with st.expander(t("planning.controls.title"), expanded=False):
        if lacking:
            st.info(lacking, icon=":material/info:")
            return ctx.token, Demand()
        try:
            base = base_year(ds.meta_dict)
        except AnalysisError as err:
            st.info(error_text(err), icon=":material/info:")
            return ctx.token, Demand()
        c_year, c_weight, c_file = st.columns([1.2, 1.6, 2.2])
        year = c_year.number_input(t("planning.year"), min_value=base, max_value=base + MAX_YEARS_AHEAD, value=base,
                                   step=1, key=f"{key}_year", help=t("planning.year.help", base=base))
        with c_weight:
            weight = widgets.radio(t("planning.weight"), DEMAND_WEIGHTS, key=f"{key}_weight", lang=ctx.lang,
                                   horizontal=True, format_func=lambda w: t(f"planning.weight.{w}", lang=ctx.lang))
        upload = file_uploader(t("planning.survival"), type=["csv"], key=f"{key}_survival", where=c_file,
                               lang=ctx.lang, help=t("planning.survival.help"))
        survival = None
        if upload is not None:
            try:
                survival = register_survival(upload.getvalue(), upload.name)
            except AnalysisError as err:
                c_file.error(error_text(err))
        demand = Demand(None if int(year) == base else int(year), str(weight), survival)
        table = demand.table()
        st.caption(t("planning.survival.assumption" if table.assumption else "planning.survival.own",
                     source=table.source, base=base))
        try:
            demand_values(ds.grids, meta=ds.meta_dict, year=demand.year, weight=demand.weight, survival=table)
        except AnalysisError as err:
            st.error(error_text(err))
            return ctx.token, Demand()
    return demand_token(ctx.token, demand), demand


# --- equity ------------------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=16)
def _equity(path: str, token: str, types: tuple[str, ...], radius_m: float | None, distance: str,
            include_planned: bool):
    return equity_by_grid(coverage_inputs(path, token), facility_types=types, radius_m=radius_m, distance=distance,
                          include_planned=include_planned, graph=_graph(path, token, distance))


def _fmt_ratio(v: float) -> str:
    if pd.isna(v):
        return "—"
    return "∞" if v == float("inf") else f"{v:.2f}"


def _street_view(streets: pd.DataFrame, who: str) -> pd.DataFrame:
    """Street and district rows with the page's labels; ``who``: the people counted (the demand's label)."""
    out = pd.DataFrame({
        t("equity.col.street"): [t("equity.district") if s == DISTRICT_ROW else s for s in streets["street"]],
        who: streets["elderly"].round(0).astype("int64"),
        t("equity.col.beyond"): streets["beyond"].round(0).astype("int64"),
        f"{t('equity.col.beyond_share')} (%)": (100 * streets["beyond_share"]).round(1),
        t("equity.col.gini"): [_fmt_ratio(v) for v in streets["gini"]],
        t("equity.col.palma"): [_fmt_ratio(v) for v in streets["palma"]],
    })
    return out


def _compare_view(both: pd.DataFrame, now: str, then: str) -> pd.DataFrame:
    """`compare_equity`'s rows with the page's labels: each figure today and in the plan year, side by side."""
    out = {t("equity.col.street"): [t("equity.district") if s == DISTRICT_ROW else s for s in both["street"]]}
    for col in ("elderly", "beyond", "beyond_share", "gini", "palma"):
        for when, label in (("before", now), ("after", then)):
            values = both[f"{col}_{when}"]
            if col in ("elderly", "beyond"):
                shown = values.round(0).astype("int64")
            elif col == "beyond_share":
                shown = (100 * values).round(1)
            else:
                shown = [_fmt_ratio(v) for v in values]
            unit = " (%)" if col == "beyond_share" else ""
            name = t("planning.col.counted") if col == "elderly" else t(f"equity.col.{col}")
            out[f"{name}{unit} · {label}"] = shown
    return pd.DataFrame(out)


@st.fragment
def equity_section(ctx: PageContext, token: str, question: tuple) -> None:
    """Beyond reach, Gini and Palma per street and district, the worst-off grids; before/after a plan year."""
    types, radius, distance, _weight, planned = question[2:]
    with section("coverage.equity"):
        st.subheader(t("planning.equity.title"))
        st.caption(t("planning.equity.help"))
        if not st.toggle(t("planning.equity.show"), key="cov_equity_on"):
            return
        try:
            now = _equity(ctx.path, token, types, radius, distance, planned)
        except AnalysisError as err:
            st.error(t("coverage.error", message=error_text(err)))
            return
        _, demand = split_token(token)
        e1, e2 = st.columns([3, 2])
        streets = now.streets if ctx.street is None else now.streets[now.streets["street"].isin([ctx.street,
                                                                                                  DISTRICT_ROW])]
        e1.markdown(f"**{demand_label(demand)}**")
        show_table(_street_view(streets, demand_label(demand)), where=e1, hide_index=True, width="stretch")
        worst = now.worst if ctx.street is None else now.worst[now.worst["street"] == ctx.street]
        e2.markdown(f"**{t('equity.worst_title')}**")
        worst = worst.assign(access=worst["access"].round(2), beyond_share=(100 * worst["beyond_share"]).round(1))
        show_table(worst[["grid_id", "street", "elderly", "access", "beyond_share"]],
                   where=e2, hide_index=True, width="stretch", empty="empty.rows",
                   column_config={"grid_id": t("col.grid_id"), "street": t("col.street"),
                                  "elderly": demand_label(demand), "access": t("equity.col.access"),
                                  "beyond_share": f"{t('equity.col.beyond_share')} (%)"})
        if demand is not None and demand.year is not None:  # the plan year beside today's data, the same people
            same_today = Demand(None, demand.weight, None)
            today = _equity(ctx.path, demand_token(split_token(token)[0], same_today), types, radius, distance,
                            planned)
            both = compare_equity(today, now)
            if ctx.street is not None:
                both = both[both["street"].isin([ctx.street, DISTRICT_ROW])]
            st.markdown(f"**{t('planning.equity.compare', now=demand_label(same_today), then=demand_label(demand))}**")
            show_table(_compare_view(both, demand_label(same_today), demand_label(demand)), hide_index=True,
                       width="stretch")
        st.caption(t("planning.equity.definition"))


# --- what-if -----------------------------------------------------------------------------------------------------


@st.fragment
def whatif_section(ctx: PageContext, token: str, question: tuple) -> None:
    """Close stations, open candidate sites, change a capacity: who gains or loses, per street and grid; save."""
    types, radius, distance, _weight, planned = question[2:]
    with section("coverage.whatif"):
        st.subheader(t("planning.whatif.title"))
        st.caption(t("planning.whatif.help"))
        ds = ctx.ds
        fac = ds.facilities[ds.facilities["type"].astype(str).isin(types)]
        w1, w2, w3 = st.columns([2, 2, 2])
        fac_ids = fac["facility_id"].astype(str).tolist()
        names = dict(zip(fac_ids, fac["name"].astype(str), strict=True))
        close = w1.multiselect(t("planning.whatif.close"), fac_ids, key="cov_wi_close", placeholder=t("planning.choose"),
                               format_func=lambda i: f"{i} {names.get(i, '')}")
        cand = ds.candidates
        site_ids = cand["site_id"].astype(str).tolist() if cand is not None else []
        site_names = dict(zip(site_ids, cand["name"].astype(str), strict=True)) if cand is not None else {}
        open_sites = w2.multiselect(t("planning.whatif.open", type=label_of("facility", types[0])), site_ids,
                                    key="cov_wi_open", format_func=lambda i: f"{i} {site_names.get(i, '')}",
                                    placeholder=t("planning.choose"),
                                    disabled=cand is None)
        cap_id = w3.selectbox(t("planning.whatif.capacity"), ["", *fac_ids], key="cov_wi_cap_id",
                              format_func=lambda i: f"{i} {names.get(i, '')}" if i else "—")
        capacity = {}
        if cap_id:
            capacity[cap_id] = w3.number_input(t("col.capacity"), min_value=0.0, step=5.0, key="cov_wi_cap",
                                               value=float(pd.to_numeric(fac.set_index("facility_id").loc[
                                                   cap_id].get("capacity", 0.0) or 0.0)))
        if not (close or open_sites or capacity):
            st.caption(t("planning.whatif.none"))
            return
        try:
            result = what_if(ds, close=close, open_sites=open_sites, capacity=capacity, facility_types=types,
                             radius_m=radius, distance=distance, include_planned=planned,
                             graph=_graph(ctx.path, token, distance), inputs=coverage_inputs(ctx.path, token))
        except AnalysisError as err:
            st.error(t("coverage.error", message=error_text(err)))
            return
        streets = result.streets.copy()
        streets["street"] = [t("equity.district") if s == DISTRICT_ROW else s for s in streets["street"]]
        streets = streets[["street", "elderly", "covered_before", "covered_after", "covered_change", "access_before",
                           "access_after", "access_change"]]
        show_table(streets.round(2), hide_index=True, width="stretch",
                   column_config={"street": t("equity.col.street"), "elderly": demand_label(split_token(token)[1]),
                                  "covered_before": t("planning.whatif.covered_before"),
                                  "covered_after": t("planning.whatif.covered_after"),
                                  "covered_change": t("planning.whatif.covered_change"),
                                  "access_before": t("planning.whatif.access_before"),
                                  "access_after": t("planning.whatif.access_after"),
                                  "access_change": t("planning.whatif.access_change")})
        g1, g2 = st.columns(2)
        grid_cols = {"grid_id": t("col.grid_id"), "street": t("col.street"),
                     "elderly": demand_label(split_token(token)[1]),
                     "covered_change": t("planning.whatif.covered_change"),
                     "access_change": t("planning.whatif.access_change")}
        g1.markdown(f"**{t('planning.whatif.lost', n=len(result.lost))}**")
        show_table(result.lost[list(grid_cols)].round(2), where=g1, hide_index=True, width="stretch",
                   empty="empty.rows", column_config=grid_cols)
        g2.markdown(f"**{t('planning.whatif.gained', n=len(result.gained))}**")
        show_table(result.gained[list(grid_cols)].round(2), where=g2, hide_index=True, width="stretch",
                   empty="empty.rows", column_config=grid_cols)
        if auth.allowed("planner"):
            s1, s2 = st.columns([3, 1])
            name = s1.text_input(t("siting.scn.name"), key="cov_wi_name")
            if s2.button(t("planning.whatif.save"), key="cov_wi_save") and name.strip():
                auth.require("planner", action="scenario_save", target=name.strip())
                _, demand = split_token(token)
                d = demand or Demand()
                try:
                    saved = get_store(ctx.path).save_scenario(
                        whatif_scenario(name.strip(), result, demand={"year": d.year, "weight": d.weight}),
                        district=get_ref(ctx.path).district)
                    auth.audit("scenario_save", target=saved.name, detail=f"{ctx.path}; kind={SCENARIO_KIND}")
                    st.success(t("siting.scn.saved", name=saved.name))
                except DataError as err:
                    st.error(t("siting.scn.failed", message="; ".join(problem_text(p) for p in err.problems)))
