"""Map layers every page draws the same way: grids, street boundaries, facilities, estates.

`district_map` builds the overview map once per (dataset version, street,
language, basemap, optional layers switched on) and keeps its rendered payload
(`ui.maps.MapPayload`) beside the version on disk, so neither a rerun nor a
restarted server renders it again. Optional layers (`OPTIONAL_LAYERS`: the
estates) are not in the map until the user switches them on: the page then
asks for the map with them, drawn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import folium
import geopandas as gpd

from analysis.summary import grid_density
from geo.dataset import Dataset
from geo.schema import FACILITY_TYPES, MANAGEMENT
from i18n import label_of, t
from ui.context import PageContext
from ui.data import derived, get_dataset
from ui.maps import (
    FACILITY_COLORS,
    MANAGEMENT_COLORS,
    PAYLOAD_VERSION,
    MapPayload,
    add_lines,
    add_points,
    add_polygons,
    map_payload,
    new_map,
    quantile_colors,
)


def street_outlines(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One outline per street, dissolved from its grids."""
    return grids[["street", "geometry"]].dissolve(by="street", as_index=False)


def base_map(ctx: PageContext, grids: gpd.GeoDataFrame) -> folium.Map:
    """An empty map fitted to ``grids`` on the context's basemap."""
    return new_map(grids.total_bounds, tiles=ctx.tiles, tiles_attr=ctx.tiles_attr)


def add_facilities(m: folium.Map, facilities: gpd.GeoDataFrame, *, datum: str,
                   types: tuple[str, ...] | None = None, show: bool = True) -> list[tuple[str, str]]:
    """One layer per facility type (distinct colours); returns the legend items."""
    items = []
    tooltip = [("name", t("col.name")), ("type_label", t("col.type")), ("capacity", t("col.capacity")),
               ("status_label", t("col.status"))]
    fac = facilities.assign(
        type_label=[label_of("facility", v) for v in facilities["type"]],
        status_label=[label_of("status", v) if isinstance(v, str) else "" for v in
                      (facilities["status"] if "status" in facilities.columns else [None] * len(facilities))],
    )
    if "capacity" not in fac.columns:
        fac["capacity"] = None
    for code in types or tuple(FACILITY_TYPES):
        sub = fac[fac["type"] == code]
        if sub.empty:
            continue
        label = label_of("facility", code)
        add_points(m, sub, name=f"{label} ({len(sub)})", color=FACILITY_COLORS[code],
                   class_name=f"ga-facility ga-facility-{code}", tooltip=tooltip, datum=datum, show=show)
        items.append((FACILITY_COLORS[code], f"{label} ({len(sub)})"))
    return items


# Above this many estates, the district map draws them as dots (a third of the payload of outlines).
MAX_ESTATE_OUTLINES = 1000


def add_estates(m: folium.Map, estates: gpd.GeoDataFrame, *, datum: str, show: bool = True,
                as_points: bool | None = None) -> list[tuple[str, str]]:
    """Estates coloured by management (outlines, or dots when there are many); returns the legend items."""
    est = estates.assign(management_label=[label_of("management", v) for v in estates["management"]])
    tooltip = [("name", t("col.name")), ("management_label", t("col.management")),
               ("households", t("col.households"))]
    if as_points is None:
        as_points = len(est) > MAX_ESTATE_OUTLINES
    is_poly = est.geom_type.isin(["Polygon", "MultiPolygon"])
    if as_points:
        est = est.set_geometry(est.geometry.representative_point())
        tooltip = tooltip[:2]
        is_poly = is_poly & False
    polys, points = est[is_poly], est[~is_poly]
    if len(polys):
        add_polygons(m, polys, name=t("map.layer.estates"),
                     fill=[MANAGEMENT_COLORS[v] for v in polys["management"]], color="#444444", weight=0.5,
                     fill_opacity=0.8, class_name="ga-estate", tooltip=tooltip, datum=datum, show=show,
                     simplify_m=2.0)
    for code in MANAGEMENT:
        sub = points[points["management"] == code]
        if len(sub):
            add_points(m, sub, name=f"{t('map.layer.estates')} · {label_of('management', code)}",
                       color=MANAGEMENT_COLORS[code], radius_px=3, class_name="ga-estate", tooltip=tooltip,
                       datum=datum, show=show)
    return estate_legend(estates)


