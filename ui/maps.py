"""Folium map builders shared by the pages, and the offline rendering of maps.

Maps carry only what they show: layers are simplified in metres, coordinates
rounded to ~1 m, only displayed columns kept and every string escaped. Every
layer drawn by `add_polygons`, `add_lines` and `add_points` reaches the browser
in the compact form of `ui.mapcodec` (integer coordinates, shared borders once,
properties by column), which the app's own decoder (``ui/js/ga_geo.js``, put at
the head of every map's script by `new_map`) turns back into the same GeoJSON
there (`CompactGeoJson`). Every script and style sheet a map
needs is served by the app (`ui.assets`); `show_map` swaps folium's CDN links
for local ones and refuses any it does not know, so a map never reaches outside
the district network.
"""

from __future__ import annotations

import html
import json
import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import branca.element
import folium
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import shapely
import streamlit as st
from branca.element import Element
from folium.template import Template

from geo import settings
from geo.crs import WGS84, convert_gdf, metric_crs
from ui.assets import local_url
from ui.mapcodec import encode

FACILITY_COLORS: dict[str, str] = {
    "day_care": "#d62728",
    "elderly_service_center": "#ff7f0e",
    "nursing_home": "#8c564b",
    "elderly_canteen": "#e377c2",
    "health_station": "#1f77b4",
    "health_center": "#17becf",
}
MANAGEMENT_COLORS: dict[str, str] = {
    "property_company": "#2ca02c",
    "self_governed": "#bcbd22",
    "unmanaged": "#9467bd",
}
SEQUENTIAL = ("#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603")
BACKGROUND = "#eef0f2"
POLYGON_PRECISION_DEG = 1e-5  # polygons and lines: about 1 m
POINT_PRECISION_DEG = 1e-6  # points
# What a rendered map (`MapPayload`) is made of changes with this number: payloads kept on disk carry it in their
# names (`ui.layers.district_map`), so one rendered by an older version of the app is not reused.
PAYLOAD_VERSION = 2  # 2: compact layers (`ui.mapcodec`), the decoder in the map's script

# Readable at district scale (1,811 grids on one screen): grid borders are thin and light so the fill
# colours read, and get stronger as one zooms in; point markers shrink when zoomed out so facilities do
# not bury the grids. The map container carries `ga-zoom-low` (zoom below 13), `ga-zoom-mid` or
# `ga-zoom-high` (15 and above); style sheets below key on it, so every map made by `new_map` (and
# every grid layer drawn with one of `GRID_CLASSES`) follows, whatever colour its layer asked for.
GRID_CLASSES = ("ga-grid", "ga-hotspot", "ga-emerging", "ga-estates-grid")
ZOOM_CLASS_EDGES = (13, 15)
POINT_FULL_ZOOM = 14  # circle markers (`add_points`) have their full radius from this zoom up
POINT_MIN_FACTOR = 0.5  # and half of it at the lowest zooms
ZOOMSCALED_CLASS = "ga-zs"
_GRID_EDGE = {"ga-zoom-low": ("#7a7a7a", 0.35, 0.4), "ga-zoom-mid": ("#6a6a6a", 0.45, 0.6),
              "ga-zoom-high": ("#555555", 0.6, 0.9)}  # stroke colour, opacity, width (px)


def _readability_css() -> str:
    rules = [f".leaflet-container{{background:{BACKGROUND}}}"]
    for zoom_class, (color, opacity, width) in _GRID_EDGE.items():
        sel = ",".join(f".{zoom_class} path.{c}" for c in GRID_CLASSES)
        rules.append(f"{sel}{{stroke:{color};stroke-opacity:{opacity};stroke-width:{width}px}}")
    return "<style>" + "".join(rules) + "</style>"


