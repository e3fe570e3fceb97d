"""The capacitated model's evaluation: max flow from demand to stations, max-min fair allocation, loads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from analysis.siting._highs import _highs
from analysis.siting.model import _TOL, SitingProblem, SitingResult
from geo.errors import AnalysisError


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
        raise AnalysisError(f"the capacity model could not be solved (HiGHS: {first.status})",
                            code="analysis.solver_failed", params={"status": first.status})
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


def station_loads(prob: SitingProblem, result: SitingResult) -> pd.DataFrame:
    """Aged 60+ each station serves once the chosen sites open (capacitated problems).

    Columns: ``station_id``, ``kind`` ("new" or "existing"), ``capacity``
    (inf = unlimited), ``served_elderly`` — from the max-min fair allocation.
    """
    if not prob.capacitated:
        raise AnalysisError("station loads exist only for the capacitated model (capacity=True)",
                            code="analysis.not_capacitated")
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
