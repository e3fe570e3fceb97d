"""From a dataset to a `SitingProblem`: reach, existing stations, candidate sites (layer or generated)."""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import CRS
from scipy import sparse
from scipy.spatial import cKDTree

from analysis.coverage import source_target_reach
from analysis.demand import demand_points
from analysis.options import CANDIDATE_SOURCES, DISTANCES, CandidateSource, check_choice
from analysis.siting.model import SitingParams, SitingProblem, _replace, check_params
from analysis.siting.problem import problem_from_matrix
from geo.crs import require_metric
from geo.dataset import Dataset
from geo.errors import AnalysisError


def _xy(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> NDArray[np.float64]:
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if len(geoms) == 0:
        return np.zeros((0, 2))
    if not (geoms.geom_type == "Point").all():
        geoms = geoms.representative_point()
    return np.column_stack([geoms.x.to_numpy(), geoms.y.to_numpy()])


def demand_site_covers(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    radius_m: float,
    distance: str = "euclidean",
    graph: Any = None,
) -> sparse.csr_matrix:
    """Which sites reach which demand points: a (demand x sites) bool CSR matrix, demand rows, site columns.

    The coverage analysis's definition (`analysis.coverage.source_target_reach`, transposed):
    straight distance, or walking distance along ``graph`` (an
    `analysis.network.WalkGraph`, required for ``"walking"``), boundary
    included. Both layers in the same metric CRS.
    """
    check_choice("distance", distance, DISTANCES)
    if distance == "walking" and graph is None:
        raise AnalysisError("walking distance needs a roads layer (道路), and the dataset has none",
                            code="analysis.no_roads")
    covers = source_target_reach(sites, demand, radius_m=radius_m, distance=distance, graph=graph).covers
    out = sparse.csr_matrix(covers.T, dtype=bool)
    out.sort_indices()
    return out


def existing_stations(facilities: gpd.GeoDataFrame, facility_type: str) -> gpd.GeoDataFrame:
    """Operating stations of a type (a missing status counts as operating)."""
    f = facilities[facilities["type"] == facility_type]
    if "status" in f.columns:
        f = f[f["status"].isna() | (f["status"] == "operating")]
    return f


def candidate_sources(ds: Dataset) -> tuple[CandidateSource, ...]:
    """The candidate sources ``ds`` can use, the default first: its candidates layer when it has rows, else only
    points generated in uncovered estates and grids (a district's own files often have no candidates layer)."""
    if ds.rows("candidates") > 0:
        return CANDIDATE_SOURCES
    return tuple(s for s in CANDIDATE_SOURCES if s != "layer")


def generate_candidates(
    demand: gpd.GeoDataFrame,
    covered: NDArray[np.bool_],
    *,
    estates: gpd.GeoDataFrame | None = None,
    grids: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Candidate points in uncovered estates and grids, in the demand points' CRS.

    One per estate whose demand point is uncovered (at the estate's
    representative point, ``site_id`` "E-<estate_id>"), and for grids whose
    residents are spread over the area, one per grid with uncovered points
    (the uncovered point nearest their centre, ``site_id`` "G-<grid_id>").
    """
    covered = np.asarray(covered, dtype=bool)
    d = demand[~covered & (demand["elderly"].to_numpy() > 0)]
    est = d[d["source"] == "estate"]
    names = {}
    if estates is not None and len(estates):
        names = dict(zip(estates["estate_id"].astype(str), estates["name"].astype(str), strict=True))
    grid_names = {}
    if grids is not None and "grid_name" in grids.columns:
        grid_names = {str(k): str(v) for k, v in zip(grids["grid_id"], grids["grid_name"], strict=True) if pd.notna(v)}
    rows_id: list[str] = []
    rows_name: list[str] = []
    geoms: list[Any] = []
    for rec in est.drop_duplicates("estate_id").itertuples(index=False):
        rows_id.append(f"E-{rec.estate_id}")
        rows_name.append(names.get(str(rec.estate_id), str(rec.estate_id)))
        geoms.append(rec.geometry)
    area = d[d["source"] == "area"]
    if len(area):
        xy = _xy(area)
        gid = area["grid_id"].astype(str).to_numpy()
        for g in pd.unique(gid):
            sel = np.flatnonzero(gid == g)
            centre = xy[sel].mean(axis=0)
            k = sel[np.argmin(((xy[sel] - centre) ** 2).sum(axis=1))]
            rows_id.append(f"G-{g}")
            rows_name.append(grid_names.get(g, g))
            geoms.append(area.geometry.iloc[k])
    return gpd.GeoDataFrame({"site_id": pd.array(rows_id, dtype="string"),
                             "name": pd.array(rows_name, dtype="string")},
                            geometry=gpd.GeoSeries(geoms, crs=demand.crs), crs=demand.crs)


def siting_problem_from_frames(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    *,
    params: SitingParams,
    graph: Any = None,
) -> SitingProblem:
    """A `SitingProblem` from metric GeoDataFrames (all in one CRS).

    ``demand``: points with ``elderly`` (and ``grid_id`` for per-grid
    figures); ``candidates``: ``site_id`` (+ ``name``, ``capacity``);
    ``existing``: the existing stations (+ ``capacity``). ``graph``: the
    walking graph when ``params.distance`` is "walking".
    """
    t0 = time.perf_counter()
    check_params(params)
    for gdf, what in ((demand, "demand points"), (candidates, "candidate sites"), (existing, "existing stations")):
        require_metric(gdf, what=what)
    crs = CRS.from_user_input(demand.crs)
    for gdf, what in ((candidates, "candidate sites"), (existing, "existing stations")):
        if not CRS.from_user_input(gdf.crs).equals(crs):
            raise AnalysisError(f"{what} are in {gdf.crs} but the demand points in {demand.crs}; use one CRS",
                                code="analysis.crs_mismatch",
                                params={"what": what, "crs": str(gdf.crs), "expected": str(demand.crs)})
    if len(candidates) == 0:
        raise AnalysisError("there are no candidate sites: add a candidates layer (候选站点) or generate candidates",
                            code="analysis.no_candidates")
    cand = candidates.reset_index(drop=True)
    excluded = 0
    if params.min_spacing_m > 0 and len(existing):
        dist, _ = cKDTree(_xy(existing)).query(_xy(cand), k=1)
        keep = dist >= params.min_spacing_m
        excluded = int((~keep).sum())
        cand = cand[keep].reset_index(drop=True)
        if len(cand) == 0:
            raise AnalysisError(f"every one of the {excluded} candidate sites is closer than "
                                f"{params.min_spacing_m:g} m to an existing station: no candidate is left",
                                code="analysis.candidates_too_close",
                                params={"n": excluded, "spacing": f"{params.min_spacing_m:g}"})
    pairs = np.zeros((0, 2), dtype=np.int64)
    if params.min_spacing_m > 0 and len(cand) > 1:
        xy = _xy(cand)
        raw = cKDTree(xy).query_pairs(r=params.min_spacing_m, output_type="ndarray")
        if len(raw):
            gap = np.hypot(*(xy[raw[:, 0]] - xy[raw[:, 1]]).T)
            pairs = raw[gap < params.min_spacing_m].astype(np.int64)
    reach = demand_site_covers(demand, cand, radius_m=params.radius_m, distance=params.distance, graph=graph)
    ex_reach = demand_site_covers(demand, existing, radius_m=params.radius_m, distance=params.distance, graph=graph)
    site_cap = ex_cap = None
    if params.capacity:
        own = (pd.to_numeric(cand["capacity"], errors="coerce").to_numpy(dtype=np.float64)
               if "capacity" in cand.columns else np.full(len(cand), np.nan))
        if np.isnan(own).any():
            if params.site_capacity is None:
                missing = cand.loc[np.isnan(own), "site_id"].astype(str).tolist()
                raise AnalysisError(
                    f"{len(missing)} candidate site(s) have no capacity ({', '.join(missing[:5])}"
                    f"{' …' if len(missing) > 5 else ''}): give a capacity per new station (`site_capacity`)",
                    code="analysis.capacity_missing",
                    params={"n": len(missing), "ids": ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")})
            own = np.where(np.isnan(own), float(params.site_capacity), own)
        site_cap = own
        ex_cap = (pd.to_numeric(existing["capacity"], errors="coerce").to_numpy(dtype=np.float64)
                  if "capacity" in existing.columns else np.full(len(existing), np.nan))
    prob = problem_from_matrix(
        reach, demand["elderly"].to_numpy(dtype=np.float64), site_ids=cand["site_id"].astype(str).tolist(),
        existing_reach=ex_reach, site_capacity=site_cap, existing_capacity=ex_cap, conflicts=pairs,
        params=params, excluded_by_spacing=excluded, demand=demand, sites=cand, existing=existing)
    return _replace(prob, build_s=time.perf_counter() - t0)


def siting_problem(
    ds: Dataset,
    params: SitingParams,
    *,
    demand: gpd.GeoDataFrame | None = None,
    graph: Any = None,
    grid_ids: Collection[str] | None = None,
    area_name: str | None = None,
) -> SitingProblem:
    """The siting instance of a dataset: demand of every grid, existing stations, candidates.

    With ``params.street``, only that street's residents count and only
    candidates inside its grids are considered; existing stations anywhere
    keep covering whom they reach. ``grid_ids`` restricts the same way to
    those grids (a district: `analysis.distributed.district_siting_curves`),
    ``area_name`` naming them in errors. ``demand`` (the dataset's
    `demand_points`) and ``graph`` (its walking graph) may be passed in when
    already built; both are built here otherwise.
    """
    t0 = time.perf_counter()
    check_params(params)
    crs = ds.metric_crs
    if demand is None:
        demand = demand_points(ds.grids, ds.estates, crs=crs)
    else:
        demand = demand.to_crs(crs)
    street_area = None
    grids = None
    if params.street is not None:
        grids = ds.grids[ds.grids["street"].astype(str) == params.street]
        if len(grids) == 0:
            raise AnalysisError(f"street {params.street!r} has no grids; streets: {', '.join(ds.streets)}",
                                code="analysis.unknown_street",
                                params={"street": params.street, "streets": ", ".join(ds.streets)})
    if grid_ids is not None:
        grids = ds.grids if grids is None else grids
        grids = grids[grids["grid_id"].astype(str).isin({str(g) for g in grid_ids})]
    if grids is not None:
        street_area = grids.to_crs(crs).union_all()
        demand = demand[demand["grid_id"].astype(str).isin(set(grids["grid_id"].astype(str)))]
    existing = existing_stations(ds.facilities, params.facility_type).to_crs(crs)
    if params.distance == "walking" and graph is None:
        if ds.roads is None or len(ds.roads) == 0:
            raise AnalysisError("walking distance needs a roads layer (道路), and the dataset has none",
                                code="analysis.no_roads")
        from analysis.network import build_walk_graph

        graph = build_walk_graph(ds.roads, crs=crs)
    if params.candidates == "layer":
        if ds.candidates is None or len(ds.candidates) == 0:
            raise AnalysisError("there are no candidate sites: the dataset has no candidates layer (候选站点); "
                                "add one or generate candidates from uncovered estates and grids",
                                code="analysis.no_candidates_layer")
        cand = ds.candidates.to_crs(crs)
        if street_area is not None:
            cand = cand[cand.geometry.covered_by(street_area)]
            if len(cand) == 0 and params.street is not None and grid_ids is None:
                raise AnalysisError(f"there are no candidate sites in street {params.street!r}; "
                                    "generate candidates or choose the whole district",
                                    code="analysis.no_candidates_in_street", params={"street": params.street})
            if len(cand) == 0:
                area = area_name or params.street or ""
                raise AnalysisError(f"there are no candidate sites in {area}; generate candidates instead",
                                    code="analysis.no_candidates_in_area", params={"area": area})
    else:
        covered = demand_site_covers(demand, existing, radius_m=params.radius_m, distance=params.distance,
                                     graph=graph).getnnz(axis=1) > 0
        cand = generate_candidates(demand, covered, estates=ds.estates, grids=ds.grids)
        if len(cand) == 0:
            raise AnalysisError("there are no candidate sites: every resident is already within reach "
                                "of an existing station, so none was generated", code="analysis.nothing_to_generate")
    prob = siting_problem_from_frames(demand, cand, existing, params=params, graph=graph)
    return _replace(prob, build_s=time.perf_counter() - t0)
