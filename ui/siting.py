"""Streamlit-side pieces of the siting page: cached instances, the solve with progress, map, curve, scenarios.

The siting instance (demand rows, reach matrix) is built once per dataset
version and parameter set (`st.cache_resource`); it reuses the coverage
page's cached demand points and walking graph, so both pages measure reach
the same way. Solving is not cached: the page keeps the last answer in the
session and shows a progress bar while it runs.
"""

from __future__ import annotations

import html
import json

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis.coverage import service_areas
from analysis.equity import DISTRICT_ROW, EquityResult
from analysis.siting import (
    DistanceRun,
    PlanDemand,
    SitingParams,
    SitingProblem,
    SitingRequest,
    SitingResult,
    SitingRun,
    existing_stations,
    grid_gains,
    load_run,
    scenario_equity,
    site_service_areas,
    sites_table,
    siting_problem,
)
from analysis.siting.scenario import SavedRun
from analysis.siting.scenario import run_siting as answer_request
from geo.crs import WGS84
from geo.errors import DataError
from geo.scenarios import MAX_NAME_CHARS, Scenario
from geo.storage import DatasetStore
from i18n import label_of, problem_text, t
from ui import auth
from ui.charts import style
from ui.coverage import coverage_inputs, grid_shapes, walk_graph
from ui.data import get_dataset
from ui.demand import Demand, split_token
from ui.layers import add_facilities, street_outlines
from ui.maps import add_lines, add_points, add_polygons, new_map, quantile_colors, to_display
from ui.planning import demand_label

SITE_COLOR = "#08519c"
SITE_AREA_COLOR = "#3182bd"
EXISTING_AREA_COLOR = "#969696"
CANDIDATE_COLOR = "#737373"
GAIN_PALETTE = ("#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#31a354", "#006d2c")
NO_GAIN_COLOR = "#f7f7f7"
MAX_LABELLED_SITES = 40


def _params_key(params: SitingParams) -> str:
    return json.dumps(params.to_dict(), sort_keys=True, ensure_ascii=False)


@st.cache_resource(show_spinner=False, max_entries=8)
def _instance(path: str, token: str, params_key: str) -> SitingProblem:
    params = SitingParams.from_dict(json.loads(params_key))
    inputs = coverage_inputs(path, token)
    graph = walk_graph(path, token) if params.distance == "walking" else None
    return siting_problem(get_dataset(path), params, demand=inputs.demand, graph=graph)


def siting_instance(path: str, token: str, params: SitingParams) -> SitingProblem:
    """The reduced siting instance for these parameters (cached). Raises `AnalysisError`."""
    return _instance(path, token, _params_key(params))


def run_siting(path: str, token: str, request: SitingRequest) -> SitingRun:
    """Build (or reuse) the instance, solve, trace the curve; a progress bar shows each step."""
    bar = st.progress(0.0, text=t("siting.progress.build"))
    try:
        prob = siting_instance(path, token, request.params)
        bar.progress(0.15, text=t("siting.progress.solve", n=prob.n_candidates, rows=prob.n_rows))

        def step(done: int, total: int) -> None:
            bar.progress(0.35 + 0.65 * done / total, text=t("siting.progress.curve", done=done, total=total))

        return answer_request(prob, request, on_solved=step, on_progress=step)
    finally:
        bar.empty()


# --- tables and downloads ------------------------------------------------------------

def site_rows(prob: SitingProblem, result: SitingResult) -> gpd.GeoDataFrame:
    """Chosen sites for display and download, WGS84 with lon/lat columns."""
    table = sites_table(prob, result)
    if table.crs is not None:
        table = table.to_crs(WGS84)
    lon = table.geometry.x.round(6) if len(table) else pd.Series([], dtype=float)
    lat = table.geometry.y.round(6) if len(table) else pd.Series([], dtype=float)
    out = table.assign(gain_elderly=table["gain_elderly"].round(1), covered_elderly=table["covered_elderly"].round(1),
                       covered_share=(100 * table["covered_share"]).round(2), lon=lon, lat=lat)
    if "name" not in out.columns:
        out.insert(2, "name", "")
    return out


