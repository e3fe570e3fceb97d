"""Siting by distance (analysis/siting/pmedian.py) against brute force over every N-subset and spopt's PMedian."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
import pytest
from numpy.testing import assert_allclose
from shapely.geometry import Point
from spopt.locate import PMedian

import analysis.siting.pmedian as pm
from analysis.siting.pmedian import pmedian_from_frames, pmedian_from_matrix, weighted_quantile
from geo.errors import AnalysisError

CRS = "EPSG:32650"


def _instance(seed: int, n: int = 24, m: int = 9, k: int = 3, size: float = 2000.0):
    rng = np.random.default_rng(seed)
    dem = rng.uniform(0, size, (n, 2))
    cand = rng.uniform(0, size, (m, 2))
    ex = rng.uniform(0, size, (k, 2))
    w = rng.integers(0, 40, n).astype(float)
    return dem, cand, ex, w


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))


def _brute(d: np.ndarray, ex_m: np.ndarray, w: np.ndarray, *, limit: float, n_new=None, budget=None, cost=None,
           required=(), excluded=()) -> tuple[float, tuple]:
    """Best total over every allowed subset (N-subsets, or every affordable subset with a budget): a plain loop."""
    m = d.shape[1]
    allowed = [j for j in range(m) if j not in excluded]
    best, best_set = math.inf, ()
    sizes = [n_new] if n_new is not None else range(0, len(allowed) + 1)
    for size in sizes:
        for subset in itertools.combinations(allowed, size):
            if not set(required) <= set(subset):
                continue
            if budget is not None and sum(cost[j] for j in subset) > budget + 1e-9:
                continue
            total = 0.0
            for i in range(d.shape[0]):
                near = min([ex_m[i], limit] + [d[i, j] for j in subset])
                total += w[i] * near
            if total < best - 1e-9:
                best, best_set = total, subset
    return best, best_set


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_new", [1, 2, 3])
def test_optimum_equals_brute_force(seed, n_new):
    dem, cand, ex, w = _instance(seed)
    d = _dist(dem, cand)
    ex_m = _dist(dem, ex).min(axis=1)
    limit = 1500.0
    res = pmedian_from_matrix(d, w, existing_m=ex_m, n_new=n_new, limit_m=limit)
    best, _ = _brute(d, ex_m, w, limit=limit, n_new=n_new)
    assert res.optimal and res.gap == 0.0 and res.status == "Optimal"
    assert_allclose(res.total_distance_m, best, rtol=1e-9)
    assert_allclose(res.mean_distance_m, best / w.sum(), rtol=1e-9)
    # before: the existing stations alone, capped, by a plain loop
    before = sum(w[i] * min(ex_m[i], limit) for i in range(len(w)))
    assert_allclose(res.total_before_m, before, rtol=1e-12)
    # the savings add up, each site is one the answer keeps, at most N
    assert_allclose(sum(res.savings_m), before - res.total_distance_m, rtol=1e-9, atol=1e-6)
    assert len(res.site_ids) <= n_new and list(res.savings_m) == sorted(res.savings_m, reverse=True)
    chosen = [int(s) for s in res.site_ids]
    after = np.minimum(np.minimum(ex_m, limit), d[:, chosen].min(axis=1) if chosen else np.inf)
    assert_allclose(res.point_after_m, after)


def test_existing_stations_are_kept_and_spopt_agrees():
    """spopt's PMedian (CBC) with the existing stations as predefined facilities: the same optimum."""
    dem, cand, ex, w = _instance(11, n=40, m=12, k=4, size=3000.0)
    w = np.maximum(w, 1.0)
    limit = 1e6  # far beyond every distance: no cap
    full = np.hstack([_dist(dem, cand), _dist(dem, ex)])
    ex_m = _dist(dem, ex).min(axis=1)
    for n_new in (2, 4):
        res = pmedian_from_matrix(full[:, :12], w, existing_m=ex_m, n_new=n_new, limit_m=limit)
        predefined = np.r_[np.zeros(12, int), np.ones(4, int)]
        model = PMedian.from_cost_matrix(full, w, p_facilities=n_new + 4, predefined_facilities_arr=predefined)
        model = model.solve(pulp.PULP_CBC_CMD(msg=False))
        assert_allclose(res.total_distance_m, pulp.value(model.problem.objective), rtol=1e-7)
        # without existing stations, the plain p-median
        res0 = pmedian_from_matrix(full[:, :12], w, n_new=n_new, limit_m=limit)
        model0 = PMedian.from_cost_matrix(full[:, :12], w, p_facilities=n_new).solve(pulp.PULP_CBC_CMD(msg=False))
        assert_allclose(res0.total_distance_m, pulp.value(model0.problem.objective), rtol=1e-7)
        assert res0.total_distance_m > res.total_distance_m  # the existing stations count


