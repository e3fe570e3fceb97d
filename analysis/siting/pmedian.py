"""Siting by distance: the p-median with existing stations kept, solved exactly.

Question: choose N new stations (or as many as a budget buys) among the
candidate sites so that the aged 60+ are, in total (so on average), as close
as possible to their nearest station, every existing operating station of
the type kept. The classic p-median (Hakimi 1964; ReVelle & Swain 1970) with
fixed facilities, what ArcGIS location-allocation calls "minimize impedance"
with required facilities.

Definitions:

- demand: `analysis.demand.demand_points` weighted by ``elderly``; distance:
  straight line (``"euclidean"``) or walking along ``roads``
  (``"walking"``, the coverage analysis's walking distance,
  `analysis.network`);
- a resident's distance is the distance to the nearest station, existing or
  new, **capped at** ``limit_m`` (default `SEARCH_LIMIT_M`, 5 km): farther
  (or, walking, not connected) counts as ``limit_m``, and the result says how
  many aged 60+ are beyond it before and after;
- the 90th percentile (``p90``) is weighted by the aged 60+: the smallest
  distance such that at least 90 % of them live no farther (no interpolation);
- ``required`` candidates are always opened (they count toward N and the
  budget), ``excluded`` ones never; with ``budget`` every candidate needs a
  ``cost`` and the chosen ones cost at most the budget (N is then free).

How it stays exact and small (PITFALLS: "Siting by distance"): a resident
only ever moves to a new station closer than the existing one nearest to them
(``fallback``), so only those (resident, candidate) pairs enter the model —
a few per resident instead of one per candidate; residents no candidate
improves on drop out (their distance is fixed), and residents with the same
fallback and the same candidates at the same distances are merged (weights
summed). The model is the p-median integer program on what is left: y_j (open
j, binary), x_ij (i moves to j, continuous, x_ij <= y_j, sum_j x_ij <= 1),
minimise sum_i w_i (fallback_i - sum_j (fallback_i - d_ij) x_ij), with
sum y <= N or sum cost_j y_j <= budget. Without existing stations nearby a
resident may keep many candidates; each resident then first keeps only its
nearest ones (at least 16, and twice the candidates per new station), with
the next distance as its fallback — a lower bound, so the cut model's optimum
bounds the full one from below — and when the chosen sites leave a cut
resident farther than that, its row grows and the model is solved again
(``rounds``); the answer is exact either way. With N given, a Lagrangian
relaxation (subgradient steps, a quarter of the time limit at most) first
proves candidates out of every optimal plan: those whose best possible plan
is worse than one already found leave the model (with existing stations kept
usually all but a handful). HiGHS solves what is left with the greedy answer
as its start; a time limit returns the best plan found and the proven gap.

Two entry points, as for the MCLP: `pmedian_from_matrix` (plain arrays: a
demand x candidate distance matrix and each demand point's distance to its
nearest existing station) and `pmedian_sites` (a `Dataset`), through
`pmedian_from_frames` (metric GeoDataFrames). All return a `PMedianResult`.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import CRS
from scipy import sparse
from scipy.spatial import cKDTree

from analysis.coverage import SEARCH_LIMIT_M
from analysis.options import CANDIDATE_SOURCES, DISTANCES, CandidateSource, Distance, check_choice
from analysis.siting._highs import _highs
from analysis.siting.candidates import _xy
from analysis.siting.model import DEFAULT_TIME_LIMIT_S
from geo.crs import require_metric
from geo.dataset import Dataset
from geo.errors import AnalysisError
from geo.schema import FACILITY_TYPES

P90 = 0.9
# Each resident first keeps at most this many candidates (nearest first), and this many times more when needed.
# (and at least _PAIRS_PER_SITE x candidates / N: with N sites open, a resident's nearest is rarely farther down)
_FIRST_PAIRS = 16
# Subgradient steps of the Lagrangian that proves candidates out of the optimum before the MIP.
_LAGRANGE_STEPS = 1000
# ... using at most this share of the time limit.
_LAGRANGE_SHARE = 0.25
_PAIRS_PER_SITE = 2
_GROW = 4
# Savings at or below this (aged 60+ x metres) count as nothing (float noise).
_TOL = 1e-6

STREET_COLUMNS = ("street", "elderly", "mean_before_m", "mean_after_m", "p90_before_m", "p90_after_m",
                  "beyond_before_elderly", "beyond_after_elderly")


@dataclass(frozen=True, eq=False)
class PMedianResult:
    """New sites chosen by distance, and the distances before and after (aged 60+, metres).

    ``site_ids`` are in order of contribution: ``savings_m[k]`` is how much
    site k lowers the total distance (aged 60+ x metres) given the existing
    stations and the sites before it; they add up to ``total_before_m -
    total_distance_m``. A site that would lower nothing is left out unless
    required, so there may be fewer than ``n_requested``. ``optimal``: proven
    best; ``gap``: proven relative gap on the total distance, ``(found -
    lower bound) / found`` (0 when optimal, None when no bound is known).
    ``by_street``: one row per street (`STREET_COLUMNS`), streets in order of
    first appearance. ``point_before_m``/``point_after_m``: each demand
    point's capped distance. ``n_rows``/``n_pairs``: the reduced model's
    residents (after merging) and (resident, candidate) pairs.
    ``elapsed_s``: building and solving, after the inputs were read.
    """

    site_ids: tuple[str, ...]
    savings_m: tuple[float, ...]
    n_requested: int | None
    budget: float | None
    cost: float | None
    total_elderly: float
    total_before_m: float
    total_distance_m: float
    mean_before_m: float
    mean_distance_m: float
    p90_before_m: float
    p90_distance_m: float
    beyond_before_elderly: float
    beyond_after_elderly: float
    limit_m: float
    bound_m: float | None
    optimal: bool
    status: str
    rounds: int
    n_rows: int
    n_pairs: int
    elapsed_s: float
    by_street: pd.DataFrame
    point_before_m: NDArray[np.float64]
    point_after_m: NDArray[np.float64]

    @property
    def n_new(self) -> int:
        return len(self.site_ids)

    @property
    def gap(self) -> float | None:
        if self.optimal:
            return 0.0
        if self.bound_m is None or not math.isfinite(self.bound_m):
            return None
        if self.total_distance_m <= _TOL:
            return 0.0
        return max(0.0, (self.total_distance_m - self.bound_m) / self.total_distance_m)

    def summary(self) -> dict[str, Any]:
        """The figures the CLI prints (JSON-ready, rounded)."""
        gap = self.gap
        return {"objective": "distance", "new": self.n_new, "n_requested": self.n_requested,
                "budget": self.budget, "cost": None if self.cost is None else round(self.cost, 3),
                "sites": list(self.site_ids), "total_elderly": round(self.total_elderly, 3),
                "total_distance_m": round(self.total_distance_m, 3), "mean_distance_m": round(self.mean_distance_m, 3),
                "p90_distance_m": round(self.p90_distance_m, 3), "total_before_m": round(self.total_before_m, 3),
                "mean_before_m": round(self.mean_before_m, 3), "p90_before_m": round(self.p90_before_m, 3),
                "beyond_before_elderly": round(self.beyond_before_elderly, 3),
                "beyond_after_elderly": round(self.beyond_after_elderly, 3), "limit_m": self.limit_m,
                "optimal": self.optimal, "gap": None if gap is None else round(gap, 9), "status": self.status,
                "seconds": round(self.elapsed_s, 3)}


# --- weighted figures -------------------------------------------------------------

def weighted_quantile(values: NDArray, weights: NDArray, q: float = P90) -> float:
    """The smallest value v with at least share ``q`` of the weight at or below v (NaN when no weight)."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    keep = w > 0
    v, w = v[keep], w[keep]
    if len(v) == 0:
        return math.nan
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left"))
    return float(v[order][min(k, len(v) - 1)])


