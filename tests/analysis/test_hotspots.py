"""Hot spots: Gi* against esda, FDR bins, Mann-Kendall by hand, emerging patterns, kernel density."""

from __future__ import annotations

import warnings

import esda
import libpysal
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from analysis.cases import CaseFilter, build_case_table
from analysis.hotspots import (
    GridWeights,
    classify_patterns,
    confidence_bins,
    default_bandwidth_m,
    emerging_hot_spots,
    fdr_cutoffs,
    gi_star,
    gi_star_z,
    grid_counts,
    hot_spots,
    kernel_density,
    kernel_density_xy,
    mann_kendall,
    period_counts,
    queen_weights,
    two_sided_p,
)
from geo.errors import AnalysisError
from tests.analysis.case_fixtures import cases_for_counts, lattice_grids


def _esda_gi(y: np.ndarray, grids, *, permutations: int = 0, seed: int = 0, transform: str = "R"):
    """esda's G_Local on libpysal's own queen weights (an independent path to the same statistic)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.Queen.from_dataframe(grids, use_index=False, silence_warnings=True)
        w.transform = "B"
        w = libpysal.weights.fill_diagonal(w, 1.0)
        return esda.G_Local(y, w, transform=transform, star=True, permutations=permutations, seed=seed, n_jobs=1)


@pytest.fixture(scope="module")
def grids20():
    return lattice_grids(20, 20)


@pytest.fixture(scope="module")
def weights20(grids20):
    return queen_weights(grids20)


def test_queen_weights_match_libpysal_lattice(grids20, weights20):
    w = libpysal.weights.lat2W(20, 20, rook=False)
    expected = w.sparse.toarray()
    assert_array_equal(weights20.adjacency.toarray(), expected)
    assert weights20.adjacency.sum(axis=1).max() == 8 and weights20.adjacency.sum(axis=1).min() == 3


def test_gi_z_equals_esda(grids20, weights20):
    rng = np.random.default_rng(3)
    y = rng.poisson(12, len(grids20)).astype(float)
    ours = gi_star(y, weights20, permutations=99, seed=1, weights_scheme="row")
    ref = _esda_gi(y, grids20, permutations=99, seed=1)
    assert_allclose(ours.z, ref.Zs, rtol=1e-12, atol=1e-12)
    assert_allclose(ours.p, 2 * ref.p_norm, rtol=1e-12)
    assert_allclose(ours.p_sim, np.minimum(1.0, 2 * ref.p_sim))  # two-sided (esda's p_sim is one-sided)
    # the vectorised form used for emerging hot spots gives the same z, column by column
    y2 = np.column_stack([y, rng.poisson(3, len(y)), rng.poisson(40, len(y))]).astype(float)
    z = gi_star_z(y2, weights20, weights_scheme="row")
    for k in range(3):
        assert_allclose(z[:, k], _esda_gi(y2[:, k], grids20).Zs, rtol=1e-10, atol=1e-12)


def test_binary_transform_equals_esda_and_arcgis_formula(grids20, weights20):
    y = np.random.default_rng(9).poisson(12, len(grids20)).astype(float)
    ours = gi_star(y, weights20, permutations=0, weights_scheme="binary")
    assert_allclose(ours.z, _esda_gi(y, grids20, transform="B").Zs, rtol=1e-12)
    # ArcGIS's Gi*: (Σw·x − x̄·Σw) / (S·√((nΣw² − (Σw)²)/(n − 1))), binary w with self
    w = weights20.star_matrix("binary").toarray()
    n = len(y)
    s = np.sqrt((y ** 2).mean() - y.mean() ** 2)
    sw = w.sum(axis=1)
    arc = (w @ y - y.mean() * sw) / (s * np.sqrt((n * (w ** 2).sum(axis=1) - sw ** 2) / (n - 1)))
    assert_allclose(ours.z, arc, rtol=1e-10)
    # row-standardising does not change ArcGIS's z, but esda's "R" moments shrink it
    r = w / sw[:, None]
    arc_r = (r @ y - y.mean()) / (s * np.sqrt((n * (r ** 2).sum(axis=1) - 1) / (n - 1)))
    assert_allclose(arc_r, arc, rtol=1e-10)
    assert np.abs(gi_star(y, weights20, permutations=0, weights_scheme="row").z).sum() < np.abs(ours.z).sum() / 2
    # binary (ArcGIS-equal) is the default
    assert_allclose(gi_star(y, weights20, permutations=0).z, ours.z)
    assert_allclose(gi_star_z(np.column_stack([y, y + 1]), weights20, weights_scheme="binary")[:, 0], ours.z)
    # esda's keyword is not ours: one name per concept (analysis/options.py)
    with pytest.raises(TypeError, match="unexpected keyword argument 'transform'"):
        gi_star(y, weights20, permutations=0, transform="R")
    with pytest.raises(AnalysisError, match="`weights_scheme` was 'X' but is expected to be one of: binary, row") as exc:
        gi_star(y, weights20, weights_scheme="X")
    assert exc.value.code == "analysis.bad_choice"
    assert dict(exc.value.params) == {"name": "weights_scheme", "value": "X", "allowed": "binary, row"}


def test_permutation_p_is_seeded(grids20, weights20):
    y = np.random.default_rng(5).poisson(10, len(grids20)).astype(float)
    a = gi_star(y, weights20, permutations=199, seed=7).p_sim
    b = gi_star(y, weights20, permutations=199, seed=7).p_sim
    c = gi_star(y, weights20, permutations=199, seed=8).p_sim
    assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # two-sided: at least 2/200 (no permutation as extreme), at most 1
    assert a.min() >= 2 / 200 - 1e-6 and a.max() <= 1.0
    assert (a > 0.5).any()  # one-sided p never exceeds 0.5; the two-sided one does for unremarkable grids


def test_p_sim_is_two_sided_by_hand():
    """gi_p_sim counted by hand from esda's own permutation distribution (rGs) on a 6 × 6 lattice."""
    grids = lattice_grids(6, 6)
    y = np.zeros(36)
    y[[14, 15, 20, 21]] = 9.0  # a hot block in the middle
    y[[0, 35]] = 1.0
    y[7] = 3.0
    perms = 99
    ours = gi_star(y, queen_weights(grids), permutations=perms, seed=4, weights_scheme="row")
    ref = _esda_gi(y, grids, permutations=perms, seed=4)
    assert ref.rGs.shape == (36, perms)
    for i in range(36):
        at_least = int((ref.rGs[i] >= ref.Gs[i]).sum())  # permutations with G at least the observed one
        tail = min(at_least, perms - at_least)  # the tail the observed value lies in
        one_sided = (tail + 1) / (perms + 1)
        assert ref.p_sim[i] == pytest.approx(one_sided, abs=1e-6)  # esda's directed p, recounted
        assert ours.p_sim[i] == pytest.approx(min(1.0, 2 * one_sided), abs=1e-6)
    # the middle of the hot block: no permutation reaches its G, so 2 · 1/100
    assert ours.p_sim[14] == pytest.approx(0.02, abs=1e-6)