def site_labels() -> dict[str, str]:
    return {"rank": t("siting.col.rank"), "site_id": t("siting.col.site_id"), "name": t("col.name"),
            "gain_elderly": t("siting.col.gain"), "covered_elderly": t("siting.col.covered"),
            "covered_share": t("siting.col.share"), "capacity": t("col.capacity"), "lon": t("siting.col.lon"),
            "lat": t("siting.col.lat")}


def site_downloads(rows: gpd.GeoDataFrame, *, file_stem: str, key: str) -> None:
    """CSV (UTF-8 with BOM), XLSX (cells formula-safe) and GeoJSON of the chosen sites, written on a click."""
    plain = pd.DataFrame(rows.drop(columns="geometry"))
    csv, xlsx = auth.table_files(plain.rename(columns=site_labels()))
    geo = gpd.GeoDataFrame(plain.drop(columns=["lon", "lat"]), geometry=rows.geometry.to_numpy(), crs=WGS84)
    c1, c2, c3 = st.columns(3)
    auth.download_button(c1, t("download.csv"), csv, file_name=f"{file_stem}.csv", mime="text/csv", key=f"{key}_csv")
    auth.download_button(c2, t("download.xlsx"), xlsx, file_name=f"{file_stem}.xlsx", mime=auth.XLSX_MIME,
                         key=f"{key}_xlsx")
    auth.download_button(c3, t("download.geojson"), lambda: geo.to_json(ensure_ascii=False, drop_id=True).encode("utf-8"),
                         file_name=f"{file_stem}.geojson", mime="application/geo+json", key=f"{key}_geojson")


# --- map -----------------------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=8)
def _existing_areas(path: str, token: str, params_key: str) -> gpd.GeoDataFrame:
    """Existing stations' service areas, dissolved into one shape (WGS84)."""
    params = SitingParams.from_dict(json.loads(params_key))
    inputs = coverage_inputs(path, token)
    graph = walk_graph(path, token) if params.distance == "walking" else None
    areas = service_areas(inputs, facility_types=(params.facility_type,), radius_m=params.radius_m,
                          distance=params.distance, graph=graph)
    if areas.empty:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)
    merged = gpd.GeoDataFrame(geometry=[areas.union_all().simplify(5.0)], crs=areas.crs)
    return merged.to_crs(WGS84)