def _street_table(groups: NDArray, w: NDArray, before: NDArray, after: NDArray, limit: float) -> pd.DataFrame:
    rows = []
    for g in pd.unique(groups):
        sel = groups == g
        ws = w[sel]
        tot = float(ws.sum())
        rows.append({"street": g, "elderly": tot,
                     "mean_before_m": float(ws @ before[sel]) / tot if tot > 0 else math.nan,
                     "mean_after_m": float(ws @ after[sel]) / tot if tot > 0 else math.nan,
                     "p90_before_m": weighted_quantile(before[sel], ws), "p90_after_m": weighted_quantile(after[sel], ws),
                     "beyond_before_elderly": float(ws[before[sel] >= limit].sum()),
                     "beyond_after_elderly": float(ws[after[sel] >= limit].sum())})
    return pd.DataFrame(rows, columns=list(STREET_COLUMNS))


# --- checks ---------------------------------------------------------------------------

def _ids_arg(name: str, ids: Collection[str] | None, known: dict[str, int]) -> NDArray[np.int64]:
    ids = [str(s) for s in (ids or ())]
    missing = [s for s in ids if s not in known]
    if missing:
        shown = ", ".join(missing[:5])
        raise AnalysisError(f"unknown site id(s) {shown}: not among the candidates", code="analysis.unknown_sites",
                            params={"ids": shown})
    return np.array(sorted({known[s] for s in ids}), dtype=np.int64)


def _check_question(
    *, n_new: Any, budget: Any, cost: NDArray | None, site_ids: Sequence[str], required: NDArray, excluded: NDArray,
) -> None:
    both = np.intersect1d(required, excluded)
    if len(both):
        shown = ", ".join(site_ids[j] for j in both[:5])
        raise AnalysisError(f"site(s) {shown} are both required and excluded", code="analysis.required_excluded",
                            params={"ids": shown})
    available = len(site_ids) - len(excluded)
    if n_new is not None:
        if not isinstance(n_new, int | np.integer) or isinstance(n_new, bool) or n_new < 1:
            raise AnalysisError(f"`n_new` was {n_new!r} but must be a whole number of at least 1",
                                code="analysis.not_whole", params={"name": "n_new", "value": str(n_new), "min": 1})
        if n_new > available:
            raise AnalysisError(f"asked for {n_new} new sites but there are only {available} candidate sites "
                                f"({len(excluded)} excluded); ask for at most {available}",
                                code="analysis.too_many_sites_excluded",
                                params={"n": int(n_new), "available": available, "excluded": len(excluded)})
        if len(required) > n_new:
            raise AnalysisError(f"{len(required)} sites are required but only {n_new} new sites are asked for; "
                                f"ask for at least {len(required)}", code="analysis.required_exceeds_n",
                                params={"required": len(required), "n": int(n_new)})
        return
    if not (isinstance(budget, numbers.Real) and not isinstance(budget, bool) and math.isfinite(budget)
            and budget > 0):
        raise AnalysisError(f"`budget` was {budget} but must be greater than 0", code="analysis.not_positive",
                            params={"name": "budget", "value": str(budget)})
    assert cost is not None
    need = float(cost[required].sum())
    if need > budget:
        raise AnalysisError(f"the required sites cost {need:g} together, more than the budget {budget:g}",
                            code="analysis.budget_required", params={"cost": f"{need:g}", "budget": f"{budget:g}"})
    free = np.setdiff1d(np.arange(len(site_ids)), np.concatenate([required, excluded]))
    if len(required) == 0 and (len(free) == 0 or float(cost[free].min()) > budget):
        cheapest = f"{float(cost[free].min()):g}" if len(free) else "-"
        raise AnalysisError(f"the budget {budget:g} buys no candidate site (the cheapest costs {cheapest})",
                            code="analysis.budget_too_small", params={"budget": f"{budget:g}", "cheapest": cheapest})