def test_truncated_rows_grow_until_exact(monkeypatch):
    """With each resident first keeping only its nearest candidate, the answer is still the brute-force optimum."""
    monkeypatch.setattr(pm, "_FIRST_PAIRS", 1)
    monkeypatch.setattr(pm, "_PAIRS_PER_SITE", 0)
    rounds = []
    dem, cand, _, w = _instance(5, n=30, m=10, k=0)
    d = _dist(dem, cand)
    for n_new in (2, 5):
        res = pmedian_from_matrix(d, w, n_new=n_new, limit_m=1e6)
        best, _ = _brute(d, np.full(len(w), np.inf), w, limit=1e6, n_new=n_new)
        assert res.optimal
        assert_allclose(res.total_distance_m, best, rtol=1e-9)
        rounds.append(res.rounds)
    assert min(rounds) >= 2  # the first (truncated) model was not the answer


@pytest.mark.parametrize("seed", range(4))
def test_required_and_excluded(seed):
    dem, cand, ex, w = _instance(seed, m=8)
    d = _dist(dem, cand)
    ex_m = _dist(dem, ex).min(axis=1)
    free, _ = _brute(d, ex_m, w, limit=5000.0, n_new=2)
    _, free_set = _brute(d, ex_m, w, limit=5000.0, n_new=2)
    req = next(j for j in range(8) if j not in free_set)
    exc = free_set[0]
    res = pmedian_from_matrix(d, w, existing_m=ex_m, n_new=2, required=[str(req)], excluded=[str(exc)])
    best, best_set = _brute(d, ex_m, w, limit=5000.0, n_new=2, required=(req,), excluded=(exc,))
    assert_allclose(res.total_distance_m, best, rtol=1e-9)
    assert str(req) in res.site_ids and str(exc) not in res.site_ids
    assert res.total_distance_m >= free - 1e-6


@pytest.mark.parametrize("budget", [250.0, 400.0, 700.0])
def test_budget(budget):
    dem, cand, ex, w = _instance(3, m=8)
    d = _dist(dem, cand)
    ex_m = _dist(dem, ex).min(axis=1)
    cost = np.array([100.0, 150.0, 200.0, 120.0, 300.0, 90.0, 250.0, 180.0])
    res = pmedian_from_matrix(d, w, existing_m=ex_m, budget=budget, cost=cost)
    best, _ = _brute(d, ex_m, w, limit=5000.0, budget=budget, cost=cost)
    assert res.optimal and res.n_requested is None and res.budget == budget
    assert_allclose(res.total_distance_m, best, rtol=1e-9)
    assert res.cost <= budget and res.cost == sum(cost[int(s)] for s in res.site_ids)
    # a required site inside the budget
    res2 = pmedian_from_matrix(d, w, existing_m=ex_m, budget=budget, cost=cost, required=["5"])
    best2, _ = _brute(d, ex_m, w, limit=5000.0, budget=budget, cost=cost, required=(5,))
    assert "5" in res2.site_ids
    assert_allclose(res2.total_distance_m, best2, rtol=1e-9)


def test_weighted_p90_and_streets_from_frames():
    """The GeoDataFrame adapter: per-street mean and p90 against a loop over residents one by one."""
    dem, cand, ex, w = _instance(7, n=30, m=7, k=2)
    w = w.astype(int).astype(float)
    streets = np.array(["东", "西", "南"])[np.arange(30) % 3]
    demand = gpd.GeoDataFrame({"elderly": w, "street": streets}, geometry=[Point(x, y) for x, y in dem], crs=CRS)
    cands = gpd.GeoDataFrame({"site_id": [f"S{j}" for j in range(7)]}, geometry=[Point(x, y) for x, y in cand], crs=CRS)
    exist = gpd.GeoDataFrame({"facility_id": ["F0", "F1"]}, geometry=[Point(x, y) for x, y in ex], crs=CRS)
    res = pmedian_from_frames(demand, cands, exist, n_new=2, limit_m=900.0)
    d = _dist(dem, cand)
    ex_m = _dist(dem, ex).min(axis=1)
    best, best_set = _brute(d, ex_m, w, limit=900.0, n_new=2)
    assert_allclose(res.total_distance_m, best, rtol=1e-9)
    before = np.minimum(ex_m, 900.0)
    after = np.minimum(before, d[:, list(best_set)].min(axis=1))

    def p90(vals, wts):  # one entry per resident, sorted: the ceil(0.9 n)-th
        people = np.sort(np.repeat(vals, wts.astype(int)))
        return people[math.ceil(0.9 * len(people)) - 1]

    assert_allclose(res.p90_before_m, p90(before, w))
    assert_allclose(res.p90_distance_m, p90(after, w))
    assert_allclose(res.beyond_before_elderly, w[before >= 900.0].sum())
    table = res.by_street.set_index("street")
    assert list(table.index) == ["东", "西", "南"]
    for s in ["东", "西", "南"]:
        sel = streets == s
        assert_allclose(table.loc[s, "elderly"], w[sel].sum())
        assert_allclose(table.loc[s, "mean_before_m"], (w[sel] * before[sel]).sum() / w[sel].sum())
        assert_allclose(table.loc[s, "mean_after_m"], (w[sel] * after[sel]).sum() / w[sel].sum())
        assert_allclose(table.loc[s, "p90_before_m"], p90(before[sel], w[sel]))
        assert_allclose(table.loc[s, "p90_after_m"], p90(after[sel], w[sel]))


