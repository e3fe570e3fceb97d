"""The heavy analyses as Dask tasks on a dask.distributed cluster, or in-process.

Contract: every function here takes ``client`` — a ``distributed.Client`` (see
`connect`) or ``None``. With ``None`` the work runs in this process, calling
the same functions the pages call; with a client the same functions run as
Dask tasks on the cluster's workers. The answers are identical either way
(``tests/analysis/test_distributed.py`` compares them on a real cluster).

What runs where, and why it stays small on the wire:

- **case → grid assignment** (`assign_points`): the points travel as two
  float64 arrays per chunk (x, y), never as geometry; the grid polygons are
  scattered once to every worker (broadcast) and each task returns the grid
  position of its chunk's points (int64). A chunk is located with
  `geo.assign.locate_points`, so the answer is that of the in-process
  assignment point for point.
- **grid × period counts** (`grid_period_counts`): each task bincounts one
  chunk of (grid position, period number) pairs into a grids × periods
  matrix; the matrices are summed. Only the small matrices come back.
- **per-district analyses** (`district_coverage` here; the hot spots in
  `analysis.districts`, which runs its groups through `_gather_map`): one
  task per district (or any grouping column), each on its own grids; Gi*,
  emerging hot spots and coverage of one district do not depend on another
  district's grids, so the union of the per-district answers is the city's.
- **per-district siting curves** (`district_siting_curves`): one task per
  district, each tracing the coverage curve (N = 1..K new stations) of the
  siting problem restricted to that district's residents and candidates, as
  `analysis.siting.siting_problem` builds it; the demand points and walking
  graph are built once and broadcast.

The scheduler address comes from ``--scheduler`` on the command line or
``GRIDATLAS_DASK`` (`geo.settings.dask_scheduler`) for the app; a `LocalCluster`
is for tests and benchmarks only (created under ``if __name__ == "__main__"``
or in a fixture).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.assign import locate_points
from geo.errors import AnalysisError

if TYPE_CHECKING:  # distributed is imported only when a scheduler is used
    from distributed import Client

DEFAULT_CHUNK = 1_000_000


def connect(scheduler: str | None, *, timeout_s: float = 10.0) -> Client | None:
    """A client of the scheduler at ``scheduler`` (``tcp://HOST:PORT``), or ``None`` to run in-process.

    Raises `AnalysisError` (code ``analysis.scheduler_unreachable``) naming the
    address when no scheduler answers there.
    """
    if not scheduler:
        return None
    from distributed import Client

    try:
        return Client(scheduler, timeout=timeout_s)
    except (OSError, TimeoutError) as exc:
        raise AnalysisError(f"no Dask scheduler answers at {scheduler} ({exc}); start one with "
                            f"`dask scheduler` and workers with `dask worker {scheduler}`, or leave it unset",
                            code="analysis.scheduler_unreachable",
                            params={"address": scheduler, "reason": str(exc)}) from exc


def _chunks(n: int, size: int) -> list[slice]:
    if size < 1:
        raise AnalysisError(f"`chunk_size` was {size} but must be at least 1", code="analysis.not_whole",
                            params={"name": "chunk_size", "value": str(size), "min": 1})
    return [slice(i, min(i + size, n)) for i in range(0, n, size)] or [slice(0, 0)]


def _gather_map(client: Client | None, fn: Callable[..., Any], items: Sequence[tuple], shared: Mapping[str, Any]
                ) -> list[Any]:
    """``[fn(*item, **shared) for item in items]``, as Dask tasks when ``client`` is given.

    ``shared`` values are scattered once to every worker (broadcast) and
    passed by reference, so they are not shipped with each task.
    """
    if client is None:
        return [fn(*item, **shared) for item in items]
    # each value as one piece (scatter would split a dict or a list into a future per item)
    remote = {k: client.scatter([v], broadcast=True)[0] for k, v in shared.items()}
    futures = [client.submit(fn, *item, **remote, pure=False) for item in items]
    return client.gather(futures)


# --- case -> grid assignment ---------------------------------------------------------------

def _locate_chunk(xs: np.ndarray, ys: np.ndarray, *, polygons: np.ndarray) -> np.ndarray:
    return locate_points(xs, ys, polygons, method="exact")


def assign_points(xs: np.ndarray, ys: np.ndarray, polygons: np.ndarray | gpd.GeoSeries, *,
                  client: Client | None = None, chunk_size: int = DEFAULT_CHUNK) -> np.ndarray:
    """Position of the polygon containing each point (``-1`` outside), chunk by chunk.

    Same contract as `geo.assign.locate_points` (boundary inside, first
    polygon wins), which is what each chunk calls.
    """
    xs = np.asarray(xs, dtype="float64")
    ys = np.asarray(ys, dtype="float64")
    polys = np.asarray(polygons, dtype=object)
    parts = _gather_map(client, _locate_chunk, [(xs[s], ys[s]) for s in _chunks(len(xs), chunk_size)],
                        {"polygons": polys})
    return np.concatenate(parts).astype("int64") if parts else np.zeros(0, dtype="int64")


# --- grid x period counts ----------------------------------------------------------------

def _count_chunk(grid: np.ndarray, period: np.ndarray, *, n_grids: int, first: int, n_periods: int) -> np.ndarray:
    grid = np.asarray(grid, dtype="int64")
    period = np.asarray(period, dtype="int64") - first
    keep = (grid >= 0) & (grid < n_grids) & (period >= 0) & (period < n_periods)
    flat = grid[keep] * n_periods + period[keep]
    return np.bincount(flat, minlength=n_grids * n_periods).reshape(n_grids, n_periods).astype("int64")


def grid_period_counts(grid: np.ndarray, period: np.ndarray, *, n_grids: int, first: int, last: int,
                       client: Client | None = None, chunk_size: int = DEFAULT_CHUNK) -> np.ndarray:
    """Cases per grid (rows, grid positions) and period (columns, numbers ``first..last``), int64.

    ``grid``: each case's grid position (``-1`` outside, not counted);
    ``period``: each case's period number (`analysis.cases.week_index` or the
    month number); cases outside ``first..last`` are not counted.
    """
    if last < first:
        raise AnalysisError(f"the last period ({last}) comes before the first ({first})",
                            code="analysis.period_reversed", params={"since": str(first), "until": str(last)})
    n_periods = last - first + 1
    grid = np.asarray(grid)
    period = np.asarray(period)
    if grid.shape != period.shape:
        raise AnalysisError(f"`grid` and `period` must have one length; got {grid.shape} and {period.shape}",
                            code="analysis.shape_mismatch",
                            params={"what": "grid, period", "got": f"{grid.shape}, {period.shape}",
                                    "expected": "one length"})
    parts = _gather_map(client, _count_chunk, [(grid[s], period[s]) for s in _chunks(len(grid), chunk_size)],
                        {"n_grids": n_grids, "first": first, "n_periods": n_periods})
    return np.sum(parts, axis=0).astype("int64")


# --- per-district Gi* and emerging hot spots -------------------------------------------------

@dataclass(frozen=True)
class DistrictHotspots:
    """Gi* of the whole range and the emerging pattern over its periods, for one district
    (`analysis.districts.district_hotspots`).

    ``frame``: one row per grid of the district (the order given), with
    ``grid_id, cases, gi_z, gi_p, gi_p_sim, gi_bin, pattern, hot_periods,
    cold_periods, final_bin, trend_z, trend_p, trend_tau``. ``pattern`` is
    empty when the range has fewer than `MIN_PERIODS` periods. ``note`` says
    why a district has no statistics at all (fewer grids than Gi* needs, no
    cases, every grid alike); its frame then has NaN statistics and bin 0.
    """

    district: str
    frame: pd.DataFrame
    n_cases: int
    note: str | None = None


def _groups(grids: gpd.GeoDataFrame, by: str | None) -> dict[str, np.ndarray]:
    """Grid positions per value of the ``by`` column, in order of first appearance (None: one group of all)."""
    if by is None:
        return {"": np.arange(len(grids))}
    if by not in grids.columns:
        raise AnalysisError(f"the grids layer has no column {by!r} to split by", code="analysis.group_column_missing",
                            params={"column": by})
    labels = grids[by].astype("string").fillna("").to_numpy(dtype=object)
    return {str(g): np.flatnonzero(labels == g) for g in pd.unique(labels)}


# --- per-district coverage -------------------------------------------------------------------

def _coverage_task(name: str, grids: gpd.GeoDataFrame, estates: gpd.GeoDataFrame | None, graph_key: str | None, *,
                   facilities: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None, graphs: Mapping[str, Any],
                   options: Mapping[str, Any]) -> pd.DataFrame:
    from analysis.coverage import compute_coverage

    layers = {"grids": grids, "facilities": facilities, "estates": estates, "roads": roads}
    graph = graphs[graph_key] if graph_key is not None else None
    return compute_coverage(layers, graph=graph, **options).grids


def district_coverage(layers: Mapping[str, gpd.GeoDataFrame | None], *, by: str | None = "district",
                      client: Client | None = None, **options: Any) -> pd.DataFrame:
    """`analysis.coverage.compute_coverage` per group of grids (one Dask task each), rows in grid order.

    ``options`` are `compute_coverage`'s (``facility_types``, ``radius_m``,
    ``distance``, ``weight``, ``include_planned``); ``by=None``: the whole
    dataset as one group. Every group sees all
    facilities, so a station across a district border still counts. Each
    group measures in its own grids' metric CRS (as the page does on that
    district); for walking, the graph of each CRS is built once, here, and
    broadcast (groups in one UTM zone share one graph).
    """
    from shapely.geometry import box

    from geo.crs import metric_crs

    grids = layers["grids"]
    roads = layers.get("roads")
    estates = layers.get("estates")
    walking = options.get("distance") == "walking" and roads is not None and len(roads) > 0
    graphs: dict[str, Any] = {}
    items = []
    for name, rows in _groups(grids, by).items():
        part = grids.iloc[rows]
        mine = estates
        if estates is not None and len(estates):  # only the estates that can sit in the group's grids (a margin
            # of ~100 m around their bounds): each group places its residents without going through every estate
            x0, y0, x1, y1 = part.to_crs(estates.crs).total_bounds if estates.crs is not None else part.total_bounds
            mine = estates[estates.geometry.intersects(box(x0 - 1e-3, y0 - 1e-3, x1 + 1e-3, y1 + 1e-3))]
        key = None
        if walking:
            from analysis.network import build_walk_graph

            crs = metric_crs(part)
            key = crs.to_wkt()
            if key not in graphs:
                graphs[key] = build_walk_graph(roads, crs=crs)
        items.append((name, part, mine, key))
    shared = {"facilities": layers["facilities"], "roads": roads, "graphs": graphs, "options": dict(options)}
    parts = _gather_map(client, _coverage_task, items, shared)
    out = pd.concat(parts, ignore_index=True)
    order = pd.Series(np.arange(len(grids)), index=grids["grid_id"].astype("string").to_numpy())
    return out.iloc[np.argsort(order.loc[out["grid_id"].astype("string").to_numpy()].to_numpy(), kind="stable")
                    ].reset_index(drop=True)


# --- per-district siting curves --------------------------------------------------------------

@dataclass(frozen=True)
class DistrictCurve:
    """The siting coverage curve of one district: N = 1..K new stations inside it, for its own residents.

    ``frame``: `analysis.siting.CoverageCurve.frame` (``n_new, greedy_elderly,
    greedy_share, greedy_site_id`` and, with the exact solver, ``exact_elderly,
    exact_share, exact_optimal``); K is the ``max_new`` asked, at most the
    district's candidates. ``note``/``note_code``/``note_params`` say why a
    district has no curve (no candidate inside it, nothing left to cover): its
    frame is then empty. Existing stations anywhere count, as on the siting page.
    """

    district: str
    frame: pd.DataFrame
    total_elderly: float
    existing_elderly: float
    n_candidates: int
    note: str | None = None
    note_code: str | None = None
    note_params: tuple[tuple[str, str], ...] = ()


def _siting_curve_task(name: str, grid_ids: tuple[str, ...], *, ds: Any, demand: gpd.GeoDataFrame, graph: Any,
                       params: Any, max_new: int, solver: str, time_limit_s: float) -> DistrictCurve:
    from analysis.siting import coverage_curve, siting_problem

    try:
        prob = siting_problem(ds, params, demand=demand, graph=graph, grid_ids=grid_ids, area_name=name)
        curve = coverage_curve(prob, max_new=max(1, min(max_new, prob.n_candidates)), solver=solver,
                               time_limit_s=time_limit_s)
    except AnalysisError as err:
        return DistrictCurve(district=name, frame=pd.DataFrame(), total_elderly=float("nan"),
                             existing_elderly=float("nan"), n_candidates=0, note=err.message, note_code=err.code,
                             note_params=tuple((str(k), str(v)) for k, v in err.params.items()))
    return DistrictCurve(district=name, frame=curve.frame(), total_elderly=prob.total_elderly,
                         existing_elderly=prob.existing_elderly, n_candidates=prob.n_candidates)


def district_siting_curves(ds: Any, params: Any, *, by: str = "district", max_new: int = 10, solver: str = "exact",
                           time_limit_s: float = 60.0, client: Client | None = None) -> list[DistrictCurve]:
    """The siting coverage curve of each group of grids (``by`` column), one Dask task each, in group order.

    ``ds``: a `geo.dataset.Dataset`; ``params``: `analysis.siting.SitingParams`
    (its ``street``, if any, narrows every group further). Each group is
    `analysis.siting.siting_problem` restricted to its grids — the residents
    of its grids, the candidates inside them, existing stations anywhere —
    then `analysis.siting.coverage_curve`. The demand points and the walking
    graph are built once, here, on the whole dataset's metric CRS, and
    broadcast; the cases never travel.
    """
    from analysis.demand import demand_points
    from analysis.siting import check_params
    from geo.dataset import Dataset

    check_params(params)
    slim = Dataset(grids=ds.grids, facilities=ds.facilities, estates=ds.estates, candidates=ds.candidates,
                   name=ds.name, meta=ds.meta)
    graph = None
    if params.distance == "walking" and ds.roads is not None and len(ds.roads):
        from analysis.network import build_walk_graph

        graph = build_walk_graph(ds.roads, crs=slim.metric_crs)
    items = [(name, tuple(ds.grids["grid_id"].iloc[rows].astype(str))) for name, rows in _groups(ds.grids, by).items()]
    shared = {"ds": slim, "demand": demand_points(slim.grids, slim.estates, crs=slim.metric_crs), "graph": graph,
              "params": params, "max_new": max_new, "solver": solver, "time_limit_s": time_limit_s}
    return _gather_map(client, _siting_curve_task, items, shared)
