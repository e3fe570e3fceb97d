"""Siting new stations: maximal covering location (MCLP), exact and greedy.

Planners have a budget for N new stations of one type (a day-care station,
日间照料中心, by default) and a list of possible sites. The model picks the N
sites that bring the most *uncovered* aged 60+ within reach, keeping every
existing operating station of the type.

Definitions (the coverage analysis uses the same ones):

- demand: `analysis.demand.demand_points` weighted by ``elderly`` (where the
  residents of each grid live);
- reach: a demand point is within reach of a station when the straight
  (``distance="euclidean"``) or walking (``"walking"``, along ``roads``)
  distance is at most ``radius_m`` (boundary included);
- uncovered: not within reach of an existing station of the type whose
  ``status`` is operating (a missing status counts as operating; planned
  stations do not count).

Two entry points, as in spopt: `problem_from_matrix` takes a reach matrix
(demand points x candidate sites) and weights; `siting_problem` builds one
from a `Dataset` and `SitingParams`. Both return a `SitingProblem`, which
`solve_siting`, `coverage_curve` and `fewest_sites` take.

How it stays small and fast: demand points that the same set of candidate
sites can reach are interchangeable, so they are merged into one row (weights
summed) before any model is built; points no candidate reaches, and points
already covered, drop out. The exact model is the classic MCLP integer program
(Church & ReVelle 1974) on those rows, solved by HiGHS with the greedy answer
as its starting solution. Greedy comes with a proven bound too: for coverage
(a monotone submodular function) the optimum is at most the value after any
greedy step plus the N largest remaining gains (Minoux 1978), so a greedy
answer that meets its own bound is optimal without any integer program.

Options:

- ``min_spacing_m``: no new station closer than this to an existing station
  of the type (such candidates are dropped) or to another new station (pairs
  closer than this exclude each other). Straight-line distance.
- ``capacity``: each station serves at most its capacity (aged 60+): the
  candidate's ``capacity`` column, else ``site_capacity``; existing stations
  their ``capacity`` (unlimited where unknown). Covered demand is then a flow
  from demand to stations within reach; among the allocations that cover the
  most, the reported one is max-min fair: it maximises the smallest covered
  share among the demand within reach of any station, and demand points with
  the same stations in reach always get the same share.
- ``candidates``: the ``candidates`` layer, or ``"generated"``: one point per
  uncovered estate (its representative point) and, for grids without estates,
  one point per grid with uncovered residents (the uncovered lattice point
  nearest their centre).

Figures are weighted (aged 60+), never counts of demand points.

One difference from the coverage page to know: a grid without estates has
its residents on a lattice of points (`analysis.demand`), and siting counts
the lattice points within reach, while the coverage page gives such a grid
the exact area share of the circles (straight-line distance). For those grids
the two covered figures can differ by a few per cent (more for radii well
below the grid size); for grids with estates they are identical.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import geopandas as gpd
import highspy
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import CRS
from scipy import sparse
from scipy.spatial import cKDTree

from analysis.coverage import reach_matrix as coverage_reach
from analysis.demand import demand_points
from geo.crs import require_metric
from geo.dataset import Dataset
from geo.errors import AnalysisError
from geo.schema import FACILITY_TYPES

Solver = Literal["exact", "greedy"]
Distance = Literal["euclidean", "walking"]
CandidateSource = Literal["layer", "generated"]

SOLVERS: tuple[str, ...] = ("exact", "greedy")
DISTANCES: tuple[str, ...] = ("euclidean", "walking")
CANDIDATE_SOURCES: tuple[str, ...] = ("layer", "generated")

DEFAULT_TIME_LIMIT_S = 60.0
# Gains at or below this many aged 60+ count as nothing (float noise).
_TOL = 1e-7
# Fixed seed of the row hashing that merges identical demand rows (deterministic results).
_HASH_SEED = 20_180_601

ProgressFn = Callable[[int, int], None]


# --- parameters and results ------------------------------------------------

@dataclass(frozen=True)
class SitingParams:
    """What a siting run is asked; saved with scenarios. Distances in metres."""

    facility_type: str = "day_care"
    radius_m: float = 300.0
    distance: str = "euclidean"
    candidates: str = "layer"
    min_spacing_m: float = 0.0
    capacity: bool = False
    site_capacity: float | None = None
    street: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SitingParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def check_params(params: SitingParams) -> None:
    """Raise `AnalysisError` naming the first bad parameter."""
    if params.facility_type not in FACILITY_TYPES:
        raise AnalysisError(f"`facility_type` was {params.facility_type!r} but is expected to be one of "
                            f"{', '.join(FACILITY_TYPES)}")
    if not (isinstance(params.radius_m, numbers.Real) and not isinstance(params.radius_m, bool)
            and math.isfinite(params.radius_m) and params.radius_m > 0):
        raise AnalysisError(f"`radius_m` was {params.radius_m} but must be a distance greater than 0 m")
    if params.distance not in DISTANCES:
        raise AnalysisError(f"`distance` was {params.distance!r} but is expected to be one of {', '.join(DISTANCES)}")
    if params.candidates not in CANDIDATE_SOURCES:
        raise AnalysisError(f"`candidates` was {params.candidates!r} but is expected to be one of "
                            f"{', '.join(CANDIDATE_SOURCES)}")
    if not (math.isfinite(params.min_spacing_m) and params.min_spacing_m >= 0):
        raise AnalysisError(f"`min_spacing_m` was {params.min_spacing_m} but must be 0 m or more")
    if params.site_capacity is not None and not (math.isfinite(params.site_capacity) and params.site_capacity > 0):
        raise AnalysisError(f"`site_capacity` was {params.site_capacity} but must be greater than 0")
    if params.street is not None and not (isinstance(params.street, str) and params.street.strip()):
        raise AnalysisError(f"`street` was {params.street!r} but must be a street name or None")


@dataclass(frozen=True)
class SitingResult:
    """A set of new sites and what they add. Figures are aged 60+ (weighted).

    ``site_ids`` are in order of contribution: each site's ``gains_elderly``
    is what it adds to the existing stations and the sites before it. Sites
    that would add nothing are left out, so there may be fewer than
    ``n_requested``. ``bound_elderly`` is a proven upper bound on what any
    choice of ``n_requested`` sites could add (None when unknown: capacitated
    greedy). ``optimal``: proven best (for a target: proven fewest sites, and
    the most coverage with that many). ``elapsed_s``: solving time, after the
    problem was built.
    """

    site_ids: tuple[str, ...]
    gains_elderly: tuple[float, ...]
    n_requested: int
    solver: str
    total_elderly: float
    existing_elderly: float
    added_elderly: float
    bound_elderly: float | None
    optimal: bool
    status: str
    elapsed_s: float
    target_share: float | None = None
    min_sites_bound: int | None = None

    @property
    def n_new(self) -> int:
        return len(self.site_ids)

    @property
    def covered_elderly(self) -> float:
        """Covered by existing and new stations together."""
        return self.existing_elderly + self.added_elderly

    @property
    def covered_share(self) -> float:
        return self.covered_elderly / self.total_elderly if self.total_elderly > 0 else 0.0

    @property
    def existing_share(self) -> float:
        return self.existing_elderly / self.total_elderly if self.total_elderly > 0 else 0.0

    @property
    def added_share(self) -> float:
        return self.added_elderly / self.total_elderly if self.total_elderly > 0 else 0.0

    @property
    def gap(self) -> float | None:
        """Proven relative gap on the added aged 60+: (bound - found) / bound; 0 when optimal."""
        if self.optimal:
            return 0.0
        if self.bound_elderly is None:
            return None
        if self.bound_elderly <= _TOL:
            return 0.0
        return max(0.0, (self.bound_elderly - self.added_elderly) / self.bound_elderly)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["site_ids"] = list(self.site_ids)
        out["gains_elderly"] = list(self.gains_elderly)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SitingResult:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in known}
        kw["site_ids"] = tuple(str(s) for s in kw.get("site_ids", ()))
        kw["gains_elderly"] = tuple(float(g) for g in kw.get("gains_elderly", ()))
        return cls(**kw)


@dataclass(frozen=True)
class CoverageCurve:
    """Coverage (existing + new, aged 60+) against the number of new sites, N = 1..K.

    ``greedy_elderly[i]``: the greedy plan's first ``n_new[i]`` sites (nested:
    each N adds one site to the previous). ``exact_elderly[i]``: the best
    possible with ``n_new[i]`` sites (sets may differ between N); None when
    only greedy was asked. ``exact_optimal[i]``: whether that value is proven.
    """

    n_new: tuple[int, ...]
    greedy_elderly: tuple[float, ...]
    greedy_site_ids: tuple[str, ...]
    exact_elderly: tuple[float, ...] | None
    exact_optimal: tuple[bool, ...] | None
    total_elderly: float
    existing_elderly: float
    elapsed_s: float

    def frame(self) -> pd.DataFrame:
        """Columns: n_new, greedy_elderly, greedy_share, greedy_site_id, [exact_elderly, exact_share, exact_optimal]."""
        total = self.total_elderly if self.total_elderly > 0 else 1.0
        df = pd.DataFrame({
            "n_new": list(self.n_new),
            "greedy_elderly": list(self.greedy_elderly),
            "greedy_share": [v / total for v in self.greedy_elderly],
            "greedy_site_id": list(self.greedy_site_ids[: len(self.n_new)])
            + [""] * max(0, len(self.n_new) - len(self.greedy_site_ids)),
        })
        if self.exact_elderly is not None:
            df["exact_elderly"] = list(self.exact_elderly)
            df["exact_share"] = [v / total for v in self.exact_elderly]
            df["exact_optimal"] = list(self.exact_optimal or ())
        return df


@dataclass(frozen=True, eq=False)
class SitingProblem:
    """A siting instance, reduced: one row per group of interchangeable demand points.

    ``class_reach`` (rows x candidates, CSC, bool): which candidates reach each
    row; ``class_weight``: aged 60+ of each row. Uncapacitated, rows hold only
    uncovered demand. Capacitated, rows hold all demand within reach of any
    station, and ``class_existing`` (rows x existing stations) says which
    existing stations reach them. ``point_class`` maps each demand point to
    its row (-1: none); ``point_existing``: the share of each point covered by
    existing stations. ``conflicts``: pairs of candidate indices closer than
    the minimum spacing. ``demand``/``sites``/``existing`` are the metric
    GeoDataFrames behind it (None when built from a matrix).
    """

    site_ids: tuple[str, ...]
    class_reach: sparse.csc_matrix
    class_weight: NDArray[np.float64]
    total_elderly: float
    existing_elderly: float
    point_class: NDArray[np.int64]
    point_weight: NDArray[np.float64]
    point_existing: NDArray[np.float64]
    conflicts: NDArray[np.int64]
    site_capacity: NDArray[np.float64] | None
    class_existing: sparse.csr_matrix | None
    existing_capacity: NDArray[np.float64] | None
    class_existing_share: NDArray[np.float64] | None
    params: SitingParams
    build_s: float
    excluded_by_spacing: int = 0
    demand: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    existing: gpd.GeoDataFrame | None = None

    @property
    def n_candidates(self) -> int:
        return len(self.site_ids)

    @property
    def n_rows(self) -> int:
        return int(self.class_weight.shape[0])

    @property
    def n_points(self) -> int:
        return int(self.point_class.shape[0])

    @property
    def capacitated(self) -> bool:
        return self.site_capacity is not None

    @property
    def reachable_elderly(self) -> float:
        """Uncovered aged 60+ within reach of at least one candidate (uncapacitated)."""
        return float(self.class_weight.sum())

    def index_of(self, site_ids: Sequence[str]) -> NDArray[np.int64]:
        pos = {s: i for i, s in enumerate(self.site_ids)}
        missing = [s for s in site_ids if s not in pos]
        if missing:
            raise AnalysisError(f"unknown site id(s) {', '.join(map(str, missing[:5]))}: not among the candidates")
        return np.array([pos[s] for s in site_ids], dtype=np.int64)


# --- reach and reduction -----------------------------------------------------

def _xy(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> NDArray[np.float64]:
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if len(geoms) == 0:
        return np.zeros((0, 2))
    if not (geoms.geom_type == "Point").all():
        geoms = geoms.representative_point()
    return np.column_stack([geoms.x.to_numpy(), geoms.y.to_numpy()])


def reach_matrix(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    radius_m: float,
    distance: str = "euclidean",
    graph: Any = None,
) -> sparse.csr_matrix:
    """Which sites reach which demand points: a (demand x sites) bool CSR matrix.

    The coverage analysis's definition (`analysis.coverage.reach_matrix`):
    straight distance, or walking distance along ``graph`` (an
    `analysis.network.WalkGraph`, required for ``"walking"``), boundary
    included. Both layers in the same metric CRS.
    """
    if distance not in DISTANCES:
        raise AnalysisError(f"`distance` was {distance!r} but is expected to be one of {', '.join(DISTANCES)}")
    if distance == "walking" and graph is None:
        raise AnalysisError("walking distance needs a roads layer (道路), and the dataset has none")
    covers = coverage_reach(sites, demand, radius_m=radius_m, method=distance, graph=graph).covers
    out = sparse.csr_matrix(covers.T, dtype=bool)
    out.sort_indices()
    return out


def _row_classes(m: sparse.csr_matrix) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Group rows with the same set of columns: (label of each row, first row of each label).

    Rows are hashed (two random 64-bit keys per column, summed modulo 2**64,
    plus the row length), then every row is checked against its group's first
    row, so a hash collision cannot merge different rows.
    """
    m = sparse.csr_matrix(m, dtype=bool)
    m.sum_duplicates()
    m.sort_indices()
    n_rows, n_cols = m.shape
    if n_rows == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rng = np.random.default_rng(_HASH_SEED)
    keys = rng.integers(0, np.iinfo(np.uint64).max, size=(n_cols, 2), dtype=np.uint64, endpoint=True)
    cum = np.zeros((m.nnz + 1, 2), dtype=np.uint64)
    if m.nnz:
        np.cumsum(keys[m.indices], axis=0, dtype=np.uint64, out=cum[1:])
    hashes = np.column_stack([cum[m.indptr[1:]] - cum[m.indptr[:-1]], np.diff(m.indptr).astype(np.uint64)])
    _, first, labels = np.unique(hashes, axis=0, return_index=True, return_inverse=True)
    labels = labels.ravel().astype(np.int64)
    rep = m[first[labels]]
    if (rep != m).nnz:  # a collision (never seen): fall back to exact keys
        keyed = [m.indices[m.indptr[i]:m.indptr[i + 1]].tobytes() for i in range(n_rows)]
        _, first, labels = np.unique(np.array(keyed, dtype=object), return_index=True, return_inverse=True)
        labels = labels.ravel().astype(np.int64)
    # Number the groups by their first row, so the result does not depend on the hash.
    order = np.argsort(first, kind="stable")
    relabel = np.empty_like(order)
    relabel[order] = np.arange(len(order))
    return relabel[labels].astype(np.int64), np.sort(first).astype(np.int64)


