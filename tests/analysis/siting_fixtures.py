"""Small siting instances drawn in metres (UTM 49N) where answers can be checked by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, Point, box

from geo.dataset import Dataset
from geo.schema import validate_layer

UTM = "EPSG:32649"
X0, Y0 = 510_000.0, 3_087_000.0


def mid_instance(seed: int = 11) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """1,500 clustered demand points, 80 candidate sites and 4 existing stations over 3 km x 3 km."""
    rng = np.random.default_rng(seed)
    centres = rng.random((60, 2)) * 3000
    xy = centres[rng.integers(0, 60, 1500)] + rng.normal(0, 90, (1500, 2))
    demand = gpd.GeoDataFrame({"demand_id": np.arange(1500), "grid_id": [f"G{i % 60}" for i in range(1500)],
                               "elderly": rng.gamma(2.0, 3.0, 1500).round(2)},
                              geometry=gpd.points_from_xy(X0 + xy[:, 0], Y0 + xy[:, 1]), crs=UTM)
    cxy = rng.random((80, 2)) * 3000
    cands = gpd.GeoDataFrame({"site_id": [f"S{i:02d}" for i in range(80)], "name": [f"候选{i}" for i in range(80)]},
                             geometry=gpd.points_from_xy(X0 + cxy[:, 0], Y0 + cxy[:, 1]), crs=UTM)
    exy = rng.random((4, 2)) * 3000
    existing = gpd.GeoDataFrame({"facility_id": [f"F{i}" for i in range(4)]},
                                geometry=gpd.points_from_xy(X0 + exy[:, 0], Y0 + exy[:, 1]), crs=UTM)
    return demand, cands, existing


def at(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def siting_dataset(*, candidates: bool = True, roads: bool = False, capacity: bool = False) -> Dataset:
    """Four 400 m grids in a row (G1..G4, x 0..1600), two estates each; a day-care station at (200, 200)."""
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2", "G3", "G4"], "street": ["东街"] * 2 + ["西街"] * 2, "community": ["a", "a", "b", "b"],
         "households": [100, 100, 100, 100], "population": [400] * 4, "elderly": [100, 80, 60, 40]},
        geometry=[box(X0 + 400 * i, Y0, X0 + 400 * (i + 1), Y0 + 400) for i in range(4)], crs=UTM)
    est_xy = [(100, 100), (300, 300), (500, 100), (700, 300), (900, 100), (1100, 300), (1300, 100), (1500, 300)]
    estates = gpd.GeoDataFrame(
        {"estate_id": [f"E{i + 1}" for i in range(8)], "name": [f"小区{i + 1}" for i in range(8)],
         "households": [50] * 8, "management": ["property_company"] * 8},
        geometry=[at(x, y).buffer(10) for x, y in est_xy], crs=UTM)
    fac = gpd.GeoDataFrame({"facility_id": ["F1", "F2"], "name": ["日照一", "日照二"], "type": ["day_care"] * 2,
                            "status": ["operating", "planned"], "capacity": [30.0, 50.0]},
                           geometry=[at(200, 200), at(1300, 100)], crs=UTM)
    cand = None
    if candidates:
        cxy = [(250, 250), (600, 200), (1000, 200), (1400, 200), (800, 200)]
        rec = {"site_id": ["S1", "S2", "S3", "S4", "S5"], "name": ["甲", "乙", "丙", "丁", "戊"]}
        if capacity:
            rec["capacity"] = [20.0, 25.0, np.nan, 15.0, 30.0]
        cand = gpd.GeoDataFrame(rec, geometry=[at(x, y) for x, y in cxy], crs=UTM)
    road = None
    if roads:
        # Two parallel streets (y=120 and y=300) joined only at the far east end (x=1600).
        road = gpd.GeoDataFrame({"walkable": [True, True, True]},
                                geometry=[LineString([(X0, Y0 + 120), (X0 + 1600, Y0 + 120)]),
                                          LineString([(X0, Y0 + 300), (X0 + 1600, Y0 + 300)]),
                                          LineString([(X0 + 1600, Y0 + 120), (X0 + 1600, Y0 + 300)])], crs=UTM)
    return Dataset(grids=validate_layer(grids, "grids"), facilities=validate_layer(fac, "facilities"),
                   estates=validate_layer(estates, "estates"),
                   candidates=validate_layer(cand, "candidates") if cand is not None else None,
                   roads=validate_layer(road, "roads") if road is not None else None, name="fixture")


