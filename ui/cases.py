"""Streamlit-side pieces of the cases page: cached case table and weights, the three maps.

The case table (integer codes of 1 M cases) and the queen weights are built
once per dataset version and shared (`st.cache_resource`); statistics are
cached per filter, so switching back to an earlier filter is instant.
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from folium.plugins import HeatMap

from analysis import pagedata
from analysis.cases import (
    CaseFilter,
    CaseTable,
    KeptRows,
    case_kpis,
    handling_state,
    overdue_list,
)
from analysis.hotspots import (
    EmergingResult,
    GridWeights,
    HotspotResult,
    KernelDensity,
    emerging_hot_spots,
    hot_spots,
    kernel_density,
)
from analysis.options import Measure, Period, WeightsScheme
from geo.dataset import Dataset
from i18n import error_text, t
from ui.context import PageContext
from ui.coverage import add_street_lines, grid_shapes
from ui.data import STREET_ENTRIES, getter
from ui.layers import base_map
from ui.maps import MapPayload, add_lines, add_polygons, legend, map_payload, to_display

# ArcGIS's hot spot colours, cold (−3) to hot (+3)
BIN_COLORS: dict[int, str] = {-3: "#4575b5", -2: "#849eba", -1: "#c0ccbe", 0: "#f2f2ee", 1: "#fab984",
                              2: "#ed7551", 3: "#d62f27"}
PATTERN_COLORS: dict[str, str] = {
    "new_hot_spot": "#f5a3a3", "consecutive_hot_spot": "#e77c7c", "intensifying_hot_spot": "#a50f15",
    "persistent_hot_spot": "#de2d26", "diminishing_hot_spot": "#fc9272", "sporadic_hot_spot": "#fdd0a2",
    "oscillating_hot_spot": "#c994c7", "historical_hot_spot": "#bdbdbd",
    "new_cold_spot": "#a6cee3", "consecutive_cold_spot": "#7fb2d5", "intensifying_cold_spot": "#08519c",
    "persistent_cold_spot": "#3182bd", "diminishing_cold_spot": "#9ecae1", "sporadic_cold_spot": "#c6dbef",
    "oscillating_cold_spot": "#8c96c6", "historical_cold_spot": "#d9d9d9", "no_pattern": "#f2f2ee",
}


# The page's first view (pages/cases.py): the last 182 days up to the data's day, every category, source and
# status, hot spots of counts with binary weights.
DEFAULT_PRESET = "182"


def default_filter(table: CaseTable, street: str | None) -> CaseFilter:
    """The filter the cases page opens with for ``street`` (None: the whole district): what its first visitor asks
    for, and what the server's warm-up builds ahead (`ui.progress.street_steps`)."""
    first_day = pd.Timestamp(int(table.day.min()), unit="D").date()
    since = max(first_day, (table.as_of - pd.Timedelta(days=int(DEFAULT_PRESET) - 1)).date())
    return CaseFilter(since=since, until=table.as_of.date(), streets=(street,) if street else ())


def case_table(ctx: PageContext) -> CaseTable:
    """The dataset's case table, built once per dataset version (and kept beside it on disk; an import builds it
    when it ends: `analysis.pagedata`)."""
    return pagedata.case_table(ctx.ds, getter(ctx.path, ctx.token))


def grid_weights(ctx: PageContext) -> GridWeights:
    """Queen contiguity of the dataset's grids, built once per dataset version (and kept beside it on disk)."""
    return pagedata.grid_weights(ctx.ds, getter(ctx.path, ctx.token))


@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def _hot(token: str, key: str, _table: CaseTable, _w: GridWeights, _flt: CaseFilter, measure: Measure,
         weights_scheme: WeightsScheme) -> HotspotResult:
    return hot_spots(_table, _w, _flt, measure=measure, permutations=999, seed=0, weights_scheme=weights_scheme)


@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def _emerging(token: str, key: str, _table: CaseTable, _w: GridWeights, _flt: CaseFilter, measure: str,
              period: Period, weights_scheme: WeightsScheme) -> EmergingResult:
    return emerging_hot_spots(_table, _w, _flt, period=period, measure=measure, weights_scheme=weights_scheme)


@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def _density(token: str, key: str, _table: CaseTable, _flt: CaseFilter) -> KernelDensity:
    return kernel_density(_table, _flt)


def hot_spots_cached(ctx: PageContext, flt: CaseFilter, *, measure: Measure,
                     weights_scheme: WeightsScheme) -> HotspotResult:
    return _hot(ctx.token, repr(flt), case_table(ctx), grid_weights(ctx), flt, measure, weights_scheme)


