"""The siting page's second objective: new stations chosen by distance (p-median), with the distances per street.

One section at the end of the siting page (`distance_section`): the question (N new stations or a budget,
required and excluded candidates, straight or walking distance), the answer (`analysis.siting.pmedian_sites`,
on the coverage page's cached demand points and walking graph), the mean and 90th-percentile distance of the
aged 60+ before and after, district-wide and per street, and the chosen sites; a planner saves it as a scenario
(`analysis.siting.DistanceRun`: the request, the figures and the demand, listed and compared with the coverage
scenarios below it). The demand is the page's (plan year, aged 60+ or 80+: ``token`` carries it). The last answer
is kept in the session for the dataset version and demand it was computed on; nothing is cached across sessions
(a solve takes seconds).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.options import DISTANCES
from analysis.siting import SCENARIO_KIND, DistanceRequest, DistanceRun, PMedianResult, pmedian_sites
from analysis.siting.pmedian import sites_frame
from geo.errors import AnalysisError, DataError
from i18n import error_text, problem_text, t
from i18n.labels import demand_label
from ui import auth, widgets
from ui.context import PageContext
from ui.coverage import coverage_inputs, walk_graph
from ui.data import get_ref, get_store
from ui.demand import Demand
from ui.section import section
from ui.section import table as show_table
from ui.siting import demand_text, plan_demand, save_answer

STATE = "siting_distance_run"
ERROR = "siting_distance_error"
QUESTIONS = ("n", "budget")
# the per-street table's columns, in the order shown
STREET_COLUMNS = ("street", "elderly", "mean_before_m", "mean_after_m", "p90_before_m", "p90_after_m")


def _solve(ctx: PageContext, token: str, request: DistanceRequest) -> PMedianResult:
    demand = coverage_inputs(ctx.path, token).demand  # the page's demand: a plan year, the aged 80+
    graph = walk_graph(ctx.path, token) if request.distance == "walking" else None
    with st.spinner(t("siting_distance.running")):
        return pmedian_sites(ctx.ds, n_new=request.n_new, budget=request.budget, distance=request.distance,
                             required=request.required, excluded=request.excluded, demand=demand, graph=graph)


def street_frame(res: PMedianResult, demand: Demand | None = None) -> pd.DataFrame:
    """The per-street table with the page's column labels (metres rounded, people whole); the people column names
    the demand counted (a plan year, the aged 80+) when it is not today's aged 60+."""
    df = res.by_street.copy()
    df["street"] = df["street"].replace("", t("siting_distance.district"))
    df["elderly"] = df["elderly"].round(0)
    for c in ("mean_before_m", "mean_after_m", "p90_before_m", "p90_after_m"):
        df[c] = df[c].round(0)
    df = df[list(STREET_COLUMNS)]
    names = {c: t(f"siting_distance.col.{c}") for c in df.columns}
    if demand is not None and demand != Demand():
        names["elderly"] = demand_label(demand.year, demand.weight)
    return df.rename(columns=names)