def test_fdr_cutoffs_equal_esda():
    rng = np.random.default_rng(0)
    p = np.column_stack([rng.uniform(0, 1, 200), np.r_[rng.uniform(0, 0.001, 20), rng.uniform(0, 1, 180)],
                         np.full(200, 0.5)])
    for alpha in (0.1, 0.05, 0.01):
        cut = fdr_cutoffs(p, alpha)
        for k in range(p.shape[1]):
            assert cut[k] == pytest.approx(esda.fdr(p[:, k], alpha))


def test_confidence_bins_by_level():
    # one strong, a few moderate, the rest noise: bins follow BH cut-offs at 99/95/90 %
    z = np.r_[5.0, -4.5, 3.0, 2.4, np.zeros(56)]
    bins = confidence_bins(z)
    p = two_sided_p(z)
    expected = np.zeros(len(z), dtype=int)
    for level, alpha in ((1, 0.10), (2, 0.05), (3, 0.01)):
        sig = p < esda.fdr(p, alpha)
        expected[sig] = np.sign(z[sig]) * level
    assert_array_equal(bins, expected)
    assert bins[0] == 3 and bins[1] == -3
    # without FDR the plain p-value thresholds apply
    assert_array_equal(confidence_bins(np.array([2.6, 2.0, 1.7, 1.0, -2.0]), fdr=False), [3, 2, 1, 0, -2])