def emerging_cached(ctx: PageContext, flt: CaseFilter, *, measure: Measure, period: Period,
                    weights_scheme: WeightsScheme) -> EmergingResult:
    return _emerging(ctx.token, repr(flt), case_table(ctx), grid_weights(ctx), flt, measure, period, weights_scheme)


def density_cached(ctx: PageContext, flt: CaseFilter) -> KernelDensity:
    return _density(ctx.token, repr(flt), case_table(ctx), flt)


# Figures, lists and maps of one filter, shared by every session looking at the same filter (thirty staff at
# 9:00 mostly look at the same few): computed once, never changed by a page (callers copy before changing).

@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def _kpis(token: str, key: str, _table: CaseTable, _flt: CaseFilter) -> pd.DataFrame:
    return case_kpis(_table, _flt)


def kpis_cached(ctx: PageContext, flt: CaseFilter) -> pd.DataFrame:
    """`analysis.cases.case_kpis` of the filter, once per dataset version and filter."""
    return _kpis(ctx.token, repr(flt), case_table(ctx), flt)


@st.cache_resource(show_spinner=False, max_entries=4)
def _overdue_rows(token: str, _ds: Dataset, _table: CaseTable) -> KeptRows:
    # every case overdue at the version's as-of day, read once: the overdue list of any filter is drawn from them
    # (reading a few rows of a million-case layer decodes its whole columns, about 0.8 s each time)
    return KeptRows(_ds.lazy_layer("cases"), np.flatnonzero(handling_state(_table).overdue))


@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def _overdue(token: str, key: str, mask: bool, _ds: Dataset, _table: CaseTable, _flt: CaseFilter) -> pd.DataFrame:
    return overdue_list(_overdue_rows(token, _ds, _table), _table, _flt, mask=mask)


def overdue_cached(ctx: PageContext, flt: CaseFilter, *, mask: bool) -> pd.DataFrame:
    """`analysis.cases.overdue_list` of the filter (personal data masked or not), once per version and filter."""
    return _overdue(ctx.token, repr(flt), mask, ctx.ds, case_table(ctx), flt)


@st.cache_resource(show_spinner=False, max_entries=STREET_ENTRIES)
def _hot_payload(token: str, key: str, street: str | None, lang: str, tiles: str | None, datum: str,
                 _ctx: PageContext, _result: HotspotResult) -> MapPayload:
    return map_payload(hotspot_map(_ctx, _result))


def hotspot_payload(ctx: PageContext, result: HotspotResult, flt: CaseFilter, *, measure: Measure,
                    weights_scheme: WeightsScheme) -> MapPayload:
    """The hot-spot map of one result, rendered once per dataset version, filter, options, language and basemap."""
    key = repr((flt, measure, weights_scheme))
    return _hot_payload(ctx.token, key, ctx.street, ctx.lang, ctx.tiles, ctx.tiles_datum, ctx, result)


def _shown_grids(ctx: PageContext, frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """The chosen street's grids with ``frame``'s columns, in their display geometry (simplified by 5 m, WGS84,
    once per version: `ui.coverage.grid_shapes`), so a map of them is drawn with ``simplify_m=None``."""
    shapes = grid_shapes(ctx.path, ctx.token)
    grids = shapes[["grid_id", "geometry"]] if ctx.street is None else \
        shapes.loc[shapes["street"] == ctx.street, ["grid_id", "geometry"]]
    merged = grids.merge(frame.drop(columns=[c for c in ("street",) if c in frame.columns]), on="grid_id",
                         how="left")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=grids.crs)


def hotspot_map(ctx: PageContext, result: HotspotResult) -> folium.Map:
    """Grids coloured by Gi* confidence bin, tooltips with the figures; the legend is drawn beside it."""
    f = result.frame.copy()
    labels = {b: t(f"cases.bin.{b}") for b in BIN_COLORS}  # looked up once per bin, not once per grid
    f["bin_label"] = [labels[int(b)] for b in f["gi_bin"]]
    f["gi_z_r"] = f["gi_z"].round(2)
    f["rate_r"] = f["rate_per_1000"].round(1)
    f["street_r"] = f["street"]
    shown = _shown_grids(ctx, f)
    m = base_map(ctx, shown)
    add_polygons(m, shown, name=t("cases.tab.hotspots"), fill=[BIN_COLORS[int(b)] for b in shown["gi_bin"]],
                 fill_opacity=0.75, class_name="ga-hotspot", datum=ctx.tiles_datum, simplify_m=None,
                 tooltip=[("grid_id", t("col.grid_id")), ("street_r", t("col.street")), ("cases", t("ccol.cases")),
                          ("rate_r", t("ccol.rate")), ("gi_z_r", t("ccol.gi_z")), ("gi_p_sim", t("ccol.gi_p_sim")),
                          ("bin_label", t("ccol.bin"))])
    add_street_lines(m, ctx)
    return m


