"""Greedy siting: add the site with the largest gain; its Minoux bound on the optimum."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from analysis.siting.capacity import _added
from analysis.siting.model import _TOL, SitingProblem, _replace


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
