"""Walking distances along the ``roads`` layer.

Contract (what coverage, accessibility and siting rely on):

- `build_walk_graph(roads, crs=...)` turns the walkable roads (``walkable`` not
  False) into an undirected graph in a metric CRS: lines are noded at every
  crossing (snap rounding to `NODE_PRECISION_M`), each straight piece between
  two vertices is one edge weighted by its length in metres. Build it once per dataset and keep it (the pages cache
  it with ``st.cache_resource``); it is immutable. A layer in degrees is
  converted when ``crs`` is given and refused otherwise.
- A point off the network is *snapped* to the nearest edge (`snap_points`);
  its walking distance is the straight distance to that edge (``snap_m``) plus
  the distance along the network from the snapped position. Two points snapped
  to the same edge may walk along it directly.
- `nearest_distances(graph, sources, targets, limit_m=...)`: for each target,
  the walking distance to the nearest source and which source that is
  (one multi-source Dijkstra with a cutoff); ``inf`` / ``-1`` beyond the cutoff
  or where the network does not connect them.
- `pair_distances(graph, sources, targets, limit_m=...)`: every (source,
  target) pair within the cutoff, as a ``scipy.sparse.csr_matrix`` of shape
  (n_sources, n_targets) whose stored entries are the reached pairs (explicit
  zeros kept: a stored 0 means "at the same place", an absent entry "out of
  reach").
- `isochrones(graph, sources, limit_m=...)`: per source, the part of the
  network reachable within the cutoff, as lines and as a corridor polygon.

Simplification to know: every crossing of two road lines is treated as a
junction (no over/underpass information in the data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from scipy.sparse.csgraph import connected_components, dijkstra

from geo.crs import require_metric
from geo.errors import AnalysisError

# Lines are noded with snap rounding on a grid of this size: vertices move by at
# most half of it, and a line end that stops within it of another line joins it
# (digitising noise, datum round trips).
NODE_PRECISION_M = 0.5
# Dijkstra rejects zero-weight links from a virtual source node; use a hair instead.
_EPS_M = 1e-9
# Nearest-edge search radius tried first when snapping (points farther off are found in a second pass).
_SNAP_SEARCH_M = 150.0
# Sources per Dijkstra batch in `pair_distances` (bounds the dense batch array).
_BATCH_CELLS = 8_000_000


@dataclass(frozen=True, eq=False)
class WalkGraph:
    """An immutable walking network in a metric CRS.

    ``node_xy`` (n_nodes, 2) metres; edge ``k`` joins ``edge_u[k]`` to
    ``edge_v[k]`` by the straight piece ``edge_geoms[k]`` of ``edge_length_m[k]``
    metres (oriented from u to v); ``matrix`` is the symmetric CSR adjacency
    (both directions stored); ``component`` labels each node's connected part.
    """

    crs: CRS
    node_xy: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    edge_geoms: NDArray[np.object_]
    matrix: sp.csr_matrix
    component: NDArray[np.int64]
    tree: shapely.STRtree = field(repr=False)

    @property
    def n_nodes(self) -> int:
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    @property
    def length_m(self) -> float:
        """Total length of the network (each edge once)."""
        return float(self.edge_length_m.sum())

    @property
    def n_components(self) -> int:
        return int(self.component.max() + 1) if len(self.component) else 0


@dataclass(frozen=True)
class Snap:
    """Points placed on a graph: the edge each sits on, how far along it, how far off it."""

    edge: NDArray[np.int64]
    offset_m: NDArray[np.float64]  # along the edge, from its u end
    snap_m: NDArray[np.float64]  # straight distance from the point to the edge

    def __len__(self) -> int:
        return int(self.edge.shape[0])

    def take(self, idx: NDArray[np.int64] | Sequence[int]) -> Snap:
        idx = np.asarray(idx, dtype=np.int64)
        return Snap(self.edge[idx], self.offset_m[idx], self.snap_m[idx])


def _walkable(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "walkable" not in roads.columns:
        return roads
    keep = roads["walkable"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    return roads[keep]


def build_walk_graph(
    roads: gpd.GeoDataFrame,
    *,
    crs: CRS | str | None = None,
    node_precision_m: float = NODE_PRECISION_M,
) -> WalkGraph:
    """The walking graph of a roads layer (rows with ``walkable`` False left out).

    ``crs``: the metric CRS to build in (roads are converted to it); without
    it the roads must already be in a metric CRS (degrees are refused).
    ``node_precision_m``: the snap-rounding grid of the noding (see `NODE_PRECISION_M`).
    Raises `AnalysisError` when no walkable line is left.
    """
    if roads is None:
        raise AnalysisError("walking distance needs a roads layer (道路), and none was given", code="analysis.no_roads")
    r = roads.to_crs(crs) if crs is not None else roads
    require_metric(r, what="roads")
    r = _walkable(r)
    geoms = r.geometry.values
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    lines = shapely.get_parts(geoms)
    lines = lines[np.isin(shapely.get_type_id(lines), (1, 2))]  # LineString, LinearRing
    if len(lines) == 0:
        raise AnalysisError("the roads layer has no walkable line: walking distance cannot be measured",
                            code="analysis.no_walkable_roads")
    noded = shapely.get_parts(shapely.union_all(lines, grid_size=node_precision_m))
    coords, owner = shapely.get_coordinates(noded, return_index=True)
    same = owner[1:] == owner[:-1]
    a = coords[:-1][same]
    b = coords[1:][same]
    key = np.round(np.vstack([a, b]) / node_precision_m).astype(np.int64)  # exact: coords are on the grid
    # Node position: the first coordinate seen for each rounded key.
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    node_xy = np.vstack([a, b])[first]
    u = inverse[: len(a)]
    v = inverse[len(a):]
    keep = u != v
    u, v = u[keep], v[keep]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    length = np.hypot(*(node_xy[hi] - node_xy[lo]).T)
    # One edge per node pair (the shortest if digitised twice).
    order = np.lexsort((length, hi, lo))
    lo, hi, length = lo[order], hi[order], length[order]
    dup = np.zeros(len(lo), dtype=bool)
    dup[1:] = (lo[1:] == lo[:-1]) & (hi[1:] == hi[:-1])
    lo, hi, length = lo[~dup], hi[~dup], length[~dup]
    n = len(node_xy)
    matrix = sp.csr_matrix(
        (np.concatenate([length, length]), (np.concatenate([lo, hi]), np.concatenate([hi, lo]))),
        shape=(n, n),
    )
    matrix.sort_indices()
    _, component = connected_components(matrix, directed=False)
    edge_geoms = shapely.linestrings(np.stack([node_xy[lo], node_xy[hi]], axis=1))
    return WalkGraph(
        crs=CRS.from_user_input(r.crs),
        node_xy=node_xy,
        edge_u=lo.astype(np.int64),
        edge_v=hi.astype(np.int64),
        edge_length_m=length,
        edge_geoms=edge_geoms,
        matrix=matrix,
        component=component.astype(np.int64),
        tree=shapely.STRtree(edge_geoms),
    )


def _point_array(points: gpd.GeoDataFrame | gpd.GeoSeries, graph: WalkGraph, what: str) -> NDArray[np.object_]:
    require_metric(points, what=what)
    if not CRS.from_user_input(points.crs).equals(graph.crs):
        raise AnalysisError(f"{what} are in {points.crs} but the walking graph is in {graph.crs}; use one CRS",
                            code="analysis.crs_mismatch",
                            params={"what": what, "crs": str(points.crs), "expected": str(graph.crs)})
    geoms = points.geometry.values if isinstance(points, gpd.GeoDataFrame) else points.values
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) and (shapely.is_missing(geoms) | shapely.is_empty(geoms)).any():
        raise AnalysisError(f"{what} include empty geometries; every point needs a position",
                            code="analysis.empty_geometry", params={"what": what})
    types = shapely.get_type_id(geoms)
    if len(geoms) and (types != 0).any():
        geoms = shapely.point_on_surface(geoms)
    return geoms


def snap_points(
    graph: WalkGraph, points: gpd.GeoDataFrame | gpd.GeoSeries, *, what: str = "points"
) -> Snap:
    """Place each point on its nearest edge (non-point geometries by a point on their surface)."""
    geoms = _point_array(points, graph, what)
    if len(geoms) == 0:
        return Snap(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    edge = np.full(len(geoms), -1, dtype=np.int64)
    snap_m = np.empty(len(geoms))
    # A bounded search first (fast: most points are near a road), then the rest without bound.
    idx, dist = graph.tree.query_nearest(geoms, max_distance=_SNAP_SEARCH_M, return_distance=True,
                                         all_matches=False)
    edge[idx[0]] = idx[1]
    snap_m[idx[0]] = dist
    rest = np.flatnonzero(edge < 0)
    if len(rest):
        idx, dist = graph.tree.query_nearest(geoms[rest], return_distance=True, all_matches=False)
        edge[rest[idx[0]]] = idx[1]
        snap_m[rest[idx[0]]] = dist
    offset = shapely.line_locate_point(graph.edge_geoms[edge], geoms)
    offset = np.clip(offset, 0.0, graph.edge_length_m[edge])
    return Snap(edge, offset, snap_m)


def _augmented(graph: WalkGraph, sources: Snap) -> sp.csr_matrix:
    """The graph plus one virtual node per source, linked one way to its edge's two ends."""
    n, s = graph.n_nodes, len(sources)
    base = sp.csr_matrix((graph.matrix.data, graph.matrix.indices, graph.matrix.indptr), shape=(n, n + s))
    length = graph.edge_length_m[sources.edge]
    to_u = np.maximum(sources.snap_m + sources.offset_m, _EPS_M)
    to_v = np.maximum(sources.snap_m + (length - sources.offset_m), _EPS_M)
    rows = np.repeat(np.arange(s), 2)
    cols = np.column_stack([graph.edge_u[sources.edge], graph.edge_v[sources.edge]]).ravel()
    data = np.column_stack([to_u, to_v]).ravel()
    extra = sp.csr_matrix((data, (rows, cols)), shape=(s, n + s))
    return sp.vstack([base, extra], format="csr")


