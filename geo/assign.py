"""Point-in-polygon assignment of points (cases, facilities) to grids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def assign_grid_ids(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.Series:
    """The ``grid_id`` of the grid containing each point (``<NA>`` outside every grid).

    A point on a boundary shared by two grids goes to the first grid in layer
    order, so every point is counted once. Both layers must share a CRS.
    """
    if points.crs != grids.crs:
        raise ValueError(f"points are in {points.crs} but grids are in {grids.crs}; use one CRS")
    result = pd.Series(pd.NA, index=points.index, dtype="string", name="grid_id")
    if len(points) == 0 or len(grids) == 0:
        return result
    tree = shapely.STRtree(grids.geometry.values)
    pt_idx, grid_idx = tree.query(points.geometry.values, predicate="intersects")
    if len(pt_idx):
        order = np.lexsort((grid_idx, pt_idx))
        pt_idx, grid_idx = pt_idx[order], grid_idx[order]
        first = np.ones(len(pt_idx), dtype=bool)
        first[1:] = pt_idx[1:] != pt_idx[:-1]
        ids = grids["grid_id"].astype("string").to_numpy()
        values = result.to_numpy(dtype=object)
        values[pt_idx[first]] = ids[grid_idx[first]]
        result = pd.Series(values, index=points.index, dtype="string", name="grid_id")
    return result