def test_weighted_quantile_fractional_weights():
    assert weighted_quantile(np.array([3.0, 1.0, 2.0]), np.array([0.05, 0.85, 0.1])) == 2.0
    assert weighted_quantile(np.array([3.0, 1.0, 2.0]), np.array([0.05, 0.95, 0.0])) == 1.0
    assert math.isnan(weighted_quantile(np.array([1.0]), np.array([0.0])))


def test_nothing_to_gain_leaves_sites_out():
    """Candidates no resident is nearer to than an existing station: nothing is chosen, and that is optimal."""
    d = np.array([[500.0, 600.0], [700.0, 800.0]])
    res = pmedian_from_matrix(d, [1.0, 2.0], existing_m=[100.0, 50.0], n_new=2)
    assert res.site_ids == () and res.optimal
    assert_allclose(res.total_distance_m, 200.0)
    res = pmedian_from_matrix(d, [1.0, 2.0], existing_m=[100.0, 50.0], n_new=1, required=["1"])
    assert res.site_ids == ("1",) and res.savings_m == (0.0,)


def _err(fn, code, message):
    with pytest.raises(AnalysisError, match=message) as exc:
        fn()
    assert exc.value.code == code
    return exc.value


def test_errors():
    d = np.array([[100.0, 200.0, 300.0], [50.0, 60.0, 70.0]])
    w = [1.0, 1.0]
    ids = ["A", "B", "C"]
    run = lambda **kw: pmedian_from_matrix(d, w, site_ids=ids, **kw)  # noqa: E731
    _err(lambda: run(), "analysis.pmedian_n_or_budget",
         r"give either the number of new stations `n_new` or a `budget`, not both or neither")
    _err(lambda: run(n_new=1, budget=5.0, cost=[1, 1, 1]), "analysis.pmedian_n_or_budget", "not both or neither")
    _err(lambda: run(n_new=0), "analysis.not_whole", r"`n_new` was 0 but must be a whole number of at least 1")
    _err(lambda: run(n_new=3, excluded=["B"]), "analysis.too_many_sites_excluded",
         r"asked for 3 new sites but there are only 2 candidate sites \(1 excluded\); ask for at most 2")
    _err(lambda: run(n_new=1, required=["A", "B"]), "analysis.required_exceeds_n",
         r"2 sites are required but only 1 new sites are asked for; ask for at least 2")
    _err(lambda: run(n_new=2, required=["A"], excluded=["A"]), "analysis.required_excluded",
         r"site\(s\) A are both required and excluded")
    e = _err(lambda: run(n_new=1, required=["Z"]), "analysis.unknown_sites",
             r"unknown site id\(s\) Z: not among the candidates")
    assert dict(e.params) == {"ids": "Z"}
    _err(lambda: run(budget=10.0), "analysis.cost_missing",
         r"a budget needs a cost for every candidate site, and the candidates have no `cost` column")
    e = _err(lambda: run(budget=10.0, cost=[1.0, None, -2.0]), "analysis.cost_missing",
             r"2 candidate site\(s\) have no valid cost \(a number of 0 or more\): B, C")
    assert dict(e.params) == {"n": 2, "ids": "B, C"}
    _err(lambda: run(budget=-1.0, cost=[1, 1, 1]), "analysis.not_positive", r"`budget` was -1.0 but must be greater than 0")
    _err(lambda: run(budget=5.0, cost=[4.0, 3.0, 9.0], required=["A", "B"]), "analysis.budget_required",
         r"the required sites cost 7 together, more than the budget 5")
    _err(lambda: run(budget=5.0, cost=[6.0, 7.0, 9.0]), "analysis.budget_too_small",
         r"the budget 5 buys no candidate site \(the cheapest costs 6\)")
    _err(lambda: run(n_new=1, limit_m=0.0), "analysis.not_positive", r"`limit_m` was 0.0 but must be a distance")
    _err(lambda: pmedian_from_matrix(d, [1.0], n_new=1), "analysis.shape_mismatch",
         r"`distance_m` has shape \(2, 3\) but there are 1 demand points")
    _err(lambda: pmedian_from_matrix(d, [1.0, -1.0], n_new=1), "analysis.negative", r"`weights` must be finite")


