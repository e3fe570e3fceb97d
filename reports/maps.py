"""Static maps and charts for the meeting material, drawn on the machine (no network, no tiles).

Every picture is a `matplotlib.figure.Figure` built directly (never pyplot,
whose global state is not thread-safe under Streamlit), in the dataset's
metric CRS so the scale bar is true; each map has its legend, a scale bar and
a north arrow. `png_bytes` renders at `DPI` (≥ 150, crisp on a projector).
"""

from __future__ import annotations

import io
import math
import threading
import weakref

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from analysis.meeting import MeetingBrief
from geo.dataset import Dataset
from i18n import t
from i18n.labels import demand_label

DPI = 170
FONT_FAMILY = ["Noto Sans CJK SC", "DejaVu Sans"]
# covered share classes (as the coverage page): red = few covered, blue = all covered
SHARE_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0 - 1e-9, 1.01)
SHARE_COLORS = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac")
SHARE_LABELS = ("0–20%", "20–40%", "40–60%", "60–80%", "80–<100%", "100%")
# ArcGIS's hot spot colours, hot +3 .. not significant 0 (cold spots are drawn as not significant: the
# meeting is about where cases pile up)
BIN_COLORS = {3: "#d62f27", 2: "#ed7551", 1: "#fab984", 0: "#f2f2ee", -1: "#c0ccbe", -2: "#849eba", -3: "#4575b5"}
STATION_COLOR = "#1a1a1a"
STAGE_COLORS = ("#d9d9d9", "#9ecae1", "#6baed6", "#3182bd", "#08519c")


def font(size: float = 11, *, bold: bool = False) -> FontProperties:
    return FontProperties(family=FONT_FAMILY, size=size, weight="bold" if bold else "normal")


def png_bytes(fig: Figure, *, dpi: int = DPI) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def _polys(geoms: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Exterior rings of every polygon part, and the index of the geometry each came from."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    rings = shapely.get_exterior_ring(parts)
    coords = [np.asarray(shapely.get_coordinates(r)) for r in rings]
    return coords, owner


def _lines(geoms: np.ndarray) -> list[np.ndarray]:
    bounds = shapely.get_parts(shapely.boundary(geoms))
    bounds = shapely.get_parts(bounds)
    return [np.asarray(shapely.get_coordinates(b)) for b in bounds]


def _nice_length(span_m: float) -> float:
    """A round scale-bar length near a fifth of the map's width."""
    target = span_m / 5
    power = 10 ** math.floor(math.log10(max(target, 1.0)))
    for step in (5, 2, 1):
        if step * power <= target:
            return step * power
    return power


def _decorate(ax, bounds: tuple[float, float, float, float], lang: str) -> None:
    """Scale bar (bottom left) and north arrow (top right), in the axes' metric coordinates."""
    minx, miny, maxx, maxy = bounds
    w, h = maxx - minx, maxy - miny
    length = _nice_length(w)
    x0, y0 = minx + 0.04 * w, miny + 0.05 * h
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=3, solid_capstyle="butt")
    ax.plot([x0, x0 + length / 2], [y0, y0], color="white", linewidth=1.4, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x0 + length / 2, y0 + 0.025 * h, label, ha="center", va="bottom", fontproperties=font(10))
    ax_x, ax_y = maxx - 0.05 * w, maxy - 0.22 * h
    ax.annotate("", xy=(ax_x, ax_y + 0.1 * h), xytext=(ax_x, ax_y),
                arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 2, "mutation_scale": 18})
    ax.text(ax_x, ax_y + 0.11 * h, t("meeting.map.north", lang=lang), ha="center", va="bottom",
            fontproperties=font(12, bold=True))


def _frame(grids_m: gpd.GeoDataFrame, *, width_in: float, height_in: float):
    fig = Figure(figsize=(width_in, height_in))
    ax = fig.add_axes((0.0, 0.0, 0.72, 1.0))
    ax.set_axis_off()
    minx, miny, maxx, maxy = grids_m.total_bounds
    pad = 0.03 * max(maxx - minx, maxy - miny)
    x0, y0, x1, y1 = minx - pad, miny - pad, maxx + pad, maxy + pad
    # equal scale: widen the short side (not shrink the box) so the map fills its part of the picture
    box = (0.72 * width_in) / height_in
    if (x1 - x0) / (y1 - y0) < box:
        half = (y1 - y0) * box / 2
        x0, x1 = (x0 + x1) / 2 - half, (x0 + x1) / 2 + half
    else:
        half = (x1 - x0) / box / 2
        y0, y1 = (y0 + y1) / 2 - half, (y0 + y1) / 2 + half
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    return fig, ax, (x0, y0, x1, y1)