def _target_distance(graph: WalkGraph, node_dist: NDArray, targets: Snap) -> NDArray:
    """Distance to each target from node distances (last axis = nodes)."""
    length = graph.edge_length_m[targets.edge]
    du = node_dist[..., graph.edge_u[targets.edge]] + targets.offset_m
    dv = node_dist[..., graph.edge_v[targets.edge]] + (length - targets.offset_m)
    return np.minimum(du, dv) + targets.snap_m


def _same_edge_pairs(sources: Snap, targets: Snap) -> tuple[NDArray, NDArray, NDArray]:
    """(source, target, direct distance) for pairs snapped to the same edge."""
    if len(sources) == 0 or len(targets) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    order = np.argsort(sources.edge, kind="stable")
    edges = sources.edge[order]
    lo = np.searchsorted(edges, targets.edge, side="left")
    counts = np.searchsorted(edges, targets.edge, side="right") - lo
    total = int(counts.sum())
    ti = np.repeat(np.arange(len(targets), dtype=np.int64), counts)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    si = order[np.repeat(lo, counts) + within].astype(np.int64)
    d = sources.snap_m[si] + np.abs(sources.offset_m[si] - targets.offset_m[ti]) + targets.snap_m[ti]
    return si, ti, d


def _check_limit(limit_m: float) -> float:
    limit = float(limit_m)
    if not np.isfinite(limit) or limit < 0:
        raise AnalysisError(f"`limit_m` was {limit_m} but must be a finite distance of at least 0 m",
                            code="analysis.negative", params={"name": "limit_m", "value": str(limit_m)})
    return limit