def test_frames_errors():
    demand = gpd.GeoDataFrame({"elderly": [1.0]}, geometry=[Point(0, 0)], crs=CRS)
    cands = gpd.GeoDataFrame({"site_id": ["S"]}, geometry=[Point(10, 0)], crs=CRS)
    exist = gpd.GeoDataFrame({"facility_id": []}, geometry=[], crs=CRS)
    _err(lambda: pmedian_from_frames(demand, cands.iloc[:0], exist, n_new=1), "analysis.no_candidates",
         "there are no candidate sites")
    _err(lambda: pmedian_from_frames(demand, cands.to_crs(4326), exist, n_new=1), "analysis.not_metric",
         r"candidate sites is in EPSG:4326, whose units are not metres")
    _err(lambda: pmedian_from_frames(demand, cands, exist, n_new=1, distance="walking"), "analysis.no_roads",
         r"walking distance needs a roads layer")
    res = pmedian_from_frames(demand, cands, exist, n_new=1)
    assert res.site_ids == ("S",) and res.total_distance_m == pytest.approx(10.0)
    assert res.total_before_m == pytest.approx(5000.0) and res.beyond_before_elderly == 1.0
    assert isinstance(res.by_street, pd.DataFrame) and list(res.by_street["street"]) == [""]


def test_time_limit_reports_a_proven_gap():
    """Stopped by the time limit: the plan is evaluated exactly and the bound is below spopt's optimum."""
    from tests.analysis.siting_fixtures import mid_instance

    demand, cands, _ = mid_instance()
    demand, cands = demand.iloc[:400], cands.iloc[:40]
    dxy = np.column_stack([demand.geometry.x, demand.geometry.y])
    cxy = np.column_stack([cands.geometry.x, cands.geometry.y])
    d = _dist(dxy, cxy)
    w = demand["elderly"].to_numpy()
    model = PMedian.from_cost_matrix(d, w, p_facilities=6).solve(pulp.PULP_CBC_CMD(msg=False))
    optimum = pulp.value(model.problem.objective)
    res = pmedian_from_matrix(d, w, n_new=6, limit_m=1e6, site_ids=list(cands["site_id"]), time_limit_s=0.05)
    chosen = [list(cands["site_id"]).index(s) for s in res.site_ids]
    assert_allclose(res.total_distance_m, (w * d[:, chosen].min(axis=1)).sum(), rtol=1e-9)
    assert res.bound_m <= optimum * (1 + 1e-9) and res.total_distance_m >= optimum * (1 - 1e-9)
    if res.optimal:
        assert_allclose(res.total_distance_m, optimum, rtol=1e-7)
    else:
        assert res.status == "Time limit reached"
        assert_allclose(res.gap, (res.total_distance_m - res.bound_m) / res.total_distance_m)
        assert 0 < res.gap < 1


def test_candidates_proven_out_keep_the_optimum(monkeypatch):
    """The Lagrangian step removes candidates before the MIP; the answer is still the brute-force optimum."""
    kept = []
    real = pm._lagrangian_keep

    def spy(*args, **kwargs):
        keep = real(*args, **kwargs)
        kept.append((int(keep.sum()), len(keep)))
        return keep

    monkeypatch.setattr(pm, "_lagrangian_keep", spy)
    for seed in range(5):
        dem, cand, ex, w = _instance(100 + seed, n=40, m=12, k=2, size=3000.0)
        d = _dist(dem, cand)
        ex_m = _dist(dem, ex).min(axis=1)
        for n_new in (2, 3):
            res = pmedian_from_matrix(d, w, existing_m=ex_m, n_new=n_new, limit_m=1e6)
            best, _ = _brute(d, ex_m, w, limit=1e6, n_new=n_new)
            assert res.optimal
            assert_allclose(res.total_distance_m, best, rtol=1e-9)
    assert kept and any(k < n for k, n in kept)  # some candidates were proven out