def _grid_fill(ax, grids_m: gpd.GeoDataFrame, colors: list[str], *, edge: str = "#ffffff", lw: float = 0.25) -> None:
    rings, owner = _polys(np.asarray(grids_m.geometry.values, dtype=object))
    face = np.asarray(colors, dtype=object)[owner]
    ax.add_collection(PolyCollection(rings, facecolors=list(face), edgecolors=edge, linewidths=lw))


def _street_lines(ax, grids_m: gpd.GeoDataFrame) -> None:
    streets = grids_m[["street", "geometry"]].dissolve(by="street")
    ax.add_collection(LineCollection(_lines(np.asarray(streets.geometry.values, dtype=object)),
                                     colors="#222222", linewidths=1.4))


def _legend(fig: Figure, title: str, handles: list, *, y: float = 0.95) -> None:
    title = title.replace("（", "\n（").replace(" (", "\n(")
    leg = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.73, y), frameon=False,
                     prop=font(11), title=title, title_fontproperties=font(12, bold=True), alignment="left")
    leg.set_in_layout(False)


def scope_grids(ds: Dataset, brief: MeetingBrief) -> gpd.GeoDataFrame:
    """The grids of the brief's scope, in the dataset's metric CRS."""
    g = ds.grids if brief.street is None else ds.grids[ds.grids["street"] == brief.street]
    return g[["grid_id", "street", "geometry"]].to_crs(ds.metric_crs).reset_index(drop=True)


def gap_map(ds: Dataset, brief: MeetingBrief, *, lang: str, width_in: float = 9.0, height_in: float = 5.6) -> Figure:
    """Grids coloured by the covered share of their aged 60+ (the brief's demand, named in the legend when it is
    not today's aged 60+), street outlines, day-care stations."""
    grids = scope_grids(ds, brief)
    fig, ax, bounds = _frame(grids, width_in=width_in, height_in=height_in)
    share = grids["grid_id"].astype(str).map(
        brief.coverage_grids.set_index(brief.coverage_grids["grid_id"].astype(str))["covered_share"]
        if len(brief.coverage_grids) else {}).astype("float64").to_numpy()
    cls = np.clip(np.searchsorted(SHARE_EDGES, np.nan_to_num(share, nan=0.0), side="right") - 1, 0,
                  len(SHARE_COLORS) - 1)
    colors = [SHARE_COLORS[c] if np.isfinite(s) else "#eeeeee" for c, s in zip(cls, share, strict=True)]
    _grid_fill(ax, grids, colors)
    _street_lines(ax, grids)
    fac = ds.facilities
    handles = [Patch(facecolor=c, edgecolor="#999999", label=lbl)
               for c, lbl in zip(SHARE_COLORS[::-1], SHARE_LABELS[::-1], strict=True)]
    if fac is not None and len(fac):
        st = fac[(fac["type"] == "day_care")]
        if "status" in st.columns:
            st = st[st["status"].astype("string").fillna("operating") != "planned"]
        st = st.to_crs(ds.metric_crs)
        xy = shapely.get_coordinates(np.asarray(st.geometry.values, dtype=object))
        minx, miny, maxx, maxy = bounds
        inside = (xy[:, 0] >= minx) & (xy[:, 0] <= maxx) & (xy[:, 1] >= miny) & (xy[:, 1] <= maxy)
        ax.scatter(xy[inside, 0], xy[inside, 1], s=22, c="#ffd92f", edgecolors=STATION_COLOR, linewidths=0.8,
                   marker="^", zorder=5)
        handles.append(Line2D([], [], marker="^", linestyle="none", markerfacecolor="#ffd92f",
                              markeredgecolor=STATION_COLOR, markersize=8, label=t("meeting.map.stations", lang=lang)))
    handles.append(Line2D([], [], color="#222222", linewidth=1.6, label=t("meeting.map.streets", lang=lang)))
    who = None if brief.demand_is_today else demand_label(brief.demand_year, brief.demand_weight, lang=lang)
    _legend(fig, t("meeting.map.gaps", lang=lang) if who is None else t("meeting_plan.map.gaps", lang=lang, who=who),
            handles)
    _decorate(ax, bounds, lang)
    return fig