def _check_cost(cost: Any, site_ids: Sequence[str]) -> NDArray[np.float64]:
    if cost is None:
        raise AnalysisError("a budget needs a cost for every candidate site, and the candidates have no `cost` column",
                            code="analysis.cost_missing", params={"n": len(site_ids), "ids": ""})
    c = pd.to_numeric(pd.Series(np.asarray(cost, dtype=object)), errors="coerce").to_numpy(dtype=np.float64)
    if len(c) != len(site_ids):
        raise AnalysisError(f"`cost` has {len(c)} values for {len(site_ids)} candidate sites",
                            code="analysis.shape_mismatch", params={"what": "cost", "got": len(c),
                                                                   "expected": len(site_ids)})
    bad = ~np.isfinite(c) | (c < 0)
    if bad.any():
        ids = [site_ids[j] for j in np.flatnonzero(bad)]
        shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
        raise AnalysisError(f"{len(ids)} candidate site(s) have no valid cost (a number of 0 or more): {shown}",
                            code="analysis.cost_missing", params={"n": len(ids), "ids": shown})
    return c


# --- the reduced model ------------------------------------------------------------

def _pairs(distance_m: Any, fallback: NDArray, usable: NDArray[np.bool_]) -> sparse.csr_matrix:
    """(demand x candidates) pairs with a distance strictly below the point's fallback, explicit zeros kept."""
    n, m = len(fallback), len(usable)
    if sparse.issparse(distance_m):
        coo = sparse.coo_matrix(distance_m)
        r, c, d = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(np.float64)
    else:
        dense = np.asarray(distance_m, dtype=np.float64)
        r, c = np.nonzero(np.isfinite(dense))
        d = dense[r, c]
    keep = (d < fallback[r]) & usable[c] & np.isfinite(d)
    r, c, d = r[keep], c[keep], d[keep]
    order = np.lexsort((d, c, r))
    r, c, d = r[order], c[order], d[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    r, c, d = r[first], c[first], d[first]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=n))])
    return sparse.csr_matrix((d, c, indptr), shape=(n, m))


def _merge(pairs: sparse.csr_matrix, fallback: NDArray, w: NDArray) -> tuple[sparse.csr_matrix, NDArray, NDArray]:
    """Rows with pairs and weight, identical ones merged: (pairs, fallback, weight) per class."""
    has = (np.diff(pairs.indptr) > 0) & (w > 0)
    keys: dict[bytes, int] = {}
    cls_of: list[int] = []
    first: list[int] = []
    for i in np.flatnonzero(has):
        a, b = pairs.indptr[i], pairs.indptr[i + 1]
        key = fallback[i].tobytes() + pairs.indices[a:b].tobytes() + pairs.data[a:b].tobytes()
        k = keys.setdefault(key, len(keys))
        if k == len(first):
            first.append(int(i))
        cls_of.append(k)
    rows = np.array(first, dtype=np.int64)
    weight = np.bincount(np.array(cls_of, dtype=np.int64), weights=w[has], minlength=len(rows)) if len(rows) \
        else np.zeros(0)
    return pairs[rows], fallback[rows], weight


def _truncate(pairs: sparse.csr_matrix, fallback: NDArray, k_row: NDArray) -> tuple[sparse.csr_matrix, NDArray]:
    """Each row's ``k_row`` nearest pairs, and its fallback: the next pair's distance where some were cut."""
    counts = np.diff(pairs.indptr)
    if (counts <= k_row).all():
        return pairs, fallback
    rows = np.repeat(np.arange(pairs.shape[0]), counts)
    # rank of each stored pair within its row by distance
    order = np.lexsort((pairs.data, rows))
    rank = np.empty(len(rows), dtype=np.int64)
    rank[order] = np.arange(len(rows)) - np.repeat(pairs.indptr[:-1], counts)
    keep = rank < k_row[rows]
    fb = fallback.copy()
    cut = rank == k_row[rows]
    fb[rows[cut]] = pairs.data[cut]
    r, c, d = rows[keep], pairs.indices[keep], pairs.data[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=pairs.shape[0]))])
    return sparse.csr_matrix((d, c, indptr), shape=pairs.shape), fb


