"""Small synthetic districts for the case and hotspot tests: square grids and cases placed in them."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

X0, Y0, SIZE_DEG = 114.30, 30.50, 0.002  # about 190 m × 220 m grids near Wuhan


def lattice_grids(nx: int = 10, ny: int = 10, *, population: float | np.ndarray = 1000.0) -> gpd.GeoDataFrame:
    """``nx × ny`` square grids in WGS84 (edges from one array, so neighbours share exact vertices).

    Grid ``G{row:02d}{col:02d}``; columns left of the middle are street 东街, the rest 西街.
    Grids are listed row by row from the south-west corner.
    """
    xs = X0 + np.arange(nx + 1) * SIZE_DEG
    ys = Y0 + np.arange(ny + 1) * SIZE_DEG
    geoms, ids, streets = [], [], []
    for r in range(ny):
        for c in range(nx):
            geoms.append(shapely.box(xs[c], ys[r], xs[c + 1], ys[r + 1]))
            ids.append(f"G{r:02d}{c:02d}")
            streets.append("东街" if c < nx // 2 else "西街")
    n = nx * ny
    pop = np.broadcast_to(np.asarray(population, dtype="float64"), (n,)).astype("int64")
    return gpd.GeoDataFrame({
        "grid_id": pd.array(ids, dtype="string"), "street": pd.array(streets, dtype="string"),
        "community": pd.array(["社区"] * n, dtype="string"), "households": pd.array(pop // 3, dtype="Int64"),
        "population": pd.array(pop, dtype="Int64"), "elderly": pd.array(pop // 5, dtype="Int64"),
    }, geometry=geoms, crs="EPSG:4326")


def cases_for_counts(grids: gpd.GeoDataFrame, counts: np.ndarray, *, seed: int = 0,
                     start: str = "2024-01-01", days: int = 28, category: str = "市容环境") -> gpd.GeoDataFrame:
    """``counts[i]`` cases at random points inside grid ``i``, reported at random times over ``days``."""
    rng = np.random.default_rng(seed)
    counts = np.asarray(counts, dtype="int64")
    owner = np.repeat(np.arange(len(grids)), counts)
    b = grids.geometry.bounds.to_numpy()[owner]
    # stay off the edges so every point is strictly inside its grid
    u, v = rng.uniform(0.05, 0.95, len(owner)), rng.uniform(0.05, 0.95, len(owner))
    x = b[:, 0] + u * (b[:, 2] - b[:, 0])
    y = b[:, 1] + v * (b[:, 3] - b[:, 1])
    reported = pd.Timestamp(start) + pd.to_timedelta(rng.uniform(0, days * 86400, len(owner)), unit="s")
    n = len(owner)
    return gpd.GeoDataFrame({
        "case_id": pd.array([f"C{i:06d}" for i in range(n)], dtype="string"),
        "category": pd.array([category] * n, dtype="string"),
        "reported_at": reported.astype("datetime64[ns]"),
        "status": pd.array(["closed"] * n, dtype="string"),
        "deadline": (reported + pd.Timedelta(days=3)).astype("datetime64[ns]"),
        "closed_at": (reported + pd.Timedelta(days=1)).astype("datetime64[ns]"),
        "grid_id": pd.array(grids["grid_id"].to_numpy()[owner], dtype="string"),
    }, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