class _ZoomReadability(folium.MacroElement):
    """Keeps the zoom class on the map container and resizes `ga-zs` circle markers to the zoom."""

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            function factor(z) {
                return Math.max({{ this.min_factor }}, Math.min(1, Math.pow(2, (z - {{ this.full_zoom }}) / 2)));
            }
            function scale(layer, f) {
                if (!(layer instanceof L.CircleMarker) || !layer.options.className
                    || layer.options.className.indexOf("{{ this.css_class }}") < 0) { return; }
                if (layer._gaRadius === undefined) {
                    layer._gaRadius = layer.options.radius;
                    layer._gaWeight = layer.options.weight;
                }
                layer.setRadius(layer._gaRadius * f);
                layer.setStyle({weight: layer._gaWeight * f});
            }
            function apply() {
                var z = map.getZoom(), f = factor(z), c = map.getContainer().classList;
                c.toggle("ga-zoom-low", z < {{ this.edges[0] }});
                c.toggle("ga-zoom-mid", z >= {{ this.edges[0] }} && z < {{ this.edges[1] }});
                c.toggle("ga-zoom-high", z >= {{ this.edges[1] }});
                map.eachLayer(function (l) { scale(l, f); });
            }
            map.on("zoomend", apply);
            map.on("layeradd", function (e) { scale(e.layer, factor(map.getZoom())); });
            map.whenReady(apply);
        })();
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "GaZoomReadability"
        self.full_zoom = POINT_FULL_ZOOM
        self.min_factor = POINT_MIN_FACTOR
        self.edges = ZOOM_CLASS_EDGES
        self.css_class = ZOOMSCALED_CLASS

# Folium's default page assets that GridAtlas maps do not use (no bootstrap
# widgets, no awesome-markers icons): dropped rather than served.
_UNUSED_DEFAULTS = {
    "bootstrap", "bootstrap_css", "glyphicons_css", "awesome_markers", "awesome_markers_css",
    "awesome_rotate_css", "awesome_markers_font_css", "jquery",
}


@dataclass(frozen=True)
class BasemapConfig:
    """Tile server from $GRIDATLAS_TILES (or [basemap] in .streamlit/secrets.toml); none by default."""

    url: str | None
    attribution: str
    datum: str  # "wgs84" or "gcj02" (Amap/Tencent tiles): layers are shifted to match


def basemap_config() -> BasemapConfig:
    """The basemap settings (`geo.settings`: $GRIDATLAS_TILES* or [basemap] in secrets.toml)."""
    cfg = settings.basemap()
    return BasemapConfig(url=cfg.url, attribution=cfg.attribution, datum=cfg.datum)


def to_display(gdf: gpd.GeoDataFrame, *, datum: str = "wgs84") -> gpd.GeoDataFrame:
    """WGS84 copy of a layer, shifted to GCJ-02 when the basemap tiles are GCJ-02."""
    out = gdf.to_crs(WGS84) if gdf.crs is not None and not gdf.crs.equals(WGS84) else gdf
    return convert_gdf(out, from_sys="wgs84", to_sys="gcj02") if datum == "gcj02" else out


def _clean_value(v: object) -> object:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return round(float(v), 4)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M")
    return html.escape(str(v))


def geojson_payload(
    gdf: gpd.GeoDataFrame,
    *,
    columns: Sequence[str] = (),
    simplify_m: float | None = None,
    precision_deg: float = 1e-5,
    datum: str = "wgs84",
) -> dict:
    """A compact FeatureCollection: chosen columns only (strings escaped), geometry simplified and rounded."""
    geoms = gdf.geometry
    if simplify_m and len(gdf) and geoms.geom_type.isin(["Polygon", "MultiPolygon", "LineString",
                                                            "MultiLineString"]).any():
        crs = metric_crs(gdf.set_crs(gdf.crs or WGS84))
        geoms = geoms.to_crs(crs).simplify(simplify_m, preserve_topology=True).to_crs(WGS84)
    shown = gpd.GeoDataFrame({c: gdf[c].to_numpy() for c in columns}, geometry=geoms.to_numpy(),
                             crs=WGS84)
    shown = to_display(shown, datum=datum)
    shown = shown.set_geometry(shapely.set_precision(shown.geometry.to_numpy(), precision_deg))
    features = []
    records = shown.drop(columns="geometry").to_dict("records")
    for geom, props in zip(shown.geometry.to_numpy(), records, strict=True):
        if geom is None or geom.is_empty:
            continue
        features.append({
            "type": "Feature",
            "properties": {k: _clean_value(v) for k, v in props.items()},
            "geometry": shapely.geometry.mapping(geom),
        })
    return {"type": "FeatureCollection", "features": features}


