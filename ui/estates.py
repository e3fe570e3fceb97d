"""Streamlit-side pieces of the estates self-governance page: cached tables, the stage map, the burn-down.

The campaign table (every listed estate with its stage, grid and grid worker)
is built once per dataset version and shared (`st.cache_resource`); the map is
built once per (dataset version, street, stages, language, basemap).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass

import folium
import geopandas as gpd
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from analysis.cases import resolve_as_of
from analysis.estates import (
    DISTRICT,
    STAGES,
    campaign_estates,
    company_league,
    estates_at_stage,
    plan_dates,
    plan_progress,
    reached_dates,
    stage_counts,
    street_progress,
)
from analysis.needs import column_present
from geo.crs import WGS84
from geo.dataset import Dataset
from geo.errors import AnalysisError
from i18n import label_of, t
from ui.charts import FONT
from ui.context import PageContext
from ui.data import STREET_ENTRIES, get_dataset
from ui.layers import street_outlines
from ui.maps import add_lines, add_points, add_polygons, new_map

# not started (red) to fees collected (green)
STAGE_COLORS: dict[str, str] = {
    "none": "#d73027", "committee_formed": "#fc8d59", "rules_adopted": "#fee08b", "managed": "#91cf60",
    "fees_started": "#1a9850",
}
GRID_FILL = "#f3efe6"
PLANNED_COLOR, BEHIND_COLOR, ON_PLAN_COLOR, REQUIRED_COLOR = "#7f7f7f", "#d62728", "#2ca02c", "#1f77b4"


@dataclass(frozen=True)
class Plan:
    """The plan's dates, and whether the target came from the dataset (else a default the user may change)."""

    start: pd.Timestamp
    target: pd.Timestamp
    as_of: pd.Timestamp
    from_meta: bool


def default_plan(ds: Dataset) -> Plan:
    """The plan in the dataset's ``meta``; without a target, the calendar year of ``as_of``.

    ``as_of``: the meta's, else the latest stage date, else the cases' (`analysis.cases.resolve_as_of`), else today.
    """
    meta = ds.meta_dict
    try:
        start, target, as_of = plan_dates(meta)
        return Plan(start, target, as_of, True)
    except AnalysisError:
        pass
    as_of = None
    if meta.get("as_of"):
        try:
            as_of = pd.Timestamp(meta["as_of"]).normalize()
        except ValueError:
            as_of = None
    if as_of is None and ds.estates is not None:
        dated = reached_dates(ds.estates).stack().dropna()  # estates without stage dates have none
        as_of = dated.max().normalize() if len(dated) else None
    if as_of is None and ds.rows("cases"):
        as_of = resolve_as_of(meta, ds.lazy_layer("cases")).normalize()
    as_of = as_of if as_of is not None else pd.Timestamp(dt.date.today())
    return Plan(pd.Timestamp(year=as_of.year, month=1, day=1), pd.Timestamp(year=as_of.year, month=12, day=31),
                as_of, False)


@st.cache_resource(show_spinner=False, max_entries=4)
def _campaign(token: str, _ds: Dataset, as_of: str) -> gpd.GeoDataFrame:
    rows = estates_at_stage(_ds.estates, _ds.grids, None, days_to=as_of)
    camp = campaign_estates(_ds.estates)
    pts = camp.geometry.representative_point().to_crs(WGS84)
    where = dict(zip(camp["estate_id"].astype(str), pts, strict=True))
    return gpd.GeoDataFrame(rows, geometry=[where[str(i)] for i in rows["estate_id"]], crs=WGS84)


def campaign_table(ctx: PageContext, plan: Plan) -> gpd.GeoDataFrame:
    """Every listed estate with its current stage, since when, its grid and grid worker (all streets)."""
    return _campaign(ctx.token, ctx.ds, str(plan.as_of.date()))