def problem_from_matrix(
    reach: sparse.spmatrix | NDArray,
    weights: Sequence[float] | NDArray,
    *,
    site_ids: Sequence[str] | None = None,
    existing_reach: sparse.spmatrix | NDArray | None = None,
    site_capacity: Sequence[float] | NDArray | None = None,
    existing_capacity: Sequence[float] | NDArray | None = None,
    conflicts: Sequence[tuple[int, int]] | NDArray | None = None,
    params: SitingParams | None = None,
    excluded_by_spacing: int = 0,
    demand: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    existing: gpd.GeoDataFrame | None = None,
) -> SitingProblem:
    """A `SitingProblem` from a reach matrix (demand points x candidates, truthy = within reach).

    ``weights``: aged 60+ at each demand point. ``existing_reach`` (demand x
    existing stations): which existing stations reach each point. Give
    ``site_capacity`` (one per candidate) for the capacitated model;
    ``existing_capacity`` (one per existing station, NaN or inf = unlimited)
    then limits the existing stations. ``conflicts``: pairs of candidate
    indices that may not both be chosen.
    """
    t0 = time.perf_counter()
    reach = sparse.csr_matrix(reach, dtype=bool)
    reach.eliminate_zeros()
    w = np.asarray(weights, dtype=np.float64).ravel()
    n, m = reach.shape
    if len(w) != n:
        raise AnalysisError(f"`weights` has {len(w)} values but the reach matrix has {n} demand rows")
    if len(w) and (~np.isfinite(w) | (w < 0)).any():
        raise AnalysisError("`weights` must be finite and at least 0")
    ids = tuple(str(s) for s in (site_ids if site_ids is not None else range(m)))
    if len(ids) != m:
        raise AnalysisError(f"`site_ids` has {len(ids)} ids but the reach matrix has {m} candidate columns")
    if len(set(ids)) != len(ids):
        raise AnalysisError("`site_ids` must be unique")
    if existing_reach is None:
        ex = sparse.csr_matrix((n, 0), dtype=bool)
    else:
        ex = sparse.csr_matrix(existing_reach, dtype=bool)
        ex.eliminate_zeros()
        if ex.shape[0] != n:
            raise AnalysisError(f"`existing_reach` has {ex.shape[0]} rows but the reach matrix has {n}")
    pairs = np.zeros((0, 2), dtype=np.int64)
    if conflicts is not None and len(conflicts):
        pairs = np.asarray(conflicts, dtype=np.int64).reshape(-1, 2)
        if (pairs < 0).any() or (pairs >= m).any():
            raise AnalysisError(f"`conflicts` must hold candidate indices from 0 to {m - 1}")
        pairs = np.unique(np.sort(pairs, axis=1), axis=0)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    params = params or SitingParams()
    total = float(w.sum())

    if site_capacity is None:
        covered = np.diff(ex.indptr) > 0
        eligible = ~covered & (np.diff(reach.indptr) > 0) & (w > 0)
        idx = np.flatnonzero(eligible)
        sub = reach[idx]
        labels, first = _row_classes(sub)
        point_class = np.full(n, -1, dtype=np.int64)
        point_class[idx] = labels
        class_weight = np.bincount(labels, weights=w[idx], minlength=len(first)).astype(np.float64)
        prob = SitingProblem(
            site_ids=ids, class_reach=sub[first].tocsc(), class_weight=class_weight, total_elderly=total,
            existing_elderly=float(w[covered].sum()), point_class=point_class, point_weight=w,
            point_existing=covered.astype(np.float64), conflicts=pairs, site_capacity=None,
            class_existing=None, existing_capacity=None, class_existing_share=None, params=params,
            build_s=0.0, excluded_by_spacing=excluded_by_spacing, demand=demand, sites=sites, existing=existing)
    else:
        cap = np.asarray(site_capacity, dtype=np.float64).ravel()
        if len(cap) != m or (~np.isfinite(cap) | (cap < 0)).any():
            raise AnalysisError(f"`site_capacity` needs {m} finite capacities of at least 0, one per candidate")
        if existing_capacity is None:
            ecap = np.full(ex.shape[1], np.inf)
        else:
            ecap = np.asarray(existing_capacity, dtype=np.float64).ravel()
            if len(ecap) != ex.shape[1]:
                raise AnalysisError(f"`existing_capacity` has {len(ecap)} values for {ex.shape[1]} existing stations")
            ecap = np.where(np.isnan(ecap), np.inf, ecap)
            if (ecap < 0).any():
                raise AnalysisError("`existing_capacity` must be at least 0")
        both = sparse.hstack([reach, ex], format="csr")
        eligible = (np.diff(both.indptr) > 0) & (w > 0)
        idx = np.flatnonzero(eligible)
        labels, first = _row_classes(both[idx])
        point_class = np.full(n, -1, dtype=np.int64)
        point_class[idx] = labels
        class_weight = np.bincount(labels, weights=w[idx], minlength=len(first)).astype(np.float64)
        prob = SitingProblem(
            site_ids=ids, class_reach=reach[idx][first].tocsc(), class_weight=class_weight, total_elderly=total,
            existing_elderly=0.0, point_class=point_class, point_weight=w, point_existing=np.zeros(n),
            conflicts=pairs, site_capacity=cap, class_existing=ex[idx][first].tocsr(), existing_capacity=ecap,
            class_existing_share=np.zeros(len(first)), params=params, build_s=0.0,
            excluded_by_spacing=excluded_by_spacing, demand=demand, sites=sites, existing=existing)
        base = _flow(prob, np.zeros(0, np.int64), fair=True)
        flow, served = base.total, base.served
        share = np.divide(served, class_weight, out=np.zeros_like(served), where=class_weight > 0)
        point_existing = np.zeros(n)
        point_existing[idx] = share[labels]
        prob = _replace(prob, existing_elderly=flow, class_existing_share=share, point_existing=point_existing)
    return _replace(prob, build_s=time.perf_counter() - t0)


