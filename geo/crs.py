"""Coordinate systems: Chinese web-map datums and the metric CRS for analysis.

GCJ-02 ("Mars coordinates", used by Amap and Tencent) is WGS84 plus a
deliberately obfuscated, position-dependent offset of a few hundred metres;
BD-09 (Baidu) is a further rotation/scaling of GCJ-02. Neither is in PROJ, so
the published forward formulas are implemented here, vectorised with numpy.
The inverses are computed by fixed-point iteration to better than 1e-9
degrees (about 0.1 mm), far inside the 0.5 m that mapping needs.

CGCS2000 (EPSG:4490) differs from WGS84 by centimetres; it is relabelled as
WGS84 for display and analysis.
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

from geo.errors import AnalysisError

CoordSys = Literal["wgs84", "gcj02", "bd09"]
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-9
_MAX_ITER = 30


def _outside_china(lon: NDArray, lat: NDArray) -> NDArray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(lon: NDArray, lat: NDArray) -> tuple[NDArray, NDArray]:
    x = lon - 105.0
    y = lat - 35.0
    sq = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _outside_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """WGS84 -> GCJ-02 (the published forward algorithm)."""
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """GCJ-02 -> WGS84 by fixed-point iteration of the forward transform."""
    glon, glat = _arrays(lon, lat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(_MAX_ITER):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < _TOLERANCE_DEG) and np.all(np.abs(elat) < _TOLERANCE_DEG):
            break
    return wlon, wlat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """GCJ-02 -> BD-09 (Baidu's published transform)."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """BD-09 -> GCJ-02, the closed-form inverse refined by iteration."""
    blon, blat = _arrays(lon, lat)
    x, y = blon - 0.0065, blat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_MAX_ITER):
        flon, flat = gcj02_to_bd09(glon, glat)
        elon, elat = flon - blon, flat - blat
        glon, glat = glon - elon, glat - elat
        if np.all(np.abs(elon) < _TOLERANCE_DEG) and np.all(np.abs(elat) < _TOLERANCE_DEG):
            break
    return glon, glat


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """WGS84 -> BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """BD-09 -> WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERTERS = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def convert_points(
    lon: ArrayLike, lat: ArrayLike, *, from_sys: CoordSys, to_sys: CoordSys
) -> tuple[NDArray, NDArray]:
    """Convert lon/lat arrays between ``wgs84``, ``gcj02`` and ``bd09``."""
    for name, value in (("from_sys", from_sys), ("to_sys", to_sys)):
        if value not in COORD_SYSTEMS:
            raise AnalysisError(f"`{name}` was {value!r} but is expected to be one of {COORD_SYSTEMS}",
                                code="analysis.bad_choice",
                                params={"name": name, "value": str(value), "allowed": ", ".join(COORD_SYSTEMS)})
    if from_sys == to_sys:
        return _arrays(lon, lat)
    return _CONVERTERS[(from_sys, to_sys)](lon, lat)


def convert_geometry(geoms: ArrayLike, *, from_sys: CoordSys, to_sys: CoordSys) -> NDArray:
    """Convert an array of shapely geometries (lon/lat) between datums, vertex by vertex."""

    def _fn(coords: NDArray) -> NDArray:
        lon, lat = convert_points(coords[:, 0], coords[:, 1], from_sys=from_sys, to_sys=to_sys)
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), _fn)


def convert_gdf(gdf: gpd.GeoDataFrame, *, from_sys: CoordSys, to_sys: CoordSys) -> gpd.GeoDataFrame:
    """Return a copy of a lon/lat GeoDataFrame with its geometry converted between datums."""
    out = gdf.copy()
    out[out.geometry.name] = gpd.GeoSeries(
        convert_geometry(gdf.geometry.values, from_sys=from_sys, to_sys=to_sys),
        index=gdf.index,
        crs=WGS84,
    )
    return out.set_crs(WGS84, allow_override=True)


def to_wgs84(gdf: gpd.GeoDataFrame, *, coord_sys: CoordSys = "wgs84") -> gpd.GeoDataFrame:
    """Bring any input to WGS84 lon/lat.

    ``coord_sys`` says which datum plain lon/lat values are in (web-map exports
    carry no CRS that says GCJ-02 or BD-09). A projected CRS is reprojected by
    PROJ; CGCS2000 is relabelled as WGS84; a missing CRS is taken as lon/lat.
    """
    crs = gdf.crs
    if crs is None:
        out = gdf.set_crs(WGS84)
    elif CRS.from_user_input(crs).equals(CRS.from_user_input(CGCS2000)):
        out = gdf.set_crs(WGS84, allow_override=True)
    elif CRS.from_user_input(crs).is_projected:
        out = gdf.to_crs(WGS84)
    else:
        out = gdf.to_crs(WGS84) if not CRS.from_user_input(crs).equals(CRS.from_user_input(WGS84)) else gdf
    if coord_sys != "wgs84":
        out = convert_gdf(out, from_sys=coord_sys, to_sys="wgs84")
    return out


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone CRS that contains a lon/lat point."""
    zone = int(np.floor((lon + 180.0) / 6.0)) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """The UTM zone of a WGS84 layer's centre: the CRS analyses measure in."""
    minx, miny, maxx, maxy = gdf.to_crs(WGS84).total_bounds
    return utm_crs_for((minx + maxx) / 2.0, (miny + maxy) / 2.0)


def require_metric(gdf: gpd.GeoSeries | gpd.GeoDataFrame, *, what: str) -> None:
    """Refuse geometry whose units are not metres, before any distance is taken."""
    crs = gdf.crs
    if crs is None or not CRS.from_user_input(crs).is_projected:
        raise AnalysisError(
            f"{what} is in {crs or 'no CRS'}, whose units are not metres; "
            "project it with geo.crs.metric_crs() before measuring distances",
            code="analysis.not_metric", params={"what": what, "crs": str(crs or "-")},
        )
    unit = CRS.from_user_input(crs).axis_info[0].unit_name
    if unit not in ("metre", "meter"):
        raise AnalysisError(f"{what} is in {crs} measured in {unit}; distances need metres",
                            code="analysis.not_metric", params={"what": what, "crs": f"{crs} ({unit})"})