def estate_legend(estates: gpd.GeoDataFrame) -> list[tuple[str, str]]:
    """The legend items of the estates by management, with their counts."""
    counts = estates["management"].value_counts()
    return [(MANAGEMENT_COLORS[c], f"{label_of('management', c)} ({int(counts.get(c, 0))})") for c in MANAGEMENT]


Legends = dict[str, list[tuple[str, str]]]


# Layers of the overview map that are sent only once switched on (a toggle beside the map).
OPTIONAL_LAYERS = ("estates",)


def _optional(layers: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted(set(layers) - set(OPTIONAL_LAYERS))
    if unknown:
        raise ValueError(f"`layers` was {unknown} but is expected to be among {list(OPTIONAL_LAYERS)}")
    return tuple(name for name in OPTIONAL_LAYERS if name in layers)


def district_map(path: str, token: str, street: str | None, lang: str, tiles: str | None, tiles_attr: str,
                 datum: str, *, layers: Sequence[str] = ()) -> tuple[MapPayload, Legends]:
    """The overview map's payload and legends, built once per dataset version, street, language, basemap and
    set of optional ``layers`` switched on (`OPTIONAL_LAYERS`; none by default).

    Kept beside the version and in memory (`ui.data.derived`): a restarted server reads it back instead of
    building the map again. The name's digest covers `ui.maps.PAYLOAD_VERSION`, so a payload kept by an
    older version of the app is not reused.
    """
    shown = _optional(layers)
    digest = hashlib.sha256(repr((street, lang, tiles, tiles_attr, datum, shown, PAYLOAD_VERSION)).encode()).hexdigest()[:16]

    def build() -> tuple[MapPayload, Legends]:
        m, legends = build_district_map(get_dataset(path), street=street, lang=lang, tiles=tiles,
                                        tiles_attr=tiles_attr, datum=datum, layers=shown)
        return map_payload(m), legends

    return derived(path, token, f"overview_map.v1.{digest}", build)


def build_district_map(ds: Dataset, *, street: str | None = None, lang: str = "zh", tiles: str | None = None,
                       tiles_attr: str = "", datum: str = "wgs84",
                       layers: Sequence[str] = ()) -> tuple[folium.Map, dict[str, list[tuple[str, str]]]]:
    """The overview map and its legends: grids by aged-60+ density, streets, facilities, and the optional
    ``layers`` switched on (the estates by management). The legends cover the estates whether drawn or not."""
    shown = _optional(layers)
    grids = ds.grids if street is None else ds.grids[ds.grids["street"] == street]
    dens = grid_density(grids, crs=ds.metric_crs)
    g = grids.assign(elderly_per_km2=dens["elderly_per_km2"].round(0).to_numpy())
    colors, dens_legend = quantile_colors(g["elderly_per_km2"])
    m = new_map(g.total_bounds, tiles=tiles, tiles_attr=tiles_attr)
    add_polygons(m, g, name=t("map.layer.grids", lang=lang), fill=colors, class_name="ga-grid",
                 tooltip=[("grid_id", t("col.grid_id", lang=lang)), ("street", t("col.street", lang=lang)),
                          ("community", t("col.community", lang=lang)), ("population", t("col.population", lang=lang)),
                          ("elderly", t("col.elderly", lang=lang)),
                          ("elderly_per_km2", t("overview.density", lang=lang))],
                 datum=datum, fill_opacity=0.65)
    add_lines(m, street_outlines(grids), name=t("map.layer.streets", lang=lang), color="#222222", weight=2.2,
              class_name="ga-street", datum=datum, simplify_m=10.0)
    legends: dict[str, list[tuple[str, str]]] = {"density": dens_legend}
    area = grids.union_all() if street is not None else None
    if ds.estates is not None:
        estates = ds.estates if area is None else ds.estates[ds.estates.intersects(area)]
        if "estates" in shown:
            legends["estates"] = add_estates(m, estates, datum=datum)
        else:  # not sent until switched on: the legend only
            legends["estates"] = estate_legend(estates)
    fac = ds.facilities
    if area is not None:
        fac = fac[fac.intersects(area)]
    legends["facilities"] = add_facilities(m, fac, datum=datum)
    folium.LayerControl(collapsed=True).add_to(m)
    return m, legends
