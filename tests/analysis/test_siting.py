"""Siting (MCLP): exact answers against brute force, spopt and networkx max flow; greedy never above exact;
spacing and capacity respected; the coverage curve, fewest sites for a target; every error message."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pulp
import pytest
from scipy import sparse
from spopt.locate import MCLP

from analysis.coverage import coverage_by_grid
from analysis.siting import (
    SitingParams,
    SitingResult,
    _row_classes,
    coverage_curve,
    fewest_sites,
    grid_gains,
    problem_from_matrix,
    site_service_areas,
    sites_table,
    siting_problem,
    siting_problem_from_frames,
    solve_siting,
    station_loads,
    summary,
)
from geo.dataset import Dataset
from geo.errors import AnalysisError
from tests.analysis.siting_fixtures import UTM, mid_instance, siting_dataset

# --- independent references -------------------------------------------------------------

def _random_instance(seed: int, *, n: int = 48, m: int = 9, density: float = 0.18):
    rng = np.random.default_rng(seed)
    reach = rng.random((n, m)) < density
    existing = rng.random((n, 2)) < 0.12
    w = rng.integers(0, 25, n).astype(float) + rng.random(n).round(2)
    return reach, existing, w


def _feasible(subset: tuple[int, ...], conflicts) -> bool:
    return not any(a in subset and b in subset for a, b in conflicts)


def _cover(reach, existing, w, subset) -> float:
    """Uncovered aged 60+ newly within reach of ``subset`` (plain numpy)."""
    newly = reach[:, list(subset)].any(axis=1) & ~existing.any(axis=1) if subset else np.zeros(len(w), bool)
    return float(w[newly].sum())


def _brute_best(reach, existing, w, n_new, conflicts=()) -> float:
    m = reach.shape[1]
    return max(_cover(reach, existing, w, s) for k in range(n_new + 1)
               for s in itertools.combinations(range(m), k) if _feasible(s, conflicts))


def _max_flow(reach, existing, w, cap, ecap, subset) -> float:
    """Capacitated coverage by networkx max flow: source -> demand (w) -> station in reach -> sink (capacity)."""
    g = nx.DiGraph()
    g.add_node("s")
    g.add_node("t")
    for i, wi in enumerate(w):
        g.add_edge("s", ("d", i), capacity=float(wi))
        for j in subset:
            if reach[i, j]:
                g.add_edge(("d", i), ("c", j), capacity=float("inf"))
        for e in range(existing.shape[1]):
            if existing[i, e]:
                g.add_edge(("d", i), ("e", e), capacity=float("inf"))
    for j in subset:
        g.add_edge(("c", j), "t", capacity=float(cap[j]))
    for e in range(existing.shape[1]):
        if np.isfinite(ecap[e]):
            g.add_edge(("e", e), "t", capacity=float(ecap[e]))
        else:
            g.add_edge(("e", e), "t")
    return float(nx.maximum_flow_value(g, "s", "t"))


# --- exact = brute force ---------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_exact_equals_brute_force_and_greedy_is_never_above(seed):
    reach, existing, w = _random_instance(seed)
    prob = problem_from_matrix(reach, w, existing_reach=existing)
    assert prob.n_rows < prob.n_points  # identical rows were merged
    assert prob.existing_elderly == pytest.approx(float(w[existing.any(axis=1)].sum()))
    for n_new in (1, 2, 3, 4):
        best = _brute_best(reach, existing, w, n_new)
        exact = solve_siting(prob, n_new=n_new)
        greedy = solve_siting(prob, n_new=n_new, solver="greedy")
        assert exact.added_elderly == pytest.approx(best, abs=1e-6)
        assert exact.optimal and exact.gap == 0.0
        chosen = tuple(int(s) for s in exact.site_ids)
        assert _cover(reach, existing, w, chosen) == pytest.approx(best, abs=1e-6)
        assert sum(exact.gains_elderly) == pytest.approx(exact.added_elderly)
        assert list(exact.gains_elderly) == sorted(exact.gains_elderly, reverse=True)
        assert all(g > 0 for g in exact.gains_elderly)
        assert greedy.added_elderly <= exact.added_elderly + 1e-9
        assert greedy.bound_elderly >= best - 1e-9  # greedy's bound is a true upper bound
        assert _cover(reach, existing, w, tuple(int(s) for s in greedy.site_ids)) == pytest.approx(
            greedy.added_elderly)
        assert exact.covered_elderly == pytest.approx(prob.existing_elderly + best)
        assert exact.covered_share == pytest.approx(exact.covered_elderly / w.sum())


@pytest.mark.parametrize("seed", range(6))
def test_spacing_conflicts_hold_and_exact_is_best_among_allowed(seed):
    reach, existing, w = _random_instance(100 + seed, density=0.25)
    conflicts = [(0, 1), (1, 2), (3, 4), (5, 8), (6, 7)]
    prob = problem_from_matrix(reach, w, existing_reach=existing, conflicts=conflicts)
    for n_new in (2, 3, 4):
        best = _brute_best(reach, existing, w, n_new, conflicts)
        for solver in ("exact", "greedy"):
            res = solve_siting(prob, n_new=n_new, solver=solver)
            chosen = tuple(int(s) for s in res.site_ids)
            assert _feasible(chosen, conflicts), (solver, chosen)
            assert len(chosen) <= n_new
            if solver == "exact":
                assert res.added_elderly == pytest.approx(best, abs=1e-6)
            else:
                assert res.added_elderly <= best + 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_capacitated_exact_equals_brute_force_max_flow_and_loads_fit(seed):
    rng = np.random.default_rng(200 + seed)
    reach, existing, w = _random_instance(200 + seed, n=36, m=8, density=0.22)
    cap = rng.integers(10, 70, reach.shape[1]).astype(float)
    ecap = np.array([12.0, np.nan])  # the second existing station has no known capacity: unlimited
    prob = problem_from_matrix(reach, w, existing_reach=existing, site_capacity=cap, existing_capacity=ecap)
    ecap_inf = np.array([12.0, np.inf])
    base = _max_flow(reach, existing, w, cap, ecap_inf, ())
    assert prob.existing_elderly == pytest.approx(base, abs=1e-6)
    for n_new in (1, 2, 3):
        best = max(_max_flow(reach, existing, w, cap, ecap_inf, s)
                   for s in itertools.combinations(range(reach.shape[1]), n_new)) - base
        exact = solve_siting(prob, n_new=n_new)
        greedy = solve_siting(prob, n_new=n_new, solver="greedy")
        assert exact.added_elderly == pytest.approx(best, abs=1e-5)
        assert exact.optimal
        assert greedy.added_elderly <= exact.added_elderly + 1e-6
        for res in (exact, greedy):
            chosen = tuple(int(s) for s in res.site_ids)
            assert res.covered_elderly == pytest.approx(_max_flow(reach, existing, w, cap, ecap_inf, chosen),
                                                        abs=1e-5)
            loads = station_loads(prob, res)
            assert (loads["served_elderly"] <= loads["capacity"] + 1e-6).all()
            assert loads["served_elderly"].sum() == pytest.approx(res.covered_elderly, abs=1e-5)
            assert loads["kind"].tolist() == ["new"] * len(chosen) + ["existing"] * 2


def test_capacity_splits_a_full_station_fairly():
    # One station (capacity 30) reaches two places of 40 and 20 aged 60+: each gets half covered.
    reach = np.array([[True], [True]])
    prob = problem_from_matrix(reach, [40.0, 20.0], site_ids=["S"], site_capacity=[30.0])
    res = solve_siting(prob, n_new=1)
    assert res.added_elderly == pytest.approx(30.0)
    from analysis.siting import _new_share

    share = _new_share(prob, np.array([0]))
    assert share[prob.point_class] == pytest.approx([0.5, 0.5])


def test_dominated_candidates_are_left_out_of_the_model_only():
    from analysis.siting import _undominated

    # columns: 0 = {r0, r1}, 1 = {r0} (inside 0), 2 = {r0, r1} (same as 0), 3 = {} (nobody), 4 = {r2}
    reach = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 0, 0], [0, 0, 0, 0, 1]], dtype=bool)
    prob = problem_from_matrix(reach, [5.0, 7.0, 1.0])
    assert _undominated(prob).tolist() == [0, 4]
    res = solve_siting(prob, n_new=2)
    assert res.site_ids == ("0", "4") and res.added_elderly == pytest.approx(13.0)


def test_row_classes_group_identical_rows_only():
    rng = np.random.default_rng(7)
    base = rng.random((30, 12)) < 0.3
    rows = base[rng.integers(0, 30, 400)]
    labels, first = _row_classes(sparse.csr_matrix(rows))
    keys = [r.tobytes() for r in rows]
    for i in range(len(rows)):
        assert keys[first[labels[i]]] == keys[i]
    assert len(first) == len(set(keys))


# --- spopt on a mid-size instance -------------------------------------------------------------

@pytest.mark.parametrize("n_new", [4, 8])
def test_exact_equals_spopt_mclp_objective_weighted(n_new):
    demand, cands, existing = mid_instance()
    prob = siting_problem_from_frames(demand, cands, existing, params=SitingParams(radius_m=300.0))
    res = solve_siting(prob, n_new=n_new)
    # spopt: the existing stations as predefined facilities, p = existing + new.
    fac = pd.concat([cands[["geometry"]], existing[["geometry"]]], ignore_index=True)
    fac = gpd.GeoDataFrame(fac, geometry="geometry", crs=UTM)
    fac["predefined"] = [0] * len(cands) + [1] * len(existing)
    model = MCLP.from_geodataframe(demand, fac, "geometry", "geometry", "elderly", service_radius=300.0,
                                   p_facilities=n_new + len(existing), predefined_facility_col="predefined")
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    spopt_objective = pulp.value(model.problem.objective)
    assert res.optimal
    assert res.covered_elderly == pytest.approx(spopt_objective, rel=1e-9)
    greedy = solve_siting(prob, n_new=n_new, solver="greedy")
    assert greedy.added_elderly <= res.added_elderly + 1e-9


def test_dataset_problem_uses_the_coverage_definition():
    ds = siting_dataset()
    prob = siting_problem(ds, SitingParams(radius_m=300.0))
    table = coverage_by_grid(ds, facility_types=("day_care",), radius_m=300.0)
    assert prob.existing_elderly == pytest.approx(table["covered_elderly"].sum())
    # F1 at (200,200) reaches E1 (100,100) and E2 (300,300): all of G1's 100; the planned F2 does not count.
    assert prob.existing_elderly == pytest.approx(100.0)
    assert prob.total_elderly == pytest.approx(280.0)


def test_dataset_answer_by_hand():
    ds = siting_dataset()
    prob = siting_problem(ds, SitingParams(radius_m=300.0))
    res = solve_siting(prob, n_new=2)
    # S5 (800,200) reaches E4 (700,300) and E5 (900,100): 40 + 30; S2 (600,200): E3+E4 = 80;
    # S3 (1000,200): E5+E6 = 60; S4 (1400,200): E7+E8 = 40. Best pair: S2 + S3 = 140.
    assert res.site_ids == ("S2", "S3")
    assert res.gains_elderly == pytest.approx((80.0, 60.0))
    assert res.covered_elderly == pytest.approx(240.0)
    assert res.covered_share == pytest.approx(240.0 / 280.0)
    table = sites_table(prob, res)
    assert table["site_id"].tolist() == ["S2", "S3"]
    assert table["name"].tolist() == ["乙", "丙"]
    assert table["covered_elderly"].tolist() == pytest.approx([180.0, 240.0])
    grids = grid_gains(prob, res).set_index("grid_id")
    assert grids.loc[["G2", "G3", "G4", "G1"], "new_elderly"].tolist() == pytest.approx([80.0, 60.0, 0.0, 0.0])
    assert grids["new_elderly"].sum() == pytest.approx(res.added_elderly)
    assert grids.loc["G1", "share_before"] == pytest.approx(1.0)
    areas = site_service_areas(prob, res)
    assert areas.geometry.area.tolist() == pytest.approx([np.pi * 300**2] * 2, rel=0.01)
    s = summary(prob, res)
    assert s["covered_elderly"] == pytest.approx(240.0) and s["optimal"] is True and s["gap"] == 0.0
    assert set(s) == {"covered_elderly", "covered_share", "added_elderly", "optimal", "gap", "seconds"}


def test_spacing_from_existing_and_between_new_sites():
    ds = siting_dataset()
    # S1 is 71 m from F1: dropped. S2 and S5 are 200 m apart, S3 and S5 too: never both with 250 m spacing.
    prob = siting_problem(ds, SitingParams(radius_m=300.0, min_spacing_m=250.0))
    assert prob.excluded_by_spacing == 1
    assert "S1" not in prob.site_ids
    for solver in ("exact", "greedy"):
        for n_new in (1, 2, 3, 4):
            res = solve_siting(prob, n_new=n_new, solver=solver)
            pts = sites_table(prob, res).geometry
            for a, b in itertools.combinations(range(len(pts)), 2):
                assert pts.iloc[a].distance(pts.iloc[b]) >= 250.0
            f1 = ds.facilities.to_crs(UTM).geometry.iloc[0]
            assert all(p.distance(f1) >= 250.0 for p in pts)


def test_capacity_from_the_candidates_layer_and_a_default():
    ds = siting_dataset(capacity=True)
    with pytest.raises(AnalysisError, match=r"1 candidate site\(s\) have no capacity \(S3\): give a capacity"):
        siting_problem(ds, SitingParams(radius_m=300.0, capacity=True))
    prob = siting_problem(ds, SitingParams(radius_m=300.0, capacity=True, site_capacity=35.0))
    # F1 has capacity 30 for G1's 100 aged 60+.
    assert prob.existing_elderly == pytest.approx(30.0)
    res = solve_siting(prob, n_new=2)
    loads = station_loads(prob, res).set_index("station_id")
    assert (loads["served_elderly"] <= loads["capacity"] + 1e-6).all()
    assert loads.loc["F1", "served_elderly"] == pytest.approx(30.0)
    # By hand: S1 could serve 20 more of G1, S2 25 of E3/E4, S3 35 (the default) of E5/E6, S4 15, S5 30 of
    # E4/E5; the best pair is S3 + S5 = 65 (E4, E5, E6 hold 100, enough for both).
    assert res.added_elderly == pytest.approx(65.0)
    assert grid_gains(prob, res)["new_elderly"].sum() == pytest.approx(65.0)


def test_generated_candidates_sit_in_uncovered_estates():
    ds = siting_dataset(candidates=False)
    prob = siting_problem(ds, SitingParams(radius_m=300.0, candidates="generated"))
    # E1, E2 are covered by F1; the other six estates each give a candidate.
    assert prob.site_ids == ("E-E3", "E-E4", "E-E5", "E-E6", "E-E7", "E-E8")
    assert prob.sites["name"].tolist() == ["小区3", "小区4", "小区5", "小区6", "小区7", "小区8"]
    res = solve_siting(prob, n_new=3)
    assert res.covered_elderly == pytest.approx(280.0)  # three sites reach everyone left
    assert res.optimal


def test_generated_candidates_in_grids_without_estates():
    ds = siting_dataset(candidates=False)
    ds = Dataset(grids=ds.grids, facilities=ds.facilities, name="no estates")
    prob = siting_problem(ds, SitingParams(radius_m=300.0, candidates="generated"))
    # G1 (400 m square around F1) is covered to its corners (247 m < 300 m): no candidate there.
    assert prob.site_ids == ("G-G2", "G-G3", "G-G4")
    grids_metric = ds.grids.to_crs(prob.sites.crs).set_index("grid_id")
    for sid, geom in zip(prob.site_ids, prob.sites.geometry, strict=True):
        assert grids_metric.loc[sid[2:], "geometry"].contains(geom)


def test_walking_distance_follows_the_roads():
    ds = siting_dataset(roads=True)
    straight = siting_problem(ds, SitingParams(radius_m=300.0))
    walking = siting_problem(ds, SitingParams(radius_m=300.0, distance="walking"))
    # Straight, F1 reaches E1 (100,100) and E2 (300,300); walking, F1 and E1 are on the y=120 street (200 m
    # apart) but E2 is on the other one, 3 km round the block.
    assert straight.existing_elderly == pytest.approx(100.0)
    assert walking.existing_elderly == pytest.approx(50.0)
    table = coverage_by_grid(ds, facility_types=("day_care",), radius_m=300.0, distance="walking")
    assert walking.existing_elderly == pytest.approx(table["covered_elderly"].sum())
    res = solve_siting(walking, n_new=1)
    assert res.optimal and res.added_elderly > 0


# --- the curve and the fewest sites --------------------------------------------------------

def test_coverage_curve_matches_brute_force_per_n():
    reach, existing, w = _random_instance(5, m=8)
    prob = problem_from_matrix(reach, w, existing_reach=existing)
    seen = []
    curve = coverage_curve(prob, max_new=5, on_progress=lambda done, total: seen.append((done, total)))
    assert seen == [(n, 5) for n in range(1, 6)]
    base = prob.existing_elderly
    for i, n_new in enumerate(curve.n_new):
        assert curve.exact_elderly[i] == pytest.approx(base + _brute_best(reach, existing, w, n_new), abs=1e-6)
        assert curve.greedy_elderly[i] <= curve.exact_elderly[i] + 1e-9
    assert all(curve.exact_optimal)
    assert list(curve.greedy_elderly) == sorted(curve.greedy_elderly)
    df = curve.frame()
    assert df["n_new"].tolist() == [1, 2, 3, 4, 5]
    assert df["exact_share"].iloc[-1] == pytest.approx(curve.exact_elderly[-1] / w.sum())
    greedy_only = coverage_curve(prob, max_new=3, solver="greedy")
    assert greedy_only.exact_elderly is None
    assert greedy_only.greedy_elderly == curve.greedy_elderly[:3]


@pytest.mark.parametrize("seed", range(4))
def test_fewest_sites_is_the_brute_force_minimum(seed):
    reach, existing, w = _random_instance(300 + seed, m=8, density=0.3)
    prob = problem_from_matrix(reach, w, existing_reach=existing)
    reachable = prob.existing_elderly + prob.reachable_elderly
    target = 0.9 * reachable / w.sum()
    need = target * w.sum() - prob.existing_elderly
    k_min = next(k for k in range(9) if _brute_best(reach, existing, w, k) >= need - 1e-9)
    exact = fewest_sites(prob, target_share=target)
    greedy = fewest_sites(prob, target_share=target, solver="greedy")
    assert exact.n_new == k_min
    assert exact.optimal and exact.min_sites_bound == k_min
    assert exact.covered_share >= target - 1e-12
    assert exact.added_elderly == pytest.approx(_brute_best(reach, existing, w, k_min), abs=1e-6)
    assert greedy.n_new >= exact.n_new
    assert greedy.covered_share >= target - 1e-12


def test_fewest_sites_met_by_existing_stations():
    reach, existing, w = _random_instance(1)
    prob = problem_from_matrix(reach, w, existing_reach=existing)
    assert prob.existing_elderly > 0
    res = fewest_sites(prob, target_share=prob.existing_elderly / w.sum() / 2)
    assert res.n_new == 0 and res.optimal and res.status == "met by existing stations"


# --- results and errors ----------------------------------------------------------------------

def test_result_round_trips_through_a_dict():
    reach, existing, w = _random_instance(2)
    res = solve_siting(problem_from_matrix(reach, w, existing_reach=existing), n_new=3)
    back = SitingResult.from_dict(res.to_dict())
    assert back == res
    assert back.gap == 0.0


def _expect(code: str, match: str, call, **params) -> None:
    """``call()`` raises AnalysisError with this message, code and (a subset of) params."""
    with pytest.raises(AnalysisError, match=match) as exc:
        call()
    assert exc.value.code == code
    assert {k: exc.value.params[k] for k in params} == params


def test_bad_input_gives_clear_messages():
    reach, existing, w = _random_instance(3)
    prob = problem_from_matrix(reach, w, existing_reach=existing)
    _expect("analysis.too_many_sites", "asked for 20 new sites but there are only 9 candidate sites; "
            "ask for at most 9", lambda: solve_siting(prob, n_new=20), n=20, available=9)
    _expect("analysis.not_whole", "`n_new` was 0 but must be a whole number of at least 1",
            lambda: solve_siting(prob, n_new=0), name="n_new", value="0", min=1)
    _expect("analysis.bad_choice", "`solver` was 'best' but is expected to be one of: exact, greedy",
            lambda: solve_siting(prob, n_new=2, solver="best"), name="solver", value="best", allowed="exact, greedy")
    _expect("analysis.target_unreachable", r"the target of 99.0% cannot be reached: with all 9 candidate sites",
            lambda: fewest_sites(prob, target_share=0.99), target="99.0", n=9)
    _expect("analysis.share_out_of_range", "`target_share` was 90 but must be a share above 0 and at most 1",
            lambda: fewest_sites(prob, target_share=90), name="target_share", value="90")
    _expect("analysis.too_many_sites", "asked for 12 new sites but there are only 9",
            lambda: coverage_curve(prob, max_new=12), n=12, available=9)
    _expect("analysis.shape_mismatch", "`weights` has 3 values but the reach matrix has 48 demand rows",
            lambda: problem_from_matrix(reach, [1.0, 2.0, 3.0]), what="weights", got=3, expected=48)
    empty = problem_from_matrix(np.zeros((5, 0), dtype=bool), np.ones(5))
    _expect("analysis.no_candidates", "there are no candidate sites to choose from",
            lambda: solve_siting(empty, n_new=1))


def test_target_out_of_reach_because_of_spacing():
    # Two candidates reach everything between them but may not both open.
    reach = np.array([[True, False], [False, True]])
    prob = problem_from_matrix(reach, [10.0, 10.0], site_ids=["A", "B"], conflicts=[(0, 1)])
    _expect("analysis.target_infeasible", "the target of 80.0% cannot be reached while keeping new sites",
            lambda: fewest_sites(prob, target_share=0.8), target="80.0")
    _expect("analysis.target_unreachable_greedy", "cannot be reached by adding sites one at a time while keeping",
            lambda: fewest_sites(prob, target_share=0.8, solver="greedy"), target="80.0")


def test_dataset_errors():
    _expect("analysis.no_candidates_layer", "the dataset has no candidates layer",
            lambda: siting_problem(siting_dataset(candidates=False), SitingParams()))
    _expect("analysis.no_roads", "walking distance needs a roads layer",
            lambda: siting_problem(siting_dataset(), SitingParams(distance="walking")))
    _expect("analysis.not_positive", "`radius_m` was -5 but must be a distance greater than 0 m",
            lambda: siting_problem(siting_dataset(), SitingParams(radius_m=-5)), name="radius_m", value="-5")
    with pytest.raises(AnalysisError, match="`radius_m` was True but must be a distance greater than 0 m"):
        siting_problem(siting_dataset(), SitingParams(radius_m=True))
    # numpy numbers (from a table or a saved scenario) are distances like any other
    prob = siting_problem(siting_dataset(), SitingParams(radius_m=np.int64(300)))
    assert prob.existing_elderly == pytest.approx(100.0)
    _expect("analysis.bad_choice", "`facility_type` was 'spa'",
            lambda: siting_problem(siting_dataset(), SitingParams(facility_type="spa")), value="spa")
    _expect("analysis.bad_choice", "`candidates` was 'all' but is expected to be one of: layer, generated",
            lambda: siting_problem(siting_dataset(), SitingParams(candidates="all")), name="candidates")
    _expect("analysis.candidates_too_close", "every one of the 5 candidate sites is closer than 5000 m",
            lambda: siting_problem(siting_dataset(), SitingParams(min_spacing_m=5000.0)), n=5, spacing="5000")
    demand, cands, existing = mid_instance()
    with pytest.raises(AnalysisError, match="there are no candidate sites"):
        siting_problem_from_frames(demand, cands.iloc[:0], existing, params=SitingParams())
    with pytest.raises(AnalysisError, match="whose units are not metres"):
        siting_problem_from_frames(demand.to_crs(4326), cands.to_crs(4326), existing.to_crs(4326),
                                   params=SitingParams())
    _expect("analysis.crs_mismatch", "candidate sites are in EPSG:32650 but the demand points in EPSG:32649",
            lambda: siting_problem_from_frames(demand, cands.to_crs("EPSG:32650"), existing, params=SitingParams()),
            what="candidate sites", crs="EPSG:32650", expected="EPSG:32649")
    full = siting_dataset()
    everyone = Dataset(grids=full.grids.iloc[:1], facilities=full.facilities,
                       estates=full.estates.iloc[:2], name="all covered")
    _expect("analysis.nothing_to_generate", "every resident is already within reach",
            lambda: siting_problem(everyone, SitingParams(candidates="generated")))


def test_one_street_counts_its_residents_and_its_candidates():
    ds = siting_dataset()
    prob = siting_problem(ds, SitingParams(radius_m=300.0, street="西街"))
    assert prob.total_elderly == pytest.approx(100.0)  # G3 60 + G4 40
    assert {"S3", "S4"} <= set(prob.site_ids)
    assert not {"S1", "S2"} & set(prob.site_ids)
    res = solve_siting(prob, n_new=2)
    assert res.covered_elderly == pytest.approx(100.0)
    assert set(grid_gains(prob, res)["grid_id"]) == {"G3", "G4"}
    _expect("analysis.unknown_street", "street '南街' has no grids; streets: 东街, 西街",
            lambda: siting_problem(ds, SitingParams(street="南街")), street="南街", streets="东街, 西街")