def test_planted_cluster_is_bin_3(grids20, weights20):
    rng = np.random.default_rng(11)
    counts = rng.poisson(4, 400)
    block = [r * 20 + c for r in range(8, 13) for c in range(8, 13)]  # 5 × 5 block in the middle
    counts[block] = rng.poisson(80, len(block))  # esda's row-standardised z needs a clear cluster
    cases = cases_for_counts(grids20, counts, seed=2)
    table = build_case_table(cases, grids20)
    res = hot_spots(table, weights20, permutations=999, seed=0)
    f = res.frame.set_index("grid_id")
    centre = [f"G{r:02d}{c:02d}" for r in range(9, 12) for c in range(9, 12)]
    assert (f.loc[centre, "gi_bin"] == 3).all()
    # the permutation check agrees: no permutation reached them (2 · 1/1000; esda counts in float32)
    assert_allclose(f.loc[centre, "gi_p_sim"], 0.002, rtol=1e-6)
    far = [f"G{r:02d}{c:02d}" for r in range(0, 4) for c in range(0, 4)]
    assert (f.loc[far, "gi_bin"] <= 0).all()
    assert res.n_cases == counts.sum() and res.n_grids_analysed == 400
    assert_array_equal(f["cases"].to_numpy(), counts)


def test_uniform_field_has_almost_no_significant_bins(grids20, weights20):
    flagged = []
    for seed in range(5):
        y = np.random.default_rng(100 + seed).poisson(20, 400).astype(float)
        flagged.append(int((gi_star(y, weights20, permutations=0).bins != 0).sum()))
    assert max(flagged) <= 4  # at most 1 % of the grids, in every field
    assert sum(flagged) <= 5


def test_rate_measure_and_street_subset():
    pop = np.where(np.arange(100) % 10 == 0, 0, 2000)
    grids = lattice_grids(10, 10, population=pop)
    counts = np.arange(100) % 7 + 1
    table = build_case_table(cases_for_counts(grids, counts), grids)
    w = queen_weights(grids)
    res = hot_spots(table, w, measure="rate", permutations=0)
    f = res.frame
    assert_allclose(f["rate_per_1000"].to_numpy()[pop > 0], counts[pop > 0] / 2.0)
    assert f.loc[pop == 0, "gi_z"].isna().all() and (f.loc[pop == 0, "gi_bin"] == 0).all()
    analysed = np.flatnonzero(pop > 0)
    ref = gi_star_z(counts[analysed] / 2.0, w.subset(analysed))
    assert_allclose(f["gi_z"].to_numpy()[analysed], ref)
    # a street filter restricts the statistic to that street's grids (40 with residents: column 0 has none)
    east = hot_spots(table, w, CaseFilter(streets=("东街",)), measure="rate", permutations=0)
    in_east = np.flatnonzero((grids["street"] == "东街").to_numpy() & (pop > 0))
    assert east.n_grids_analysed == 40
    assert_allclose(east.frame["gi_z"].to_numpy()[in_east], gi_star_z(counts[in_east] / 2.0, w.subset(in_east)))
    assert east.frame["gi_z"].isna().sum() == 60


