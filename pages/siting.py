"""选址规划 Siting: where N new stations reach the most uncovered aged 60+; the curve; saved scenarios."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analysis.coverage import DEFAULT_RADIUS_M
from analysis.options import DISTANCES, SOLVERS
from analysis.siting import (
    MODES,
    SCENARIO_KIND,
    DistanceRun,
    PlanDemand,
    SitingParams,
    SitingRequest,
    SitingRun,
    candidate_sources,
    load_run,
    open_scenario_site,
)
from analysis.siting.scenario import opening_note
from geo.errors import AnalysisError, DataError
from geo.schema import FACILITY_TYPES
from i18n import error_text, label_of, problem_text, t
from ui import auth, widgets
from ui.city import require_district
from ui.context import get_context
from ui.data import get_ref, get_store, version_committed
from ui.maps import legend, show_map
from ui.planning import demand_label, plan_controls
from ui.section import section
from ui.section import table as show_table
from ui.siting import (
    curve_chart,
    demand_text,
    equity_frame,
    objective_text,
    params_text,
    plan_demand,
    run_siting,
    save_answer,
    saved_equity,
    scenario_table,
    site_downloads,
    site_labels,
    site_rows,
    siting_instance,
    siting_map,
)
from ui.siting_distance import distance_section

OPENED_FLASH = "siting_opened_flash"

ctx = get_context()
require_district(ctx)
ds = ctx.ds
st.title(t("siting.title", district=ds.meta_dict.get("district") or ds.name))
intro = st.empty()  # names the people counted, chosen by the plan controls below
if ctx.street is not None:
    st.info(t("siting.street_note", street=ctx.street))
# a plan year or the aged 80+: the demand the stations are sited for, part of the token of the cached runs
token, demand = plan_controls(ctx, key="site_plan")
intro.caption(t("siting.intro", who=demand_label(demand)))

sources = candidate_sources(ds)
has_candidates = "layer" in sources

# --- parameters --------------------------------------------------------------------
# only planners and above see the run form; a leader sees the answers saved before
can_plan = auth.allowed("planner")
submitted = False
if not can_plan:
    st.info(t("auth.role_note.planner"))
else:
    with st.form("siting_form"):
        # choices with translated labels go through ui.widgets, so a language switch keeps them
        r1 = st.columns([2, 1.3, 1.5, 2, 1.5])
        with r1[0]:
            ftype = widgets.selectbox(t("siting.type"), tuple(FACILITY_TYPES), default="day_care", key="site_type",
                                      lang=ctx.lang, format_func=lambda c: label_of("facility", c))
        radius = r1[1].number_input(t("siting.radius_m"), min_value=50.0, max_value=5000.0,
                                    value=DEFAULT_RADIUS_M["day_care"], step=50.0, key="site_radius")
        with r1[2]:
            distance = widgets.radio(t("siting.distance"), DISTANCES, key="site_distance", lang=ctx.lang,
                                     format_func=lambda d: t(f"siting.distance.{d}"))
        with r1[3]:
            source = widgets.radio(t("siting.candidates"), sources, key="site_source", lang=ctx.lang,
                                   format_func=lambda s: t(f"siting.candidates.{s}"))
        with r1[4]:
            solver = widgets.radio(t("siting.solver"), SOLVERS, key="site_solver", lang=ctx.lang,
                                   format_func=lambda s: t(f"siting.solver.{s}"))
        r2 = st.columns([2, 1.3, 1.5, 2, 1.5])
        with r2[0]:
            mode = widgets.radio(t("siting.mode"), MODES, key="site_mode", lang=ctx.lang, horizontal=True,
                                 format_func=lambda m: t(f"siting.mode.{m}"))
        n_new = int(r2[1].number_input(t("siting.n_new"), min_value=1, value=5, step=1, key="site_n"))
        target_pct = r2[2].number_input(t("siting.target_pct"), min_value=1.0, max_value=100.0, value=40.0, step=5.0,
                                        key="site_target")
        spacing = r2[3].number_input(t("siting.min_spacing_m"), min_value=0.0, max_value=5000.0, value=0.0, step=50.0,
                                     key="site_spacing", help=t("siting.min_spacing_m.help"))
        curve_max = int(r2[4].number_input(t("siting.curve_max"), min_value=1, max_value=60, value=15, step=1,
                                           key="site_curve_max"))
        r3 = st.columns([2, 1.3, 6.3])
        use_capacity = r3[0].checkbox(t("siting.capacity"), key="site_capacity_on", help=t("siting.capacity.help"))
        site_capacity = r3[1].number_input(t("siting.site_capacity"), min_value=1.0, value=100.0, step=10.0,
                                           key="site_capacity")
        if not has_candidates:
            r3[2].caption(t("siting.no_candidates_layer"))
        if ds.roads is None:
            r3[2].caption(t("siting.no_roads"))
        submitted = st.form_submit_button(t("siting.run"), type="primary")

    request = SitingRequest(
        params=SitingParams(facility_type=ftype, radius_m=float(radius), distance=distance, candidates=source,
                            min_spacing_m=float(spacing), capacity=bool(use_capacity),
                            site_capacity=float(site_capacity) if use_capacity else None, street=ctx.street),
        mode=mode, n_new=n_new, target_share=float(target_pct) / 100.0, solver=solver, curve_max=curve_max)

if submitted:
    auth.require("planner", action="siting_run")
    try:
        st.session_state["siting_run"] = (token, run_siting(ctx.path, token, request))
        st.session_state.pop("siting_error", None)
    except AnalysisError as err:
        st.session_state.pop("siting_run", None)
        st.session_state["siting_error"] = err  # shown by its code, in the language of each rerun

if st.session_state.get("siting_error"):
    st.error(t("siting.error", message=error_text(st.session_state["siting_error"])))

stored = st.session_state.get("siting_run")
run: SitingRun | None = stored[1] if stored and stored[0] == token else None
other_street = run is not None and run.request.params.street != ctx.street  # not this street's answer

# --- the answer ------------------------------------------------------------------------
if run is None or other_street:
    if other_street:
        st.info(t("siting.other_street", street=run.request.params.street or t("sidebar.all_streets")))
        run = None
    elif not st.session_state.get("siting_error"):
        st.info(t("siting.start_hint"))
else:
    with section("siting.answer"):
        res, req = run.result, run.request
        prob = siting_instance(ctx.path, token, req.params)
        if req.mode == "target":
            st.success(t("siting.answer.target", n=res.n_new, share=100 * (res.target_share or 0)))
        elif res.n_new < res.n_requested:
            st.warning(t("siting.answer.fewer", n=res.n_new, asked=res.n_requested))
        if req.params.capacity:
            st.caption(t("siting.capacity_note"))
        k = st.columns(6)
        k[0].metric(t("siting.kpi.sites"), f"{res.n_new}")
        k[1].metric(t("siting.kpi.before"), f"{100 * res.existing_share:.1f}%")
        k[2].metric(t("siting.kpi.after"), f"{100 * res.covered_share:.1f}%",
                    f"+{100 * res.added_share:.1f} pt", delta_color="normal")
        k[3].metric(t("siting.kpi.added"), f"{res.added_elderly:,.0f}")
        if res.optimal:
            k[4].metric(t("siting.kpi.optimal"), t("siting.yes"), t(f"siting.solver.{res.solver}"), delta_color="off",
                        delta_arrow="off")
        else:
            gap = "—" if res.gap is None else f"{100 * res.gap:.2f}%"
            k[4].metric(t("siting.kpi.gap"), gap, t(f"siting.solver.{res.solver}"), delta_color="off", delta_arrow="off")
        k[5].metric(t("siting.kpi.seconds"), f"{res.elapsed_s:.2f} s",
                    t("siting.kpi.rows", rows=f"{prob.n_rows:,}", points=f"{prob.n_points:,}"), delta_color="off",
                    delta_arrow="off")

        map_col, side_col = st.columns([4, 1])
        with map_col:
            st.subheader(t("siting.map.title"))
            m, gain_legend = siting_map(ctx.path, token, ctx.lang, ctx.tiles, ctx.tiles_attr, ctx.tiles_datum,
                                        req.params, res)
            show_map(m, key="siting_map", height=600)
            st.caption(t("siting.map.help"))
        with side_col:
            legend(t("siting.map.legend"), gain_legend)
        st.plotly_chart(curve_chart(run.curve, existing_share=res.existing_share, marked_n=res.n_new,
                                    target_share=res.target_share, title=t("siting.curve.title")),
                        width="stretch", key="siting_curve")

        st.subheader(t("siting.table.title"))
        rows = site_rows(prob, res)
        show = [c for c in ("rank", "site_id", "name", "gain_elderly", "covered_elderly", "covered_share", "capacity",
                            "lon", "lat") if c in rows.columns]
        show_table(rows[show].rename(columns=site_labels()), hide_index=True, width="stretch")
        site_downloads(rows[[*show, "geometry"]], file_stem=t("siting.file"), key="siting_sites")


# --- the other objective: siting by distance (p-median) ----------------------------------------
# before the scenarios, so that a distance answer saved there is listed below in the same rerun
distance_section(ctx, token, demand)


# --- scenarios -----------------------------------------------------------------------------
@st.fragment
def scenarios_section(path: str, dataset: str, run: SitingRun | None, plan: PlanDemand) -> None:
    """Save the current answer under a name; list both objectives with the demand each was sited for; compare two
    side by side with their equity before and after (each with its own demand); mark a site opened; delete (a
    district's own in a city)."""
    store, district = get_store(path), get_ref(path).district
    with section("siting.scenarios"):
        st.subheader(t("siting.scn.title"))
        try:
            saved = store.list_scenarios(kind=SCENARIO_KIND, district=district)
        except DataError as err:
            st.error(t("siting.scn.unavailable", message="; ".join(problem_text(p) for p in err.problems)))
            return
        can_plan = auth.allowed("planner")
        if can_plan:
            c_name, c_over, c_save = st.columns([3, 1.2, 1])
            name = c_name.text_input(t("siting.scn.name"), key="scn_name", placeholder=t("siting.scn.name_hint"))
            overwrite = c_over.checkbox(t("siting.scn.overwrite"), key="scn_overwrite")
        if can_plan and c_save.button(t("siting.scn.save"), key="scn_save", disabled=run is None):
            auth.require("planner", action="scenario_save", target=name.strip())
            if save_answer(store, run.to_scenario(name, dataset=dataset, demand=plan), taken={s.name for s in saved},
                           overwrite=overwrite, district=district, dataset=dataset) is not None:
                saved = store.list_scenarios(kind=SCENARIO_KIND, district=district)
        if run is None and can_plan:
            st.caption(t("siting.scn.run_first"))
        if not saved:
            st.caption(t("siting.scn.none"))
            return
        runs = [(s, load_run(s)) for s in saved]
        st.dataframe(scenario_table(runs), hide_index=True, width="stretch")
        names = [s.name for s in saved]
        by_name = {s.name: (s, r) for s, r in runs}

        st.markdown(f"**{t('siting.scn.compare')}**")
        a_col, b_col = st.columns(2)
        # Keys follow the list, so after a save or delete the two latest scenarios are compared.
        listed = str(abs(hash(tuple(names))))
        pick_a = a_col.selectbox(t("siting.scn.a"), names, index=max(0, len(names) - 2), key=f"scn_a_{listed}")
        pick_b = b_col.selectbox(t("siting.scn.b"), names, index=len(names) - 1, key=f"scn_b_{listed}")
        (sa, a), (sb, b) = by_name[pick_a], by_name[pick_b]
        for col, s, scn in ((a_col, sa, a), (b_col, sb, b)):
            with col:
                st.caption(t("siting_scn.for", objective=objective_text(scn), demand=demand_text(scn.demand)))
                st.caption(params_text(scn))
                r = scn.result
                m1, m2, m3 = st.columns(3)
                m1.metric(t("siting.kpi.sites"), r.n_new)
                if isinstance(scn, DistanceRun):
                    m2.metric(t("siting_distance.kpi.mean"), f"{r.mean_distance_m:,.0f} m",
                              f"{r.mean_distance_m - r.mean_before_m:+,.0f} m", delta_color="inverse")
                    m3.metric(t("siting_distance.kpi.p90"), f"{r.p90_distance_m:,.0f} m",
                              f"{r.p90_distance_m - r.p90_before_m:+,.0f} m", delta_color="inverse")
                    gains = {t("siting_distance.col.saving_m"): [round(g, 0) for g in r.savings_m]}
                else:
                    m2.metric(t("siting.kpi.after"), f"{100 * r.covered_share:.1f}%")
                    m3.metric(t("siting.kpi.added"), f"{r.added_elderly:,.0f}")
                    gains = {t("siting.col.gain"): [round(g, 1) for g in r.gains_elderly]}
                show_table(pd.DataFrame({t("siting.col.rank"): list(range(1, r.n_new + 1)),
                                         t("siting.col.site_id"): list(r.site_ids), **gains}),
                           hide_index=True, width="stretch", height=min(400, 38 + 35 * max(1, r.n_new)))
                st.markdown(f"**{t('siting_scn.equity.title')}**")
                try:
                    before, after = saved_equity(path, get_store(path).token, s)
                except AnalysisError as err:  # e.g. a plan-year scenario on data that has lost its age bands
                    st.error(t("siting_scn.equity.failed", message=error_text(err)))
                else:
                    show_table(equity_frame(before, after), hide_index=True, width="stretch")
        st.caption(t("siting_scn.equity.help"))
        if a.demand != b.demand:
            st.warning(t("siting_scn.demand_differs", a=demand_text(a.demand), b=demand_text(b.demand)))
        common = sorted(set(a.result.site_ids) & set(b.result.site_ids))
        if isinstance(a, SitingRun) and isinstance(b, SitingRun):
            diff = round(100 * (b.result.covered_share - a.result.covered_share), 1)
            st.caption(t(f"siting.scn.common.{'more' if diff > 0 else 'less' if diff < 0 else 'same'}", n=len(common),
                         diff=abs(diff)))
        else:
            st.caption(t("siting_scn.common", n=len(common)))

        open_section(path, store, by_name)

        if not can_plan:
            return
        d_col, d_btn = st.columns([3, 1])
        victim = d_col.selectbox(t("siting.scn.delete_which"), names, key="scn_delete_pick")
        if d_btn.button(t("siting.scn.delete"), key="scn_delete"):
            auth.require("planner", action="scenario_delete", target=victim)
            try:
                store.delete_scenario(victim, district=district)
                auth.audit("scenario_delete", target=victim, detail=dataset)
                st.toast(t("siting.scn.deleted", name=victim))
                st.rerun(scope="fragment")
            except DataError as err:
                st.error(t("siting.scn.failed", message="; ".join(problem_text(p) for p in err.problems)))


def open_section(path: str, store, by_name: dict) -> None:
    """Staff mark a site of a saved scenario opened on a day (启用): the same code as ``scenarios --open``
    (`analysis.siting.open_scenario_site`): a new version of the facilities layer, recorded in the audit log."""
    if not auth.allowed("staff"):
        return
    st.markdown(f"**{t('siting_scn.open.title')}**")
    if st.session_state.get(OPENED_FLASH):  # the last opening, shown once after the page reran on the new version
        st.success(st.session_state.pop(OPENED_FLASH))
    o1, o2, o3, o4 = st.columns([2, 1.6, 1.4, 1])
    which = o1.selectbox(t("siting_scn.open.scenario"), list(by_name), key="scn_open_pick")
    s, scn = by_name[which]
    site = o2.selectbox(t("siting_scn.open.site"), list(scn.result.site_ids), key=f"scn_open_site_{which}")
    day = o3.date_input(t("siting_scn.open.day"), value=dt.date.today(), key="scn_open_day")
    if o4.button(t("siting_scn.open.button"), key="scn_open"):
        viewer = auth.require("staff", action="import", target=f"{store.name}/facilities")
        try:
            # the whole dataset's layer (also for one district of a city: the store is the city's)
            try:
                info, _ = open_scenario_site(store, s, site, opened_on=day, user=viewer.name)
            finally:  # every session's next run sees the new version at once (ui.data: kept briefly otherwise)
                version_committed()
        except AnalysisError as err:
            st.error(t("siting_scn.open.failed", message=error_text(err)))
            return
        except DataError as err:
            st.error(t("siting_scn.open.failed", message="; ".join(problem_text(p) for p in err.problems)))
            return
        auth.audit("import", target=f"{store.name}/facilities", detail=opening_note(s.name, site, day))
        st.session_state[OPENED_FLASH] = t("siting_scn.open.done", site=site, day=day.isoformat(), version=info.id)
        st.rerun()  # the whole page, on the new version
    st.caption(t("siting_scn.open.help"))


scenarios_section(ctx.path, ds.name, run, plan_demand(demand))
