"""Streamlit-side pieces of the coverage analysis: cached inputs, graph, results, map and chart.

Everything heavy is cached per dataset version (``path`` + ``token``): the
metric-CRS inputs and demand points, the walking graph (built once), each
coverage question's result, the display geometry of the grids. The map is a
base that no option changes (`coverage_base_map`) plus the layers of one
question (`coverage_layers`), swapped into the drawn map without reloading it.
The overview calls `cached_coverage` for its coverage figure, so both pages
share one definition and one cache.
"""

from __future__ import annotations

import html

import altair as alt
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from analysis.accessibility import AccessibilityResult, accessibility_by_grid
from analysis.coverage import (
    CoverageInputs,
    CoverageResult,
    compute_coverage,
    prepare_inputs,
    service_areas,
    street_totals,
)
from analysis.network import WalkGraph, build_walk_graph
from analysis.options import DISTANCES, WEIGHTS
from geo.crs import WGS84
from geo.dataset import Dataset
from geo.schema import FACILITY_TYPES
from i18n import t
from ui import auth
from ui.charts import FONT
from ui.context import PageContext
from ui.data import STREET_ENTRIES, derived, get_dataset
from ui.demand import demand_dataset, split_token
from ui.layers import add_facilities, street_outlines
from ui.maps import (
    MapPayload,
    add_lines,
    add_points,
    add_polygons,
    geojson_payload,
    map_payload,
    new_map,
    step_colors,
)

SHARE_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0 - 1e-9, 1.01)
SHARE_PALETTE = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac")
SHARE_LABELS = ("0–20%", "20–40%", "40–60%", "60–80%", "80–<100%", "100%")
SERVICE_AREA_COLOR = "#2b8cbe"
SERVICE_AREA_EDGE = "#08519c"
UNCOVERED_ESTATE_COLOR = "#e41a1c"


def default_question(ds: Dataset, path: str, token: str) -> tuple | None:
    """The question the coverage page opens with (its widgets' defaults: day-care stations, or the first type
    present, at their default radius, straight-line distance, the aged 60+, operating stations only) as the
    arguments of `cached_coverage`; None when the dataset has no facility type the page offers."""
    present = [c for c in FACILITY_TYPES if c in set(ds.facilities["type"].astype(str))]
    if not present:
        return None
    types = ("day_care",) if "day_care" in present else tuple(present[:1])
    return (path, token, types, None, DISTANCES[0], WEIGHTS[0], False)


@st.cache_resource(show_spinner=False, max_entries=4)
def coverage_inputs(path: str, token: str) -> CoverageInputs:
    """The dataset's layers in its metric CRS and its demand points (once per dataset version, kept on disk).

    A token carrying a demand (`ui.demand.demand_token`: a plan year, the aged 80+) gives the inputs of that
    demand, built here and kept in memory only.
    """
    _, demand = split_token(token)
    if demand is not None:
        return prepare_inputs(demand_dataset(get_dataset(path), demand))
    return derived(path, token, "coverage_inputs.v1", lambda: prepare_inputs(get_dataset(path)))


@st.cache_resource(show_spinner=False, max_entries=4)
def walk_graph(path: str, token: str) -> WalkGraph | None:
    """The walking graph of the dataset's roads (None without a roads layer), built once (whatever the demand)."""
    base, demand = split_token(token)
    if demand is not None:
        return walk_graph(path, base)
    inputs = coverage_inputs(path, token)
    return build_walk_graph(inputs.roads) if inputs.roads is not None else None


def _graph(path: str, token: str, distance: str) -> WalkGraph | None:
    return walk_graph(path, token) if distance == "walking" else None


@st.cache_resource(show_spinner=False, max_entries=48)
def cached_coverage(path: str, token: str, types: tuple[str, ...], radius_m: float | None, distance: str,
                    weight: str, include_planned: bool) -> CoverageResult:
    """`analysis.coverage.compute_coverage` for one question, cached. Raises `AnalysisError`."""
    return compute_coverage(coverage_inputs(path, token), facility_types=types, radius_m=radius_m, distance=distance,
                            weight=weight, include_planned=include_planned, graph=_graph(path, token, distance))


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_accessibility(path: str, token: str, types: tuple[str, ...], radius_m: float | None, distance: str,
                         weight: str, include_planned: bool, enhanced: bool) -> AccessibilityResult:
    return accessibility_by_grid(coverage_inputs(path, token), facility_types=types, radius_m=radius_m,
                                 distance=distance, weight=weight, include_planned=include_planned, enhanced=enhanced,
                                 graph=_graph(path, token, distance))


