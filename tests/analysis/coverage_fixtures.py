"""Small hand-made districts for the coverage, network and accessibility tests.

Geometry is drawn in metres (UTM zone 49N, EPSG:32649, near Zhuzhou) where
answers can be checked by hand, then stored in WGS84 like every dataset.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from geo.dataset import Dataset
from geo.schema import validate_layer

UTM = "EPSG:32649"
X0, Y0 = 510_000.0, 3_087_000.0


def at(x: float, y: float) -> Point:
    """A point ``x``, ``y`` metres from the fixture origin."""
    return Point(X0 + x, Y0 + y)


def rect(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def line(*pts: tuple[float, float]) -> LineString:
    return LineString([(X0 + x, Y0 + y) for x, y in pts])


def metric(records: dict, geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(records, geometry=geoms, crs=UTM)


def dataset(grids: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *, estates: gpd.GeoDataFrame | None = None,
            roads: gpd.GeoDataFrame | None = None) -> Dataset:
    """Validate metric layers into a WGS84 Dataset, as read_dataset would give it."""
    return Dataset(
        grids=validate_layer(grids, "grids"),
        facilities=validate_layer(facilities, "facilities"),
        estates=validate_layer(estates, "estates") if estates is not None else None,
        roads=validate_layer(roads, "roads") if roads is not None else None,
        name="fixture",
    )


def grids_layer(geoms: list, *, ids: list[str], streets: list[str], elderly: list[int],
                population: list[int] | None = None) -> gpd.GeoDataFrame:
    n = len(geoms)
    population = population or [4 * e for e in elderly]
    return metric({"grid_id": ids, "street": streets, "community": [f"c{i % 2}" for i in range(n)],
                   "households": [p // 3 for p in population], "population": population, "elderly": elderly}, geoms)


def facilities_layer(points: list, *, types: list[str], status: list[str] | None = None,
                     capacity: list[float] | None = None) -> gpd.GeoDataFrame:
    n = len(points)
    rec = {"facility_id": [f"F{i + 1}" for i in range(n)], "name": [f"设施{i + 1}" for i in range(n)], "type": types}
    if status is not None:
        rec["status"] = status
    if capacity is not None:
        rec["capacity"] = capacity
    return metric(rec, points)


def estates_layer(geoms: list, *, households: list[int]) -> gpd.GeoDataFrame:
    n = len(geoms)
    return metric({"estate_id": [f"E{i + 1}" for i in range(n)], "name": [f"小区{i + 1}" for i in range(n)],
                   "households": households, "management": ["property_company"] * n}, geoms)


def roads_layer(lines: list, *, walkable: list[bool] | None = None) -> gpd.GeoDataFrame:
    rec = {} if walkable is None else {"walkable": walkable}
    return metric(rec, lines)


def river_district() -> Dataset:
    """Two banks of a river (y = 0) with one bridge at x = 1000.

    South road y = -50 and north road y = +50 from x = 0 to 2000, the bridge
    x = 1000 joins them. A day-care station at (0, -60) on the south bank; the
    north grid's only estate at (0, 60): 120 m away in a straight line, but
    10 + 1000 + 100 + 1000 + 10 = 2120 m on foot.
    """
    grids = grids_layer([rect(-100, -400, 2000, -10), rect(-100, 10, 2000, 400)], ids=["S", "N"],
                        streets=["南岸街道", "北岸街道"], elderly=[80, 120])
    fac = facilities_layer([at(0, -60)], types=["day_care"])
    estates = estates_layer([at(0, 60).buffer(5), at(-50, -300).buffer(5)], households=[300, 200])
    roads = roads_layer([line((0, -50), (2000, -50)), line((0, 50), (2000, 50)), line((1000, -50), (1000, 50))])
    return dataset(grids, fac, estates=estates, roads=roads)


def lattice_roads(*, size: int = 6, step_m: float = 100.0, seed: int = 3, drop: int = 8):
    """A street lattice drawn as long lines (so they must be noded), with ``drop`` blocks of street removed.

    Returns the roads layer and the list of the lattice's remaining edges as
    ((x0, y0), (x1, y1)) in fixture metres, for an independent graph.
    """
    rng = np.random.default_rng(seed)
    edges = []
    for j in range(size):
        for i in range(size - 1):
            edges.append(((i * step_m, j * step_m), ((i + 1) * step_m, j * step_m)))
            edges.append(((j * step_m, i * step_m), (j * step_m, (i + 1) * step_m)))
    removed = set(rng.choice(len(edges), size=drop, replace=False).tolist())
    kept = [e for k, e in enumerate(edges) if k not in removed]
    # Draw maximal straight runs of kept edges as single lines, so crossings are not shared vertices.
    kept_set = set(kept)
    lines = []
    for j in range(size):
        for horizontal in (True, False):
            run: list[tuple[float, float]] = []
            for i in range(size - 1):
                e = (((i * step_m, j * step_m), ((i + 1) * step_m, j * step_m)) if horizontal
                     else ((j * step_m, i * step_m), (j * step_m, (i + 1) * step_m)))
                if e in kept_set:
                    run = run or [e[0]]
                    run.append(e[1])
                elif run:
                    lines.append(run)
                    run = []
            if run:
                lines.append(run)
    # Only the run's ends are vertices: interior lattice points become nodes by noding alone.
    geoms = [line(r[0], r[-1]) for r in lines]
    return roads_layer(geoms), kept


def raster_share(poly: shapely.Geometry, centres: np.ndarray, radii: np.ndarray, *, step_m: float = 1.0) -> float:
    """Share of ``poly``'s area within reach of any centre (exact circles), by a fine raster count."""
    minx, miny, maxx, maxy = poly.bounds
    xs = np.arange(minx + step_m / 2, maxx, step_m)
    ys = np.arange(miny + step_m / 2, maxy, step_m)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(poly, gx, gy)
    gx, gy = gx[inside], gy[inside]
    hit = np.zeros(len(gx), dtype=bool)
    for (cx, cy), r in zip(centres, radii, strict=True):
        hit |= (gx - cx) ** 2 + (gy - cy) ** 2 <= r * r
    return float(hit.mean())