# The browser's decoder of compact layers, in every map's script (one request fewer than a script file of its own:
# on a first visit the server is busy with the page, and the map component loads its scripts one after another).
GA_GEO_JS = (Path(__file__).resolve().parent / "js" / "ga_geo.js").read_text(encoding="utf-8")


class GaGeoDecoder(folium.MacroElement):
    """``window.GaGeo`` (`GA_GEO_JS`), defined in the map's script before any layer that needs it."""

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        {{ this.code }}
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "GaGeoDecoder"
        self.code = GA_GEO_JS


# JSON inside a <script>: nothing that could close the tag or start markup (as Jinja's `tojson` escapes it)
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})


def script_json(obj: object) -> str:
    """``obj`` as compact JSON safe inside a <script> element (UTF-8 text, markup characters escaped)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).translate(_SCRIPT_SAFE)


def precision_scale(precision_deg: float) -> int:
    """The integer scale of a coordinate precision in degrees (1e-5 -> 100000)."""
    return round(1 / precision_deg)


class CompactGeoJson(folium.GeoJson):
    """A `folium.GeoJson` layer sent in the compact form of `ui.mapcodec` and decoded in the browser.

    ``data`` stays the layer's GeoJSON FeatureCollection on the Python side (bounds, tooltips and tests read
    it); rendering sends its `ui.mapcodec.encode` form (coordinates at ``1/scale`` degree, which must be the
    precision the GeoJSON was rounded to) and ``GaGeo.decode`` (``ui/js/ga_geo.js``, which `new_map` puts at the
    head of the map's script, so dynamic layers evaluated after it find it too) hands Leaflet the same
    features. Only on maps made by `new_map`. Styles: ``style_function`` is applied to every feature here, as folium does, but the
    distinct styles are sent once as a table with one index per feature instead of folium's ``switch`` over
    every feature id. No highlight, popup or click-to-zoom (GridAtlas maps use none).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        {%- if this.styles %}
        var {{ this.get_name() }}_styles = {{ this.styles_json }};
        function {{ this.get_name() }}_styler(feature) {
            return {{ this.get_name() }}_styles[feature._k || 0];
        }
        {%- endif %}
        {%- if this.marker %}
        function {{ this.get_name() }}_pointToLayer(feature, latlng) {
            var opts = {{ this.marker.options | tojavascript }};
            {%- if this.styles %}
            Object.assign(opts, {{ this.get_name() }}_styler(feature));
            {%- endif %}
            return new L.{{ this.marker._name }}(latlng, opts);
        }
        {%- endif %}
        var {{ this.get_name() }} = L.geoJson(null, {
        {%- if this.smooth_factor is not none %}
            smoothFactor: {{ this.smooth_factor|tojson }},
        {%- endif %}
        {%- if this.styles %}
            style: {{ this.get_name() }}_styler,
        {%- endif %}
        {%- if this.marker %}
            pointToLayer: {{ this.get_name() }}_pointToLayer,
        {%- endif %}
            ...{{ this.options | tojavascript }}
        });
        {{ this.get_name() }}.addData(GaGeo.decode({{ this.compact_json }}));
        {% endmacro %}
        """)

    def __init__(self, data: dict, *, scale: int, style_function=None, **kwargs: object) -> None:
        super().__init__(data, **kwargs)
        self._name = "CompactGeoJson"
        self.scale = scale
        self.compact_style = style_function
        self.styles: list[dict] = []
        self.styles_json = "[]"
        self.compact_json = "null"

    def render(self, **kwargs: object) -> None:
        features = self.data["features"]
        index: dict[str, int] = {}
        keys: list[int] = []
        if self.compact_style is not None:
            for f in features:
                key = json.dumps(self.compact_style(f), sort_keys=True)
                keys.append(index.setdefault(key, len(index)))
        self.styles = [json.loads(k) for k in index]
        self.styles_json = script_json(self.styles)
        self.compact_json = script_json(encode(features, scale=self.scale,
                                               styles=keys if len(index) > 1 else None))
        super().render(**kwargs)


FIT_PADDING_PX = 6


def new_map(bounds: Sequence[float], *, tiles: str | None = None, tiles_attr: str = "tiles",
            height_px: int = 560) -> folium.Map:
    """A map fitted to WGS84 ``bounds`` (minx, miny, maxx, maxy), on tiles or on a plain background."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=12, tiles=None,
                   control_scale=True, height=height_px, zoom_snap=0.1, zoom_delta=0.5)
    if tiles:
        folium.TileLayer(tiles=tiles, attr=html.escape(tiles_attr), name="basemap", max_zoom=19).add_to(m)
    # the data's extent, edge to edge (a fraction of a zoom level at most left over, a few pixels of margin)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(FIT_PADDING_PX, FIT_PADDING_PX))
    m.get_root().header.add_child(folium.Element(_readability_css()))
    m.add_child(_ZoomReadability())
    m.add_child(GaGeoDecoder())
    return m