def hotspot_legend() -> None:
    legend(t("cases.hot.legend"), [(BIN_COLORS[b], t(f"cases.bin.{b}")) for b in (3, 2, 1, 0, -1, -2, -3)])


def emerging_map(ctx: PageContext, result: EmergingResult) -> tuple[folium.Map, list[tuple[str, str]]]:
    """Grids coloured by emerging pattern; returns the map and the legend items of the patterns present."""
    f = result.frame.copy()
    f["pattern"] = f["pattern"].fillna("no_pattern")
    labels = {p: t(f"pattern.{p}") for p in PATTERN_COLORS}
    f["pattern_label"] = [labels[p] for p in f["pattern"]]
    f["trend_z_r"] = f["trend_z"].round(2)
    shown = _shown_grids(ctx, f)
    shown["pattern"] = shown["pattern"].fillna("no_pattern")
    m = base_map(ctx, shown)
    add_polygons(m, shown, name=t("cases.tab.emerging"), fill=[PATTERN_COLORS[p] for p in shown["pattern"]],
                 fill_opacity=0.8, class_name="ga-emerging", datum=ctx.tiles_datum, simplify_m=None,
                 tooltip=[("grid_id", t("col.grid_id")), ("pattern_label", t("ccol.pattern")),
                          ("hot_periods", "+"), ("cold_periods", "−"), ("trend_z_r", "MK z")])
    add_street_lines(m, ctx)
    present = [p for p in PATTERN_COLORS if (shown["pattern"] == p).any()]
    return m, [(PATTERN_COLORS[p], t(f"pattern.{p}")) for p in present]


def heat_map(ctx: PageContext, kd: KernelDensity, *, max_points: int = 6000) -> folium.Map:
    """The kernel density surface as a Leaflet heat layer (densest cells, weights scaled to 0–1)."""
    cells = kd.cells(min_share=0.02)
    if len(cells) > max_points:
        cells = cells.nlargest(max_points, "density")
    grids = ctx.grids()
    m = base_map(ctx, grids)
    add_lines(m, grids[["geometry"]], name=t("map.layer.grids"), color="#777777", weight=0.6,
              class_name="ga-grid-outline", datum=ctx.tiles_datum)
    if len(cells):
        pts = gpd.GeoDataFrame(cells, geometry=gpd.points_from_xy(cells["lon"], cells["lat"]), crs="EPSG:4326")
        pts = to_display(pts, datum=ctx.tiles_datum)
        w = (cells["density"] / cells["density"].max()).round(3).to_numpy()
        data = [[round(float(y), 5), round(float(x), 5), float(v)]
                for x, y, v in zip(pts.geometry.x, pts.geometry.y, w, strict=True)]
        radius = max(8, int(14 * kd.cell_m / max(kd.cell_m, 1.0)))
        HeatMap(data, name=html.escape(t("cases.tab.heat")), radius=radius, blur=radius, min_opacity=0.25,
                max_zoom=16).add_to(m)
    return m


# Codes that describe the selection rather than a fault: shown as a hint, not as an error.
SELECTION_CODES = frozenset({
    "analysis.too_few_grids", "analysis.no_cases_match", "analysis.no_cases_selected", "analysis.too_few_weeks",
    "analysis.too_few_months", "analysis.too_few_cases", "analysis.all_values_equal",
})


def explain_error(err: Exception) -> None:
    """An analysis that cannot run, in the page's language: the error's own text, looked up by its code."""
    show = st.info if getattr(err, "code", None) in SELECTION_CODES else st.error
    show(error_text(err))


def clicked_grid(state: dict) -> str | None:
    """The grid_id of the feature last clicked on a map (st_folium's ``last_active_drawing``)."""
    feature = (state or {}).get("last_active_drawing") or {}
    props = feature.get("properties") or {}
    gid = props.get("grid_id")
    return html.unescape(str(gid)) if gid else None


def pattern_counts(result: EmergingResult) -> pd.DataFrame:
    """Grids per pattern (only patterns present), in the legend's order."""
    counts = result.frame["pattern"].dropna().value_counts()
    order = [p for p in PATTERN_COLORS if p in counts.index]
    return pd.DataFrame({t("ccol.pattern"): [t(f"pattern.{p}") for p in order],
                         t("ccol.grids"): [int(counts[p]) for p in order]})