def _after(pairs: sparse.csr_matrix, fallback: NDArray, chosen: NDArray) -> NDArray:
    """Each row's distance with the ``chosen`` candidates open."""
    out = fallback.copy()
    if len(chosen) == 0 or pairs.nnz == 0:
        return out
    open_ = np.zeros(pairs.shape[1], dtype=bool)
    open_[chosen] = True
    coo = pairs.tocoo()
    sel = open_[coo.col]
    np.minimum.at(out, coo.row[sel], coo.data[sel])
    return out


def _order(pairs_csc: sparse.csc_matrix, fallback: NDArray, w: NDArray, chosen: Sequence[int]) -> tuple[list, list]:
    """``chosen`` in order of contribution (largest saving first, given those before), with each saving."""
    cur = fallback.copy()
    left = list(chosen)
    order, savings = [], []
    while left:
        best, best_s = left[0], -1.0
        for j in left:
            a, b = pairs_csc.indptr[j], pairs_csc.indptr[j + 1]
            rows, d = pairs_csc.indices[a:b], pairs_csc.data[a:b]
            s = float(w[rows] @ np.maximum(cur[rows] - d, 0.0))
            if s > best_s + _TOL:
                best, best_s = j, s
        a, b = pairs_csc.indptr[best], pairs_csc.indptr[best + 1]
        rows, d = pairs_csc.indices[a:b], pairs_csc.data[a:b]
        cur[rows] = np.minimum(cur[rows], d)
        order.append(best)
        savings.append(max(best_s, 0.0))
        left.remove(best)
    return order, savings


def _greedy(
    pairs_csc: sparse.csc_matrix, fallback: NDArray, w: NDArray, *, required: NDArray, usable: NDArray[np.bool_],
    n_new: int | None, budget: float | None, cost: NDArray | None,
) -> list[int]:
    """Required sites, then the largest saving (per unit of cost, with a budget) while N or the budget allow."""
    cur = fallback.copy()
    chosen = [int(j) for j in required]
    for j in chosen:
        a, b = pairs_csc.indptr[j], pairs_csc.indptr[j + 1]
        cur[pairs_csc.indices[a:b]] = np.minimum(cur[pairs_csc.indices[a:b]], pairs_csc.data[a:b])
    spent = float(cost[chosen].sum()) if cost is not None else 0.0
    cols = np.repeat(np.arange(pairs_csc.shape[1]), np.diff(pairs_csc.indptr))
    while n_new is None or len(chosen) < n_new:
        gain = w[pairs_csc.indices] * np.maximum(cur[pairs_csc.indices] - pairs_csc.data, 0.0)
        s = np.bincount(cols, weights=gain, minlength=pairs_csc.shape[1])
        ok = usable.copy()
        ok[chosen] = False
        if budget is not None:
            assert cost is not None
            ok &= cost <= budget - spent + 1e-9
            s = np.where(cost > 0, s / np.maximum(cost, 1e-300), np.where(s > _TOL, np.inf, 0.0))
        s = np.where(ok, s, -1.0)
        j = int(np.argmax(s)) if len(s) else -1
        if j < 0 or s[j] <= _TOL:
            break
        chosen.append(j)
        if cost is not None:
            spent += float(cost[j])
        a, b = pairs_csc.indptr[j], pairs_csc.indptr[j + 1]
        cur[pairs_csc.indices[a:b]] = np.minimum(cur[pairs_csc.indices[a:b]], pairs_csc.data[a:b])
    return chosen