def _tooltip(fields: Sequence[tuple[str, str]]) -> folium.GeoJsonTooltip | None:
    if not fields:
        return None
    return folium.GeoJsonTooltip(fields=[f for f, _ in fields], aliases=[html.escape(a) for _, a in fields],
                                 sticky=True)


def add_polygons(
    m: folium.Map | folium.FeatureGroup,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    fill: str | Sequence[str] = "#3388ff",
    color: str = "#555555",
    weight: float = 0.8,
    fill_opacity: float = 0.6,
    class_name: str = "ga-polygon",
    tooltip: Sequence[tuple[str, str]] = (),
    simplify_m: float | None = 5.0,
    datum: str = "wgs84",
    show: bool = True,
) -> folium.GeoJson:
    """Polygons with a fill colour each (or one for all), a tooltip of ``(column, label)`` pairs."""
    data = gdf.copy()
    data["_fill"] = list(fill) if not isinstance(fill, str) else fill
    payload = geojson_payload(data, columns=[*(c for c, _ in tooltip), "_fill"], simplify_m=simplify_m,
                              precision_deg=POLYGON_PRECISION_DEG, datum=datum)

    def style(feature: dict) -> dict:
        return {"fillColor": feature["properties"]["_fill"], "color": color, "weight": weight,
                "fillOpacity": fill_opacity, "className": class_name}

    layer = CompactGeoJson(payload, scale=precision_scale(POLYGON_PRECISION_DEG), name=name, style_function=style,
                           tooltip=_tooltip(tooltip), show=show, smooth_factor=0.5)
    layer.add_to(m)
    return layer


def add_lines(m: folium.Map | folium.FeatureGroup, gdf: gpd.GeoDataFrame, *, name: str, color: str = "#333333",
              weight: float = 2.0, class_name: str = "ga-line", simplify_m: float | None = 5.0,
              datum: str = "wgs84", show: bool = True, dash: str | None = None) -> folium.GeoJson:
    """Lines (or polygon outlines, drawn unfilled) in one style."""
    payload = geojson_payload(gdf, columns=[], simplify_m=simplify_m, precision_deg=POLYGON_PRECISION_DEG, datum=datum)
    style = {"color": color, "weight": weight, "fill": False, "className": class_name}
    if dash:
        style["dashArray"] = dash
    layer = CompactGeoJson(payload, scale=precision_scale(POLYGON_PRECISION_DEG), name=name,
                           style_function=lambda _f: style, show=show, interactive=False)
    layer.add_to(m)
    return layer