def _replace(prob: SitingProblem, **changes: Any) -> SitingProblem:
    from dataclasses import replace

    return replace(prob, **changes)


# --- from a dataset -------------------------------------------------------------

def existing_stations(facilities: gpd.GeoDataFrame, facility_type: str) -> gpd.GeoDataFrame:
    """Operating stations of a type (a missing status counts as operating)."""
    f = facilities[facilities["type"] == facility_type]
    if "status" in f.columns:
        f = f[f["status"].isna() | (f["status"] == "operating")]
    return f


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
            raise AnalysisError(f"{what} are in {gdf.crs} but the demand points in {demand.crs}; use one CRS")
    if len(candidates) == 0:
        raise AnalysisError("there are no candidate sites: add a candidates layer (候选站点) or generate candidates")
    cand = candidates.reset_index(drop=True)
    excluded = 0
    if params.min_spacing_m > 0 and len(existing):
        dist, _ = cKDTree(_xy(existing)).query(_xy(cand), k=1)
        keep = dist >= params.min_spacing_m
        excluded = int((~keep).sum())
        cand = cand[keep].reset_index(drop=True)
        if len(cand) == 0:
            raise AnalysisError(f"every one of the {excluded} candidate sites is closer than "
                                f"{params.min_spacing_m:g} m to an existing station: no candidate is left")
    pairs = np.zeros((0, 2), dtype=np.int64)
    if params.min_spacing_m > 0 and len(cand) > 1:
        xy = _xy(cand)
        raw = cKDTree(xy).query_pairs(r=params.min_spacing_m, output_type="ndarray")
        if len(raw):
            gap = np.hypot(*(xy[raw[:, 0]] - xy[raw[:, 1]]).T)
            pairs = raw[gap < params.min_spacing_m].astype(np.int64)
    reach = reach_matrix(demand, cand, radius_m=params.radius_m, distance=params.distance, graph=graph)
    ex_reach = reach_matrix(demand, existing, radius_m=params.radius_m, distance=params.distance, graph=graph)
    site_cap = ex_cap = None
    if params.capacity:
        own = (pd.to_numeric(cand["capacity"], errors="coerce").to_numpy(dtype=np.float64)
               if "capacity" in cand.columns else np.full(len(cand), np.nan))
        if np.isnan(own).any():
            if params.site_capacity is None:
                missing = cand.loc[np.isnan(own), "site_id"].astype(str).tolist()
                raise AnalysisError(
                    f"{len(missing)} candidate site(s) have no capacity ({', '.join(missing[:5])}"
                    f"{' …' if len(missing) > 5 else ''}): give a capacity per new station (`site_capacity`)")
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
) -> SitingProblem:
    """The siting instance of a dataset: demand of every grid, existing stations, candidates.

    With ``params.street``, only that street's residents count and only
    candidates inside its grids are considered; existing stations anywhere
    keep covering whom they reach. ``demand`` (the dataset's `demand_points`)
    and ``graph`` (its walking graph) may be passed in when already built;
    both are built here otherwise.
    """
    t0 = time.perf_counter()
    check_params(params)
    crs = ds.metric_crs
    if demand is None:
        demand = demand_points(ds.grids, ds.estates, crs=crs)
    else:
        demand = demand.to_crs(crs)
    street_area = None
    if params.street is not None:
        grids = ds.grids[ds.grids["street"].astype(str) == params.street]
        if len(grids) == 0:
            raise AnalysisError(f"street {params.street!r} has no grids; streets: {', '.join(ds.streets)}")
        street_area = grids.to_crs(crs).union_all()
        demand = demand[demand["grid_id"].astype(str).isin(set(grids["grid_id"].astype(str)))]
    existing = existing_stations(ds.facilities, params.facility_type).to_crs(crs)
    if params.distance == "walking" and graph is None:
        if ds.roads is None or len(ds.roads) == 0:
            raise AnalysisError("walking distance needs a roads layer (道路), and the dataset has none")
        from analysis.network import build_walk_graph

        graph = build_walk_graph(ds.roads, crs=crs)
    if params.candidates == "layer":
        if ds.candidates is None or len(ds.candidates) == 0:
            raise AnalysisError("there are no candidate sites: the dataset has no candidates layer (候选站点); "
                                "add one or generate candidates from uncovered estates and grids")
        cand = ds.candidates.to_crs(crs)
        if street_area is not None:
            cand = cand[cand.geometry.covered_by(street_area)]
            if len(cand) == 0:
                raise AnalysisError(f"there are no candidate sites in street {params.street!r}; "
                                    "generate candidates or choose the whole district")
    else:
        covered = reach_matrix(demand, existing, radius_m=params.radius_m, distance=params.distance,
                               graph=graph).getnnz(axis=1) > 0
        cand = generate_candidates(demand, covered, estates=ds.estates, grids=ds.grids)
        if len(cand) == 0:
            raise AnalysisError("there are no candidate sites: every resident is already within reach "
                                "of an existing station, so none was generated")
    prob = siting_problem_from_frames(demand, cand, existing, params=params, graph=graph)
    return _replace(prob, build_s=time.perf_counter() - t0)