def pmedian_from_matrix(
    distance_m: Any,
    weights: Any,
    *,
    existing_m: Any = None,
    site_ids: Sequence[str] | None = None,
    n_new: int | None = None,
    budget: float | None = None,
    cost: Any = None,
    required: Collection[str] = (),
    excluded: Collection[str] = (),
    limit_m: float = SEARCH_LIMIT_M,
    groups: Any = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> PMedianResult:
    """The exact p-median with existing stations kept, from plain arrays.

    ``distance_m``: (demand points x candidates) distances in metres, a dense
    array (``inf``: out of range) or a sparse matrix whose stored entries are
    the pairs in range (explicit zeros: at the same place). ``weights``: aged
    60+ per demand point. ``existing_m``: each point's distance to its nearest
    existing station (``inf`` or None: none in range). ``site_ids``: one per
    candidate column (default "0", "1", …). ``groups``: a label per demand
    point (street) for the ``by_street`` table (default: one group "").
    """
    t0 = time.perf_counter()
    w = np.asarray(weights, dtype=np.float64)
    n = len(w)
    shape = distance_m.shape if sparse.issparse(distance_m) else np.shape(distance_m)
    if len(shape) != 2 or shape[0] != n:
        raise AnalysisError(f"`distance_m` has shape {shape} but there are {n} demand points",
                            code="analysis.shape_mismatch", params={"what": "distance_m", "got": str(shape),
                                                                   "expected": n})
    m = int(shape[1])
    if not (np.isfinite(w).all() and (w >= 0).all()):
        raise AnalysisError("`weights` must be finite and 0 or more", code="analysis.negative",
                            params={"name": "weights", "value": "<0 / NaN"})
    if not (isinstance(limit_m, numbers.Real) and math.isfinite(limit_m) and limit_m > 0):
        raise AnalysisError(f"`limit_m` was {limit_m} but must be a distance greater than 0 m",
                            code="analysis.not_positive", params={"name": "limit_m", "value": str(limit_m)})
    ids = [str(s) for s in site_ids] if site_ids is not None else [str(j) for j in range(m)]
    if len(ids) != m or len(set(ids)) != m:
        raise AnalysisError(f"`site_ids` must be {m} distinct ids, one per candidate column",
                            code="analysis.shape_mismatch", params={"what": "site_ids", "got": len(ids), "expected": m})
    if m == 0:
        raise AnalysisError("there are no candidate sites to choose from", code="analysis.no_candidates")
    known = {s: j for j, s in enumerate(ids)}
    if (n_new is None) == (budget is None):
        raise AnalysisError("give either the number of new stations `n_new` or a `budget`, not both or neither",
                            code="analysis.pmedian_n_or_budget")
    req = _ids_arg("required", required, known)
    exc = _ids_arg("excluded", excluded, known)
    c = _check_cost(cost, ids) if budget is not None else None
    _check_question(n_new=n_new, budget=budget, cost=c, site_ids=ids, required=req, excluded=exc)
    ex = np.full(n, np.inf) if existing_m is None else np.asarray(existing_m, dtype=np.float64)
    before = np.minimum(np.where(np.isnan(ex), np.inf, ex), float(limit_m))
    usable = np.ones(m, dtype=bool)
    usable[exc] = False
    pairs = _pairs(distance_m, before, usable)
    # Exact by truncation: each resident keeps its k nearest candidates below its fallback; one with more keeps
    # as fallback the (k+1)-th distance, a lower bound on anything farther, so the truncated model's optimum is a
    # lower bound of the full one. When the chosen sites leave no truncated resident beyond its kept candidates,
    # the truncated optimum is the full one; otherwise those residents keep more candidates and it is solved again.
    in_model = (np.diff(pairs.indptr) > 0) & (w > 0)
    const = float(w[~in_model] @ before[~in_model])  # residents no candidate improves keep their distance
    k_row = np.full(n, _FIRST_PAIRS if n_new is None else max(_FIRST_PAIRS, _PAIRS_PER_SITE * -(-m // int(n_new))),
                    dtype=np.int64)
    full_csc = pairs.tocsc()
    full_csc.sort_indices()
    deadline = time.perf_counter() + float(time_limit_s)
    start = _greedy(full_csc, before, w, required=req, usable=usable, n_new=n_new, budget=budget, cost=c)
    rounds = 0
    while True:
        rounds += 1
        sub, fb_sub = _truncate(pairs, before, k_row)
        merged, fb, cw = _merge(sub, fb_sub, w)
        csc = merged.tocsc()
        csc.sort_indices()
        left = max(0.01, deadline - time.perf_counter())
        chosen, bound_rows, optimal, status = _solve(csc, fb, cw, start=start, required=req, usable=usable,
                                                     n_new=n_new, budget=budget, cost=c, time_limit_s=left)
        after_all = _after(pairs, before, np.array(chosen, dtype=np.int64))
        short = in_model & (after_all > fb_sub + 1e-9) & (fb_sub < before)
        if not short.any() or time.perf_counter() >= deadline:
            optimal = optimal and not short.any()
            break
        k_row[short] *= _GROW
        start = chosen
    # Sites that lower nothing are left out (required ones stay).
    order, savings = _order(full_csc, before, w, chosen)
    req_set = set(req.tolist())
    keep = [(j, s) for j, s in zip(order, savings, strict=True) if s > _TOL or j in req_set]
    after = _after(pairs, before, np.array([j for j, _ in keep], dtype=np.int64))
    total_before = float(w @ before)
    total_after = float(w @ after)
    # Every resident at least at its nearest candidate (or fallback): a bound that holds whatever the solver proved.
    nearest = before.copy()
    coo = pairs.tocoo()
    np.minimum.at(nearest, coo.row, coo.data)
    bound = float(w @ nearest) if bound_rows is None else max(const + bound_rows, float(w @ nearest))
    bound = min(total_after, bound)
    tot_w = float(w.sum())
    grp = np.asarray(groups, dtype=object) if groups is not None else np.full(n, "", dtype=object)
    return PMedianResult(
        site_ids=tuple(ids[j] for j, _ in keep), savings_m=tuple(float(s) for _, s in keep),
        n_requested=None if n_new is None else int(n_new), budget=None if budget is None else float(budget),
        cost=None if c is None else float(c[[j for j, _ in keep]].sum()), total_elderly=tot_w,
        total_before_m=total_before, total_distance_m=total_after,
        mean_before_m=total_before / tot_w if tot_w > 0 else math.nan,
        mean_distance_m=total_after / tot_w if tot_w > 0 else math.nan,
        p90_before_m=weighted_quantile(before, w), p90_distance_m=weighted_quantile(after, w),
        beyond_before_elderly=float(w[before >= limit_m].sum()), beyond_after_elderly=float(w[after >= limit_m].sum()),
        limit_m=float(limit_m), bound_m=bound, optimal=optimal, status=status, rounds=rounds, n_rows=int(len(cw)),
        n_pairs=int(merged.nnz), elapsed_s=time.perf_counter() - t0,
        by_street=_street_table(grp, w, before, after, float(limit_m)), point_before_m=before, point_after_m=after)


def _solve(
    csc: sparse.csc_matrix, fb: NDArray, cw: NDArray, *, start: list[int], required: NDArray, usable: NDArray,
    n_new: int | None, budget: float | None, cost: NDArray | None, time_limit_s: float,
) -> tuple[list[int], float | None, bool, str]:
    """The integer program on the reduced rows; returns (chosen, lower bound of sum cw*distance, optimal, status)."""
    m = csc.shape[1]
    req_set = set(required.tolist())
    # Candidates worth a column: usable ones that improve somebody, and the required ones.
    useful = np.flatnonzero(usable & (np.diff(csc.indptr) > 0))
    if n_new is not None and len(np.setdiff1d(useful, required)) > n_new - len(required) > 0:
        useful = useful[_lagrangian_keep(csc, fb, cw, useful, required, int(n_new), start,
                                         deadline=time.perf_counter() + _LAGRANGE_SHARE * time_limit_s)]
    cols = np.union1d(useful, required).astype(np.int64)
    if len(cols) == len(required):  # nothing to choose: the required sites (or none) are the answer
        return sorted(req_set), float(cw @ _after(csc.tocsr(), fb, required)), True, "Optimal"
    k = len(cols)
    sub = csc[:, cols].tocoo()  # rows x k
    pos = np.full(m, -1, dtype=np.int64)
    pos[cols] = np.arange(k)
    y0 = np.zeros(k)
    y0[pos[[j for j in start if pos[j] >= 0]]] = 1.0
    obj, matrix, row_lower, row_upper, x0, base = _assign_model(sub, cw, fb, k, y0)
    n_col = len(obj)
    cap = cost[cols] if budget is not None else np.ones(k)
    limit = float(budget) if budget is not None else float(n_new)
    last = sparse.csr_matrix((cap, (np.zeros(k, dtype=np.int64), np.arange(k))), shape=(1, n_col))
    matrix = sparse.vstack([matrix, last], format="csr")
    row_lower = np.concatenate([row_lower, [-np.inf]])
    row_upper = np.concatenate([row_upper, [limit]])
    col_lower = np.zeros(n_col)
    col_lower[:k][np.isin(cols, required)] = 1.0
    col_upper = np.ones(n_col)
    solved = _highs(cost=obj, col_lower=col_lower, col_upper=col_upper, matrix=matrix, row_lower=row_lower,
                    row_upper=row_upper, n_integer=k, maximize=False, start=np.concatenate([y0, x0]),
                    time_limit_s=time_limit_s)
    if solved.x is None:
        bound = base + solved.bound if math.isfinite(solved.bound) else None
        return list(start), bound, False, solved.status
    chosen = [int(cols[i]) for i in np.flatnonzero(solved.x[:k] > 0.5)]
    bound = base + solved.bound if math.isfinite(solved.bound) else None
    return chosen, bound, bool(solved.optimal), solved.status


def _value(csc: sparse.csc_matrix, fb: NDArray, cw: NDArray, sites: Sequence[int]) -> float:
    cur = fb.copy()
    for j in sites:
        a, b = csc.indptr[j], csc.indptr[j + 1]
        np.minimum.at(cur, csc.indices[a:b], csc.data[a:b])
    return float(cw @ cur)


def _lagrangian_keep(
    csc: sparse.csc_matrix, fb: NDArray, cw: NDArray, useful: NDArray, required: NDArray, n_new: int,
    start: Sequence[int], *, deadline: float, iterations: int | None = None,
) -> NDArray[np.bool_]:
    """Which of ``useful`` can be in an optimal plan (N new sites): the others are proven out, before any MIP.

    Lagrangian relaxation of "each resident at one place" (multipliers lam_i): a site's value is
    rho_j = sum_i min(0, w_i d_ij - lam_i), and L(lam) = sum_i lam_i + sum_i min(0, w_i fb_i - lam_i) + the
    required sites' rho + the N - |required| smallest other rho; L <= optimum for every lam (Cornuejols, Fisher &
    Nemhauser 1977). Forcing a site j left out of that choice gives at least L - rho_last + rho_j; above the best
    plan found (UB), no plan with j beats UB, so j is not in any optimal plan and leaves the model. lam by
    subgradient steps (at most `_LAGRANGE_STEPS`, until ``deadline``, or until nothing is left to decide); every
    step's choice is also evaluated as a plan, improving UB.
    """
    coo = csc[:, useful].tocoo()
    row, col, wd = coo.row, coo.col, cw[coo.row] * coo.data
    wf = cw * fb
    req = np.isin(useful, required)
    slots = n_new - int(req.sum())
    best_set = [int(j) for j in start]
    ub = _value(csc, fb, cw, best_set)
    lam = cw * _after(csc.tocsr(), fb, np.array(best_set, dtype=np.int64))  # each resident's cost in the start plan
    keep = np.ones(len(useful), dtype=bool)
    mu, stall, best_l = 2.0, 0, -np.inf
    for _ in range(_LAGRANGE_STEPS if iterations is None else iterations):
        red = np.minimum(0.0, wd - lam[row])
        rho = np.bincount(col, weights=red, minlength=len(useful))
        free = np.flatnonzero(~req)
        order = free[np.argsort(rho[free], kind="stable")]
        chosen = np.concatenate([np.flatnonzero(req), order[:slots]])
        lval = float(lam.sum() + np.minimum(0.0, wf - lam).sum() + rho[chosen].sum())
        plan = [int(useful[j]) for j in chosen]
        v = _value(csc, fb, cw, plan)
        if v < ub - 1e-9 * abs(ub):
            ub, best_set = v, plan
        if lval > best_l + 1e-9 * abs(best_l if np.isfinite(best_l) else 1.0):
            best_l, stall = lval, 0
        else:
            stall += 1
            if stall >= 20:
                mu, stall = mu / 2, 0
        # fixing with this lam's bound (valid for every lam)
        last = rho[order[slots - 1]]
        out = order[slots:]
        keep[out[lval - last + rho[out] > ub + 1e-9 * abs(ub)]] = False
        if lval >= ub - 1e-9 * abs(ub) or mu < 1e-4 or keep.sum() <= n_new or time.perf_counter() > deadline:
            break
        opened = np.zeros(len(useful), dtype=bool)
        opened[chosen] = True
        g = 1.0 - (wf - lam < 0) - np.bincount(row, weights=(opened[col] & (wd - lam[row] < 0)), minlength=len(lam))
        norm = float(g @ g)
        if norm == 0:
            break
        lam = lam + mu * (ub - lval) / norm * g
    keep[req] = True
    return keep


def _assign_model(sub: sparse.coo_matrix, cw: NDArray, fb: NDArray, k: int, y0: NDArray):
    """Classic assignment: x_ij - y_j <= 0, sum_j x_ij <= 1; cost cw_i (d_ij - fb_i) x_ij (+ sum cw fb)."""
    r, p = sub.shape[0], sub.nnz
    obj = np.concatenate([np.zeros(k), cw[sub.row] * (sub.data - fb[sub.row])])
    link = sparse.csr_matrix((np.concatenate([np.ones(p), -np.ones(p)]),
                              (np.concatenate([np.arange(p), np.arange(p)]),
                               np.concatenate([k + np.arange(p), sub.col]))), shape=(p, k + p))
    assign = sparse.csr_matrix((np.ones(p), (sub.row, k + np.arange(p))), shape=(r, k + p))
    # start: each row to its nearest open candidate
    x0 = np.zeros(p)
    order = np.lexsort((sub.data, sub.row))
    open_ = y0[sub.col[order]] > 0.5
    rows_open = sub.row[order][open_]
    firsts = np.unique(rows_open, return_index=True)[1]
    x0[order[open_][firsts]] = 1.0
    return (obj, sparse.vstack([link, assign], format="csr"), np.full(p + r, -np.inf),
            np.concatenate([np.zeros(p), np.ones(r)]), x0, float(cw @ fb))


# --- from GeoDataFrames and datasets ---------------------------------------------------

def distances_to_sites(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    *,
    distance: Distance = "euclidean",
    graph: Any = None,
    limit_m: float = SEARCH_LIMIT_M,
) -> tuple[sparse.csr_matrix, NDArray[np.float64]]:
    """(demand x candidates) distances below each point's nearest existing station (capped at ``limit_m``), and that.

    The second value is each demand point's distance to its nearest existing
    station (``inf`` beyond ``limit_m``). Only pairs that matter to the
    p-median are returned: candidates closer than that. Straight distances by
    KD-tree; walking distances by `analysis.network` (``graph`` required).
    """
    check_choice("distance", distance, DISTANCES)
    for gdf, what in ((demand, "demand points"), (candidates, "candidate sites"), (existing, "existing stations")):
        require_metric(gdf, what=what)
    crs = CRS.from_user_input(demand.crs)
    for gdf, what in ((candidates, "candidate sites"), (existing, "existing stations")):
        if not CRS.from_user_input(gdf.crs).equals(crs):
            raise AnalysisError(f"{what} are in {gdf.crs} but the demand points in {demand.crs}; use one CRS",
                                code="analysis.crs_mismatch",
                                params={"what": what, "crs": str(gdf.crs), "expected": str(demand.crs)})
    n, m = len(demand), len(candidates)
    limit = float(limit_m)
    if distance == "euclidean":
        dxy = _xy(demand)
        if len(existing):
            ex, _ = cKDTree(_xy(existing)).query(dxy, k=1)
            ex = np.where(ex <= limit, ex, np.inf)
        else:
            ex = np.full(n, np.inf)
        radius = np.minimum(ex, limit)
        if m == 0 or n == 0:
            return sparse.csr_matrix((n, m)), ex
        cxy = _xy(candidates)
        lists = cKDTree(cxy).query_ball_point(dxy, r=radius)
        counts = np.fromiter((len(x) for x in lists), dtype=np.int64, count=n)
        cols = np.fromiter((j for x in lists for j in x), dtype=np.int64, count=int(counts.sum()))
        rows = np.repeat(np.arange(n), counts)
        d = np.hypot(*(dxy[rows] - cxy[cols]).T)
        return sparse.csr_matrix((d, (rows, cols)), shape=(n, m)), ex
    if graph is None:
        raise AnalysisError("walking distance needs a roads layer (道路), and the dataset has none",
                            code="analysis.no_roads")
    from analysis.network import nearest_distances, pair_distances, snap_points

    snap_d = snap_points(graph, demand, what="demand points")
    if len(existing):
        ex, _ = nearest_distances(graph, snap_points(graph, existing, what="existing stations"), snap_d, limit_m=limit)
    else:
        ex = np.full(n, np.inf)
    if m == 0 or n == 0:
        return sparse.csr_matrix((n, m)), ex
    reach = float(np.minimum(ex, limit).max())
    dist = pair_distances(graph, snap_points(graph, candidates, what="candidate sites"), snap_d, limit_m=reach)
    return sparse.csr_matrix(dist.T), ex


def pmedian_from_frames(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    *,
    n_new: int | None = None,
    budget: float | None = None,
    required: Collection[str] = (),
    excluded: Collection[str] = (),
    distance: Distance = "euclidean",
    graph: Any = None,
    limit_m: float = SEARCH_LIMIT_M,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> PMedianResult:
    """The p-median from metric GeoDataFrames in one CRS.

    ``demand``: points with ``elderly`` (and ``street`` for the per-street
    table); ``candidates``: ``site_id`` (+ ``cost`` for a budget);
    ``existing``: the existing stations kept.
    """
    t0 = time.perf_counter()
    if len(candidates) == 0:
        raise AnalysisError("there are no candidate sites: add a candidates layer (候选站点) or generate candidates",
                            code="analysis.no_candidates")
    cand = candidates.reset_index(drop=True)
    if not (isinstance(limit_m, numbers.Real) and math.isfinite(limit_m) and limit_m > 0):
        raise AnalysisError(f"`limit_m` was {limit_m} but must be a distance greater than 0 m",
                            code="analysis.not_positive", params={"name": "limit_m", "value": str(limit_m)})
    dist, ex = distances_to_sites(demand, cand, existing, distance=distance, graph=graph, limit_m=limit_m)
    cost = cand["cost"].to_numpy() if (budget is not None and "cost" in cand.columns) else None
    res = pmedian_from_matrix(dist, demand["elderly"].to_numpy(dtype=np.float64), existing_m=ex,
                              site_ids=cand["site_id"].astype(str).tolist(), n_new=n_new, budget=budget, cost=cost,
                              required=required, excluded=excluded, limit_m=limit_m,
                              groups=demand["street"].astype(str).to_numpy() if "street" in demand.columns else None,
                              time_limit_s=time_limit_s)
    from dataclasses import replace

    return replace(res, elapsed_s=time.perf_counter() - t0)


def pmedian_sites(
    ds: Dataset,
    *,
    n_new: int | None = None,
    budget: float | None = None,
    facility_type: str = "day_care",
    distance: Distance = "euclidean",
    candidates: CandidateSource = "layer",
    required: Collection[str] = (),
    excluded: Collection[str] = (),
    limit_m: float = SEARCH_LIMIT_M,
    demand: gpd.GeoDataFrame | None = None,
    graph: Any = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> PMedianResult:
    """The p-median of a dataset: its aged 60+, its operating stations of ``facility_type`` kept, its candidates.

    ``candidates="generated"``: one candidate per estate (its representative
    point) and one per grid without estates (`generate_candidates` with
    nobody counted as covered). ``demand``/``graph`` may be passed in when
    already built.
    """
    from analysis.demand import demand_points
    from analysis.siting.candidates import existing_stations, generate_candidates

    check_choice("facility_type", facility_type, tuple(FACILITY_TYPES))
    check_choice("distance", distance, DISTANCES)
    check_choice("candidates", candidates, CANDIDATE_SOURCES)
    crs = ds.metric_crs
    demand = demand_points(ds.grids, ds.estates, crs=crs) if demand is None else demand.to_crs(crs)
    existing = existing_stations(ds.facilities, facility_type).to_crs(crs)
    if distance == "walking" and graph is None:
        if ds.roads is None or len(ds.roads) == 0:
            raise AnalysisError("walking distance needs a roads layer (道路), and the dataset has none",
                                code="analysis.no_roads")
        from analysis.network import build_walk_graph

        graph = build_walk_graph(ds.roads, crs=crs)
    if candidates == "layer":
        if ds.candidates is None or len(ds.candidates) == 0:
            raise AnalysisError("there are no candidate sites: the dataset has no candidates layer (候选站点); "
                                "add one or generate candidates from uncovered estates and grids",
                                code="analysis.no_candidates_layer")
        cand = ds.candidates.to_crs(crs)
    else:
        cand = generate_candidates(demand, np.zeros(len(demand), dtype=bool), estates=ds.estates, grids=ds.grids)
    return pmedian_from_frames(demand, cand, existing, n_new=n_new, budget=budget, required=required,
                               excluded=excluded, distance=distance, graph=graph, limit_m=limit_m,
                               time_limit_s=time_limit_s)


def sites_frame(result: PMedianResult, candidates: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """The chosen sites: ``site_id, rank, saving_m`` (aged 60+ x metres), ``+ cost`` with a budget."""
    df = pd.DataFrame({"site_id": list(result.site_ids), "rank": range(1, result.n_new + 1),
                       "saving_m": [round(s, 3) for s in result.savings_m]})
    if result.budget is not None and candidates is not None and "cost" in candidates.columns:
        cost = dict(zip(candidates["site_id"].astype(str), pd.to_numeric(candidates["cost"], errors="coerce"),
                        strict=True))
        df["cost"] = [cost.get(s) for s in result.site_ids]
    return df