def add_points(
    m: folium.Map | folium.FeatureGroup,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    color: str,
    radius_px: float = 6.0,
    class_name: str = "ga-point",
    tooltip: Sequence[tuple[str, str]] = (),
    datum: str = "wgs84",
    show: bool = True,
    fill_opacity: float = 0.9,
) -> folium.GeoJson:
    """Points drawn as circle markers of one colour (one GeoJSON layer, not one script per point).

    ``radius_px`` is the radius when zoomed in; zoomed out to district scale
    the markers shrink (see `POINT_FULL_ZOOM`) so they do not cover the grids.
    """
    payload = geojson_payload(gdf, columns=[c for c, _ in tooltip], datum=datum, precision_deg=POINT_PRECISION_DEG)
    marker = folium.CircleMarker(radius=radius_px, weight=1.5, color="#ffffff", fill=True, fill_color=color,
                                 fill_opacity=fill_opacity, class_name=f"{class_name} {ZOOMSCALED_CLASS}")
    layer = CompactGeoJson(payload, scale=precision_scale(POINT_PRECISION_DEG), name=name, marker=marker,
                           tooltip=_tooltip(tooltip), show=show)
    layer.add_to(m)
    return layer


def quantile_colors(values: pd.Series, *, palette: Sequence[str] = SEQUENTIAL,
                    fmt: str = "{:,.0f}") -> tuple[list[str], list[tuple[str, str]]]:
    """A colour per value from quantile classes, and the legend items ``(colour, range)``."""
    v = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return ["#cccccc"] * len(v), []
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, len(palette) + 1)))
    if edges.size < 2:
        edges = np.array([finite.min(), finite.min() + 1.0])
    idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, edges.size - 2)
    colors = [palette[int(i)] if np.isfinite(x) else "#cccccc" for i, x in zip(idx, v, strict=True)]
    legend = [(palette[i], f"{fmt.format(edges[i])} – {fmt.format(edges[i + 1])}") for i in range(edges.size - 1)]
    return colors, legend


def step_colors(values: pd.Series, *, edges: Sequence[float], palette: Sequence[str],
                labels: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """A colour per value from fixed class edges (``len(palette) == len(edges) - 1``)."""
    if len(palette) != len(edges) - 1 or len(labels) != len(palette):
        raise ValueError("step_colors needs one colour and one label per class")
    v = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    idx = np.clip(np.searchsorted(np.asarray(edges[1:-1]), v, side="right"), 0, len(palette) - 1)
    colors = [palette[int(i)] if np.isfinite(x) else "#cccccc" for i, x in zip(idx, v, strict=True)]
    return colors, list(zip(palette, labels, strict=True))


def legend(title: str, items: Iterable[tuple[str, str]], *, shape: str = "square") -> None:
    """A legend beside the map (plain HTML, labels escaped)."""
    radius = "50%" if shape == "circle" else "2px"
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:6px;margin:2px 0">'
        f'<span style="display:inline-block;width:14px;height:14px;border-radius:{radius};'
        f'background:{html.escape(color)};border:1px solid #888"></span>'
        f'<span>{html.escape(label)}</span></div>'
        for color, label in items
    )
    st.markdown(f'<div class="ga-legend" style="font-size:0.85rem"><b>{html.escape(title)}</b>{rows}</div>',
                unsafe_allow_html=True)


def localize_assets(m: folium.Map) -> None:
    """Point every script/style link of the map's elements at the app's own static files.

    Folium's default bootstrap/awesome-markers/font-awesome links are dropped
    (no GridAtlas map uses them); any other non-local link raises, so a new
    plugin cannot silently fetch from a CDN.
    """
    def walk(elem):
        yield elem
        for child in getattr(elem, "_children", {}).values():
            yield from walk(child)

    for elem in walk(m):
        for attr in ("default_js", "default_css"):
            links = getattr(elem, attr, None)
            if not links:
                continue
            local = []
            for name, url in links:
                if isinstance(elem, folium.Map) and name in _UNUSED_DEFAULTS:
                    continue
                path = url if url.startswith("/app/static/") else local_url(name)
                if path is None:
                    raise ValueError(f"{type(elem).__name__} needs {url}, which the app does not serve; "
                                     "add it to ui/assets.py")
                local.append((name, path))
            setattr(elem, attr, local)


def _folium_component():
    """streamlit_folium, imported on first use: Streamlit serves a component only when it is declared (imported)
    during a script run, so it is not imported with this module (which the server's warm-up loads early)."""
    import streamlit_folium

    return streamlit_folium