@st.cache_resource(show_spinner=False, max_entries=4)
def grid_shapes(path: str, token: str) -> gpd.GeoDataFrame:
    """Grid outlines for display: simplified by 5 m in metres, WGS84, ``grid_id`` and ``street`` only."""
    g = coverage_inputs(path, token).grids
    geoms = shapely.simplify(np.asarray(g.geometry.values, dtype=object), 5.0, preserve_topology=True)
    return gpd.GeoDataFrame({"grid_id": g["grid_id"].to_numpy(), "street": g["street"].astype(str).to_numpy()},
                            geometry=gpd.GeoSeries(geoms, crs=g.crs).to_crs(WGS84).to_numpy(), crs=WGS84)


@st.cache_resource(show_spinner=False, max_entries=4)
def _street_lines(path: str, token: str) -> gpd.GeoDataFrame:
    return street_outlines(grid_shapes(path, token))


def add_street_lines(m: folium.Map, ctx: PageContext) -> None:
    """The outlines of the chosen street (every street without one), from the grids' display geometry
    (`grid_shapes`), dissolved once per dataset version."""
    lines = _street_lines(ctx.path, ctx.token)
    if ctx.street is not None:
        lines = lines[lines["street"] == ctx.street]
    add_lines(m, lines, name=t("map.layer.streets"), color="#222222", weight=2.2, class_name="ga-street",
              datum=ctx.tiles_datum, simplify_m=None)


def _street_mask(path: str, token: str, street: str | None) -> np.ndarray:
    streets = coverage_inputs(path, token).grids["street"].astype(str).to_numpy()
    return np.ones(len(streets), dtype=bool) if street is None else streets == street


@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def _grid_geometries(path: str, token: str, street: str | None, datum: str) -> list[dict]:
    """GeoJSON geometry of each shown grid (display datum, ~1 m precision), worked out once."""
    shown = grid_shapes(path, token)[_street_mask(path, token, street)]
    payload = geojson_payload(shown[["geometry"]], columns=[], datum=datum)
    return [f["geometry"] for f in payload["features"]]


@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def coverage_base_map(path: str, token: str, street: str | None, tiles: str | None, tiles_attr: str,
                      datum: str, lang: str) -> folium.Map:
    """The part of the coverage map that no option changes: extent, basemap, street outlines."""
    shapes = grid_shapes(path, token)[_street_mask(path, token, street)]
    m = new_map(shapes.total_bounds, tiles=tiles, tiles_attr=tiles_attr)
    add_lines(m, street_outlines(shapes), name=t("map.layer.streets", lang=lang), color="#222222", weight=2.2,
              class_name="ga-street", datum=datum, simplify_m=None)
    return m


@st.cache_resource(show_spinner=False, max_entries=16)
def _service_area_layer(path: str, token: str, types: tuple[str, ...], radius_m: float | None, distance: str,
                        include_planned: bool) -> gpd.GeoDataFrame:
    """Service areas dissolved into one shape per facility type (small payload), WGS84."""
    areas = service_areas(coverage_inputs(path, token), facility_types=types, radius_m=radius_m, distance=distance,
                          include_planned=include_planned, graph=_graph(path, token, distance))
    if areas.empty:
        return gpd.GeoDataFrame({"type": []}, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)
    merged = areas.dissolve(by="type", as_index=False)[["type", "geometry"]]
    merged["geometry"] = merged.geometry.simplify(5.0, preserve_topology=True)
    return merged.to_crs(WGS84)


@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def coverage_map(path: str, token: str, street: str | None, tiles: str | None, tiles_attr: str, datum: str,
                 lang: str, types: tuple[str, ...], radius_m: float | None, distance: str, weight: str,
                 include_planned: bool) -> tuple[MapPayload, list[tuple[str, str]]]:
    """The coverage map of one question, rendered once (shared by reruns and sessions), and its share legend.

    The base (`coverage_base_map`) is the component's map; the question's layers are swapped into it, so
    changing the question does not reload the map in the browser.
    """
    base = coverage_base_map(path, token, street, tiles, tiles_attr, datum, lang)
    layers, share_legend = coverage_layers(path, token, street, lang, datum, types, radius_m, distance, weight,
                                           include_planned)
    return map_payload(base, layers), share_legend


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%" if np.isfinite(v) else "—"