def test_bad_input_messages(grids20, weights20):
    counts = np.full(400, 2)
    table = build_case_table(cases_for_counts(grids20, counts, start="2024-01-01", days=28), grids20)
    with pytest.raises(AnalysisError, match=r"no cases match \(between 2023-01-01 and 2023-02-01\): choose a longer "
                                            r"period or fewer filters"):
        hot_spots(table, weights20, CaseFilter(since=pd.Timestamp("2023-01-01").date(),
                                               until=pd.Timestamp("2023-02-01").date()))
    with pytest.raises(AnalysisError, match=r"category '垃圾' does not exist; the cases have: 市容环境"):
        hot_spots(table, weights20, CaseFilter(categories=("垃圾",)))
    with pytest.raises(AnalysisError, match=r"`measure` was 'density' but is expected to be one of: count, rate"):
        hot_spots(table, weights20, measure="density")
    with pytest.raises(AnalysisError, match="every grid has the same value: there is nothing to cluster"):
        hot_spots(table, weights20, permutations=0)
    small = lattice_grids(5, 5)
    small_table = build_case_table(cases_for_counts(small, np.arange(25)), small)
    with pytest.raises(AnalysisError, match=r"at least 30 grids .* has 25"):
        hot_spots(small_table, queen_weights(small))
    with pytest.raises(AnalysisError, match="emerging hot spots need at least 10 weeks; the selection spans 4"):
        emerging_hot_spots(table, weights20, period="week")
    with pytest.raises(AnalysisError, match="`period` was 'day' but is expected to be one of: week, month"):
        emerging_hot_spots(table, weights20, period="day")
    other = lattice_grids(21, 20)
    with pytest.raises(AnalysisError, match="the weights were built for other grids than the case table"):
        hot_spots(table, queen_weights(other))


def test_mann_kendall_hand_computed():
    # x = 1, 2, 3, 2, 5: the ten pairs give S = 4 + 2 + 0 + 1 = 7; the value 2 is tied twice (t = 2),
    # Var(S) = (5·4·15 − 2·1·9)/18 = 282/18; z = (7 − 1)/√(282/18) = 1.515873; tau = 7/10.
    mk = mann_kendall(np.array([[1, 2, 3, 2, 5], [5, 4, 3, 2, 1], [3, 3, 3, 3, 3]], dtype=float))
    assert_allclose(mk.s, [7, -10, 0])
    assert_allclose(mk.var_s, [282 / 18, 300 / 18, 0.0])
    assert mk.z[0] == pytest.approx(6 / np.sqrt(282 / 18))
    assert mk.z[0] == pytest.approx(1.515873, abs=1e-6)
    assert mk.z[1] == pytest.approx(-9 / np.sqrt(300 / 18))
    assert mk.z[2] == 0.0 and mk.p[2] == 1.0
    assert mk.p[0] == pytest.approx(0.129551, abs=1e-5)
    assert_allclose(mk.tau, [0.7, -1.0, 0.0])
    with pytest.raises(AnalysisError, match="the Mann-Kendall test needs at least 3 periods; got 2"):
        mann_kendall(np.array([1.0, 2.0]))


def _series(*bins: int) -> list[int]:
    return list(bins)


def test_each_emerging_class():
    cases = {
        "new_hot_spot": _series(0, 0, 0, 0, 0, 0, 0, 0, 0, 2),
        "consecutive_hot_spot": _series(0, 0, 0, 0, 0, 0, 0, 1, 2, 3),
        "intensifying_hot_spot": _series(1, 1, 1, 1, 2, 2, 2, 3, 3, 3),
        "persistent_hot_spot": _series(2, 2, 2, 2, 2, 2, 2, 2, 2, 2),
        "diminishing_hot_spot": _series(3, 3, 3, 3, 2, 2, 2, 1, 1, 1),
        "sporadic_hot_spot": _series(1, 0, 0, 2, 0, 0, 1, 0, 0, 1),
        "oscillating_hot_spot": _series(1, 0, -1, -2, 0, 0, 0, 0, 0, 2),
        "historical_hot_spot": _series(2, 2, 2, 2, 2, 2, 2, 2, 2, 0),
        "new_cold_spot": _series(0, 0, 0, 0, 0, 0, 0, 0, 0, -1),
        "consecutive_cold_spot": _series(0, 0, 0, 0, 0, 0, -2, -2, -2, -2),
        "intensifying_cold_spot": _series(-1, -1, -1, -1, -2, -2, -2, -3, -3, -3),
        "persistent_cold_spot": _series(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1),
        "diminishing_cold_spot": _series(-3, -3, -3, -3, -2, -2, -2, -1, -1, -1),
        "sporadic_cold_spot": _series(-1, 0, -1, 0, 0, 0, 0, 0, 0, -1),
        "oscillating_cold_spot": _series(0, 2, 0, 0, 0, 0, 0, 0, -1, -1),
        "historical_cold_spot": _series(-1, -1, -1, -1, -1, -1, -1, -1, -1, 0),
        "no_pattern": _series(0, 1, 0, -1, 0, 0, 2, 0, 0, 0),
    }
    names = list(cases)
    bins = np.array([cases[k] for k in names])
    # the trend is on z-scores; here z follows the bins, so intensifying/diminishing series trend
    z = bins.astype(float) + np.linspace(0, 0.01, bins.shape[1])[None, :] * 0  # z = bins
    mk = mann_kendall(z)
    out = classify_patterns(bins, mk.z, mk.p)
    assert dict(zip(names, out, strict=True)) == {k: k for k in names}
    # persistent: ≥ 90 % hot with no significant trend even though the final bin is hot
    assert mk.p[names.index("persistent_hot_spot")] == 1.0
    # "consecutive" needs a run of two; a run after an earlier hot spot is sporadic
    b = np.array([[0, 0, 0, 1, 0, 0, 0, 0, 1, 1]])
    assert classify_patterns(b, np.zeros(1), np.ones(1))[0] == "sporadic_hot_spot"