def hot_map(ds: Dataset, brief: MeetingBrief, *, lang: str, width_in: float = 9.0, height_in: float = 5.6) -> Figure:
    """Grids coloured by this month's Gi* hot spot bin; grids newly hot outlined; street outlines."""
    grids = scope_grids(ds, brief)
    fig, ax, bounds = _frame(grids, width_in=width_in, height_in=height_in)
    hot = brief.hot
    if hot is not None and len(hot):
        by_id = hot.set_index(hot["grid_id"].astype(str))
        bins = grids["grid_id"].astype(str).map(by_id["gi_bin"]).fillna(0).astype(int).to_numpy()
        new = grids["grid_id"].astype(str).map(by_id["newly_hot"]).fillna(False).astype(bool).to_numpy()
    else:
        bins, new = np.zeros(len(grids), dtype=int), np.zeros(len(grids), dtype=bool)
    _grid_fill(ax, grids, [BIN_COLORS[max(int(b), 0)] for b in bins], edge="#d0d0d0")
    if new.any():
        rings, _ = _polys(np.asarray(grids.geometry.values, dtype=object)[new])
        ax.add_collection(PolyCollection(rings, facecolors="none", edgecolors="#000000", linewidths=2.0, zorder=4))
    _street_lines(ax, grids)
    handles = [Patch(facecolor=BIN_COLORS[b], edgecolor="#999999", label=t(f"cases.bin.{b}", lang=lang))
               for b in (3, 2, 1, 0)]
    handles.append(Patch(facecolor="none", edgecolor="#000000", linewidth=2.0, label=t("meeting.hot.new", lang=lang)))
    handles.append(Line2D([], [], color="#222222", linewidth=1.6, label=t("meeting.map.streets", lang=lang)))
    _legend(fig, t("meeting.hot.legend", lang=lang), handles)
    _decorate(ax, bounds, lang)
    return fig


def estates_chart(brief: MeetingBrief, *, lang: str, width_in: float = 9.0, height_in: float = 4.8) -> Figure | None:
    """Per street, unmanaged estates by stage reached at the month's end (stacked horizontal bars)."""
    e = brief.estates_by_stage
    if e is None or len(e) == 0:
        return None
    from reports.content import stage_label

    stages = [c for c in e.columns if c not in ("street", "estates")]
    fig = Figure(figsize=(width_in, height_in))
    ax = fig.add_axes((0.14, 0.2, 0.83, 0.68) if lang == "zh" else (0.14, 0.26, 0.83, 0.62))
    streets = e["street"].astype(str).tolist()
    y = np.arange(len(streets))[::-1]
    left = np.zeros(len(streets))
    for i, stage in enumerate(stages):
        vals = e[stage].to_numpy(dtype="float64")
        ax.barh(y, vals, left=left, color=STAGE_COLORS[i % len(STAGE_COLORS)], edgecolor="white",
                label=stage_label(stage, lang))
        for yy, lo, v in zip(y, left, vals, strict=True):
            if v > 0:
                ax.text(lo + v / 2, yy, f"{int(v)}", ha="center", va="center", fontproperties=font(10),
                        color="black" if i < 2 else "white")
        left += vals
    pad = max(0.7, (4 - len(streets)) / 2)  # one street gets a bar, not the whole chart
    ax.set_ylim(-pad, len(streets) - 1 + pad)
    ax.set_yticks(y)
    ax.set_yticklabels(streets, fontproperties=font(12))
    for lbl in ax.get_xticklabels():
        lbl.set_fontproperties(font(10))
    ax.set_xlabel(t("meeting.chart.count", lang=lang), fontproperties=font(11))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(t("meeting.chart.estates", lang=lang), fontproperties=font(14, bold=True), loc="left")
    ax.legend(prop=font(11), loc="upper center", bbox_to_anchor=(0.5, -0.13), frameon=False,
              ncol=len(stages) if lang == "zh" else 3)
    return fig


_PICTURES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PICTURES_LOCK = threading.Lock()


def pictures(ds: Dataset, brief: MeetingBrief, *, lang: str, dpi: int = DPI) -> dict[str, bytes | None]:
    """The gap map (``gaps``), hot spot map (``hot``) and estates chart (``estates``, None without estates) as PNG.

    Drawn once per brief, dataset, language and resolution, and kept while the brief lives, so the
    PPTX and the PDF of one brief share them.
    """
    key = (id(ds), lang, dpi)
    with _PICTURES_LOCK:
        found = _PICTURES.get(brief, {}).get(key)
    if found is not None:
        return found
    chart = estates_chart(brief, lang=lang)
    made = {"gaps": png_bytes(gap_map(ds, brief, lang=lang), dpi=dpi),
            "hot": png_bytes(hot_map(ds, brief, lang=lang), dpi=dpi),
            "estates": None if chart is None else png_bytes(chart, dpi=dpi)}
    with _PICTURES_LOCK:
        _PICTURES.setdefault(brief, {})[key] = made
    return made