def distance_section(ctx: PageContext, token: str | None = None, demand: Demand | None = None) -> None:
    """The whole section: form (planners and above), then the last answer of this dataset version and demand
    (``token``: `ui.demand.demand_token`'s, default the plain version token), and its save as a scenario."""
    token = ctx.token if token is None else token
    with section("siting.distance"):
        st.subheader(t("siting_distance.title"))
        who = demand or Demand()
        st.caption(t("siting_distance.intro", who=demand_label(who.year, who.weight)))
        if ctx.street is not None:
            st.caption(t("siting_distance.whole_district"))
        cands = ctx.ds.candidates
        if cands is None or len(cands) == 0:
            st.info(t("siting_distance.no_candidates"))
            return
        ids = sorted(cands["site_id"].astype(str))
        if auth.allowed("planner"):
            with st.form("siting_distance_form"):
                c = st.columns([1.6, 1, 1, 1.4])
                with c[0]:
                    question = widgets.radio(t("siting_distance.question"), QUESTIONS, key="sd_question",
                                             lang=ctx.lang, horizontal=True,
                                             format_func=lambda q: t(f"siting_distance.question.{q}"))
                n_new = int(c[1].number_input(t("siting.n_new"), min_value=1, value=5, step=1, key="sd_n"))
                budget = c[2].number_input(t("siting_distance.budget"), min_value=0.0, value=300.0, step=50.0,
                                           key="sd_budget", disabled="cost" not in cands.columns,
                                           help=t("siting_distance.budget.help"))
                with c[3]:
                    distance = widgets.radio(t("siting.distance"), DISTANCES, key="sd_distance", lang=ctx.lang,
                                             horizontal=True, format_func=lambda d: t(f"siting.distance.{d}"))
                r = st.columns(2)
                with r[0]:
                    required = widgets.multiselect(t("siting_distance.required"), ids, key="sd_required", lang=ctx.lang)
                with r[1]:
                    excluded = widgets.multiselect(t("siting_distance.excluded"), ids, key="sd_excluded", lang=ctx.lang)
                submitted = st.form_submit_button(t("siting_distance.run"), type="primary")
            if submitted:
                auth.require("planner", action="siting_run")
                try:
                    request = DistanceRequest(n_new=n_new if question == "n" else None,
                                              budget=float(budget) if question == "budget" else None,
                                              required=tuple(required), excluded=tuple(excluded), distance=distance)
                    res = _solve(ctx, token, request)
                    st.session_state[STATE] = (token, DistanceRun.of(request, res, demand=plan_demand(demand)), res)
                    st.session_state.pop(ERROR, None)
                except AnalysisError as err:
                    st.session_state.pop(STATE, None)
                    st.session_state[ERROR] = err
        if st.session_state.get(ERROR):
            st.error(t("siting.error", message=error_text(st.session_state[ERROR])))
        stored = st.session_state.get(STATE)
        if not stored or stored[0] != token:
            return
        answer: DistanceRun = stored[1]
        res: PMedianResult = stored[2]
        st.caption(t("siting_scn.distance_for", demand=demand_text(answer.demand)))
        k = st.columns(5)
        k[0].metric(t("siting.kpi.sites"), f"{res.n_new}")
        k[1].metric(t("siting_distance.kpi.mean"), f"{res.mean_distance_m:,.0f} m",
                    f"{res.mean_distance_m - res.mean_before_m:+,.0f} m", delta_color="inverse")
        k[2].metric(t("siting_distance.kpi.p90"), f"{res.p90_distance_m:,.0f} m",
                    f"{res.p90_distance_m - res.p90_before_m:+,.0f} m", delta_color="inverse")
        if res.optimal:
            k[3].metric(t("siting.kpi.optimal"), t("siting.yes"))
        else:
            k[3].metric(t("siting.kpi.gap"), "—" if res.gap is None else f"{100 * res.gap:.2f}%")
        k[4].metric(t("siting.kpi.seconds"), f"{res.elapsed_s:.2f} s")
        st.caption(t("siting_distance.before", mean=f"{res.mean_before_m:,.0f}", p90=f"{res.p90_before_m:,.0f}",
                     limit=f"{res.limit_m:,.0f}", beyond=f"{res.beyond_after_elderly:,.0f}"))
        left, right = st.columns([1, 2])
        with left:
            sites = sites_frame(res, ctx.ds.candidates)
            sites["saving_m"] = sites["saving_m"].round(0)
            sites = sites.rename(columns={"site_id": t("siting.col.site_id"), "rank": t("siting.col.rank"),
                                          "saving_m": t("siting_distance.col.saving_m"),
                                          "cost": t("siting_distance.col.cost")})
            show_table(sites, hide_index=True, width="stretch")
        with right:
            show_table(street_frame(res, demand), hide_index=True, width="stretch")
        if auth.allowed("planner"):
            save_distance(ctx, answer)


def save_distance(ctx: PageContext, answer: DistanceRun) -> None:
    """The distance answer saved as a scenario: the same name rules, overwrite choice and audit as the coverage one."""
    store, district = get_store(ctx.path), get_ref(ctx.path).district
    c_name, c_over, c_save = st.columns([3, 1.2, 1])
    name = c_name.text_input(t("siting.scn.name"), key="sd_scn_name", placeholder=t("siting_scn.name_hint"))
    overwrite = c_over.checkbox(t("siting.scn.overwrite"), key="sd_scn_overwrite")
    if c_save.button(t("siting_scn.save_distance"), key="sd_scn_save"):
        auth.require("planner", action="scenario_save", target=name.strip())
        try:
            taken = {s.name for s in store.list_scenarios(kind=SCENARIO_KIND, district=district)}
        except DataError as err:
            st.error(t("siting.scn.unavailable", message="; ".join(problem_text(p) for p in err.problems)))
            return
        save_answer(store, answer.to_scenario(name, dataset=ctx.ds.name), taken=taken, overwrite=overwrite,
                    district=district, dataset=ctx.ds.name)