def test_emerging_end_to_end_finds_new_and_persistent():
    side, weeks = 24, 12
    grids = lattice_grids(side, side)
    rng = np.random.default_rng(4)
    n = len(grids)
    per_week = rng.poisson(3, (n, weeks))
    new_block = [r * side + c for r in range(1, 5) for c in range(1, 5)]
    old_block = [r * side + c for r in range(side - 5, side - 1) for c in range(side - 5, side - 1)]
    per_week[np.ix_(new_block, [weeks - 1])] += 60
    per_week[np.ix_(old_block, range(weeks))] += 60
    frames = []
    for k in range(weeks):
        frames.append(cases_for_counts(grids, per_week[:, k], seed=k,
                                       start=str((pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=k)).date()), days=7))
    cases = pd.concat(frames, ignore_index=True)
    cases["case_id"] = [f"C{i:06d}" for i in range(len(cases))]
    table = build_case_table(cases, grids)
    counts, numbers = period_counts(table, period="week")
    assert counts.shape == (n, weeks)
    assert_array_equal(counts, per_week)
    res = emerging_hot_spots(table, queen_weights(grids), period="week")
    f = res.frame.set_index("grid_id")
    core_new = [f"G{r:02d}{c:02d}" for r in range(2, 4) for c in range(2, 4)]
    core_old = [f"G{r:02d}{c:02d}" for r in range(side - 4, side - 2) for c in range(side - 4, side - 2)]
    assert (f.loc[core_new, "pattern"] == "new_hot_spot").all()
    assert (f.loc[core_old, "pattern"].isin(["persistent_hot_spot", "intensifying_hot_spot",
                                             "diminishing_hot_spot"])).all()
    assert (f.loc[core_old, "hot_periods"] == weeks).all()
    assert len(res.period_starts) == weeks and res.period_starts[0] == pd.Timestamp("2024-01-01")
    # per-period z-scores are esda's
    assert_allclose(res.z[:, 3], _esda_gi(per_week[:, 3].astype(float), grids, transform="B").Zs, rtol=1e-10)
    # the two 4x4 blocks and their one-grid rings (Gi* counts neighbours) are 72 of 576 grids
    assert (f["pattern"] == "no_pattern").mean() > 1 - 80 / 576


def test_kernel_density_brute_force():
    # points on cell centres: the raster value is exactly the kernel sum at each centre
    cell, h = 10.0, 35.0
    pts = np.array([[55.0, 55.0], [55.0, 55.0], [95.0, 75.0], [135.0, 135.0]])
    kd = kernel_density_xy(pts[:, 0], pts[:, 1], bounds_m=(0.0, 0.0, 200.0, 200.0), cell_m=cell, bandwidth_m=h)
    ny, nx = kd.density.shape
    cx = (np.arange(nx) + 0.5) * cell
    cy = (np.arange(ny) + 0.5) * cell
    gx, gy = np.meshgrid(cx, cy)
    brute = np.zeros_like(gx)
    for px, py in pts:
        d2 = ((gx - px) ** 2 + (gy - py) ** 2) / h ** 2
        brute += np.where(d2 < 1, 3 / (np.pi * h ** 2) * (1 - d2) ** 2, 0.0)
    assert_allclose(kd.density, brute * 1e6, rtol=1e-9, atol=1e-9)
    # mass: the density integrates to about the number of points
    assert kd.density.sum() * cell * cell / 1e6 == pytest.approx(4, rel=0.02)