@dataclass
class MapPayload:
    """What the browser's map component receives for one folium map: rendered once, reused on every rerun.

    Rendering a folium map (its templates, the GeoJSON of every layer) costs
    most of a map page's rerun; a payload is that rendering done once and kept
    (in memory per dataset version, or on disk beside it: it pickles, a folium
    map does not). `show_payload` hands it to the component exactly as
    `st_folium` would.
    """

    script: str
    header: str
    html: str
    map_id: str
    bounds: dict
    zoom: float | int | None
    css_links: list[str]
    js_links: list[str]
    feature_group: str | None = None  # dynamic layers (see `map_payload`)
    layer_control: str | None = None
    _keys: dict[tuple[str, bool], str] = field(default_factory=dict, repr=False, compare=False)

    def component_key(self, key: str, return_on_hover: bool = False) -> str:
        """`st_folium`'s widget key for this script (hashing a large script once per key, not per rerun)."""
        got = self._keys.get((key, return_on_hover))
        if got is None:
            got = _folium_component().generate_js_hash(self.script, key, return_on_hover)
            self._keys[(key, return_on_hover)] = got
        return got


def _bounds_dict(bounds: list[list[float | None]]) -> dict:
    (south, west), (north, east) = bounds
    return {"_southWest": {"lat": south, "lng": west}, "_northEast": {"lat": north, "lng": east}}


def _copied(value: object, memo: dict[int, object]) -> object:
    """``value`` with every folium element in it replaced by its copy (`render_copy`); lists and dicts one level."""
    if isinstance(value, Element):
        got = memo.get(id(value))
        if got is None:
            got = object.__new__(type(value))
            memo[id(value)] = got  # before its attributes: they lead back to it (parents, children)
            got.__dict__.update({k: _copied(v, memo) for k, v in value.__dict__.items()})
        return got
    if type(value) in (list, tuple) and any(isinstance(v, Element) for v in value):
        return type(value)(_copied(v, memo) for v in value)
    if isinstance(value, dict) and any(isinstance(v, Element) for v in value.values()):
        return type(value)((k, _copied(v, memo)) for k, v in value.items())
    if isinstance(value, (dict, list, set)):  # an empty OrderedDict of children too: rendering adds to it
        return value.copy()
    return value


def render_copy(elem: Element) -> Element:
    """A copy of ``elem``'s whole element tree (from its root figure) to render, leaving ``elem`` untouched.

    Rendering changes elements (ids, parents, children, style maps), so a map kept in a cache is rendered as a
    copy. Every element is new; what they hold is shared: the GeoJSON of each layer (which rendering only
    reads) and the compiled templates. `copy.deepcopy` copied the GeoJSON and compiled every element's
    template again (branca restores a template from its source): most of the time of a street's coverage map.
    """
    memo: dict[int, object] = {}
    _copied(elem.get_root(), memo)
    return _copied(elem, memo)  # type: ignore[return-value]


class _Text:
    """What a Jinja template of plain text renders to: the text, less one final newline (Jinja drops it)."""

    __slots__ = ("text",)

    def __init__(self, source: str) -> None:
        self.text = source[:-1] if source.endswith("\n") else source

    def render(self, *args: object, **kwargs: object) -> str:
        return self.text


# Jinja reads these as the start of a tag, a comment or an expression (and turns "\r" into "\n")
_JINJA_MARKS = ("{{", "{%", "{#", "\r")


def _template(source: str, *args: object, **kwargs: object) -> jinja2.Template | _Text:
    """`jinja2.Template`, but plain text (no Jinja syntax in it) is kept as text instead of being compiled."""
    if isinstance(source, str) and not args and not kwargs and not any(m in source for m in _JINJA_MARKS):
        return _Text(source)
    return jinja2.Template(source, *args, **kwargs)


_text_lock = threading.Lock()
_text_depth = 0