# --- HiGHS ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Solved:
    status: str
    x: NDArray[np.float64] | None
    objective: float
    bound: float
    optimal: bool


def _highs(
    *,
    cost: NDArray,
    col_lower: NDArray,
    col_upper: NDArray,
    matrix: sparse.spmatrix,
    row_lower: NDArray,
    row_upper: NDArray,
    n_integer: int = 0,
    maximize: bool,
    start: NDArray | None = None,
    start_index: NDArray | None = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> _Solved:
    """Solve an LP (or a MIP whose first ``n_integer`` columns are integer) with HiGHS."""
    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-6)
    h.setOptionValue("random_seed", 0)
    n_col = len(cost)
    csc = sparse.csc_matrix(matrix, dtype=np.float64)
    csc.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = csc.shape[0]
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf).astype(np.float64)
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf).astype(np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = csc.shape[0]
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    if n_integer:
        lp.integrality_ = ([highspy.HighsVarType.kInteger] * n_integer
                           + [highspy.HighsVarType.kContinuous] * (n_col - n_integer))
    h.passModel(lp)
    if start is not None:
        if start_index is None:
            sol = highspy.HighsSolution()
            sol.col_value = np.asarray(start, dtype=np.float64)
            sol.value_valid = True
            h.setSolution(sol)
        else:
            h.setSolution(len(start_index), np.asarray(start_index, dtype=np.int32),
                          np.asarray(start, dtype=np.float64))
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    name = h.modelStatusToString(status)
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_x else None
    obj = float(info.objective_function_value) if has_x else math.nan
    if n_integer:
        bound = float(info.mip_dual_bound)
    else:
        bound = obj
    return _Solved(status=name, x=x, objective=obj, bound=bound, optimal=status == highspy.HighsModelStatus.kOptimal)


def _conflict_rows(prob: SitingProblem, n_col: int) -> sparse.csr_matrix:
    k = len(prob.conflicts)
    rows = np.repeat(np.arange(k), 2)
    return sparse.csr_matrix((np.ones(2 * k), (rows, prob.conflicts.ravel())), shape=(k, n_col))


@dataclass(frozen=True)
class _Model:
    matrix: sparse.csr_matrix
    row_lower: NDArray
    row_upper: NDArray
    cost: NDArray
    col_upper: NDArray
    n_x: int


def _model(prob: SitingProblem, *, budget: int | None, need: float | None, count: bool) -> _Model:
    """The integer program: columns x (one per candidate) first, then y or z.

    Uncapacitated (max coverage): max sum w_c y_c; y_c <= sum_{j reaches c} x_j;
    0 <= y_c <= 1. Capacitated: flows z_cj (row c to open station j) with
    sum_j z_cj <= w_c, sum_c z_cj <= cap_j x_j, z_cj <= w_c x_j. ``budget``:
    sum x <= budget; ``need``: covered (added, uncapacitated; total,
    capacitated) >= need; ``count``: minimise sum x instead of maximising cover.
    """
    m, r = prob.n_candidates, prob.n_rows
    a = sparse.csr_matrix(prob.class_reach, dtype=np.float64)
    w = prob.class_weight
    blocks: list[sparse.spmatrix] = []
    lo: list[NDArray] = []
    hi: list[NDArray] = []
    if not prob.capacitated:
        n_col = m + r
        blocks.append(sparse.hstack([-a, sparse.identity(r, format="csr")], format="csr"))
        lo.append(np.full(r, -np.inf))
        hi.append(np.zeros(r))
        cover_row = sparse.csr_matrix(np.concatenate([np.zeros(m), w])[None, :])
        cost = np.concatenate([np.ones(m), np.zeros(r)]) if count else np.concatenate([np.zeros(m), w])
        col_upper = np.ones(n_col)
    else:
        ca = a.tocoo()
        pc, pj = ca.row.astype(np.int64), ca.col.astype(np.int64)
        ce = prob.class_existing.tocoo()
        qc, qe = ce.row.astype(np.int64), ce.col.astype(np.int64)
        p, q = len(pc), len(qc)
        n_col = m + p + q
        zc = np.arange(m, m + p)
        ze = np.arange(m + p, m + p + q)
        # demand rows
        blocks.append(sparse.csr_matrix((np.ones(p + q), (np.concatenate([pc, qc]), np.concatenate([zc, ze]))),
                                        shape=(r, n_col)))
        lo.append(np.full(r, -np.inf))
        hi.append(w.copy())
        # candidate capacity rows
        cap = prob.site_capacity
        blocks.append(sparse.csr_matrix(
            (np.concatenate([np.ones(p), -cap]), (np.concatenate([pj, np.arange(m)]), np.concatenate([zc, np.arange(m)]))),
            shape=(m, n_col)))
        lo.append(np.full(m, -np.inf))
        hi.append(np.zeros(m))
        # existing capacity rows (finite ones)
        ecap = prob.existing_capacity
        finite = np.flatnonzero(np.isfinite(ecap))
        if len(finite):
            sel = np.isin(qe, finite)
            row_of = np.full(len(ecap), -1)
            row_of[finite] = np.arange(len(finite))
            blocks.append(sparse.csr_matrix((np.ones(int(sel.sum())), (row_of[qe[sel]], ze[sel])),
                                            shape=(len(finite), n_col)))
            lo.append(np.full(len(finite), -np.inf))
            hi.append(ecap[finite])
        # z_cj <= w_c x_j
        blocks.append(sparse.csr_matrix(
            (np.concatenate([np.ones(p), -w[pc]]), (np.concatenate([np.arange(p), np.arange(p)]),
                                                     np.concatenate([zc, pj]))), shape=(p, n_col)))
        lo.append(np.full(p, -np.inf))
        hi.append(np.zeros(p))
        cover_row = sparse.csr_matrix(np.concatenate([np.zeros(m), np.ones(p + q)])[None, :])
        cost = np.concatenate([np.ones(m), np.zeros(p + q)]) if count else np.concatenate([np.zeros(m), np.ones(p + q)])
        col_upper = np.concatenate([np.ones(m), w[pc], w[qc]])
    if budget is not None:
        blocks.append(sparse.csr_matrix(np.concatenate([np.ones(m), np.zeros(n_col - m)])[None, :]))
        lo.append(np.array([-np.inf]))
        hi.append(np.array([float(budget)]))
    if need is not None:
        blocks.append(cover_row)
        lo.append(np.array([need]))
        hi.append(np.array([np.inf]))
    if len(prob.conflicts):
        blocks.append(_conflict_rows(prob, n_col))
        lo.append(np.full(len(prob.conflicts), -np.inf))
        hi.append(np.ones(len(prob.conflicts)))
    matrix = sparse.vstack(blocks, format="csr") if blocks else sparse.csr_matrix((0, n_col))
    return _Model(matrix, np.concatenate(lo), np.concatenate(hi), cost, col_upper, m)


def _uncap_start(prob: SitingProblem, chosen: NDArray[np.int64]) -> NDArray:
    x = np.zeros(prob.n_candidates)
    x[chosen] = 1.0
    y = np.minimum(1.0, sparse.csr_matrix(prob.class_reach) @ x) if prob.n_rows else np.zeros(0)
    return np.concatenate([x, y])


def _solve_model(
    prob: SitingProblem, model: _Model, *, maximize: bool, start: NDArray[np.int64] | None, time_limit_s: float
) -> _Solved:
    kw: dict[str, Any] = {}
    if start is not None:
        if prob.capacitated:
            x = np.zeros(prob.n_candidates)
            x[start] = 1.0
            kw = {"start": x, "start_index": np.arange(prob.n_candidates)}
        else:
            kw = {"start": _uncap_start(prob, start)}
    return _highs(cost=model.cost, col_lower=np.zeros(len(model.cost)), col_upper=model.col_upper,
                  matrix=model.matrix, row_lower=model.row_lower, row_upper=model.row_upper,
                  n_integer=model.n_x, maximize=maximize, time_limit_s=time_limit_s, **kw)


# --- evaluation ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Flow:
    total: float
    served: NDArray[np.float64]  # per row
    load: NDArray[np.float64]  # per station: the open candidates (in the order given), then the existing ones


def _flow(prob: SitingProblem, open_idx: NDArray[np.int64], *, fair: bool) -> _Flow:
    """Capacitated: the most aged 60+ the existing plus ``open_idx`` stations can serve.

    With ``fair``, a second LP keeps that total and maximises the smallest
    served share among rows within reach of an open station.
    """
    r = prob.n_rows
    w = prob.class_weight
    open_idx = np.asarray(open_idx, dtype=np.int64)
    sub = sparse.csc_matrix(prob.class_reach[:, open_idx]).tocoo()
    ce = prob.class_existing.tocoo()
    pc = np.concatenate([sub.row, ce.row]).astype(np.int64)
    owner = np.concatenate([sub.col, len(open_idx) + ce.col]).astype(np.int64)
    caps = np.concatenate([prob.site_capacity[open_idx], prob.existing_capacity])
    n_st = len(caps)
    k = len(pc)
    if k == 0:
        return _Flow(0.0, np.zeros(r), np.zeros(n_st))
    demand_rows = sparse.csr_matrix((np.ones(k), (pc, np.arange(k))), shape=(r, k))
    cap_rows = sparse.csr_matrix((np.ones(k), (owner, np.arange(k))), shape=(n_st, k))
    finite = np.isfinite(caps)
    matrix = sparse.vstack([demand_rows, cap_rows[np.flatnonzero(finite)]], format="csr")
    lo = np.full(matrix.shape[0], -np.inf)
    hi = np.concatenate([w, caps[finite]])
    first = _highs(cost=np.ones(k), col_lower=np.zeros(k), col_upper=w[pc], matrix=matrix, row_lower=lo,
                   row_upper=hi, maximize=True)
    if first.x is None:
        raise AnalysisError(f"the capacity model could not be solved (HiGHS: {first.status})")
    total = float(first.objective)
    z = first.x
    if fair and total > _TOL:
        reached = np.flatnonzero(np.bincount(pc, minlength=r) > 0)
        nr = len(reached)
        # columns: z (k), t; rows: demand, capacity, share (sum_j z_cj - w_c t >= 0), total kept
        share_rows = sparse.hstack([demand_rows[reached], sparse.csr_matrix(-w[reached][:, None])], format="csr")
        total_row = sparse.csr_matrix(np.concatenate([np.ones(k), [0.0]])[None, :])
        m2 = sparse.vstack([sparse.hstack([matrix, sparse.csr_matrix((matrix.shape[0], 1))]), share_rows, total_row],
                           format="csr")
        lo2 = np.concatenate([lo, np.zeros(nr), [total * (1 - 1e-9) - 1e-9]])
        hi2 = np.concatenate([hi, np.full(nr, np.inf), [np.inf]])
        second = _highs(cost=np.concatenate([np.zeros(k), [1.0]]), col_lower=np.zeros(k + 1),
                        col_upper=np.concatenate([w[pc], [1.0]]), matrix=m2, row_lower=lo2, row_upper=hi2,
                        maximize=True)
        if second.x is not None:
            z = second.x[:k]
    z = np.maximum(z, 0.0)
    served = np.minimum(np.bincount(pc, weights=z, minlength=r), w)
    load = np.bincount(owner, weights=z, minlength=n_st)
    return _Flow(float(served.sum()), served, load)


def _added(prob: SitingProblem, chosen: NDArray[np.int64]) -> float:
    """What ``chosen`` (candidate indices) adds to the existing stations (aged 60+)."""
    if prob.capacitated:
        return _flow(prob, chosen, fair=False).total - prob.existing_elderly
    if len(chosen) == 0 or prob.n_rows == 0:
        return 0.0
    hit = sparse.csc_matrix(prob.class_reach[:, chosen]).getnnz(axis=1) > 0
    return float(prob.class_weight[hit].sum())


def _new_share(prob: SitingProblem, chosen: NDArray[np.int64]) -> NDArray[np.float64]:
    """Per row: the share newly covered by ``chosen`` (capacitated: after minus before, fair allocations)."""
    if prob.capacitated:
        served = _flow(prob, chosen, fair=True).served
        after = np.divide(served, prob.class_weight, out=np.zeros_like(served), where=prob.class_weight > 0)
        return after - prob.class_existing_share
    if len(chosen) == 0 or prob.n_rows == 0:
        return np.zeros(prob.n_rows)
    return (sparse.csc_matrix(prob.class_reach[:, chosen]).getnnz(axis=1) > 0).astype(np.float64)


# --- greedy ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Greedy:
    order: NDArray[np.int64]
    values: NDArray[np.float64]  # added after each step (uncapacitated exact; capacitated: greedy's own allocation)
    bound: float | None  # upper bound on the best with `budget` sites (uncapacitated)


def _conflict_lists(prob: SitingProblem) -> sparse.csr_matrix | None:
    if not len(prob.conflicts):
        return None
    m = prob.n_candidates
    a, b = prob.conflicts[:, 0], prob.conflicts[:, 1]
    return sparse.csr_matrix((np.ones(2 * len(a), dtype=bool), (np.concatenate([a, b]), np.concatenate([b, a]))),
                             shape=(m, m))


def _top_sum(gains: NDArray, k: int) -> float:
    g = np.maximum(gains, 0.0)
    if k <= 0 or len(g) == 0:
        return 0.0
    if k >= len(g):
        return float(g.sum())
    return float(np.partition(g, len(g) - k)[len(g) - k:].sum())


def _greedy(
    prob: SitingProblem,
    steps: int,
    *,
    budget: int | None = None,
    allowed: NDArray[np.bool_] | None = None,
    need: float | None = None,
) -> _Greedy:
    """Add the site with the largest gain, ``steps`` times (or until nothing is gained / ``need`` is met).

    Ties go to the lower candidate index. Uncapacitated gains are exact and the
    bound is the best of ``value + top-budget gains`` over the steps.
    Capacitated gains are estimates: a site serves min(capacity, unserved
    demand in reach), split in proportion to that demand.
    """
    m = prob.n_candidates
    budget = steps if budget is None else budget
    ok = np.ones(m, dtype=bool) if allowed is None else allowed.copy()
    neighbours = _conflict_lists(prob)
    csc = sparse.csc_matrix(prob.class_reach)
    csr = sparse.csr_matrix(prob.class_reach)
    order: list[int] = []
    values: list[float] = []
    value = 0.0
    if not prob.capacitated:
        w = prob.class_weight
        gains = np.asarray(csc.T @ w, dtype=np.float64).ravel() if prob.n_rows else np.zeros(m)
        covered = np.zeros(prob.n_rows, dtype=bool)
        chosen_mask = np.zeros(m, dtype=bool)
        bound = math.inf
        for _ in range(steps):
            bound = min(bound, value + _top_sum(np.where(chosen_mask, 0.0, gains), budget))
            if need is not None and value >= need - _TOL:
                break
            cand = np.where(ok, gains, -np.inf)
            j = int(np.argmax(cand)) if m else -1
            if j < 0 or cand[j] <= _TOL:
                break
            rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
            new = rows[~covered[rows]]
            covered[new] = True
            value += float(w[new].sum())
            if len(new):
                gains -= np.asarray(csr[new].T @ w[new], dtype=np.float64).ravel()
            order.append(j)
            values.append(value)
            chosen_mask[j] = True
            ok[j] = False
            if neighbours is not None:
                ok[neighbours.indices[neighbours.indptr[j]:neighbours.indptr[j + 1]]] = False
        bound = min(bound, value + _top_sum(np.where(chosen_mask, 0.0, gains), budget))
        return _Greedy(np.array(order, dtype=np.int64), np.array(values), bound)
    # Capacitated: residual demand after the existing stations' fair allocation.
    residual = prob.class_weight * (1.0 - prob.class_existing_share)
    cap = prob.site_capacity
    for _ in range(steps):
        if need is not None and value >= need - _TOL:
            break
        reach_sum = np.asarray(csc.T @ residual, dtype=np.float64).ravel() if prob.n_rows else np.zeros(m)
        gains = np.minimum(cap, reach_sum)
        cand = np.where(ok, gains, -np.inf)
        j = int(np.argmax(cand)) if m else -1
        if j < 0 or cand[j] <= _TOL:
            break
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        frac = min(1.0, cap[j] / reach_sum[j]) if reach_sum[j] > 0 else 0.0
        residual[rows] *= 1.0 - frac
        value += float(gains[j])
        order.append(j)
        values.append(value)
        ok[j] = False
        if neighbours is not None:
            ok[neighbours.indices[neighbours.indptr[j]:neighbours.indptr[j + 1]]] = False
    return _Greedy(np.array(order, dtype=np.int64), np.array(values), None)


def _ordered_gains(prob: SitingProblem, chosen: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Order a chosen set by contribution (greedy within it) and give each site's marginal gain."""
    chosen = np.asarray(chosen, dtype=np.int64)
    if len(chosen) == 0:
        return chosen, np.zeros(0)
    allowed = np.zeros(prob.n_candidates, dtype=bool)
    allowed[chosen] = True
    g = _greedy(_replace(prob, conflicts=np.zeros((0, 2), np.int64)), len(chosen), allowed=allowed)
    order = list(g.order)
    order += [j for j in chosen if j not in set(order)]  # sites that add nothing, last
    order = np.array(order, dtype=np.int64)
    if not prob.capacitated:
        values = np.concatenate([g.values, np.full(len(order) - len(g.order), g.values[-1] if len(g.values) else 0.0)])
    else:
        values = np.array([_added(prob, order[: i + 1]) for i in range(len(order))])
    gains = np.diff(np.concatenate([[0.0], values]))
    return order, gains


def _trim(order: NDArray[np.int64], gains: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Drop trailing sites that add nothing."""
    k = len(order)
    while k and gains[k - 1] <= _TOL:
        k -= 1
    return order[:k], gains[:k]


# --- public solvers ---------------------------------------------------------------------

def _check_n(prob: SitingProblem, n_new: int) -> None:
    if not isinstance(n_new, int | np.integer) or isinstance(n_new, bool) or n_new < 1:
        raise AnalysisError(f"`n_new` was {n_new!r} but must be a whole number of at least 1")
    if prob.n_candidates == 0:
        raise AnalysisError("there are no candidate sites to choose from")
    if n_new > prob.n_candidates:
        dropped = (f" ({prob.excluded_by_spacing} more are closer than {prob.params.min_spacing_m:g} m "
                   "to an existing station)") if prob.excluded_by_spacing else ""
        raise AnalysisError(f"asked for {n_new} new sites but there are only {prob.n_candidates} "
                            f"candidate sites{dropped}; ask for at most {prob.n_candidates}")


def _check_solver(solver: str) -> None:
    if solver not in SOLVERS:
        raise AnalysisError(f"`solver` was {solver!r} but is expected to be one of {', '.join(SOLVERS)}")


def _result(
    prob: SitingProblem,
    order: NDArray[np.int64],
    gains: NDArray[np.float64],
    *,
    n_requested: int,
    solver: str,
    bound: float | None,
    optimal: bool,
    status: str,
    t0: float,
    target_share: float | None = None,
    min_sites_bound: int | None = None,
) -> SitingResult:
    added = float(gains.sum()) if len(gains) else 0.0
    if bound is not None:
        bound = max(float(bound), added)
    return SitingResult(
        site_ids=tuple(prob.site_ids[j] for j in order), gains_elderly=tuple(float(g) for g in gains),
        n_requested=int(n_requested), solver=solver, total_elderly=prob.total_elderly,
        existing_elderly=prob.existing_elderly, added_elderly=added, bound_elderly=bound,
        optimal=bool(optimal), status=status, elapsed_s=time.perf_counter() - t0, target_share=target_share,
        min_sites_bound=min_sites_bound)


def _undominated(prob: SitingProblem) -> NDArray[np.int64]:
    """Candidates worth keeping in the uncapacitated model without spacing pairs.

    A candidate whose rows are a subset of another's (ties: the lower index
    stays) can always be swapped for that one at no loss, so the optimum over
    the others is the optimum over all; candidates that reach nobody go too.
    """
    a = sparse.csc_matrix(prob.class_reach, dtype=np.int32)
    counts = np.diff(a.indptr)
    overlap = (a.T @ a).tocoo()
    j, k, v = overlap.row, overlap.col, overlap.data
    inside = (j != k) & (v == counts[j]) & ((counts[k] > counts[j]) | ((counts[k] == counts[j]) & (k < j)))
    dominated = counts == 0
    dominated[j[inside]] = True
    return np.flatnonzero(~dominated).astype(np.int64)


def _restrict(prob: SitingProblem, keep: NDArray[np.int64]) -> SitingProblem:
    """The same problem over the candidates ``keep`` only (no spacing pairs, uncapacitated)."""
    return _replace(prob, site_ids=tuple(prob.site_ids[j] for j in keep),
                    class_reach=sparse.csc_matrix(prob.class_reach[:, keep]), conflicts=np.zeros((0, 2), np.int64),
                    sites=None)


def _reduced(prob: SitingProblem) -> tuple[SitingProblem, NDArray[np.int64]]:
    """The problem the integer program is built on, and the candidate index of each of its columns."""
    if prob.capacitated or len(prob.conflicts):
        return prob, np.arange(prob.n_candidates, dtype=np.int64)
    keep = _undominated(prob)
    if len(keep) == prob.n_candidates or len(keep) == 0:
        return prob, np.arange(prob.n_candidates, dtype=np.int64)
    return _restrict(prob, keep), keep


def _exact_max(
    prob: SitingProblem, n_new: int, *, start: NDArray[np.int64], start_value: float, greedy_bound: float | None,
    time_limit_s: float,
) -> tuple[NDArray[np.int64], float, float | None, bool, str]:
    """Best set of at most ``n_new`` sites: (chosen, added, bound on added or None, optimal, status)."""
    if greedy_bound is not None and start_value >= greedy_bound - _TOL:
        return start, start_value, greedy_bound, True, "optimal (greedy meets its bound)"
    if prob.n_rows == 0:
        return start, start_value, start_value, True, "optimal (nothing left to cover)"
    model_prob, cols = _reduced(prob)
    if model_prob is prob:
        model_start = start
    else:  # start from the greedy answer among the kept candidates
        model_start = _greedy(model_prob, n_new).order
    model = _model(model_prob, budget=n_new, need=None, count=False)
    solved = _solve_model(model_prob, model, maximize=True, start=model_start, time_limit_s=time_limit_s)
    offset = prob.existing_elderly if prob.capacitated else 0.0
    if solved.x is None:
        bound = solved.bound - offset if math.isfinite(solved.bound) else greedy_bound
        return start, start_value, bound, False, solved.status.lower()
    chosen = cols[np.flatnonzero(solved.x[: model_prob.n_candidates] > 0.5)].astype(np.int64)
    value = _added(prob, chosen)
    bound = solved.bound - offset if math.isfinite(solved.bound) else math.inf
    if greedy_bound is not None:
        bound = min(bound, greedy_bound)
    if value < start_value:
        chosen, value = start, start_value
    optimal = solved.optimal or value >= bound - max(_TOL, 1e-9 * abs(bound))
    return chosen, value, (max(bound, value) if math.isfinite(bound) else None), optimal, solved.status.lower()


def solve_siting(
    prob: SitingProblem,
    *,
    n_new: int,
    solver: str = "exact",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> SitingResult:
    """The ``n_new`` new sites that cover the most uncovered aged 60+ (MCLP), existing stations kept.

    ``solver="exact"``: the integer program, solved by HiGHS with the greedy
    answer as its start; ``optimal`` says whether optimality was proven within
    ``time_limit_s`` (else ``gap`` is the proven gap). ``"greedy"``: add the
    best site one at a time. Raises `AnalysisError` when ``n_new`` is below 1
    or above the number of candidates.
    """
    t0 = time.perf_counter()
    _check_solver(solver)
    _check_n(prob, n_new)
    g = _greedy(prob, n_new)
    if solver == "greedy":
        if prob.capacitated:
            order, gains = _ordered_gains(prob, g.order)
            order, gains = _trim(order, gains)
            return _result(prob, order, gains, n_requested=n_new, solver=solver, bound=None, optimal=False,
                           status="greedy", t0=t0)
        gains = np.diff(np.concatenate([[0.0], g.values]))
        value = float(g.values[-1]) if len(g.values) else 0.0
        optimal = g.bound is not None and value >= g.bound - _TOL
        return _result(prob, g.order, gains, n_requested=n_new, solver=solver, bound=g.bound, optimal=optimal,
                       status="greedy (meets its bound)" if optimal else "greedy", t0=t0)
    start_value = _added(prob, g.order) if prob.capacitated else (float(g.values[-1]) if len(g.values) else 0.0)
    chosen, _, bound, optimal, status = _exact_max(prob, n_new, start=g.order, start_value=start_value,
                                                   greedy_bound=g.bound, time_limit_s=time_limit_s)
    order, gains = _trim(*_ordered_gains(prob, chosen))
    return _result(prob, order, gains, n_requested=n_new, solver=solver, bound=bound, optimal=optimal,
                   status=status, t0=t0)


def coverage_curve(
    prob: SitingProblem,
    *,
    max_new: int,
    solver: str = "exact",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    on_progress: ProgressFn | None = None,
) -> CoverageCurve:
    """Coverage against N = 1..``max_new`` new sites: the greedy plan, and (``solver="exact"``) the optimum per N.

    ``on_progress(done, total)`` is called after each N.
    """
    t0 = time.perf_counter()
    _check_solver(solver)
    _check_n(prob, max_new)
    g = _greedy(prob, max_new)
    if prob.capacitated:
        greedy_vals = [_added(prob, g.order[:n]) for n in range(1, max_new + 1)]
    else:
        reached = list(g.values) + [g.values[-1] if len(g.values) else 0.0] * (max_new - len(g.values))
        greedy_vals = reached[:max_new]
    greedy_cov = tuple(prob.existing_elderly + v for v in greedy_vals)
    exact_cov: list[float] = []
    exact_opt: list[bool] = []
    previous = np.zeros(0, dtype=np.int64)
    for n in range(1, max_new + 1):
        if solver == "exact":
            gn = _greedy(prob, n)
            start = gn.order
            start_value = greedy_vals[n - 1] if prob.capacitated else (float(gn.values[-1]) if len(gn.values) else 0.0)
            # The previous optimum plus the best next site may start better.
            if len(previous):
                allowed = np.ones(prob.n_candidates, dtype=bool)
                allowed[previous] = False
                extended = _extend(prob, previous, allowed)
                ev = _added(prob, extended)
                if ev > start_value:
                    start, start_value = extended, ev
            chosen, value, _, optimal, _ = _exact_max(prob, n, start=start, start_value=start_value,
                                                      greedy_bound=gn.bound, time_limit_s=time_limit_s)
            previous = chosen
            exact_cov.append(prob.existing_elderly + value)
            exact_opt.append(optimal)
        if on_progress is not None:
            on_progress(n, max_new)
    return CoverageCurve(
        n_new=tuple(range(1, max_new + 1)), greedy_elderly=greedy_cov,
        greedy_site_ids=tuple(prob.site_ids[j] for j in g.order),
        exact_elderly=tuple(exact_cov) if solver == "exact" else None,
        exact_optimal=tuple(exact_opt) if solver == "exact" else None,
        total_elderly=prob.total_elderly, existing_elderly=prob.existing_elderly, elapsed_s=time.perf_counter() - t0)


def _extend(prob: SitingProblem, chosen: NDArray[np.int64], allowed: NDArray[np.bool_]) -> NDArray[np.int64]:
    """``chosen`` plus the single best compatible site (uncapacitated gain; capacitated estimate)."""
    neighbours = _conflict_lists(prob)
    ok = allowed.copy()
    if neighbours is not None:
        for j in chosen:
            ok[neighbours.indices[neighbours.indptr[j]:neighbours.indptr[j + 1]]] = False
    if not ok.any():
        return chosen
    csc = sparse.csc_matrix(prob.class_reach)
    if prob.capacitated:
        gains = np.asarray(csc.T @ (prob.class_weight * (1 - prob.class_existing_share)), dtype=np.float64).ravel()
        gains = np.minimum(gains, prob.site_capacity)
    else:
        hit = sparse.csc_matrix(prob.class_reach[:, chosen]).getnnz(axis=1) > 0 if len(chosen) else \
            np.zeros(prob.n_rows, dtype=bool)
        gains = np.asarray(csc.T @ np.where(hit, 0.0, prob.class_weight), dtype=np.float64).ravel()
    j = int(np.argmax(np.where(ok, gains, -np.inf)))
    return np.concatenate([chosen, [j]]).astype(np.int64)


def fewest_sites(
    prob: SitingProblem,
    *,
    target_share: float,
    solver: str = "exact",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> SitingResult:
    """The fewest new sites that bring coverage (existing + new) to ``target_share`` of all aged 60+.

    Exact: a covering integer program (minimise sites subject to the covered
    aged 60+ reaching the target), then, with that many sites, the most
    coverage. Greedy: add the best site until the target is met. Raises
    `AnalysisError` when the target is not a share in (0, 1] or cannot be
    reached with the candidates.
    """
    t0 = time.perf_counter()
    _check_solver(solver)
    if not (isinstance(target_share, int | float) and 0 < target_share <= 1):
        raise AnalysisError(f"`target_share` was {target_share!r} but must be a share above 0 and at most 1 "
                            "(0.9 for 90 %)")
    if prob.n_candidates == 0:
        raise AnalysisError("there are no candidate sites to choose from")
    need_total = target_share * prob.total_elderly
    need_added = need_total - prob.existing_elderly
    if need_added <= _TOL:
        return _result(prob, np.zeros(0, np.int64), np.zeros(0), n_requested=0, solver=solver, bound=0.0,
                       optimal=True, status="met by existing stations", t0=t0, target_share=target_share,
                       min_sites_bound=0)
    every = np.arange(prob.n_candidates, dtype=np.int64)
    best_possible = _added(prob, every)
    if best_possible < need_added - _TOL:
        share = (prob.existing_elderly + best_possible) / prob.total_elderly
        raise AnalysisError(
            f"the target of {target_share:.1%} cannot be reached: with all {prob.n_candidates} candidate sites "
            f"as well as the existing stations, at most {share:.1%} of the aged 60+ are within "
            f"{prob.params.radius_m:g} m; lower the target, widen the radius or add candidates")
    g = _greedy(prob, prob.n_candidates, budget=prob.n_candidates, need=need_added)
    g_value = _added(prob, g.order) if prob.capacitated else (float(g.values[-1]) if len(g.values) else 0.0)
    g_ok = g_value >= need_added - _TOL
    spacing_note = (f" while keeping new sites {prob.params.min_spacing_m:g} m apart"
                    if len(prob.conflicts) else "")
    if solver == "greedy":
        if not g_ok:
            raise AnalysisError(f"the target of {target_share:.1%} cannot be reached by adding sites one at a time"
                                f"{spacing_note}; try the exact solver or lower the target")
        order, gains = _ordered_gains(prob, g.order)
        return _result(prob, order, gains, n_requested=len(order), solver=solver, bound=None, optimal=False,
                       status="greedy", t0=t0, target_share=target_share)
    offset = prob.existing_elderly if prob.capacitated else 0.0
    model_prob, cols = _reduced(prob)
    model_start = None
    if g_ok:
        model_start = g.order if model_prob is prob else _greedy(model_prob, model_prob.n_candidates,
                                                                 need=need_added).order
    model = _model(model_prob, budget=None, need=need_added + offset, count=True)
    solved = _solve_model(model_prob, model, maximize=False, start=model_start, time_limit_s=time_limit_s)
    if solved.x is None:
        if "infeasible" in solved.status.lower():
            raise AnalysisError(f"the target of {target_share:.1%} cannot be reached{spacing_note}; "
                                "lower the target, widen the radius or add candidates")
        raise AnalysisError(f"no answer was found within {time_limit_s:g} s (HiGHS: {solved.status}); "
                            "allow more time or use the greedy solver")
    chosen = cols[np.flatnonzero(solved.x[: model_prob.n_candidates] > 0.5)].astype(np.int64)
    k = len(chosen)
    lower = int(math.ceil(solved.bound - 1e-6)) if math.isfinite(solved.bound) else 0
    count_optimal = solved.optimal or lower >= k
    # With k sites, cover as much as possible (the covering answer is a feasible start).
    chosen2, _, bound, optimal2, status = _exact_max(prob, k, start=chosen, start_value=_added(prob, chosen),
                                                     greedy_bound=None, time_limit_s=time_limit_s)
    order, gains = _ordered_gains(prob, chosen2)
    return _result(prob, order, gains, n_requested=k, solver=solver, bound=bound,
                   optimal=count_optimal and optimal2, status=status, t0=t0, target_share=target_share,
                   min_sites_bound=min(lower, k))


# --- tables for pages, files and the CLI -------------------------------------------------

def sites_table(prob: SitingProblem, result: SitingResult) -> gpd.GeoDataFrame:
    """One row per chosen site, in order: rank, site_id, name, gain_elderly, covered_elderly, covered_share,
    capacity (capacitated), geometry (the problem's metric CRS; None without site geometry)."""
    idx = prob.index_of(result.site_ids)
    cum = prob.existing_elderly + np.cumsum(np.asarray(result.gains_elderly, dtype=np.float64))
    total = prob.total_elderly if prob.total_elderly > 0 else 1.0
    df = pd.DataFrame({
        "rank": np.arange(1, len(idx) + 1, dtype=np.int64),
        "site_id": pd.array(list(result.site_ids), dtype="string"),
        "gain_elderly": np.asarray(result.gains_elderly, dtype=np.float64),
        "covered_elderly": cum,
        "covered_share": cum / total,
    })
    if prob.sites is not None and "name" in prob.sites.columns:
        df.insert(2, "name", pd.array(prob.sites["name"].astype("string").to_numpy()[idx], dtype="string"))
    if prob.capacitated:
        df["capacity"] = prob.site_capacity[idx]
    if prob.sites is None:
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([None] * len(df)))
    return gpd.GeoDataFrame(df, geometry=prob.sites.geometry.to_numpy()[idx], crs=prob.sites.crs)


def newly_covered(prob: SitingProblem, result: SitingResult) -> pd.DataFrame:
    """Per demand point: ``new_elderly`` covered by the chosen sites (aged 60+); needs the demand frame."""
    if prob.demand is None:
        raise AnalysisError("per-grid figures need the demand points: build the problem from a dataset")
    share = _new_share(prob, prob.index_of(result.site_ids))
    cls = prob.point_class
    new = np.where(cls >= 0, share[np.maximum(cls, 0)], 0.0) * prob.point_weight
    return pd.DataFrame({"demand_id": prob.demand["demand_id"].to_numpy() if "demand_id" in prob.demand.columns
                         else np.arange(prob.n_points), "grid_id": prob.demand["grid_id"].astype("string").to_numpy(),
                         "new_elderly": new, "existing_elderly": prob.point_existing * prob.point_weight,
                         "elderly": prob.point_weight})


def grid_gains(prob: SitingProblem, result: SitingResult) -> pd.DataFrame:
    """Per grid: elderly, existing_elderly (covered before), new_elderly (covered by the new sites),
    share_before, share_after. Sorted by new_elderly, largest first."""
    pts = newly_covered(prob, result)
    g = pts.groupby("grid_id", sort=True)[["elderly", "existing_elderly", "new_elderly"]].sum().reset_index()
    denom = g["elderly"].where(g["elderly"] > 0)
    g["share_before"] = (g["existing_elderly"] / denom).fillna(0.0)
    g["share_after"] = ((g["existing_elderly"] + g["new_elderly"]) / denom).fillna(0.0)
    return g.sort_values(["new_elderly", "grid_id"], ascending=[False, True], ignore_index=True)


def summary(prob: SitingProblem, result: SitingResult) -> dict[str, Any]:
    """The figures the CLI prints and scenarios keep."""
    return {
        "covered_elderly": round(result.covered_elderly, 3),
        "covered_share": round(result.covered_share, 6),
        "added_elderly": round(result.added_elderly, 3),
        "optimal": result.optimal,
        "gap": None if result.gap is None else round(result.gap, 6),
        "seconds": round(prob.build_s + result.elapsed_s, 4),
    }


def station_loads(prob: SitingProblem, result: SitingResult) -> pd.DataFrame:
    """Aged 60+ each station serves once the chosen sites open (capacitated problems).

    Columns: ``station_id``, ``kind`` ("new" or "existing"), ``capacity``
    (inf = unlimited), ``served_elderly`` — from the max-min fair allocation.
    """
    if not prob.capacitated:
        raise AnalysisError("station loads exist only for the capacitated model (capacity=True)")
    idx = prob.index_of(result.site_ids)
    flow = _flow(prob, idx, fair=True)
    ex_ids = ([str(v) for v in prob.existing["facility_id"]] if prob.existing is not None
              and "facility_id" in prob.existing.columns else [f"existing-{i}" for i in range(len(prob.existing_capacity))])
    return pd.DataFrame({
        "station_id": list(result.site_ids) + ex_ids,
        "kind": ["new"] * len(idx) + ["existing"] * len(ex_ids),
        "capacity": np.concatenate([prob.site_capacity[idx], prob.existing_capacity]),
        "served_elderly": flow.load,
    })


def site_service_areas(
    prob: SitingProblem, result: SitingResult, *, graph: Any = None, quad_segs: int = 16
) -> gpd.GeoDataFrame:
    """The area each chosen site serves, in the problem's metric CRS: a circle of ``radius_m``, or with
    walking distance the roads reachable on foot widened into a corridor (needs ``graph``).
    Columns: rank, site_id, geometry."""
    if prob.sites is None:
        raise AnalysisError("service areas need the candidate sites' positions: build the problem from a dataset")
    idx = prob.index_of(result.site_ids)
    pts = prob.sites.iloc[idx]
    base = pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "site_id": list(result.site_ids)})
    if prob.params.distance == "walking":
        if graph is None:
            raise AnalysisError("walking service areas need the walking graph of the roads layer")
        from analysis.network import isochrones, snap_points

        iso = isochrones(graph, snap_points(graph, pts, what="sites"), limit_m=prob.params.radius_m)
        return gpd.GeoDataFrame(base, geometry=iso.geometry.to_numpy(), crs=prob.sites.crs)
    return gpd.GeoDataFrame(base, geometry=pts.geometry.buffer(prob.params.radius_m, quad_segs=quad_segs).to_numpy(),
                            crs=prob.sites.crs)
