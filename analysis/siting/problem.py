"""A `SitingProblem` from a reach matrix: identical demand rows merged, covered demand dropped."""

from __future__ import annotations

import time
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from analysis.siting.capacity import _flow
from analysis.siting.model import SitingParams, SitingProblem, _replace
from geo.errors import AnalysisError

# Fixed seed of the row hashing that merges identical demand rows (deterministic results).
_HASH_SEED = 20_180_601


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
        raise AnalysisError(f"`weights` has {len(w)} values but the reach matrix has {n} demand rows",
                            code="analysis.shape_mismatch", params={"what": "weights", "got": len(w), "expected": n})
    if len(w) and (~np.isfinite(w) | (w < 0)).any():
        raise AnalysisError("`weights` must be finite and at least 0", code="analysis.negative",
                            params={"name": "weights", "value": str(w[~np.isfinite(w) | (w < 0)][0])})
    ids = tuple(str(s) for s in (site_ids if site_ids is not None else range(m)))
    if len(ids) != m:
        raise AnalysisError(f"`site_ids` has {len(ids)} ids but the reach matrix has {m} candidate columns",
                            code="analysis.shape_mismatch", params={"what": "site_ids", "got": len(ids), "expected": m})
    if len(set(ids)) != len(ids):
        raise AnalysisError("`site_ids` must be unique", code="analysis.duplicate_ids", params={"name": "site_ids"})
    if existing_reach is None:
        ex = sparse.csr_matrix((n, 0), dtype=bool)
    else:
        ex = sparse.csr_matrix(existing_reach, dtype=bool)
        ex.eliminate_zeros()
        if ex.shape[0] != n:
            raise AnalysisError(f"`existing_reach` has {ex.shape[0]} rows but the reach matrix has {n}",
                                code="analysis.shape_mismatch", params={"what": "existing_reach", "got": ex.shape[0], "expected": n})
    pairs = np.zeros((0, 2), dtype=np.int64)
    if conflicts is not None and len(conflicts):
        pairs = np.asarray(conflicts, dtype=np.int64).reshape(-1, 2)
        if (pairs < 0).any() or (pairs >= m).any():
            raise AnalysisError(f"`conflicts` must hold candidate indices from 0 to {m - 1}",
                                code="analysis.index_out_of_range", params={"name": "conflicts", "max": m - 1})
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
            raise AnalysisError(f"`site_capacity` needs {m} finite capacities of at least 0, one per candidate",
                                code="analysis.shape_mismatch", params={"what": "site_capacity", "got": len(cap), "expected": m})
        if existing_capacity is None:
            ecap = np.full(ex.shape[1], np.inf)
        else:
            ecap = np.asarray(existing_capacity, dtype=np.float64).ravel()
            if len(ecap) != ex.shape[1]:
                raise AnalysisError(f"`existing_capacity` has {len(ecap)} values for {ex.shape[1]} existing stations",
                                    code="analysis.shape_mismatch", params={"what": "existing_capacity", "got": len(ecap), "expected": ex.shape[1]})
            ecap = np.where(np.isnan(ecap), np.inf, ecap)
            if (ecap < 0).any():
                raise AnalysisError("`existing_capacity` must be at least 0", code="analysis.negative",
                                    params={"name": "existing_capacity", "value": str(ecap[ecap < 0][0])})
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
