"""Walkable ways of an OpenStreetMap extract (``.osm`` XML or ``.osm.pbf``) as the ``roads`` layer.

Read with GDAL's OSM driver through pyogrio, its ``lines`` layer only, with the
project's own driver configuration (`OSMCONF`: ``highway``, ``foot`` and
``access`` as fields, no ``other_tags``), a ``where`` on ``highway`` and, for an
import, a bbox filter: the dataset's extent (its grids' bounds) plus
`MARGIN_M` on every side. Ways reaching past that box are cut at its edge.

Which ways are walkable (`walkable_mask`, documented in docs/data.md):

- taken: the classes in `TAKEN` (footway, path, pedestrian, steps,
  living_street, residential, service, unclassified, tertiary, secondary,
  primary and their links, track, road);
- taken only with ``foot=yes|designated|permissive``: `FOOT_ONLY` (trunk and
  trunk_link — urban expressways in Chinese cities —, cycleway, bridleway);
- never: motorway and motorway_link, and every other class (construction,
  proposed, platform, corridor, busway, raceway, …);
- left out whatever the class: ``foot=no|private|use_sidepath``, and
  ``access=no|private`` unless ``foot=yes|designated|permissive``.

Closed ways tagged as areas (``area=yes``, a pedestrian square's outline) are
polygons to the driver and are not read. The result has ``osm_id``, ``name``,
``highway`` and ``walkable`` (always true), LineStrings in WGS84.
"""

from __future__ import annotations

import math
import warnings as _warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.errors import DataError, Problem

OSMCONF = Path(__file__).with_name("osmconf.ini")
OSM_SUFFIXES: tuple[str, ...] = (".osm", ".pbf")  # ``.osm.pbf`` ends with ``.pbf``

TAKEN: tuple[str, ...] = ("footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
                          "unclassified", "tertiary", "tertiary_link", "secondary", "secondary_link", "primary",
                          "primary_link", "track", "road")
FOOT_ONLY: tuple[str, ...] = ("trunk", "trunk_link", "cycleway", "bridleway")
FOOT_ALLOWED: tuple[str, ...] = ("yes", "designated", "permissive")
FOOT_DENIED: tuple[str, ...] = ("no", "private", "use_sidepath")
ACCESS_DENIED: tuple[str, ...] = ("no", "private")
# Around the grids' bounds: the longest default walking threshold (15-minute life circle, GB 50180-2018).
MARGIN_M = 1000.0
_M_PER_DEG_LAT = 111_320.0
COLUMNS: tuple[str, ...] = ("osm_id", "name", "highway", "walkable")

Bbox = tuple[float, float, float, float]
WHOLE_WORLD: Bbox = (-180.0, -90.0, 180.0, 90.0)


def is_osm(path: str | Path) -> bool:
    """Whether a file name is an OpenStreetMap extract (``.osm``, ``.osm.pbf`` or ``.pbf``)."""
    return Path(path).suffix.lower() in OSM_SUFFIXES


def extent_of(grids: gpd.GeoDataFrame, *, margin_m: float = MARGIN_M) -> Bbox:
    """The grids' bounds in WGS84 degrees widened by ``margin_m`` metres on every side."""
    g = grids if grids.crs is None or grids.crs.equals("EPSG:4326") else grids.to_crs("EPSG:4326")
    minx, miny, maxx, maxy = (float(v) for v in g.total_bounds)
    dlat = margin_m / _M_PER_DEG_LAT
    dlon = margin_m / (_M_PER_DEG_LAT * max(math.cos(math.radians(max(abs(miny), abs(maxy)))), 1e-6))
    return (minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)


def _clean(values: pd.Series) -> pd.Series:
    return values.astype("object").where(values.notna(), "").astype(str).str.strip().str.lower()


def walkable_mask(highway: pd.Series, foot: pd.Series, access: pd.Series) -> np.ndarray:
    """For each way (its ``highway``, ``foot`` and ``access`` tags, missing as NA): may people walk on it?"""
    hw, ft, acc = _clean(highway), _clean(foot), _clean(access)
    allowed = ft.isin(FOOT_ALLOWED)
    taken = hw.isin(TAKEN) | (hw.isin(FOOT_ONLY) & allowed)
    denied = ft.isin(FOOT_DENIED) | (acc.isin(ACCESS_DENIED) & ~allowed)
    return (taken & ~denied).to_numpy(dtype=bool)


def _where() -> str:
    return "highway IN (" + ", ".join(f"'{c}'" for c in (*TAKEN, *FOOT_ONLY)) + ")"


def _bbox_text(bbox: Bbox) -> str:
    return ", ".join(f"{v:.4f}" for v in bbox)


def no_walkable_ways(name: str, bbox: Bbox | None, *, layer: str = "roads") -> DataError:
    """``data.osm_no_walkable_ways``: nothing walkable in ``bbox`` (None: the whole world, the file read whole)."""
    where = _bbox_text(bbox if bbox is not None else WHOLE_WORLD)
    return DataError([Problem(layer, f"{name} has no walkable way within {where}",
                              "use an extract that covers the district (with footways and residential streets), "
                              "or import the district's own roads file",
                              code="data.osm_no_walkable_ways", params={"name": name, "bbox": where})])


def read_osm_roads(path: str | Path, *, bbox: Bbox | None = None, name: str | None = None) -> gpd.GeoDataFrame:
    """The walkable ways of an OSM extract inside ``bbox`` (WGS84 degrees; None: the whole file), cut at its edge.

    Raises `DataError` (``data.osm_no_walkable_ways``) when none is left. GDAL's own failures (a broken
    file) propagate as pyogrio errors for the caller to report as unreadable.
    """
    path = Path(path)
    name = name or path.name
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # GDAL's notes about the OSM driver's temporary index
        frame = pyogrio.read_dataframe(path, layer="lines", columns=["osm_id", "name", "highway", "foot", "access"],
                                       where=_where(), bbox=bbox, use_arrow=True, CONFIG_FILE=str(OSMCONF))
    for col in ("osm_id", "name", "highway", "foot", "access"):
        if col not in frame.columns:  # a file whose lines carry none of these tags at all
            frame[col] = None
    frame = frame.loc[walkable_mask(frame["highway"], frame["foot"], frame["access"])]
    geoms = frame.geometry.to_numpy()
    if bbox is not None and len(geoms):
        geoms = shapely.clip_by_rect(geoms, *bbox)
    out = gpd.GeoDataFrame({"osm_id": frame["osm_id"].to_numpy(), "name": frame["name"].to_numpy(),
                            "highway": frame["highway"].to_numpy()}, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))
    out = out.explode(index_parts=False)
    out = out.loc[~out.geometry.is_empty & (out.geom_type == "LineString")].reset_index(drop=True)
    if out.empty:
        raise no_walkable_ways(name, bbox)
    out.insert(3, "walkable", True)
    return out