def nearest_distances(
    graph: WalkGraph, sources: Snap, targets: Snap, *, limit_m: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Walking distance from each target to its nearest source, and that source's index.

    One Dijkstra from all sources at once, stopped at ``limit_m``. Targets
    farther than ``limit_m`` (or not connected) get ``inf`` and source ``-1``.
    """
    limit = _check_limit(limit_m)
    nt = len(targets)
    if len(sources) == 0 or nt == 0:
        return np.full(nt, np.inf), np.full(nt, -1, dtype=np.int64)
    n = graph.n_nodes
    aug = _augmented(graph, sources)
    dist, _, src = dijkstra(aug, directed=True, indices=np.arange(n, n + len(sources)), limit=limit,
                            min_only=True, return_predecessors=True)
    node_dist, node_src = dist[:n], src[:n] - n
    length = graph.edge_length_m[targets.edge]
    u, v = graph.edge_u[targets.edge], graph.edge_v[targets.edge]
    du = node_dist[u] + targets.offset_m
    dv = node_dist[v] + (length - targets.offset_m)
    use_v = dv < du
    best = np.where(use_v, dv, du) + targets.snap_m
    who = np.where(use_v, node_src[v], node_src[u]).astype(np.int64)
    si, ti, direct = _same_edge_pairs(sources, targets)
    if len(si):
        order = np.argsort(direct)[::-1]  # so the smallest direct distance is written last
        si, ti, direct = si[order], ti[order], direct[order]
        better = direct < best[ti]
        best[ti[better]] = direct[better]
        who[ti[better]] = si[better]
    out = best > limit
    best[out] = np.inf
    who[out] = -1
    return best, who


def pair_distances(graph: WalkGraph, sources: Snap, targets: Snap, *, limit_m: float) -> sp.csr_matrix:
    """Walking distances of every (source, target) pair within ``limit_m`` (sparse, explicit zeros kept)."""
    limit = _check_limit(limit_m)
    ns, nt = len(sources), len(targets)
    rows: list[NDArray] = []
    cols: list[NDArray] = []
    vals: list[NDArray] = []
    if ns and nt:
        n = graph.n_nodes
        batch = max(1, min(ns, _BATCH_CELLS // max(n + nt, 1)))
        for start in range(0, ns, batch):
            part = sources.take(np.arange(start, min(ns, start + batch)))
            aug = _augmented(graph, part)
            dist = dijkstra(aug, directed=True, indices=np.arange(n, n + len(part)), limit=limit)
            d = _target_distance(graph, dist[:, :n], targets)
            r, c = np.nonzero(d <= limit)
            rows.append(r + start)
            cols.append(c)
            vals.append(d[r, c])
        si, ti, direct = _same_edge_pairs(sources, targets)
        keep = direct <= limit
        rows.append(si[keep])
        cols.append(ti[keep])
        vals.append(direct[keep])
    if rows:
        r = np.concatenate(rows)
        c = np.concatenate(cols)
        d = np.concatenate(vals)
    else:
        r = c = np.zeros(0, np.int64)
        d = np.zeros(0)
    # Keep the smallest distance per pair (coo -> csr would add duplicates up).
    order = np.lexsort((d, c, r))
    r, c, d = r[order], c[order], d[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    out = sp.csr_matrix((d[first], (r[first], c[first])), shape=(ns, nt))
    return out


def isochrones(
    graph: WalkGraph,
    sources: Snap,
    *,
    limit_m: float,
    corridor_m: float = 40.0,
) -> gpd.GeoDataFrame:
    """The network reachable from each source within ``limit_m``.

    One row per source (in order), in the graph's CRS, with ``reach_lines``
    (MultiLineString of the reachable road pieces, cut where the distance runs
    out) and ``geometry``: those lines widened by ``corridor_m`` on each side
    (the built-up strip along the walkable roads), empty when nothing is in reach.
    """
    limit = _check_limit(limit_m)
    if corridor_m <= 0:
        raise AnalysisError(f"`corridor_m` was {corridor_m} but must be greater than 0 m",
                            code="analysis.not_positive", params={"name": "corridor_m", "value": str(corridor_m)})
    ns = len(sources)
    pieces: list[NDArray] = []
    owners: list[NDArray] = []
    xy_u = graph.node_xy[graph.edge_u]
    xy_v = graph.node_xy[graph.edge_v]
    length = graph.edge_length_m
    direction = (xy_v - xy_u) / np.maximum(length, _EPS_M)[:, None]

    def _segments(edge: NDArray, t0: NDArray, t1: NDArray, owner: NDArray) -> None:
        ok = t1 - t0 > 1e-6
        if not ok.any():
            return
        e, a, b = edge[ok], t0[ok], t1[ok]
        start = xy_u[e] + direction[e] * a[:, None]
        end = xy_u[e] + direction[e] * b[:, None]
        pieces.append(shapely.linestrings(np.stack([start, end], axis=1)))
        owners.append(owner[ok])

    if ns:
        n = graph.n_nodes
        batch = max(1, min(ns, _BATCH_CELLS // max(n, 1)))
        for start in range(0, ns, batch):
            idx = np.arange(start, min(ns, start + batch))
            part = sources.take(idx)
            dist = dijkstra(_augmented(graph, part), directed=True, indices=np.arange(n, n + len(part)),
                            limit=limit)[:, :n]
            du = dist[:, graph.edge_u]
            dv = dist[:, graph.edge_v]
            reach_u = np.clip(limit - du, 0.0, length)  # from u towards v
            reach_v = np.clip(limit - dv, 0.0, length)  # from v towards u
            whole = reach_u + reach_v >= length
            rr, ee = np.nonzero(whole & (np.isfinite(du) | np.isfinite(dv)))
            _segments(ee, np.zeros(len(ee)), length[ee], idx[rr])
            rr, ee = np.nonzero(~whole & np.isfinite(du) & (reach_u > 0))
            _segments(ee, np.zeros(len(ee)), reach_u[rr, ee], idx[rr])
            rr, ee = np.nonzero(~whole & np.isfinite(dv) & (reach_v > 0))
            _segments(ee, length[ee] - reach_v[rr, ee], length[ee], idx[rr])
        # Along each source's own edge, both ways from where it sits.
        remain = limit - sources.snap_m
        ok = remain > 0
        e = sources.edge[ok]
        _segments(e, np.clip(sources.offset_m[ok] - remain[ok], 0, length[e]),
                  np.clip(sources.offset_m[ok] + remain[ok], 0, length[e]), np.flatnonzero(ok))
    if pieces:
        geoms = np.concatenate(pieces)
        owner = np.concatenate(owners)
        order = np.argsort(owner, kind="stable")
        geoms, owner = geoms[order], owner[order]
        lines = np.array([shapely.MultiLineString()] * ns, dtype=object)
        shapely.multilinestrings(geoms, indices=owner, out=lines)
    else:
        lines = np.array([shapely.MultiLineString()] * ns, dtype=object)
    polys = shapely.buffer(lines, corridor_m, quad_segs=4)
    return gpd.GeoDataFrame({"reach_lines": gpd.GeoSeries(lines, crs=graph.crs)},
                            geometry=gpd.GeoSeries(polys, crs=graph.crs), crs=graph.crs)