@st.cache_resource(show_spinner=False, max_entries=12)
def _siting_map(path: str, token: str, lang: str, tiles: str | None, tiles_attr: str, datum: str, params_key: str,
                site_ids: tuple[str, ...], gains: tuple[float, ...]) -> tuple[folium.Map, list[tuple[str, str]]]:
    params = SitingParams.from_dict(json.loads(params_key))
    prob = _instance(path, token, params_key)
    result = SitingResult(site_ids=site_ids, gains_elderly=gains, n_requested=len(site_ids), solver="",
                          total_elderly=prob.total_elderly, existing_elderly=prob.existing_elderly,
                          added_elderly=float(sum(gains)), bound_elderly=None, optimal=False, status="",
                          elapsed_s=0.0)
    gains = grid_gains(prob, result).set_index("grid_id")
    shapes = grid_shapes(path, token)
    if params.street is not None:
        shapes = shapes[shapes["street"] == params.street]
    g = gains.reindex(shapes["grid_id"].astype(str))
    new = g["new_elderly"].fillna(0.0).to_numpy()
    positive = new > 0.05
    colors = [NO_GAIN_COLOR] * len(new)
    legend_items: list[tuple[str, str]] = [(NO_GAIN_COLOR, t("siting.map.no_gain", lang=lang))]
    if positive.any():
        pos_colors, pos_legend = quantile_colors(pd.Series(new[positive]), palette=GAIN_PALETTE)
        for i, c in zip(np.flatnonzero(positive), pos_colors, strict=True):
            colors[i] = c
        legend_items += pos_legend
    shown = shapes.assign(
        elderly=g["elderly"].fillna(0.0).round(0).to_numpy(),
        new=np.round(new, 1),
        before=[f"{100 * v:.1f}%" for v in g["share_before"].fillna(0.0)],
        after=[f"{100 * v:.1f}%" for v in g["share_after"].fillna(0.0)],
    )
    m = new_map(shapes.total_bounds, tiles=tiles, tiles_attr=tiles_attr)
    add_polygons(m, shown, name=t("siting.map.grids", lang=lang), fill=colors, class_name="ga-grid ga-siting-grid",
                 tooltip=[("grid_id", t("col.grid_id", lang=lang)), ("street", t("col.street", lang=lang)),
                          ("elderly", t("col.elderly", lang=lang)), ("before", t("siting.map.before", lang=lang)),
                          ("after", t("siting.map.after", lang=lang)), ("new", t("siting.map.new", lang=lang))],
                 datum=datum, fill_opacity=0.75, simplify_m=None)
    existing = _existing_areas(path, token, params_key)
    if len(existing):
        add_polygons(m, existing, name=t("siting.map.existing_areas", lang=lang), fill=EXISTING_AREA_COLOR,
                     color="#636363", weight=1.0, fill_opacity=0.3, class_name="ga-existing-area",
                     datum=datum, simplify_m=None)
    add_lines(m, street_outlines(shapes), name=t("map.layer.streets", lang=lang), color="#222222", weight=2.0,
              class_name="ga-street", datum=datum, simplify_m=None)
    if site_ids:
        graph = walk_graph(path, token) if params.distance == "walking" else None
        areas = site_service_areas(prob, result, graph=graph).to_crs(WGS84)
        areas["geometry"] = areas.geometry.simplify(2e-5)
        add_polygons(m, areas, name=t("siting.map.new_areas", lang=lang), fill=SITE_AREA_COLOR, color=SITE_AREA_COLOR,
                     weight=1.5, fill_opacity=0.18, class_name="ga-site-area", datum=datum, simplify_m=None,
                     tooltip=[("rank", t("siting.col.rank", lang=lang)), ("site_id", t("siting.col.site_id", lang=lang))])
    if prob.sites is not None:
        chosen = set(site_ids)
        others = prob.sites[~prob.sites["site_id"].astype(str).isin(chosen)]
        if len(others):
            cols = [c for c in ("site_id", "name") if c in others.columns]
            add_points(m, others.to_crs(WGS84), name=f"{t('siting.map.candidates', lang=lang)} ({len(others)})",
                       color=CANDIDATE_COLOR, radius_px=3, class_name="ga-candidate", datum=datum, show=False,
                       tooltip=[(c, t("siting.col.site_id" if c == "site_id" else "col.name", lang=lang))
                                for c in cols], fill_opacity=0.7)
    add_facilities(m, existing_stations(get_dataset(path).facilities, params.facility_type), datum=datum,
                   types=(params.facility_type,))
    if site_ids:
        rows = site_rows(prob, result)
        add_points(m, rows, name=f"{t('siting.map.sites', lang=lang)} ({len(rows)})", color=SITE_COLOR,
                   radius_px=7, class_name="ga-site", datum=datum,
                   tooltip=[("rank", t("siting.col.rank", lang=lang)), ("site_id", t("siting.col.site_id", lang=lang)),
                            ("name", t("col.name", lang=lang)), ("gain_elderly", t("siting.col.gain", lang=lang))])
        if len(rows) <= MAX_LABELLED_SITES:
            labels = folium.FeatureGroup(name=t("siting.map.ranks", lang=lang))
            disp = to_display(rows[["rank", "geometry"]], datum=datum)
            for rank, pt in zip(disp["rank"], disp.geometry, strict=True):
                folium.Marker([pt.y, pt.x], icon=folium.DivIcon(
                    html=f'<div class="ga-site-rank">{html.escape(str(int(rank)))}</div>',
                    icon_size=(18, 18), icon_anchor=(9, 9))).add_to(labels)
            labels.add_to(m)
            m.get_root().header.add_child(folium.Element(
                "<style>.ga-site-rank{color:#fff;font:bold 11px sans-serif;text-align:center;line-height:18px;"
                "pointer-events:none}</style>"))
    folium.LayerControl(collapsed=False).add_to(m)
    return m, legend_items


def siting_map(path: str, token: str, lang: str, tiles: str | None, tiles_attr: str, datum: str,
               params: SitingParams, result: SitingResult) -> tuple[folium.Map, list[tuple[str, str]]]:
    """Grids shaded by newly covered aged 60+, existing and new service areas, the chosen sites; and a legend."""
    return _siting_map(path, token, lang, tiles, tiles_attr, datum, _params_key(params), result.site_ids,
                       result.gains_elderly)


# --- charts --------------------------------------------------------------------------