@contextmanager
def _plain_text_kept() -> Iterator[None]:
    """While rendering a map, branca keeps plain text as text.

    Rendering a folium map makes an element of each layer's rendered script (the whole GeoJSON of the layer,
    as JavaScript), and branca compiles every such element's text as a Jinja template, only to render it back
    unchanged: on a street's hot-spot map a fifth of its time. Text with any Jinja syntax in it is still
    compiled. Threads rendering at once share the switch; it is undone when the last one leaves.
    """
    global _text_depth
    with _text_lock:
        if _text_depth == 0:
            branca.element.Template = _template
        _text_depth += 1
    try:
        yield
    finally:
        with _text_lock:
            _text_depth -= 1
            if _text_depth == 0:
                branca.element.Template = jinja2.Template


def map_payload(m: folium.Map, layers: Sequence[folium.FeatureGroup] = ()) -> MapPayload:
    """Render ``m`` (a copy: the map itself stays renderable) with the app's own assets, as `st_folium` does.

    ``layers``: feature groups the component swaps into the drawn map without reloading it (st_folium's
    dynamic layers, with a layer control listing them): for maps whose base stays while their data changes.
    """
    m = render_copy(m)
    localize_assets(m)
    sf = _folium_component()
    feature_group = layer_control = None
    with _plain_text_kept():
        m.get_root().render()
        m.render()
        # the same steps, in the same order, as streamlit_folium.st_folium (the map string alters the map)
        html_part, header = sf._get_html(m), sf._get_header(m)
        script = sf._get_map_string(m)
        if layers:
            groups = [render_copy(g) for g in layers]
            for g in groups:
                localize_assets(g)
            feature_group = "".join(sf._get_feature_group_string(g, map=m, idx=i) for i, g in enumerate(groups))
            layer_control = sf._get_layer_control_string(folium.LayerControl(collapsed=False), m)
    css: list[str] = []
    js: list[str] = []

    def walk(elem):
        yield elem
        for child in getattr(elem, "_children", {}).values():
            yield from walk(child)

    for elem in walk(m):
        css.extend(href for _, href in getattr(elem, "default_css", []) or [])
        js.extend(src for _, src in getattr(elem, "default_js", []) or [])
    return MapPayload(script=script, header=header, html=html_part, map_id=sf.get_full_id(m),
                      bounds=_bounds_dict(m.get_bounds()), zoom=m.options.get("zoom"),
                      css_links=list(dict.fromkeys(css)), js_links=list(dict.fromkeys(js)),
                      feature_group=feature_group, layer_control=layer_control)


_DEFAULTS = ("last_clicked", "last_object_clicked", "last_object_clicked_count", "last_object_clicked_tooltip",
             "last_object_clicked_popup", "all_drawings", "last_active_drawing", "bounds", "zoom",
             "last_circle_radius", "last_circle_polygon", "selected_layers", "selected_tags",
             "last_geocoder_result")


def show_payload(p: MapPayload, *, key: str, height: int = 560, returned_objects: Sequence[str] = ()) -> dict:
    """Draw a rendered map; return what `st_folium` returns (only ``returned_objects``)."""
    wanted = list(returned_objects)
    defaults = {k: ({"bounds": p.bounds, "zoom": p.zoom}.get(k)) for k in _DEFAULTS if k in wanted}
    hash_key = p.component_key(key)

    def _on_change() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})

    got = _folium_component()._component_func(
        script=p.script, header=p.header, html=p.html, id=p.map_id, key=hash_key, height=height, width=None,
        returned_objects=wanted, default=defaults, zoom=None, center=None, feature_group=p.feature_group,
        return_on_hover=False, layer_control=p.layer_control, pixelated=False, css_links=p.css_links, js_links=p.js_links,
        on_change=_on_change, wrap_longitude=False)
    return got or {}


def show_map(m: folium.Map | MapPayload, *, key: str, height: int = 560, returned_objects: Sequence[str] = (),
             layers: Sequence[folium.FeatureGroup] = ()) -> dict:
    """Render a map with local assets only; return what st_folium returns (only ``returned_objects``).

    ``m`` may be a folium map or its `MapPayload` (rendered once and kept: the fast path for maps that stay
    the same between reruns). ``layers``: see `map_payload`.
    """
    p = m if isinstance(m, MapPayload) else map_payload(m, layers)
    return show_payload(p, key=key, height=height, returned_objects=returned_objects)
