"""Coverage against the number of new sites: the greedy plan and the optimum per N."""

from __future__ import annotations

import time

import numpy as np

from analysis.siting.capacity import _added
from analysis.siting.exact import _exact_max
from analysis.siting.greedy import _extend, _greedy
from analysis.siting.model import (
    DEFAULT_TIME_LIMIT_S,
    CoverageCurve,
    ProgressFn,
    SitingProblem,
    _check_n,
    _check_solver,
)


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