def _num(v: float) -> float | None:
    return round(float(v)) if np.isfinite(v) else None


@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def coverage_layers(path: str, token: str, street: str | None, lang: str, datum: str, types: tuple[str, ...],
                    radius_m: float | None, distance: str, weight: str,
                    include_planned: bool) -> tuple[list[folium.FeatureGroup], list[tuple[str, str]]]:
    """What one question draws: grids by share covered, service areas, uncovered estates, facilities.

    Feature groups for `ui.maps.show_map(layers=...)`, and the share legend.
    """
    res = cached_coverage(path, token, types, radius_m, distance, weight, include_planned)
    table = res.grids[_street_mask(path, token, street)]
    colors, share_legend = step_colors(table["covered_share"], edges=SHARE_EDGES, palette=SHARE_PALETTE,
                                       labels=SHARE_LABELS)
    w = weight
    features = [
        {"type": "Feature", "geometry": geom,
         "properties": {"_fill": c, "grid_id": html.escape(g), "street": html.escape(s), "weight": int(n),
                        "covered": _num(cov), "share": _pct(sh), "nearest": _num(d)}}
        for geom, c, g, s, n, cov, sh, d in zip(
            _grid_geometries(path, token, street, datum), colors, table["grid_id"], table["street"], table[w],
            table[f"covered_{w}"], table["covered_share"], table["nearest_m"], strict=True)
    ]
    grid_fg = folium.FeatureGroup(name=t("map.layer.grids", lang=lang))
    tooltip = folium.GeoJsonTooltip(
        fields=["grid_id", "street", "weight", "covered", "share", "nearest"],
        aliases=[html.escape(t(k, lang=lang)) for k in ("col.grid_id", "col.street", f"coverage.weight.{w}",
                                                        "coverage.col.covered", "coverage.col.share",
                                                        "coverage.col.nearest_m")], sticky=True)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#555555", "weight": 0.8,
                                  "fillOpacity": 0.7, "className": "ga-grid ga-coverage-grid"},
        tooltip=tooltip, smooth_factor=0.5,
    ).add_to(grid_fg)
    groups = [grid_fg]
    areas = _service_area_layer(path, token, types, radius_m, distance, include_planned)
    if len(areas):
        fg = folium.FeatureGroup(name=t("coverage.map.service_areas", lang=lang))
        add_polygons(fg, areas, name=t("coverage.map.service_areas", lang=lang), fill=SERVICE_AREA_COLOR,
                     color=SERVICE_AREA_EDGE, weight=1.5, fill_opacity=0.15, class_name="ga-service-area",
                     datum=datum, simplify_m=None)
        groups.append(fg)
    ds = get_dataset(path)
    est = res.estates()
    if len(est) and ds.estates is not None:
        gone = est[~est["covered"].to_numpy()]
        gone = gone[gone["grid_id"].isin(table["grid_id"])]
        if len(gone):
            ds_est = ds.estates.set_index(ds.estates["estate_id"].astype(str))
            sel = ds_est.loc[gone["estate_id"]]
            pts = gpd.GeoDataFrame({"name": sel["name"].to_numpy(), "households": sel["households"].to_numpy(),
                                    "nearest": gone["nearest_m"].round(0).to_numpy()},
                                   geometry=sel.geometry.representative_point().to_numpy(), crs=WGS84)
            name = f"{t('coverage.map.uncovered_estates', lang=lang)} ({len(pts)})"
            fg = folium.FeatureGroup(name=name)
            add_points(fg, pts, name=name, color=UNCOVERED_ESTATE_COLOR, radius_px=3,
                       class_name="ga-uncovered-estate",
                       tooltip=[("name", t("col.name", lang=lang)), ("households", t("col.households", lang=lang)),
                                ("nearest", t("coverage.col.nearest_m", lang=lang))], datum=datum)
            groups.append(fg)
    fac = res.facilities.to_crs(WGS84)
    if len(fac):
        fg = folium.FeatureGroup(name=t("coverage.kpi.facilities", lang=lang))
        add_facilities(fg, fac, datum=datum, types=types)
        groups.append(fg)
    return groups, share_legend