@st.cache_data(show_spinner=False, max_entries=32)
def _progress(token: str, _ds: Dataset, start: str, target: str, as_of: str, stage: str,
              street: str | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    by_street = column_present(_ds, "estates", "street")
    counts = stage_counts(_ds.estates, by="street" if by_street else None, as_of=None)
    progress = street_progress(_ds.estates, start=start, target=target, as_of=as_of, stage=stage)
    rows = plan_progress(_ds.estates, start=start, target=target, as_of=as_of, street=street)
    if not by_street:  # estates without streets: the district alone (not a street named "")
        progress, rows = progress[progress["street"] == DISTRICT], rows[rows["street"] == DISTRICT]
    return counts, progress.reset_index(drop=True), rows[rows["stage"] == stage].reset_index(drop=True)


def progress_tables(ctx: PageContext, plan: Plan, stage: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Stage counts (current, per street and district), where each street stands on ``plan.as_of`` for
    ``stage``, and the monthly plan rows of ``stage`` (the chosen street, or every street and the district):
    computed once per dataset version, plan and stage. Estates without streets give the district rows alone.
    Raises `AnalysisError` as the analysis does."""
    return _progress(ctx.token, ctx.ds, str(plan.start.date()), str(plan.target.date()), str(plan.as_of.date()),
                     stage, ctx.street)


@st.cache_data(show_spinner=False, max_entries=32)
def _league(token: str, _ds: Dataset, street: str | None, min_estates: int, n: int) -> pd.DataFrame:
    scope = _ds.estates if street is None else _ds.estates[_ds.estates["street"] == street]
    return company_league(scope, min_estates=min_estates, n=n)


def league_table(ctx: PageContext, *, min_estates: int, n: int) -> pd.DataFrame:
    """The property companies' red/black list of the chosen street (or district), cached per dataset version."""
    return _league(ctx.token, ctx.ds, ctx.street, min_estates, n)


def stage_label(code: str, lang: str | None = None) -> str:
    return label_of("governance_stage", code, lang=lang)


@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def stage_map(path: str, token: str, street: str | None, stages: tuple[str, ...], as_of: str, lang: str,
              tiles: str | None, tiles_attr: str, datum: str) -> folium.Map:
    """Grids (light), street outlines, and the listed estates as dots coloured by stage, one layer per stage."""
    ds = get_dataset(path)
    grids = ds.grids if street is None else ds.grids[ds.grids["street"] == street]
    camp = _campaign(token, ds, as_of)
    if street is not None:
        camp = camp[camp["street"] == street]
    m = new_map(grids.total_bounds, tiles=tiles, tiles_attr=tiles_attr)
    grid_tip = {"grid_id": t("col.grid_id", lang=lang), "grid_name": t("col.grid_name", lang=lang),
                "grid_worker": t("col.grid_worker", lang=lang)}
    add_polygons(m, grids, name=t("estates.map.grids", lang=lang), fill=GRID_FILL, fill_opacity=0.85,
                 class_name="ga-estates-grid", datum=datum,
                 tooltip=[(c, label) for c, label in grid_tip.items() if c in grids.columns])
    add_lines(m, street_outlines(grids), name=t("map.layer.streets", lang=lang), color="#222222", weight=2.2,
              class_name="ga-street", datum=datum, simplify_m=10.0)
    shown = camp.assign(
        stage_label=[stage_label(s, lang) for s in camp["stage"]],
        since_text=[d.strftime("%Y-%m-%d") if pd.notna(d) else "" for d in camp["since"]],
    )
    tooltip = [("name", t("col.name", lang=lang)), ("stage_label", t("col.governance_stage", lang=lang)),
               ("since_text", t("estates.map.since", lang=lang)), ("street", t("col.street", lang=lang)),
               ("community", t("col.community", lang=lang)), ("grid_id", t("col.grid_id", lang=lang)),
               ("grid_worker", t("col.grid_worker", lang=lang))]
    for code in STAGES:
        if code not in stages:
            continue
        sub = shown[shown["stage"] == code]
        if len(sub):
            add_points(m, sub, name=f"{stage_label(code, lang)} ({len(sub)})", color=STAGE_COLORS[code],
                       radius_px=8, class_name=f"ga-estate-stage ga-stage-{code}", tooltip=tooltip, datum=datum,
                       fill_opacity=0.95)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def _panel_grid(n: int) -> tuple[int, int]:
    cols = min(n, 3 if n <= 6 else 5)
    return math.ceil(n / cols), cols


def burn_down(plan_rows: pd.DataFrame, progress: pd.DataFrame, plan: Plan, *, stage: str,
              lang: str | None = None) -> go.Figure:
    """One small burn-down per street (and the district): planned and actual estates still to go, and the
    pace needed from ``as_of`` to reach none left at the target.

    ``plan_rows`` is `analysis.estates.plan_progress` for one stage; ``progress``
    `analysis.estates.street_progress` for the same stage (gives behind/on plan).
    """
    streets = list(dict.fromkeys(plan_rows["street"]))
    rows, cols = _panel_grid(len(streets))
    info = progress.set_index("street")
    titles = []
    for s in streets:
        name = t("sidebar.all_streets", lang=lang) if s == DISTRICT else html.escape(str(s))  # plotly reads tags
        short = int(info.loc[s, "shortfall"])
        titles.append(f"{name} · " + (t("estates.status.behind", lang=lang) + f" −{short}" if short
                                       else t("estates.status.on_plan", lang=lang)))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_xaxes=True,
                        vertical_spacing=0.12 if rows > 1 else 0.2, horizontal_spacing=0.05)
    as_of = plan.as_of
    for k, s in enumerate(streets):
        r, c = divmod(k, cols)
        part = plan_rows[plan_rows["street"] == s].sort_values("month")
        total = int(part["total"].iloc[0])
        base = int(part["base"].iloc[0])
        x_plan = [plan.start, *part["month"]]
        y_plan = [total - base, *part["remaining_planned"]]
        seen = part[part["actual"].notna()]
        x_act = [plan.start, *[min(mo, as_of) for mo in seen["month"]]]
        y_act = [total - base, *seen["remaining_actual"]]
        left_now = y_act[-1]
        behind = bool(info.loc[s, "behind"])
        first = k == 0
        fig.add_trace(go.Scatter(x=x_plan, y=y_plan, mode="lines", line={"color": PLANNED_COLOR, "dash": "dash"},
                                 name=t("estates.chart.planned", lang=lang), legendgroup="p", showlegend=first),
                      row=r + 1, col=c + 1)
        fig.add_trace(go.Scatter(x=x_act, y=y_act, mode="lines+markers",
                                 line={"color": BEHIND_COLOR if behind else ON_PLAN_COLOR, "width": 2.5},
                                 marker={"size": 5}, name=t("estates.chart.actual", lang=lang), legendgroup="a",
                                 showlegend=first), row=r + 1, col=c + 1)
        if as_of < plan.target and left_now > 0:
            fig.add_trace(go.Scatter(x=[as_of, plan.target], y=[left_now, 0], mode="lines",
                                     line={"color": REQUIRED_COLOR, "dash": "dot"},
                                     name=t("estates.chart.required", lang=lang), legendgroup="r",
                                     showlegend=first), row=r + 1, col=c + 1)
        fig.update_yaxes(rangemode="tozero", row=r + 1, col=c + 1)
    fig.update_layout(
        title=t("estates.chart.title", lang=lang, stage=stage_label(stage, lang)), font={"family": FONT},
        height=max(260, 230 * rows + 70), margin={"l": 10, "r": 10, "t": 70, "b": 10}, template="plotly_white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.04 if rows > 1 else 1.1, "x": 1,
                "xanchor": "right"},
    )
    fig.update_xaxes(tickformat="%Y-%m", dtick="M2")
    return fig
