"""Where residents live: demand points for coverage, accessibility and siting.

A grid's residents (and its aged 60+) are split among the estates inside it in
proportion to households, each estate at its representative point. A grid with
no estates (or estates with no households) spreads them evenly over its area on
a regular lattice, so a grid half inside a radius counts about half.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.assign import assign_grid_ids
from geo.crs import metric_crs, require_metric
from geo.errors import AnalysisError

DEMAND_COLUMNS = (
    "demand_id", "grid_id", "street", "community", "source", "estate_id",
    "households", "population", "elderly", "geometry",
)
MAX_AREA_POINTS = 100


def _lattice(poly: shapely.Geometry, spacing_m: float) -> np.ndarray:
    """Points of a square lattice inside ``poly`` (cell centres), at least one."""
    area = poly.area
    spacing = max(spacing_m, float(np.sqrt(area / MAX_AREA_POINTS))) if area > 0 else spacing_m
    minx, miny, maxx, maxy = poly.bounds
    xs = np.arange(minx + spacing / 2.0, maxx, spacing)
    ys = np.arange(miny + spacing / 2.0, maxy, spacing)
    if len(xs) and len(ys):
        gx, gy = np.meshgrid(xs, ys)
        pts = shapely.points(gx.ravel(), gy.ravel())
        inside = shapely.contains_xy(poly, gx.ravel(), gy.ravel())
        pts = pts[inside]
        if len(pts):
            return pts
    return np.array([poly.representative_point()], dtype=object)


def demand_points(
    grids: gpd.GeoDataFrame,
    estates: gpd.GeoDataFrame | None = None,
    *,
    crs: CRS | str | None = None,
    area_spacing_m: float = 50.0,
) -> gpd.GeoDataFrame:
    """Demand points in a metric CRS (the grids' UTM zone unless ``crs`` is given).

    Columns: ``demand_id`` (int), ``grid_id``, ``street``, ``community``,
    ``source`` ("estate" or "area"), ``estate_id`` (<NA> for area points),
    ``households``, ``population``, ``elderly`` (floats: each point's share of
    its grid), geometry (Point). Per grid, the point weights sum exactly to the
    grid's figures. Inputs are not modified.
    """
    if area_spacing_m <= 0:
        raise AnalysisError(f"`area_spacing_m` was {area_spacing_m} but must be greater than zero",
                            code="analysis.not_positive", params={"name": "area_spacing_m", "value": str(area_spacing_m)})
    target = CRS.from_user_input(crs) if crs is not None else metric_crs(grids)
    g = grids.to_crs(target)
    require_metric(g, what="grids")
    parts: list[pd.DataFrame] = []
    covered_by_estates: set[str] = set()

    if estates is not None and len(estates):
        e = estates.to_crs(target)
        reps = gpd.GeoDataFrame(
            {"estate_id": e["estate_id"].astype("string"), "households_e": e["households"].astype("float64")},
            geometry=e.geometry.representative_point(), crs=target,
        )
        reps["grid_id"] = assign_grid_ids(reps, g)
        reps = reps[reps["grid_id"].notna() & (reps["households_e"] > 0)]
        if len(reps):
            totals = reps.groupby("grid_id")["households_e"].transform("sum")
            share = reps["households_e"] / totals
            info = g.set_index(g["grid_id"].astype("string"))
            gid = reps["grid_id"]
            est = pd.DataFrame({
                "grid_id": gid.to_numpy(),
                "street": info.loc[gid, "street"].to_numpy(),
                "community": info.loc[gid, "community"].to_numpy(),
                "source": "estate",
                "estate_id": reps["estate_id"].to_numpy(),
                "households": (info.loc[gid, "households"].astype("float64").to_numpy() * share.to_numpy()),
                "population": (info.loc[gid, "population"].astype("float64").to_numpy() * share.to_numpy()),
                "elderly": (info.loc[gid, "elderly"].astype("float64").to_numpy() * share.to_numpy()),
                "geometry": reps.geometry.to_numpy(),
            })
            parts.append(est)
            covered_by_estates = set(gid.unique().tolist())

    rest = g[~g["grid_id"].astype("string").isin(covered_by_estates)]
    rows = []
    for rec in rest.itertuples(index=False):
        pts = _lattice(rec.geometry, area_spacing_m)
        n = len(pts)
        rows.append(pd.DataFrame({
            "grid_id": str(rec.grid_id), "street": rec.street, "community": rec.community,
            "source": "area", "estate_id": pd.NA,
            "households": float(rec.households) / n, "population": float(rec.population) / n,
            "elderly": float(rec.elderly) / n, "geometry": pts,
        }))
    parts.extend(rows)
    if parts:
        df = pd.concat(parts, ignore_index=True)
    else:
        df = pd.DataFrame({c: [] for c in DEMAND_COLUMNS if c != "demand_id"})
    df.insert(0, "demand_id", np.arange(len(df), dtype="int64"))
    df["estate_id"] = df["estate_id"].astype("string")
    df["grid_id"] = df["grid_id"].astype("string")
    return gpd.GeoDataFrame(df[list(DEMAND_COLUMNS)], geometry="geometry", crs=target)