def street_chart(streets: pd.DataFrame, *, weight: str, title: str, lang: str | None = None) -> alt.Chart:
    """Stacked horizontal bars per street, lowest share on top: residents within and beyond reach, share at the end.
    Labels in ``lang`` (default: the session's language).

    A Vega-Lite chart (drawn by the browser's Vega, 0.8 MB of script) rather than Plotly (4.7 MB): the coverage
    page is one of the first a morning opens, and parsing Plotly took most of a browser's time on it.
    """
    s = streets.sort_values("covered_share", ascending=True, na_position="first")
    covered, uncovered = t("coverage.streets.covered", lang=lang), t("coverage.streets.uncovered", lang=lang)
    share = [_pct(v) for v in s["covered_share"]]
    rows = pd.DataFrame({
        "street": [*s["street"], *s["street"]],
        "part": [covered] * len(s) + [uncovered] * len(s),
        "order": [0] * len(s) + [1] * len(s),
        "people": [*s[f"covered_{weight}"].round(0), *s[f"uncovered_{weight}"].round(0)],
        "share": share * 2,
    })
    ends = pd.DataFrame({"street": s["street"].to_numpy(), "total": (s[f"covered_{weight}"]
                                                                     + s[f"uncovered_{weight}"]).round(0).to_numpy(),
                         "share": share})
    y = alt.Y("street:N", sort=list(s["street"]), title=None)
    bars = alt.Chart(rows).mark_bar().encode(
        y=y, x=alt.X("people:Q", stack="zero", title=None),
        color=alt.Color("part:N", scale=alt.Scale(domain=[covered, uncovered], range=["#2166ac", "#ef8a62"]),
                        legend=alt.Legend(orient="bottom", title=None)),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("street:N", title=t("col.street", lang=lang)), alt.Tooltip("part:N", title=" "),
                 alt.Tooltip("people:Q", title=t(f"coverage.weight.{weight}", lang=lang), format=",.0f"),
                 alt.Tooltip("share:N", title=t("coverage.col.share", lang=lang))])
    labels = alt.Chart(ends).mark_text(align="left", dx=3, color="#333333").encode(y=y, x="total:Q", text="share:N")
    return (bars + labels).properties(title=title, height=STREET_ROW_PX * len(s) + 20).configure(font=FONT)


@st.cache_resource(show_spinner=False, max_entries=48)
def cached_street_chart(path: str, token: str, types: tuple[str, ...], radius_m: float | None, distance: str,
                        weight: str, include_planned: bool, lang: str) -> tuple[alt.Chart, int]:
    """The district's `street_chart` of one question in ``lang``, and its number of streets: built once and
    shared by every session and rerun asking the same question (it is the same chart whatever street a session
    looks at; building it took 6 % of the server's interpreter under 60 sessions, bench/bench_load.py).
    Raises `AnalysisError` as `cached_coverage` does."""
    res = cached_coverage(path, token, types, radius_m, distance, weight, include_planned)
    by_street = street_totals(res.grids)
    chart = street_chart(by_street, weight=weight, title=t("coverage.streets.title", lang=lang), lang=lang)
    return chart, len(by_street)


STREET_ROW_PX = 30  # one bar of `street_chart`
STREET_CHART_FRAME_PX = 110  # its title, axis and legend


def street_chart_height(streets: int) -> int:
    """Pixels for `street_chart` of ``streets`` streets with its title, axis and legend (what the page reserves:
    Streamlit does not take a layered chart's own height)."""
    return STREET_ROW_PX * streets + STREET_CHART_FRAME_PX


def table_downloads(df: pd.DataFrame, *, file_stem: str, key: str) -> None:
    """CSV (UTF-8 with BOM, opens in Excel) and XLSX download buttons for exactly ``df`` (cells formula-safe)."""
    csv, xlsx = auth.table_files(df)
    c1, c2 = st.columns(2)
    auth.download_button(c1, t("download.csv"), csv, file_name=f"{file_stem}.csv", mime="text/csv", key=f"{key}_csv")
    auth.download_button(c2, t("download.xlsx"), xlsx, file_name=f"{file_stem}.xlsx", mime=auth.XLSX_MIME,
                         key=f"{key}_xlsx")
