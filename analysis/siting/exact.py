"""Exact siting: the MCLP integer program (and the covering program for a target) solved by HiGHS."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from analysis.siting._highs import _highs, _Solved
from analysis.siting.capacity import _added
from analysis.siting.greedy import _greedy, _ordered_gains, _trim
from analysis.siting.model import (
    _TOL,
    DEFAULT_TIME_LIMIT_S,
    SitingProblem,
    SitingResult,
    _check_n,
    _check_solver,
    _replace,
    _result,
)
from geo.errors import AnalysisError


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
                            "(0.9 for 90 %)", code="analysis.share_out_of_range",
                            params={"name": "target_share", "value": str(target_share)})
    if prob.n_candidates == 0:
        raise AnalysisError("there are no candidate sites to choose from", code="analysis.no_candidates")
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
            f"{prob.params.radius_m:g} m; lower the target, widen the radius or add candidates",
            code="analysis.target_unreachable",
            params={"target": f"{100 * target_share:.1f}", "n": prob.n_candidates, "share": f"{100 * share:.1f}",
                    "radius": f"{prob.params.radius_m:g}"})
    g = _greedy(prob, prob.n_candidates, budget=prob.n_candidates, need=need_added)
    g_value = _added(prob, g.order) if prob.capacitated else (float(g.values[-1]) if len(g.values) else 0.0)
    g_ok = g_value >= need_added - _TOL
    spacing_note = (f" while keeping new sites {prob.params.min_spacing_m:g} m apart"
                    if len(prob.conflicts) else "")
    if solver == "greedy":
        if not g_ok:
            raise AnalysisError(f"the target of {target_share:.1%} cannot be reached by adding sites one at a time"
                                f"{spacing_note}; try the exact solver or lower the target",
                                code="analysis.target_unreachable_greedy",
                                params={"target": f"{100 * target_share:.1f}"})
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
                                "lower the target, widen the radius or add candidates",
                                code="analysis.target_infeasible",
                                params={"target": f"{100 * target_share:.1f}",
                                        "spacing": f"{prob.params.min_spacing_m:g}"})
        raise AnalysisError(f"no answer was found within {time_limit_s:g} s (HiGHS: {solved.status}); "
                            "allow more time or use the greedy solver", code="analysis.solver_time_limit",
                            params={"seconds": f"{time_limit_s:g}", "status": solved.status})
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
