"""Grid assignment: the raster lookup and the exact path agree with geopandas' sjoin, boundaries included."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_array_equal

from geo.assign import assign_grid_ids, count_outside, locate_points
from geo.errors import AnalysisError


def _polygons() -> gpd.GeoDataFrame:
    """A 6 × 6 lattice of Voronoi-like cells, one with a hole, one multipolygon, one overlapping another."""
    rng = np.random.default_rng(1)
    seeds = shapely.multipoints(np.c_[rng.uniform(0, 1, 36), rng.uniform(0, 1, 36)])
    env = shapely.box(0, 0, 1, 1)
    cells = list(shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=env)), env))
    cells[0] = cells[0].difference(cells[0].centroid.buffer(0.02))  # a hole (a point there is outside)
    cells.append(shapely.MultiPolygon([shapely.box(1.1, 0.0, 1.2, 0.1), shapely.box(1.3, 0.0, 1.4, 0.1)]))
    cells.append(shapely.box(0.4, 0.4, 0.6, 0.6))  # overlaps cells listed before it: they win
    return gpd.GeoDataFrame({"grid_id": [f"g{i}" for i in range(len(cells))]}, geometry=cells, crs="EPSG:4326")


def _reference(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.Series:
    """geopandas' sjoin, keeping the first grid in layer order for points in several."""
    j = gpd.sjoin(points, grids.reset_index(names="order"), how="left", predicate="intersects")
    j = j.sort_values("order", kind="stable")
    j = j[~j.index.duplicated(keep="first")].sort_index()
    return j["grid_id"].astype("string")


@pytest.fixture(scope="module")
def grids():
    return _polygons()


@pytest.fixture(scope="module")
def points(grids):
    rng = np.random.default_rng(2)
    xy = [np.c_[rng.uniform(-0.1, 1.5, 30_000), rng.uniform(-0.1, 1.1, 30_000)]]
    # every vertex of every grid (points exactly on shared boundaries) and edge midpoints
    for g in grids.geometry:
        c = shapely.get_coordinates(g)
        xy.append(c)
        xy.append((c[1:] + c[:-1]) / 2)
    xy.append(shapely.get_coordinates(grids.geometry.values[0].interiors[0].centroid))
    xy = np.vstack(xy)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:4326")


def test_matches_sjoin(points, grids):
    got = assign_grid_ids(points, grids)
    ref = _reference(points, grids)
    assert_array_equal(got.fillna("-").to_numpy(), ref.fillna("-").to_numpy())
    assert count_outside(got) == int(ref.isna().sum()) > 0
    assert got.iloc[-1] is pd.NA  # the hole


@pytest.mark.parametrize("method", ["exact", "raster"])
def test_methods_agree(points, grids, method):
    xy = shapely.get_coordinates(points.geometry.values)
    polys = grids.geometry.values
    got = locate_points(xy[:, 0], xy[:, 1], polys, method=method)
    ref = _reference(points, grids)
    expected = pd.Index(grids["grid_id"]).get_indexer(ref.fillna("-"))
    assert_array_equal(got, expected)


def test_overlap_goes_to_first(grids):
    p = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.5], [0.5]), crs="EPSG:4326")
    holders = [gid for gid, geom in zip(grids["grid_id"], grids.geometry, strict=True)
               if geom.intersects(p.geometry.iloc[0])]
    assert len(holders) >= 2 and holders[-1] == grids["grid_id"].iloc[-1]  # the point really is in an overlap
    assert assign_grid_ids(p, grids).iloc[0] == holders[0]  # the first grid in layer order


def test_edge_cases(grids):
    assert_array_equal(locate_points(np.array([np.nan, 0.5]), np.array([0.5, np.inf]), grids.geometry.values,
                                     method="raster"), [-1, -1])
    assert len(locate_points(np.array([]), np.array([]), grids.geometry.values)) == 0
    assert_array_equal(locate_points(np.array([0.5]), np.array([0.5]), np.array([None, shapely.box(0, 0, 1, 1)])),
                       [1])
    with pytest.raises(AnalysisError, match="`method` was 'fast' but is expected to be one of 'auto', 'exact', 'raster'"):
        locate_points(np.array([0.5]), np.array([0.5]), grids.geometry.values, method="fast")
    with pytest.raises(AnalysisError, match=r"`xs` and `ys` must be 1-D arrays of one length; got \(2,\) and \(1,\)"):
        locate_points(np.array([0.5, 0.6]), np.array([0.5]), grids.geometry.values)
    other = grids.to_crs(3857)
    p = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.5], [0.5]), crs="EPSG:4326")
    with pytest.raises(AnalysisError, match="points are in EPSG:4326 but grids are in EPSG:3857; use one CRS"):
        assign_grid_ids(p, other)


def test_non_point_geometries_and_empty(grids):
    geoms = [shapely.Point(0.5, 0.5), None, shapely.Point(), shapely.box(1.12, 0.01, 1.13, 0.02)]
    p = gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4326")
    got = assign_grid_ids(p, grids)
    assert got.iloc[0] is not pd.NA and got.iloc[1] is pd.NA and got.iloc[2] is pd.NA
    assert got.iloc[3] == grids["grid_id"].iloc[-2]  # the polygon falls in the multipolygon grid


def test_read_dataset_assigns_only_missing_grid_ids(tmp_path):
    from geo.dataset import Dataset, read_dataset, write_dataset
    from tests.analysis.case_fixtures import cases_for_counts, lattice_grids

    grids = lattice_grids(3, 3)
    cases = cases_for_counts(grids, np.full(9, 2))
    cases["grid_id"] = cases["grid_id"].astype(object)
    cases.loc[[0, 1], "grid_id"] = None  # these two get their grid from their position
    cases.loc[2, "grid_id"] = "G0202"  # a given grid_id is kept, even where the point lies elsewhere
    far = cases.index[-1]
    cases.loc[far, "grid_id"] = None
    cases.loc[far, "geometry"] = shapely.Point(114.0, 30.0)  # outside every grid: stays empty
    facilities = gpd.GeoDataFrame({"facility_id": ["F1"], "name": ["站"], "type": ["day_care"]},
                                  geometry=gpd.points_from_xy([114.301], [30.501]), crs="EPSG:4326")
    path = write_dataset(Dataset(grids=grids, facilities=facilities, cases=cases), tmp_path / "d.gpkg")
    got = read_dataset(path).cases["grid_id"]
    assert got.iloc[0] == "G0000" and got.iloc[1] == "G0000"
    assert got.iloc[2] == "G0202"
    assert got.iloc[far] is pd.NA
    assert count_outside(got) == 1
