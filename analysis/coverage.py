"""Coverage: who lives within reach of a service, per grid, street and district.

Contract (the overview, the siting page and the CLI use the same definition):

- **Within reach** means a distance of at most ``radius_m`` (inclusive) from
  the nearest facility of a selected type, measured in the dataset's metric
  CRS, either as a straight line (``distance="euclidean"``) or along the walkable
  roads (``distance="walking"``, see `analysis.network`: the walk to and from
  the nearest road edge counts). With several types, reach to any of them
  counts; each type has its own radius (`DEFAULT_RADIUS_M`, the GB 50180-2018
  life-circle distances) unless one is given.
- **Where residents live** (`analysis.demand.demand_points`): a grid's
  residents sit at its estates, in proportion to households; a grid without
  estates spreads them evenly over its area. For such grids the straight-line
  covered share is the exact area share ``area(grid ∩ union of circles) /
  area(grid)``; with walking, the share of the grid's lattice points reached.
- Planned facilities (``status == "planned"``) count only with
  ``include_planned=True``; a missing status means operating.

Entry points:

- `prepare_inputs(ds)` -> `CoverageInputs`: layers in the metric CRS and the
  demand points. Cache it per dataset; every function below also accepts a
  `Dataset` (or a mapping of layers) and prepares it on the fly.
- `coverage_by_grid(ds, facility_types=("day_care",), radius_m=300, ...)` ->
  DataFrame, one row per grid, in the grids' order, columns `GRID_COLUMNS`
  with ``<w>`` the weight (``elderly`` or ``population``):
  ``grid_id, street, community, placement`` ("estates" or "area"), ``<w>``,
  ``covered_<w>``, ``uncovered_<w>``, ``covered_share`` (0..1; for a grid with
  nobody in it, the share of its area/points), ``nearest_m`` (mean over the
  grid's residents of the distance to their nearest facility; NaN where some
  have none within ``search_limit_m``).
- `district_totals(table)` -> `CoverageTotals` (total, covered, share, grids
  fully covered, gap grids); `street_totals(table)` -> one row per street,
  worst share first; `gap_list(table)` -> grids ranked by uncovered residents.
- `compute_coverage(...)` -> `CoverageResult`: the grid table plus the demand
  points with their distance and covered flag (for maps and estate lists).
- `source_target_reach(sources, targets, radius_m=..., distance=...)` -> `ReachMatrix`:
  which targets (demand points) each source (facility, candidate site)
  reaches, as sparse (n_sources, n_targets) matrices: sources are rows,
  targets columns, as the name reads. (Siting's `demand_site_covers` is the
  same reach as booleans the other way round: demand rows, site columns.) Inputs must already be
  in one metric CRS (degrees are refused).
- `service_areas(ds, ...)` -> one polygon per facility: the circle, or the
  walking isochrone (reachable roads widened by a corridor).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from scipy.spatial import cKDTree

from analysis.demand import demand_points
from analysis.network import (
    Snap,
    WalkGraph,
    build_walk_graph,
    isochrones,
    nearest_distances,
    pair_distances,
    snap_points,
)
from analysis.options import DISTANCES, WEIGHTS, Distance, Weight, check_choice
from geo.crs import metric_crs, require_metric
from geo.dataset import Dataset
from geo.errors import AnalysisError
from geo.schema import FACILITY_TYPES

# GB 50180-2018 life circles: walking distance of each (metres).
LIFE_CIRCLE_PRESETS_M: dict[str, float] = {
    "5min": 300.0,
    "10min": 500.0,
    "15min_800": 800.0,
    "15min_1000": 1000.0,
}
# Default threshold per facility type: the life circle GB 50180-2018 puts it in
# (5-min: day care, community canteen, health station; 15-min: the rest).
DEFAULT_RADIUS_M: dict[str, float] = {
    "day_care": 300.0,
    "elderly_canteen": 300.0,
    "health_station": 300.0,
    "elderly_service_center": 1000.0,
    "nursing_home": 1000.0,
    "health_center": 1000.0,
}
MAX_RADIUS_M = 5000.0
# Distances to the nearest facility are looked for up to this far.
SEARCH_LIMIT_M = 5000.0
# Circle polygons: 4 * 64 = 256 vertices, area within 1e-4 of the true circle.
CIRCLE_QUAD_SEGS = 64
# A grid is a gap when at least this many residents (fractions add up) are out of reach.
MIN_UNCOVERED = 0.5
FULL_SHARE = 1.0 - 1e-9


# --- inputs -----------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class CoverageInputs:
    """A dataset's layers in its metric CRS, and its demand points (build once with `prepare_inputs`, reuse).

    Besides the layers it keeps the lookups every question needs: ``area_grid``
    (per grid: residents spread over the area, no estates), ``demand_grid``
    (per demand point: the position of its grid), ``facility_type`` and
    ``facility_planned`` (per facility). Where residents sit on a walking graph
    is worked out once per graph and remembered (`demand_snap`).
    """

    crs: CRS
    grids: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    estates: gpd.GeoDataFrame | None
    roads: gpd.GeoDataFrame | None
    area_grid: NDArray[np.bool_]
    demand_grid: NDArray[np.int64]
    facility_type: NDArray[np.object_]
    facility_planned: NDArray[np.bool_]
    _snaps: list = field(default_factory=list, repr=False)

    @property
    def facility_types_present(self) -> tuple[str, ...]:
        present = set(self.facility_type.tolist())
        return tuple(t for t in FACILITY_TYPES if t in present)

    def demand_snap(self, graph: WalkGraph) -> Snap:
        """The demand points placed on ``graph`` (computed once per graph)."""
        for g, snap in self._snaps:
            if g is graph:
                return snap
        snap = snap_points(graph, self.demand, what="demand points")
        self._snaps[:] = [*self._snaps[-1:], (graph, snap)]  # keep the last two graphs
        return snap


DataLike = Dataset | Mapping[str, gpd.GeoDataFrame | None] | CoverageInputs


def _layers(data: Dataset | Mapping[str, gpd.GeoDataFrame | None]) -> dict[str, gpd.GeoDataFrame | None]:
    if isinstance(data, Dataset):
        return {n: getattr(data, n) for n in ("grids", "facilities", "estates", "roads")}
    if isinstance(data, Mapping):
        return {n: data.get(n) for n in ("grids", "facilities", "estates", "roads")}
    raise AnalysisError(f"`data` was a {type(data).__name__} but is expected to be a Dataset or a mapping of layers",
                        code="analysis.bad_data_type", params={"type": type(data).__name__})


def prepare_inputs(data: DataLike, *, crs: CRS | str | None = None) -> CoverageInputs:
    """Project the layers to a metric CRS (the grids' UTM zone unless ``crs``) and place the residents.

    Layers in degrees (or any CRS) are converted here, so no distance is ever
    taken in degrees. Inputs are not modified.
    """
    if isinstance(data, CoverageInputs):
        return data
    layers = _layers(data)
    grids, facilities = layers["grids"], layers["facilities"]
    if grids is None or len(grids) == 0:
        raise AnalysisError("coverage needs a grids layer (网格) with at least one grid",
                            code="analysis.layer_missing", params={"layer": "grids"})
    if facilities is None:
        raise AnalysisError("coverage needs a facilities layer (服务设施)",
                            code="analysis.layer_missing", params={"layer": "facilities"})
    for name, layer in layers.items():
        if layer is not None and layer.crs is None:
            raise AnalysisError(f"the {name} layer has no CRS; set one (for example EPSG:4326) before analysis",
                                code="analysis.no_crs", params={"layer": name})
    target = CRS.from_user_input(crs) if crs is not None else metric_crs(grids)
    out: dict[str, gpd.GeoDataFrame | None] = {}
    for name, layer in layers.items():
        if layer is None:
            out[name] = None
            continue
        projected = layer.to_crs(target).reset_index(drop=True)
        require_metric(projected, what=name)
        out[name] = projected
    g = out["grids"]
    g = g.assign(grid_id=g["grid_id"].astype(str))
    f = out["facilities"]
    if "status" not in f.columns:
        f = f.assign(status="operating")
    demand = demand_points(g, out["estates"], crs=target)
    grid_ids = g["grid_id"].to_numpy(dtype=object)
    pos = pd.Series(np.arange(len(g)), index=grid_ids)
    demand_grid = pos.loc[demand["grid_id"].astype(str).to_numpy(dtype=object)].to_numpy().astype(np.int64)
    by_estates = np.zeros(len(g), dtype=bool)
    by_estates[demand_grid[(demand["source"] == "estate").to_numpy()]] = True
    return CoverageInputs(
        crs=target, grids=g, facilities=f, demand=demand, estates=out["estates"], roads=out["roads"],
        area_grid=~by_estates, demand_grid=demand_grid,
        facility_type=f["type"].astype(str).to_numpy(dtype=object),
        facility_planned=(f["status"].astype("string").fillna("operating") == "planned").to_numpy(dtype=bool),
    )


# --- parameters ----------------------------------------------------------------

@dataclass(frozen=True)
class CoverageParams:
    """What was asked: resolved and checked."""

    facility_types: tuple[str, ...]
    radius_m: tuple[tuple[str, float], ...]  # (type, radius) per type
    distance: Distance
    weight: Weight
    include_planned: bool

    @property
    def radius_by_type(self) -> dict[str, float]:
        return dict(self.radius_m)


def check_radius(radius_m: float, *, what: str = "radius_m") -> float:
    """A usable threshold in metres, or `AnalysisError` saying what is wrong."""
    try:
        r = float(radius_m)
    except (TypeError, ValueError):
        raise AnalysisError(f"`{what}` was {radius_m!r} but must be a number of metres",
                            code="analysis.not_a_number", params={"name": what, "value": str(radius_m)}) from None
    if not np.isfinite(r) or r <= 0:
        raise AnalysisError(f"`{what}` was {radius_m} but must be greater than 0 m",
                            code="analysis.not_positive", params={"name": what, "value": str(radius_m)})
    if r > MAX_RADIUS_M:
        raise AnalysisError(
            f"`{what}` was {radius_m} m but must be at most {MAX_RADIUS_M:g} m "
            "(the 15-minute life circle is 800–1000 m)",
            code="analysis.radius_out_of_range", params={"name": what, "value": f"{r:g}", "max": f"{MAX_RADIUS_M:g}"})
    return r


def resolve_params(
    inputs: CoverageInputs,
    *,
    facility_types: str | Sequence[str],
    radius_m: float | Mapping[str, float] | None,
    distance: Distance,
    weight: Weight,
    include_planned: bool,
) -> CoverageParams:
    """Check every option against the data; `AnalysisError` with a clear message otherwise."""
    types = (facility_types,) if isinstance(facility_types, str) else tuple(facility_types)
    if not types:
        raise AnalysisError("choose at least one facility type", code="analysis.no_facility_type")
    for t in types:
        check_choice("facility_type", t, tuple(FACILITY_TYPES))
    present = inputs.facility_types_present
    for t in types:
        if t not in present:
            shown = ", ".join(present) if present else "none"
            raise AnalysisError(
                f"facility type {t!r} ({FACILITY_TYPES[t]}) is not in the data; types present: {shown}",
                code="analysis.type_not_in_data", params={"type": t, "present": shown})
    check_choice("distance", distance, DISTANCES)
    check_choice("weight", weight, WEIGHTS)
    if distance == "walking" and inputs.roads is None:
        raise AnalysisError("walking distance needs a roads layer (道路), and this dataset has none; "
                            "import one or use straight-line distance", code="analysis.no_roads")
    radii: dict[str, float] = {}
    for t in types:
        if radius_m is None:
            radii[t] = DEFAULT_RADIUS_M[t]
        elif isinstance(radius_m, Mapping):
            radii[t] = check_radius(radius_m.get(t, DEFAULT_RADIUS_M[t]), what=f"radius_m[{t}]")
        else:
            radii[t] = check_radius(radius_m)
    return CoverageParams(types, tuple(radii.items()), distance, weight, bool(include_planned))


def select_facilities(inputs: CoverageInputs, params: CoverageParams) -> gpd.GeoDataFrame:
    """The facilities that count: selected types, planned ones only when asked."""
    mask = np.isin(inputs.facility_type, params.facility_types)
    if not params.include_planned:
        mask &= ~inputs.facility_planned
    radii = params.radius_by_type
    return inputs.facilities[mask].assign(
        radius_m=np.array([radii[t] for t in inputs.facility_type[mask]], dtype="float64"))


def graph_for_inputs(inputs: CoverageInputs, graph: WalkGraph | None) -> WalkGraph:
    if graph is not None:
        if not graph.crs.equals(inputs.crs):
            raise AnalysisError(f"the walking graph is in {graph.crs} but the analysis runs in {inputs.crs}; "
                                "build the graph from the same dataset", code="analysis.crs_mismatch",
                                params={"what": "walking graph", "crs": str(graph.crs), "expected": str(inputs.crs)})
        return graph
    if inputs.roads is None:
        raise AnalysisError("walking distance needs a roads layer (道路), and this dataset has none",
                            code="analysis.no_roads")
    return build_walk_graph(inputs.roads)


# --- distances to the nearest facility ---------------------------------------------

def _xy(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> NDArray[np.float64]:
    geoms = gdf.geometry.values if isinstance(gdf, gpd.GeoDataFrame) else gdf.values
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) and (shapely.get_type_id(geoms) != 0).any():
        geoms = shapely.point_on_surface(geoms)
    return shapely.get_coordinates(geoms) if len(geoms) else np.zeros((0, 2))


def _nearest(
    facilities: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    distance: str,
    graph: WalkGraph | None,
    demand_snap: Snap | None = None,
    limit_m: float,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Distance from each demand point to its nearest facility (inf beyond ``limit_m``), and which."""
    n = len(demand)
    if len(facilities) == 0 or n == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    if distance == "euclidean":
        tree = cKDTree(_xy(facilities))
        # cKDTree's bound is strict; the next float up keeps a point at exactly ``limit_m`` (reach is inclusive).
        d, i = tree.query(_xy(demand), k=1, distance_upper_bound=float(np.nextafter(limit_m, np.inf)))
        i = np.where(np.isfinite(d), i, -1).astype(np.int64)
        return d.astype("float64"), i
    assert graph is not None
    snap_f = snap_points(graph, facilities, what="facilities")
    snap_d = demand_snap if demand_snap is not None else snap_points(graph, demand, what="demand points")
    return nearest_distances(graph, snap_f, snap_d, limit_m=limit_m)


def _exact_area_covered(
    grid_geoms: NDArray[np.object_], facilities: gpd.GeoDataFrame
) -> NDArray[np.float64]:
    """Area (m²) of each grid inside the union of the facilities' circles."""
    out = np.zeros(len(grid_geoms))
    if len(facilities) == 0 or len(grid_geoms) == 0:
        return out
    centres = np.asarray(facilities.geometry.values, dtype=object)
    radii = facilities["radius_m"].to_numpy()
    # Only circles that reach one of these grids matter; their union splits into disjoint parts.
    near = np.unique(shapely.STRtree(grid_geoms).query(centres, predicate="dwithin", distance=radii)[0])
    if len(near) == 0:
        return out
    circles = shapely.buffer(centres[near], radii[near], quad_segs=CIRCLE_QUAD_SEGS)
    parts = shapely.get_parts(shapely.union_all(circles))
    tree = shapely.STRtree(parts)
    gi, pi = tree.query(grid_geoms, predicate="intersects")
    if len(gi) == 0:
        return out
    areas = shapely.area(shapely.intersection(grid_geoms[gi], parts[pi]))
    np.add.at(out, gi, areas)
    return out


# --- the result -------------------------------------------------------------------

def grid_columns(weight: Weight) -> tuple[str, ...]:
    """Columns of the grid table for a weight (``elderly`` or ``population``)."""
    return ("grid_id", "street", "community", "placement", weight, f"covered_{weight}",
            f"uncovered_{weight}", "covered_share", "nearest_m")


GRID_COLUMNS = grid_columns("elderly")


@dataclass(frozen=True)
class CoverageTotals:
    """District (or any subset) totals of a grid table."""

    weight: str
    total: float
    covered: float
    uncovered: float
    covered_share: float
    grids: int
    grids_fully_covered: int
    gap_grids: int
    streets: int

    def as_dict(self) -> dict[str, float | int | str]:
        d = asdict(self)
        for k in ("total", "covered", "uncovered"):
            d[k] = round(float(d[k]), 1)
        d["covered_share"] = round(float(d["covered_share"]), 4) if np.isfinite(d["covered_share"]) else None
        return d


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage of one question.

    ``grids``: the grid table (see `grid_columns`). ``demand``: the demand points
    (metric CRS) with ``nearest_m``, ``nearest_facility`` (facility_id or <NA>)
    and ``covered`` (bool, reach of the point itself). ``facilities``: those
    that counted, with their ``radius_m``.
    """

    params: CoverageParams
    grids: pd.DataFrame
    demand: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    crs: CRS

    @property
    def totals(self) -> CoverageTotals:
        return district_totals(self.grids)

    @property
    def streets(self) -> pd.DataFrame:
        return street_totals(self.grids)

    @property
    def gaps(self) -> pd.DataFrame:
        return gap_list(self.grids)

    def estates(self) -> pd.DataFrame:
        """Per estate: ``estate_id, grid_id, <w>, nearest_m, covered``."""
        w = self.params.weight
        d = self.demand[self.demand["source"] == "estate"]
        return pd.DataFrame({
            "estate_id": d["estate_id"].astype(str).to_numpy(),
            "grid_id": d["grid_id"].astype(str).to_numpy(),
            w: d[w].to_numpy(),
            "nearest_m": d["nearest_m"].to_numpy(),
            "covered": d["covered"].to_numpy(),
        })


def _weight_of(table: pd.DataFrame) -> str:
    for w in WEIGHTS:
        if f"covered_{w}" in table.columns:
            return w
    raise AnalysisError("the table has no covered_elderly or covered_population column; "
                        "pass the output of coverage_by_grid", code="analysis.not_a_coverage_table")


def compute_coverage(
    data: DataLike,
    *,
    facility_types: str | Sequence[str] = ("day_care",),
    radius_m: float | Mapping[str, float] | None = None,
    distance: Distance = "euclidean",
    weight: Weight = "elderly",
    include_planned: bool = False,
    graph: WalkGraph | None = None,
    search_limit_m: float = SEARCH_LIMIT_M,
) -> CoverageResult:
    """Coverage per grid and per demand point (see the module docstring for the definition).

    ``graph``: the walking graph of this dataset (`build_walk_graph`), built
    here when not given. Raises `AnalysisError` for an unknown or absent
    facility type, a radius ≤ 0 or above `MAX_RADIUS_M`, walking without roads.
    """
    inputs = prepare_inputs(data)
    params = resolve_params(inputs, facility_types=facility_types, radius_m=radius_m, distance=distance,
                            weight=weight, include_planned=include_planned)
    limit = max(float(search_limit_m), max(params.radius_by_type.values()))
    fac = select_facilities(inputs, params)
    demand = inputs.demand
    g = graph_for_inputs(inputs, graph) if params.distance == "walking" else None
    demand_snap = inputs.demand_snap(g) if g is not None else None

    n = len(demand)
    nearest = np.full(n, np.inf)
    who = np.full(n, -1, dtype=np.int64)
    covered = np.zeros(n, dtype=bool)
    positions = np.arange(len(fac))
    fac_type = fac["type"].to_numpy(dtype=object)
    for t in params.facility_types:
        sel = fac_type == t
        d, i = _nearest(fac[sel], demand, distance=params.distance, graph=g, demand_snap=demand_snap, limit_m=limit)
        covered |= d <= params.radius_by_type[t]
        better = d < nearest
        nearest[better] = d[better]
        who[better] = positions[sel][i[better]]
    fac_ids = fac["facility_id"].astype(str).to_numpy()
    nearest_id = pd.array(np.where(who >= 0, fac_ids[np.maximum(who, 0)] if len(fac_ids) else None, None),
                          dtype="string")
    dem = demand.assign(nearest_m=nearest, nearest_facility=nearest_id, covered=covered)

    table = _grid_table(inputs, dem, fac, params)
    return CoverageResult(params=params, grids=table, demand=dem, facilities=fac, crs=inputs.crs)


def _grid_table(
    inputs: CoverageInputs, dem: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, params: CoverageParams
) -> pd.DataFrame:
    w = params.weight
    grids = inputs.grids
    dg = inputs.demand_grid
    ng = len(grids)
    wt = dem[w].to_numpy(dtype="float64")
    cov = dem["covered"].to_numpy()
    total = grids[w].astype("float64").to_numpy()
    covered_w = np.bincount(dg, weights=wt * cov, minlength=ng)
    n_pts = np.bincount(dg, minlength=ng).astype("float64")
    point_share = np.divide(np.bincount(dg, weights=cov.astype(float), minlength=ng), n_pts,
                            out=np.zeros(ng), where=n_pts > 0)
    area_grid = inputs.area_grid
    if params.distance == "euclidean" and area_grid.any():
        geoms = np.asarray(grids.geometry.values, dtype=object)[area_grid]
        area = shapely.area(geoms)
        inside = _exact_area_covered(geoms, fac)
        share = np.clip(np.divide(inside, area, out=np.zeros(len(area)), where=area > 0), 0.0, 1.0)
        point_share[area_grid] = share
        covered_w[area_grid] = share * total[area_grid]
    wsum = np.bincount(dg, weights=wt, minlength=ng)
    covered_share = np.where(total > 0, np.divide(covered_w, total, out=np.zeros(ng), where=total > 0),
                             point_share)
    covered_share = np.clip(covered_share, 0.0, 1.0)
    covered_w = np.minimum(covered_w, total)
    # Mean distance over residents (points equally when the grid is empty).
    d = dem["nearest_m"].to_numpy()
    finite = np.isfinite(d)
    d0 = np.where(finite, d, 0.0)
    use_w = wsum[dg] > 0
    pw = np.where(use_w, wt, 1.0)
    num = np.bincount(dg, weights=pw * d0, minlength=ng)
    den = np.bincount(dg, weights=pw, minlength=ng)
    bad = np.bincount(dg, weights=(~finite).astype(float), minlength=ng) > 0
    nearest_m = np.divide(num, den, out=np.full(ng, np.nan), where=den > 0)
    nearest_m[bad] = np.nan
    return pd.DataFrame({
        "grid_id": grids["grid_id"].to_numpy(dtype=object),
        "street": grids["street"].to_numpy(dtype=object),
        "community": grids["community"].to_numpy(dtype=object),
        "placement": np.where(area_grid, "area", "estates"),
        w: grids[w].astype("int64").to_numpy(),
        f"covered_{w}": covered_w,
        f"uncovered_{w}": total - covered_w,
        "covered_share": covered_share,
        "nearest_m": nearest_m,
    })


def coverage_by_grid(
    data: DataLike,
    *,
    facility_types: str | Sequence[str] = ("day_care",),
    radius_m: float | Mapping[str, float] | None = None,
    distance: Distance = "euclidean",
    weight: Weight = "elderly",
    include_planned: bool = False,
    graph: WalkGraph | None = None,
    search_limit_m: float = SEARCH_LIMIT_M,
) -> pd.DataFrame:
    """The grid table of `compute_coverage` (columns: `grid_columns(weight)`)."""
    return compute_coverage(data, facility_types=facility_types, radius_m=radius_m, distance=distance,
                            weight=weight, include_planned=include_planned, graph=graph,
                            search_limit_m=search_limit_m).grids


def district_totals(table: pd.DataFrame) -> CoverageTotals:
    """Totals of a grid table (or of any filtered part of it)."""
    w = _weight_of(table)
    total = float(table[w].sum())
    covered = float(table[f"covered_{w}"].sum())
    return CoverageTotals(
        weight=w,
        total=total,
        covered=covered,
        uncovered=total - covered,
        covered_share=covered / total if total > 0 else float("nan"),
        grids=len(table),
        grids_fully_covered=int((table["covered_share"] >= FULL_SHARE).sum()),
        gap_grids=int((table[f"uncovered_{w}"] >= MIN_UNCOVERED).sum()),
        streets=int(table["street"].nunique()),
    )


def street_totals(table: pd.DataFrame) -> pd.DataFrame:
    """One row per street, lowest covered share first.

    Columns: ``street, grids, <w>, covered_<w>, uncovered_<w>, covered_share, gap_grids``.
    """
    w = _weight_of(table)
    t = table.assign(_gap=(table[f"uncovered_{w}"] >= MIN_UNCOVERED).astype(int))
    s = t.groupby("street", sort=True).agg(
        grids=("grid_id", "size"), total=(w, "sum"), covered=(f"covered_{w}", "sum"), gap_grids=("_gap", "sum"))
    out = pd.DataFrame({
        "street": s.index.astype(str),
        "grids": s["grids"].to_numpy(),
        w: s["total"].to_numpy(),
        f"covered_{w}": s["covered"].to_numpy(),
        f"uncovered_{w}": (s["total"] - s["covered"]).to_numpy(),
        "covered_share": np.divide(s["covered"].to_numpy(), s["total"].to_numpy(),
                                   out=np.full(len(s), np.nan), where=s["total"].to_numpy() > 0),
        "gap_grids": s["gap_grids"].to_numpy(),
    })
    return out.sort_values(["covered_share", "street"], na_position="last", kind="stable").reset_index(drop=True)


def gap_list(table: pd.DataFrame, *, min_uncovered: float = MIN_UNCOVERED) -> pd.DataFrame:
    """Grids with residents out of reach, most uncovered first, with a ``rank`` column (1 = worst)."""
    w = _weight_of(table)
    gaps = table[table[f"uncovered_{w}"] >= min_uncovered]
    gaps = gaps.sort_values([f"uncovered_{w}", "grid_id"], ascending=[False, True], kind="stable")
    gaps = gaps.reset_index(drop=True)
    gaps.insert(0, "rank", np.arange(1, len(gaps) + 1))
    return gaps


# --- reach matrix (siting uses the same definition) ---------------------------------

@dataclass(frozen=True, eq=False)
class ReachMatrix:
    """Which targets each source reaches within ``radius_m``.

    ``distance_m``: CSR (n_sources, n_targets); stored entries are exactly the
    reached pairs, with their distance (explicit zeros kept). ``covers``: the
    same pattern as booleans. Source ``i`` is row ``i`` of the inputs, target
    ``j`` column ``j``.
    """

    distance_m: sp.csr_matrix
    radius_m: float
    distance: Distance


    @property
    def covers(self) -> sp.csr_matrix:
        d = self.distance_m
        return sp.csr_matrix((np.ones(d.nnz, dtype=bool), d.indices.copy(), d.indptr.copy()), shape=d.shape)

    @property
    def shape(self) -> tuple[int, int]:
        return self.distance_m.shape


def _euclidean_pairs(src: NDArray, dst: NDArray, radius_m: float) -> sp.csr_matrix:
    ns, nt = len(src), len(dst)
    if ns == 0 or nt == 0:
        return sp.csr_matrix((ns, nt))
    lists = cKDTree(dst).query_ball_point(src, r=radius_m)
    counts = np.fromiter((len(x) for x in lists), dtype=np.int64, count=ns)
    cols = np.fromiter((j for x in lists for j in x), dtype=np.int64, count=int(counts.sum()))
    rows = np.repeat(np.arange(ns), counts)
    d = np.hypot(*(src[rows] - dst[cols]).T)
    keep = d <= radius_m
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[keep], minlength=ns))])
    order = np.lexsort((cols[keep], rows[keep]))
    return sp.csr_matrix((d[keep][order], cols[keep][order], indptr), shape=(ns, nt))


def source_target_reach(
    sources: gpd.GeoDataFrame | gpd.GeoSeries,
    targets: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    radius_m: float,
    distance: Distance = "euclidean",
    graph: WalkGraph | None = None,
) -> ReachMatrix:
    """Sources (facilities, candidate sites) × targets (demand points) within ``radius_m``.

    Both in one metric CRS (degrees are refused). ``distance="walking"`` needs
    ``graph`` built in that CRS. Non-point geometries count at a point on
    their surface.
    """
    distance = check_choice("distance", distance, DISTANCES)
    r = check_radius(radius_m)
    require_metric(sources, what="sources")
    require_metric(targets, what="targets")
    if not CRS.from_user_input(sources.crs).equals(CRS.from_user_input(targets.crs)):
        raise AnalysisError(f"sources are in {sources.crs} but targets are in {targets.crs}; use one CRS",
                            code="analysis.crs_mismatch",
                            params={"what": "sources", "crs": str(sources.crs), "expected": str(targets.crs)})
    if distance == "euclidean":
        return ReachMatrix(_euclidean_pairs(_xy(sources), _xy(targets), r), r, distance)
    if graph is None:
        raise AnalysisError("walking reach needs the walking graph (build_walk_graph of the roads layer)",
                            code="analysis.no_roads")
    dist = pair_distances(graph, snap_points(graph, sources, what="sources"),
                          snap_points(graph, targets, what="targets"), limit_m=r)
    return ReachMatrix(dist, r, distance)


# --- service areas --------------------------------------------------------------

SERVICE_AREA_COLUMNS = ("facility_id", "name", "type", "status", "radius_m", "geometry")


def service_areas(
    data: DataLike,
    *,
    facility_types: str | Sequence[str] = ("day_care",),
    radius_m: float | Mapping[str, float] | None = None,
    distance: Distance = "euclidean",
    include_planned: bool = False,
    graph: WalkGraph | None = None,
    corridor_m: float = 40.0,
    quad_segs: int = 16,
) -> gpd.GeoDataFrame:
    """The area each facility serves, in the metric CRS: a circle of its radius
    (``distance="euclidean"``), or the roads reachable on foot widened by
    ``corridor_m`` (``distance="walking"``). Columns: `SERVICE_AREA_COLUMNS`.
    """
    inputs = prepare_inputs(data)
    params = resolve_params(inputs, facility_types=facility_types, radius_m=radius_m, distance=distance,
                            weight="elderly", include_planned=include_planned)
    fac = select_facilities(inputs, params)
    base = pd.DataFrame({
        "facility_id": fac["facility_id"].astype(str).to_numpy(),
        "name": fac["name"].astype(str).to_numpy(),
        "type": fac["type"].astype(str).to_numpy(),
        "status": fac["status"].astype("string").fillna("operating").to_numpy(),
        "radius_m": fac["radius_m"].to_numpy(),
    })
    if params.distance == "euclidean":
        geoms = shapely.buffer(np.asarray(fac.geometry.values, dtype=object), fac["radius_m"].to_numpy(),
                               quad_segs=quad_segs)
        return gpd.GeoDataFrame(base, geometry=gpd.GeoSeries(geoms, crs=inputs.crs), crs=inputs.crs)
    g = graph_for_inputs(inputs, graph)
    geoms = np.empty(len(fac), dtype=object)
    snap = snap_points(g, fac, what="facilities")
    for r in np.unique(fac["radius_m"].to_numpy()):
        idx = np.flatnonzero(fac["radius_m"].to_numpy() == r)
        iso = isochrones(g, snap.take(idx), limit_m=float(r), corridor_m=corridor_m)
        geoms[idx] = iso.geometry.values
    return gpd.GeoDataFrame(base, geometry=gpd.GeoSeries(geoms, crs=inputs.crs), crs=inputs.crs)