def curve_chart(curve: pd.DataFrame, *, existing_share: float, marked_n: int | None, target_share: float | None,
                title: str) -> go.Figure:
    """Covered share against the number of new sites: the optimum per N and the greedy plan."""
    fig = go.Figure()
    x = [0, *curve["n_new"].tolist()]
    if "exact_share" in curve.columns:
        fig.add_scatter(x=x, y=[100 * existing_share, *(100 * curve["exact_share"]).tolist()], mode="lines+markers",
                        name=t("siting.curve.exact"), line={"color": SITE_COLOR, "width": 3})
    fig.add_scatter(x=x, y=[100 * existing_share, *(100 * curve["greedy_share"]).tolist()], mode="lines+markers",
                    name=t("siting.curve.greedy"), line={"color": "#fd8d3c", "dash": "dash"})
    if marked_n:
        fig.add_vline(x=marked_n, line={"color": "#636363", "dash": "dot"})
    if target_share is not None:
        fig.add_hline(y=100 * target_share, line={"color": "#cb181d", "dash": "dot"},
                      annotation_text=t("siting.curve.target"))
    fig.update_xaxes(title=t("siting.curve.x"), dtick=1 if len(x) <= 21 else None)
    fig.update_yaxes(title=t("siting.curve.y"), ticksuffix="%")
    fig.update_layout(legend={"orientation": "h", "y": -0.25})
    return style(fig, title=title, height=340)


# --- saved scenarios: both objectives, the demand each was sited for --------------------------------------------

def plan_demand(demand: Demand | None) -> PlanDemand:
    """The page's demand (`ui.demand.Demand`: plan year, weight, survival table) as a scenario records it."""
    d = demand or Demand()
    return PlanDemand.of(d.year, d.weight, d.table() if d.year is not None else None)


def demand_text(d: PlanDemand) -> str:
    """Whom a scenario was sited for, for its line in the list: 60岁以上老人 · 2030年 (survival table)."""
    who = demand_label(Demand(d.year, d.weight, None))
    if d.year is None:
        return who
    return t("siting_scn.demand.table", who=who, table=d.survival or "—",
             note=t("siting_scn.demand.assumption") if d.survival_assumption else "")


def objective_text(run: SavedRun) -> str:
    return t("siting_scn.objective.distance") if isinstance(run, DistanceRun) else t("siting_scn.objective.coverage")


def question_text(run: SavedRun) -> str:
    """What was asked: N sites, a target share, or (distance) a budget."""
    if isinstance(run, DistanceRun):
        q = run.request
        return (t("siting_scn.q_budget", budget=f"{q.budget:g}") if q.budget is not None
                else t("siting.scn.q_n", n=q.n_new))
    if run.request.mode == "target":
        return t("siting.scn.q_target", share=100 * (run.result.target_share or 0))
    return t("siting.scn.q_n", n=run.request.n_new)


def params_text(run: SavedRun) -> str:
    """The rest of the question: type, reach or distance mode, candidates, solver; required/excluded sites."""
    if isinstance(run, DistanceRun):
        q = run.request
        text = t("siting_scn.params.distance", type=label_of("facility", q.facility_type),
                 distance=t(f"siting.distance.{q.distance}"), source=t(f"siting.candidates.{q.candidates}"))
        if q.required:
            text += t("siting_scn.params.required", ids="、".join(q.required))
        if q.excluded:
            text += t("siting_scn.params.excluded", ids="、".join(q.excluded))
        return text
    p = run.request.params
    return t("siting.scn.params", type=label_of("facility", p.facility_type), radius=p.radius_m,
             distance=t(f"siting.distance.{p.distance}"), source=t(f"siting.candidates.{p.candidates}"),
             solver=t(f"siting.solver.{run.result.solver}"))