def test_kernel_density_of_cases(grids20):
    counts = np.zeros(400, dtype=int)
    counts[[0, 399]] = 50
    table = build_case_table(cases_for_counts(grids20, counts), grids20)
    kd = kernel_density(table, bandwidth_m=150.0)
    cells = kd.cells(min_share=0.5)
    # densest cells sit in the two corner grids
    g = grids20.set_index("grid_id").geometry
    from shapely import points
    inside = [g["G0000"].buffer(0.002).contains(p) or g["G1919"].buffer(0.002).contains(p)
              for p in points(cells["lon"], cells["lat"])]
    assert len(cells) > 0 and all(inside)
    assert kd.n_points == 100
    assert default_bandwidth_m(table.x_m, table.y_m) > 0
    with pytest.raises(AnalysisError, match=r"`cell_m` was 0 but must be greater than zero"):
        kernel_density(table, cell_m=0)


def test_grid_counts_and_filters(grids20):
    counts = np.arange(400) % 5
    cases = cases_for_counts(grids20, counts)
    table = build_case_table(cases, grids20)
    assert_array_equal(grid_counts(table), counts)
    east = grid_counts(table, CaseFilter(streets=("东街",)))
    is_east = (grids20["street"] == "东街").to_numpy()
    assert_array_equal(east, np.where(is_east, counts, 0))


def test_weights_subset_and_w():
    grids = lattice_grids(3, 3)
    w = queen_weights(grids)
    assert isinstance(w, GridWeights) and w.n == 9
    assert w.adjacency[4].sum() == 8  # the centre touches all
    sub = w.subset(np.array([0, 1, 3, 4]))
    assert_array_equal(sub.adjacency.toarray(), np.ones((4, 4)) - np.eye(4))
    lw = w.to_w()
    assert lw.cardinalities[4] == 9 and lw.weights[0] == [1.0] * 4


def test_kernel_density_of_a_tight_cluster_keeps_its_mass(grids20):
    # 30 cases in one corner grid, 30 in the far one; filtered to the corner, the bandwidth (~40 m) is far
    # below the cell that spreads max_cells over the whole district: the default cell must follow the bandwidth.
    counts = np.zeros(400, dtype=int)
    counts[[0, 399]] = 30
    table = build_case_table(cases_for_counts(grids20, counts, seed=5), grids20)
    flt = CaseFilter(grids=("G0000",))
    mask = table.grid == 0
    h = default_bandwidth_m(table.x_m[mask], table.y_m[mask])
    kd = kernel_density(table, flt, max_cells=2_500)
    assert kd.bandwidth_m == pytest.approx(h)
    assert kd.cell_m <= h / 4 + 1e-9
    assert kd.density.sum() * kd.cell_m ** 2 / 1e6 == pytest.approx(30, rel=0.03)
    # brute force at the densest cell centre: the quartic kernel summed over the exact case positions
    iy, ix = np.unravel_index(np.argmax(kd.density), kd.density.shape)
    cx, cy = kd.x0_m + (ix + 0.5) * kd.cell_m, kd.y0_m + (iy + 0.5) * kd.cell_m
    d2 = ((table.x_m[mask] - cx) ** 2 + (table.y_m[mask] - cy) ** 2) / h ** 2
    exact = np.where(d2 < 1, 3 / (np.pi * h ** 2) * (1 - d2) ** 2, 0.0).sum() * 1e6
    assert kd.density[iy, ix] == pytest.approx(exact, rel=0.1)
    # the whole district keeps its default raster
    full = kernel_density(table, max_cells=2_500)
    assert full.density.size <= 2_500 * 1.1