def scenario_table(runs: list[tuple[Scenario, SavedRun]]) -> pd.DataFrame:
    """One row per saved scenario, either objective, labelled for display: its objective and demand first; the
    coverage figures for coverage answers, the distances for distance answers ("—" where a figure does not apply)."""
    rows = []
    none = "—"
    for s, run in runs:
        r = run.result
        dist = isinstance(run, DistanceRun)
        p = run.request if dist else run.request.params
        rows.append({
            t("siting.scn.name"): s.name,
            t("siting.scn.saved_at"): s.saved_at.replace("T", " ")[:16],
            t("siting_scn.col.objective"): objective_text(run),
            t("siting_scn.col.demand"): demand_text(run.demand),
            t("siting.type"): label_of("facility", p.facility_type),
            t("siting.radius_m"): none if dist else f"{p.radius_m:g}",
            t("siting.distance"): t(f"siting.distance.{p.distance}"),
            t("siting.scn.question"): question_text(run),
            t("siting.kpi.sites"): r.n_new,
            t("siting.kpi.after"): none if dist else f"{100 * r.covered_share:.1f}%",
            t("siting.kpi.added"): none if dist else f"{r.added_elderly:,.0f}",
            t("siting_scn.col.mean"): f"{r.mean_distance_m:,.0f}" if dist else none,
            t("siting_scn.col.p90"): f"{r.p90_distance_m:,.0f}" if dist else none,
            t("siting.kpi.optimal"): t("siting.yes") if r.optimal else t("siting.no"),
        })
    return pd.DataFrame(rows)


@st.cache_resource(show_spinner=False, max_entries=16)
def _equity(path: str, token: str, key: str, _scenario: Scenario) -> tuple[EquityResult, EquityResult]:
    run = load_run(_scenario)
    distance = run.request.distance if isinstance(run, DistanceRun) else run.request.params.distance
    graph = walk_graph(path, token) if distance == "walking" else None
    return scenario_equity(get_dataset(path), run, graph=graph)


def saved_equity(path: str, token: str, scenario: Scenario) -> tuple[EquityResult, EquityResult]:
    """`analysis.siting.scenario_equity` of a saved scenario on this dataset version, cached: before and after,
    with the scenario's own demand. ``token``: the version token (not a page's demand token)."""
    key = json.dumps([scenario.name, scenario.saved_at, scenario.params, scenario.result.get("site_ids")],
                     sort_keys=True, ensure_ascii=False, default=str)
    return _equity(path, split_token(token)[0], key, scenario)


def _fmt(v: float, *, pct: bool = False) -> str:
    if pd.isna(v):
        return "—"
    if v == float("inf"):
        return "∞"
    return f"{100 * v:.1f}%" if pct else f"{v:.3f}"


def equity_frame(before: EquityResult, after: EquityResult) -> pd.DataFrame:
    """The district's equity before and after a scenario: beyond reach (count, share), Gini, Palma."""
    b = before.streets.set_index("street").loc[DISTRICT_ROW]
    a = after.streets.set_index("street").loc[DISTRICT_ROW]
    return pd.DataFrame({
        t("siting_scn.equity.figure"): [t("equity.col.beyond"), t("equity.col.beyond_share"), t("equity.col.gini"),
                                        t("equity.col.palma")],
        t("siting_scn.equity.before"): [f"{b['beyond']:,.0f}", _fmt(b["beyond_share"], pct=True), _fmt(b["gini"]),
                                        _fmt(b["palma"])],
        t("siting_scn.equity.after"): [f"{a['beyond']:,.0f}", _fmt(a["beyond_share"], pct=True), _fmt(a["gini"]),
                                       _fmt(a["palma"])],
    })


def save_answer(store: DatasetStore, scenario: Scenario, *, taken: set[str], overwrite: bool, district: str | None,
                dataset: str) -> Scenario | None:
    """Save an answer under its name with the page's name rules and audit (either objective); messages shown here.
    Returns the saved scenario, None when refused."""
    clean = scenario.name.strip()  # the common mistakes get a message in the page's language
    if not clean:
        st.error(t("siting.scn.name_empty"))
    elif len(clean) > MAX_NAME_CHARS:
        st.error(t("siting.scn.name_long", n=MAX_NAME_CHARS))
    elif not overwrite and clean in taken:
        st.error(t("siting.scn.name_taken", name=clean))
    else:
        try:
            s = store.save_scenario(Scenario(name=clean, kind=scenario.kind, params=scenario.params,
                                             result=scenario.result), overwrite=overwrite, district=district)
        except DataError as err:
            st.error(t("siting.scn.failed", message="; ".join(problem_text(p) for p in err.problems)))
            return None
        auth.audit("scenario_save", target=s.name, detail=f"{dataset}; overwrite={overwrite}")
        st.success(t("siting.scn.saved", name=s.name))
        return s
    return None
