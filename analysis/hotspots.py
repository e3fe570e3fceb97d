"""Where cases cluster: Getis-Ord Gi* hot spots, emerging hot spots, kernel density.

**Cases per grid.** Any `analysis.cases.CaseFilter` (period, category, source,
status, street, unit) gives a count per grid, or a rate per 1,000 residents
(grids with no residents are then left out of the statistic).

**Gi\\* (hot spot analysis).** PySAL esda's ``G_Local(star=True)`` on queen
contiguity of the grids (two grids are neighbours when their outlines touch,
at a corner or along an edge), each grid its own neighbour. By default the
weights are binary (``weights_scheme="binary"``, esda's ``transform="B"``),
whose esda z-scores equal ArcGIS's Gi* z-scores with row-standardised weights
(ArcGIS's formula is unchanged by row standardisation, see below);
``weights_scheme="row"`` (esda's ``"R"``) gives esda's row-standardised
moments. ``gi_z`` is esda's analytical z-score
(``Zs``) and ``gi_p`` its two-sided normal p-value ``2·(1 − Φ(|z|))``. The
confidence bins follow ArcGIS's Hot Spot Analysis with False Discovery Rate
correction: for each confidence level 90 %, 95 %, 99 % the Benjamini-Hochberg
cut-off of the p-values is found (``esda.fdr``), and a grid whose p-value is
below the cut-off of the 99 % level gets bin ±3, of 95 % ±2, of 90 % ±1, the
sign of its z-score (+ hot, − cold); other grids get 0. ``gi_p_sim`` is
the two-sided permutation pseudo p-value (conditional randomisation, 999
permutations by default, seeded), reported beside the analytical one as a
check and on the same footing: esda's ``p_sim`` is one-sided ("directed": the
share of permutations at least as extreme *in the tail the observed value
lies in*, ``(min(k, P − k) + 1) / (P + 1)`` with ``k`` the permutations whose
G is at least the observed one), so ``gi_p_sim = min(1, 2 · p_sim)``, as
``gi_p`` doubles the normal tail. Note on esda's moments with row-standardised weights: the variance
uses the row sum of the weights (1) where the Getis-Ord formula has the sum
of squared weights, so ``|gi_z|`` is about ``1/√k`` of the binary-weight
(ArcGIS) z-score for a grid with ``k`` neighbours including itself; the bins
are therefore conservative, and the permutation p-value, which does not
depend on that variance, is the check. Binary weights
give z-scores equal to ArcGIS's; row standardisation leaves the Gi* z of
ArcGIS's formula unchanged, since it scales a grid's weights by one constant.
On the bundled demo (232 grids, 12,000 cases) the row-standardised z-scores
flag no grid after FDR, binary weights flag 25, and 35 grids have a
two-sided permutation pseudo p below 0.01 (999 permutations, seed 0; 44
with esda's one-sided p_sim).

At least `MIN_GRIDS` (30) grids are needed, as ArcGIS advises for the
statistic to be meaningful.

**Emerging hot spots.** Cases are counted per grid and per week or month over
the filtered range (at least 10 periods, as ArcGIS requires). Gi\\* is
computed for every period (the same esda formula, vectorised over periods
with the sparse weights matrix; a period with no cases has z = 0) and binned
with FDR per period as above; a bin of ±1 or more is a significant hot (cold)
spot in that period. The Mann-Kendall trend test runs on each grid's series
of Gi\\* z-scores (S statistic, variance with ties correction, continuity
corrected z, two-sided p; a trend is significant when p < ``trend_alpha``,
0.05 by default). Each grid then gets one pattern, following ArcGIS's
Emerging Hot Spot Analysis (hot shown; cold is the mirror with cold spots):

- ``new_hot_spot``: hot in the final period and never hot before;
- ``consecutive_hot_spot``: a single uninterrupted run of at least two hot
  periods ending in the final period, never hot before that run, and hot in
  less than 90 % of the periods;
- ``intensifying_hot_spot``: hot in at least 90 % of the periods including the
  final one, and the z-scores trend significantly upward;
- ``persistent_hot_spot``: hot in at least 90 % of the periods including the
  final one, with no significant trend;
- ``diminishing_hot_spot``: hot in at least 90 % of the periods including the
  final one, and the z-scores trend significantly downward;
- ``sporadic_hot_spot``: hot in the final period, on-and-off before, hot in less
  than 90 % of the periods and never a cold spot;
- ``oscillating_hot_spot``: hot in the final period, a cold spot in some
  earlier period, hot in less than 90 % of the periods;
- ``historical_hot_spot``: not hot in the final period but hot in at least
  90 % of the periods;
- ``no_pattern``: none of the above.

Where two definitions fit a series hot in the final period and in less than
90 % of the periods, a former cold spot is ``oscillating`` (rather than
``new`` or ``consecutive``); the checks run in the order intensifying,
diminishing, persistent, oscillating, new, consecutive, sporadic, historical.

For the cold patterns, "upward"/"downward" are read on the intensity of
cold clustering: ``intensifying_cold_spot`` when the z-scores trend
significantly downward (colder), ``diminishing_cold_spot`` when upward.

**Kernel density.** A quartic (biweight) kernel, as ArcGIS's Kernel Density,
``K(d) = 3/(π h²) · (1 − d²/h²)²`` for ``d < h``, summed over the case points
on a raster of ``cell_m`` cells (points binned to cells, then an FFT
convolution), in cases per km². The default bandwidth is ArcGIS's:
``0.9 · min(SD, √(1/ln 2) · Dm) · n^−0.2`` with ``SD`` the standard distance
and ``Dm`` the median distance to the mean centre.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy import sparse, stats
from scipy.signal import fftconvolve

from analysis.cases import CaseFilter, CaseTable, _check_period, case_mask, period_start
from analysis.options import MEASURES, WEIGHTS_SCHEMES, Measure, Period, WeightsScheme, check_choice
from geo.calendar import month_of, week_index
from geo.errors import AnalysisError

_GLOBAL_RNG = threading.Lock()  # see gi_star

if TYPE_CHECKING:  # esda and libpysal are imported where used: a page that draws no Gi* never pays for them
    import libpysal

Transform = Literal["R", "B"]
"""esda's name for the weights scheme (its keyword ``transform``): "B" binary, "R" row-standardised."""
ESDA_TRANSFORM: dict[str, Transform] = {"binary": "B", "row": "R"}
MIN_GRIDS = 30
MIN_PERIODS = 10
CONFIDENCE_LEVELS: tuple[tuple[int, float], ...] = ((3, 0.01), (2, 0.05), (1, 0.10))
HOT_SHARE = 0.9
# Kernel density: the default raster has at least this many cells per bandwidth, and at most MAX_AUTO_CELLS.
KERNEL_CELLS_PER_BANDWIDTH = 4
MAX_AUTO_CELLS = 1_000_000
PATTERNS: tuple[str, ...] = (
    "new_hot_spot", "consecutive_hot_spot", "intensifying_hot_spot", "persistent_hot_spot",
    "diminishing_hot_spot", "sporadic_hot_spot", "oscillating_hot_spot", "historical_hot_spot",
    "new_cold_spot", "consecutive_cold_spot", "intensifying_cold_spot", "persistent_cold_spot",
    "diminishing_cold_spot", "sporadic_cold_spot", "oscillating_cold_spot", "historical_cold_spot",
    "no_pattern",
)


# --- weights ----------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class GridWeights:
    """Queen contiguity of grids: a binary symmetric adjacency (no self-links), grids in layer order."""

    grid_ids: tuple[str, ...]
    adjacency: sparse.csr_array

    @property
    def n(self) -> int:
        return len(self.grid_ids)

    def subset(self, positions: np.ndarray) -> GridWeights:
        """The weights among the grids at ``positions`` (links to other grids dropped)."""
        positions = np.asarray(positions, dtype="int64")
        sub = self.adjacency[positions][:, positions]
        return GridWeights(tuple(self.grid_ids[i] for i in positions), sparse.csr_array(sub))

    def star_matrix(self, weights_scheme: WeightsScheme = "row") -> sparse.csr_array:
        """Self included; rows summing to 1 (``"row"``) or binary (``"binary"``): the matrix Gi* uses."""
        m = (self.adjacency + sparse.eye_array(self.n, format="csr")).astype("float64")
        if _scheme(weights_scheme) == "binary":
            return sparse.csr_array(m)
        rows = np.asarray(m.sum(axis=1)).ravel()
        return sparse.csr_array(sparse.diags_array(1.0 / rows) @ m)

    def to_w(self) -> libpysal.weights.W:
        """A libpysal W (binary, self-weight 1 on the diagonal) for esda."""
        m = sparse.csr_array(self.adjacency + sparse.eye_array(self.n, format="csr")).astype("float64")
        neighbors: dict[int, list[int]] = {}
        weights: dict[int, list[float]] = {}
        for i in range(self.n):
            cols = m.indices[m.indptr[i]:m.indptr[i + 1]]
            neighbors[i] = cols.tolist()
            weights[i] = [1.0] * len(cols)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import libpysal

            w = libpysal.weights.W(neighbors, weights, id_order=list(range(self.n)), silence_warnings=True)
        w.transform = "B"
        return w


def queen_weights(grids: gpd.GeoDataFrame) -> GridWeights:
    """Queen contiguity: grids whose geometries share at least one point (or overlap) are neighbours."""
    if grids is None or len(grids) == 0:
        raise AnalysisError("there are no grids to build neighbours from", code="analysis.layer_missing",
                            params={"layer": "grids"})
    geoms = np.asarray(grids.geometry.values, dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    off = left != right
    n = len(geoms)
    data = np.ones(int(off.sum()), dtype="float64")
    adj = sparse.csr_array((data, (left[off], right[off])), shape=(n, n))
    adj = ((adj + adj.T) > 0).astype("float64")
    return GridWeights(tuple(grids["grid_id"].astype("string").tolist()), sparse.csr_array(adj))


# --- Gi* ------------------------------------------------------------------------

def two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided standard normal p-value of z-scores."""
    return 2.0 * stats.norm.sf(np.abs(np.asarray(z, dtype="float64")))


def fdr_cutoffs(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini-Hochberg cut-off per column of ``p`` (n, T), exactly as ``esda.fdr`` computes it.

    A p-value strictly below its column's cut-off is significant. With no
    rejection the cut-off is the Bonferroni bound ``alpha/n``.
    """
    p = np.asarray(p, dtype="float64")
    if p.ndim == 1:
        p = p[:, None]
    n = p.shape[0]
    ranked = np.sort(p, axis=0)  # ascending: rank k = 1..n
    k = np.arange(1, n + 1)[:, None]
    line = k * alpha / n
    below = ranked < line
    any_below = below.any(axis=0)
    last = n - 1 - np.argmax(below[::-1], axis=0)  # largest rank with p_(k) < k·alpha/n
    return np.where(any_below, (last + 1) * alpha / n, alpha / n)


def confidence_bins(z: np.ndarray, *, fdr: bool = True) -> np.ndarray:
    """Bins −3…3 for 99/95/90 % confidence from z-scores (per column when 2-D), FDR-corrected by default."""
    z = np.asarray(z, dtype="float64")
    flat = z.ndim == 1
    zz = z[:, None] if flat else z
    zz = np.where(np.isfinite(zz), zz, 0.0)
    p = two_sided_p(zz)
    bins = np.zeros(zz.shape, dtype="int8")
    for level, alpha in sorted(CONFIDENCE_LEVELS):  # 90 % first, then overwrite with stronger levels
        cut = fdr_cutoffs(p, alpha) if fdr else np.full(zz.shape[1], alpha)
        sig = p < cut[None, :] if fdr else p <= alpha
        bins = np.where(sig, np.sign(zz).astype("int8") * level, bins).astype("int8")
    return bins[:, 0] if flat else bins


def gi_star_z(values: np.ndarray, weights: GridWeights, *, weights_scheme: WeightsScheme = "binary") -> np.ndarray:
    """Analytical Gi* z-scores for each column of ``values`` (n grids × T periods), esda's formula.

    Identical to ``esda.G_Local(y, w, transform=ESDA_TRANSFORM[weights_scheme], star=True).Zs``
    column by column, computed for all periods at once with the sparse
    weights matrix.
    Columns whose values are all equal (for example all zero) get z = 0.
    """
    y = np.asarray(values, dtype="float64")
    flat = y.ndim == 1
    if flat:
        y = y[:, None]
    n = y.shape[0]
    if n != weights.n:
        raise AnalysisError(f"{n} values for {weights.n} grids", code="analysis.shape_mismatch",
                            params={"what": "values", "got": n, "expected": weights.n})
    w = weights.star_matrix(_scheme(weights_scheme))
    total = y.sum(axis=0)
    lag = w @ y
    mean = total / n
    var = (y ** 2).sum(axis=0) / n - mean ** 2
    card = np.asarray(w.sum(axis=1)).ravel()[:, None]
    expected = card / n
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = lag / total
        expected_var = card * (n - card) / (n - 1) / n ** 2 * (var / mean ** 2)
        z = (stat - expected) / np.sqrt(expected_var)
    degenerate = ~(np.isfinite(z)) | (var <= 1e-12 * np.maximum(mean ** 2, 1e-300))[None, :]
    z = np.where(degenerate, 0.0, z)
    return z[:, 0] if flat else z


@dataclass(frozen=True, eq=False)
class GiStar:
    """Gi* for one variable: esda z-scores, two-sided p, permutation pseudo p, FDR bins (arrays per grid)."""

    z: np.ndarray
    p: np.ndarray
    p_sim: np.ndarray
    bins: np.ndarray


def _scheme(weights_scheme: str) -> WeightsScheme:
    return check_choice("weights_scheme", weights_scheme, WEIGHTS_SCHEMES)


def _check_grids(n: int) -> None:
    if n < MIN_GRIDS:
        raise AnalysisError(f"Gi* needs at least {MIN_GRIDS} grids for a meaningful result; the selection has {n}",
                            code="analysis.too_few_grids", params={"n": n, "min": MIN_GRIDS})


def two_sided_p_sim(p_sim: np.ndarray) -> np.ndarray:
    """esda's one-sided ("directed") permutation pseudo p made two-sided: ``min(1, 2 · p_sim)``."""
    return np.minimum(1.0, 2.0 * np.asarray(p_sim, dtype="float64"))


def gi_star(values: np.ndarray, weights: GridWeights, *, permutations: int = 999, seed: int | None = 0,
            fdr: bool = True, weights_scheme: WeightsScheme = "binary") -> GiStar:
    """Gi* of one value per grid with esda (queen weights, self included; binary weights by default).

    ``p_sim`` is two-sided (`two_sided_p_sim` of esda's one-sided ``p_sim``).
    """
    scheme = _scheme(weights_scheme)
    y = np.asarray(values, dtype="float64")
    if y.ndim != 1 or len(y) != weights.n:
        raise AnalysisError(f"expected one value per grid ({weights.n}); got shape {y.shape}",
                            code="analysis.shape_mismatch",
                            params={"what": "values", "got": str(y.shape), "expected": weights.n})
    _check_grids(len(y))
    if permutations < 0:
        raise AnalysisError(f"`permutations` was {permutations} but must be 0 or more", code="analysis.negative",
                            params={"name": "permutations", "value": str(permutations)})
    if not np.isfinite(y).all():
        raise AnalysisError("some grid values are missing or infinite", code="analysis.values_not_finite")
    if y.sum() <= 0:
        raise AnalysisError("no cases in the selection: Gi* needs at least one case", code="analysis.no_cases_selected")
    if np.ptp(y) == 0:
        raise AnalysisError("every grid has the same value: there is nothing to cluster",
                            code="analysis.all_values_equal")
    import esda

    # esda (without numba) draws its permutations from NumPy's one global generator (np.random.seed, then
    # np.random.choice): two Gi* at once in threads of one process (a Dask worker's threads, two sessions of the
    # app) would interleave their draws and p_sim would change from run to run. One at a time per process.
    with _GLOBAL_RNG, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = esda.G_Local(y, weights.to_w(), transform=ESDA_TRANSFORM[scheme], star=True, permutations=permutations,
                         seed=seed, n_jobs=1, keep_simulations=False)
    z = np.asarray(g.Zs, dtype="float64")
    p_sim = two_sided_p_sim(g.p_sim) if permutations else np.full(len(y), np.nan)
    return GiStar(z=z, p=two_sided_p(z), p_sim=p_sim, bins=confidence_bins(z, fdr=fdr))


# --- per-grid values ------------------------------------------------------------

def _check_measure(measure: str) -> None:
    if measure not in MEASURES:
        check_choice("measure", measure, MEASURES)


def grid_counts(table: CaseTable, flt: CaseFilter | None = None) -> np.ndarray:
    """Filtered cases per grid (grid layer order); cases outside every grid are not counted."""
    mask = case_mask(table, flt) & (table.grid >= 0)
    return np.bincount(table.grid[mask], minlength=table.n_grids).astype("int64")


def grid_values(table: CaseTable, flt: CaseFilter | None = None) -> pd.DataFrame:
    """Per grid: ``grid_id, street, cases, population, rate_per_1000`` (NaN rate where nobody lives)."""
    counts = grid_counts(table, flt)
    pop = table.grid_population
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(pop > 0, counts / np.where(pop > 0, pop, 1.0) * 1000.0, np.nan)
    streets = np.array(table.streets, dtype=object)
    return pd.DataFrame({
        "grid_id": pd.array(table.grid_ids, dtype="string"),
        "street": pd.array(streets[table.grid_street] if len(streets) else [pd.NA] * table.n_grids,
                           dtype="string"),
        "cases": counts,
        "population": pop,
        "rate_per_1000": rate,
    })


def _analysed_grids(table: CaseTable, flt: CaseFilter, measure: str) -> np.ndarray:
    keep = np.ones(table.n_grids, dtype=bool)
    if flt.streets:
        wanted = [table.streets.index(s) for s in flt.streets if s in table.streets]
        keep &= np.isin(table.grid_street, wanted)
    if measure == "rate":
        keep &= table.grid_population > 0
    return np.flatnonzero(keep)


@dataclass(frozen=True)
class HotspotResult:
    """Gi* hot spots for one filter.

    ``frame``: one row per grid (grid layer order) with ``grid_id, street,
    cases, population, rate_per_1000, gi_z, gi_p, gi_p_sim, gi_bin``; grids
    outside the analysed set (another street, or no residents for a rate) have
    NaN statistics and bin 0. ``n_cases`` counts the filtered cases in grids.
    """

    frame: pd.DataFrame
    measure: str
    permutations: int
    seed: int | None
    n_cases: int
    n_grids_analysed: int


def hot_spots(
    table: CaseTable,
    weights: GridWeights,
    flt: CaseFilter | None = None,
    *,
    measure: Measure = "count",
    permutations: int = 999,
    seed: int | None = 0,
    weights_scheme: WeightsScheme = "binary",
) -> HotspotResult:
    """Gi* hot and cold spots of the filtered cases per grid (counts or rate per 1,000 residents).

    ``weights_scheme="binary"`` uses binary weights, whose z-scores equal ArcGIS's (with
    or without its row standardisation, which leaves Gi* z unchanged).
    """
    _check_measure(measure)
    flt = flt or CaseFilter()
    if weights.grid_ids != table.grid_ids:
        raise AnalysisError("the weights were built for other grids than the case table",
                            code="analysis.weights_mismatch")
    frame = grid_values(table, flt)
    n_cases = int(frame["cases"].sum())
    if n_cases == 0:
        raise AnalysisError(f"no cases match ({flt.describe()}): choose a longer period or fewer filters",
                            code="analysis.no_cases_match", params={"filter": flt.describe()})
    grids = _analysed_grids(table, flt, measure)
    _check_grids(len(grids))
    column = "cases" if measure == "count" else "rate_per_1000"
    y = frame[column].to_numpy(dtype="float64")[grids]
    gi = gi_star(y, weights.subset(grids), permutations=permutations, seed=seed,
                 weights_scheme=_scheme(weights_scheme))
    out = frame.copy()
    for name, vals in (("gi_z", gi.z), ("gi_p", gi.p), ("gi_p_sim", gi.p_sim)):
        col = np.full(table.n_grids, np.nan)
        col[grids] = vals
        out[name] = col
    bins = np.zeros(table.n_grids, dtype="int64")
    bins[grids] = gi.bins
    out["gi_bin"] = bins
    return HotspotResult(frame=out, measure=measure, permutations=permutations, seed=seed, n_cases=n_cases,
                         n_grids_analysed=len(grids))


# --- Mann-Kendall and emerging hot spots -----------------------------------------

@dataclass(frozen=True, eq=False)
class MannKendall:
    """Mann-Kendall trend test per row: S, its variance (ties corrected), z, two-sided p, Kendall's tau."""

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    tau: np.ndarray


def mann_kendall(series: np.ndarray) -> MannKendall:
    """Mann-Kendall test of each row of ``series`` (rows: grids; columns: periods in time order).

    ``S = Σ_{i<j} sign(x_j − x_i)``; ``Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)]/18``
    over groups of ``t`` tied values; ``z = (S − 1)/√Var`` if ``S > 0``,
    ``(S + 1)/√Var`` if ``S < 0``, else 0; ``p = 2·(1 − Φ(|z|))``;
    ``tau = S / (n(n−1)/2)``.
    """
    x = np.asarray(series, dtype="float64")
    flat = x.ndim == 1
    if flat:
        x = x[None, :]
    rows, n = x.shape
    if n < 3:
        raise AnalysisError(f"the Mann-Kendall test needs at least 3 periods; got {n}", code="analysis.too_few_periods",
                            params={"n": n, "min": 3})
    s = np.zeros(rows, dtype="float64")
    for lag in range(1, n):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    ordered = np.sort(x, axis=1)
    ties = np.zeros(rows, dtype="float64")
    new_group = np.ones((rows, n), dtype=bool)
    new_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    for r in np.flatnonzero(~new_group.all(axis=1)):
        starts = np.flatnonzero(new_group[r])
        t = np.diff(np.append(starts, n)).astype("float64")
        ties[r] = (t * (t - 1) * (2 * t + 5)).sum()
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var_s), np.where(s < 0, (s + 1) / np.sqrt(var_s), 0.0))
    z = np.where(np.isfinite(z), z, 0.0)
    p = two_sided_p(z)
    tau = s / (n * (n - 1) / 2.0)
    if flat:
        return MannKendall(s[0:1], var_s[0:1], z[0:1], p[0:1], tau[0:1])
    return MannKendall(s, var_s, z, p, tau)


def classify_patterns(bins: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray, *,
                      trend_alpha: float = 0.05) -> np.ndarray:
    """One emerging pattern per row of ``bins`` (grids × periods, time order) — see the module docstring."""
    b = np.asarray(bins)
    if b.ndim != 2:
        raise AnalysisError("`bins` must be a 2-D array (grids × periods)", code="analysis.shape_mismatch",
                            params={"what": "bins", "got": str(b.shape), "expected": "(grids, periods)"})
    rows, n = b.shape
    out = np.full(rows, "no_pattern", dtype=object)
    up = (np.asarray(trend_p) < trend_alpha) & (np.asarray(trend_z) > 0)
    down = (np.asarray(trend_p) < trend_alpha) & (np.asarray(trend_z) < 0)
    for kind, sig, other, more, less in (("hot", b >= 1, b <= -1, up, down), ("cold", b <= -1, b >= 1, down, up)):
        share = sig.sum(axis=1) / n
        final = sig[:, -1]
        before = sig[:, :-1].any(axis=1)
        # length of the run of significant periods ending in the final one, and anything before it
        rev = sig[:, ::-1]
        run = np.where(rev.all(axis=1), n, np.argmin(rev, axis=1))
        earlier = (sig & (np.arange(n)[None, :] < (n - run)[:, None])).any(axis=1)
        ever_other = other.any(axis=1)
        free = out == "no_pattern"
        mostly = share >= HOT_SHARE
        rules = [
            (final & mostly & more, f"intensifying_{kind}_spot"),
            (final & mostly & less, f"diminishing_{kind}_spot"),
            (final & mostly, f"persistent_{kind}_spot"),
            (final & ever_other, f"oscillating_{kind}_spot"),
            (final & ~before, f"new_{kind}_spot"),
            (final & (run >= 2) & ~earlier, f"consecutive_{kind}_spot"),
            (final, f"sporadic_{kind}_spot"),
            (~final & mostly, f"historical_{kind}_spot"),
        ]
        for cond, name in rules:
            hit = free & cond
            out[hit] = name
            free &= ~hit
    return out


@dataclass(frozen=True, eq=False)
class EmergingResult:
    """Emerging hot spots: ``frame`` per grid (``grid_id, street, pattern, hot_periods, cold_periods,
    final_bin, trend_z, trend_p, trend_tau``; grids not analysed have pattern ``<NA>``), the period
    start dates, and the per-period Gi* z-scores and bins of the analysed grids (grids × periods)."""

    frame: pd.DataFrame
    period: str
    period_starts: tuple[pd.Timestamp, ...]
    analysed: np.ndarray
    z: np.ndarray
    bins: np.ndarray
    counts: np.ndarray


def period_range(table: CaseTable, flt: CaseFilter | None = None, *, period: Period = "week") -> tuple[int, int]:
    """First and last period number that `period_counts` counts (see there)."""
    _check_period(period)
    flt = flt or CaseFilter()
    day0 = int(pd.Timestamp(flt.since).normalize().value // 86_400_000_000_000) if flt.since else int(table.day.min())
    last_day = int(table.day.max())
    as_of_day = int(table.as_of.value // 86_400_000_000_000)
    day1 = int(pd.Timestamp(flt.until).normalize().value // 86_400_000_000_000) if flt.until else min(
        max(as_of_day, int(table.day.min())), last_day)
    number = week_index if period == "week" else month_of
    return int(number(day0)), int(number(day1))


def period_counts(table: CaseTable, flt: CaseFilter | None = None, *, period: Period = "week"
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Filtered cases per grid and period: (grids × periods int64 matrix, period numbers).

    The periods run from the one containing ``flt.since`` (else the first
    report) to the one containing ``flt.until`` (else the table's as-of day,
    or the last report if later is not known).
    """
    _check_period(period)
    flt = flt or CaseFilter()
    mask = case_mask(table, flt) & (table.grid >= 0)
    codes = table.periods(period)
    first, last = period_range(table, flt, period=period)
    n_p = max(last - first + 1, 0)
    sel = mask & (codes >= first) & (codes <= last)
    flat = table.grid[sel].astype("int64") * n_p + (codes[sel].astype("int64") - first)
    counts = np.bincount(flat, minlength=table.n_grids * n_p).reshape(table.n_grids, n_p)
    return counts.astype("int64"), np.arange(first, last + 1)


def emerging_hot_spots(
    table: CaseTable,
    weights: GridWeights,
    flt: CaseFilter | None = None,
    *,
    period: Period = "week",
    measure: Measure = "count",
    trend_alpha: float = 0.05,
    weights_scheme: WeightsScheme = "binary",
) -> EmergingResult:
    """Emerging hot spot patterns of the filtered cases over weeks or months (see the module docstring)."""
    _check_measure(measure)
    _check_period(period)
    flt = flt or CaseFilter()
    if weights.grid_ids != table.grid_ids:
        raise AnalysisError("the weights were built for other grids than the case table",
                            code="analysis.weights_mismatch")
    counts, numbers = period_counts(table, flt, period=period)
    unit = "weeks" if period == "week" else "months"
    if counts.shape[1] < MIN_PERIODS:
        raise AnalysisError(f"emerging hot spots need at least {MIN_PERIODS} {unit}; "
                            f"the selection spans {counts.shape[1]}", code=f"analysis.too_few_{unit}",
                            params={"n": int(counts.shape[1]), "min": MIN_PERIODS})
    if counts.sum() == 0:
        raise AnalysisError(f"no cases match ({flt.describe()}): choose a longer period or fewer filters",
                            code="analysis.no_cases_match", params={"filter": flt.describe()})
    grids = _analysed_grids(table, flt, measure)
    _check_grids(len(grids))
    y = counts[grids].astype("float64")
    if measure == "rate":
        y = y / table.grid_population[grids][:, None] * 1000.0
    z = gi_star_z(y, weights.subset(grids), weights_scheme=_scheme(weights_scheme))
    bins = confidence_bins(z, fdr=True)
    mk = mann_kendall(z)
    patterns = classify_patterns(bins, mk.z, mk.p, trend_alpha=trend_alpha)
    n = table.n_grids
    frame = grid_values(table, flt)[["grid_id", "street"]].copy()
    pattern = np.full(n, None, dtype=object)
    pattern[grids] = patterns
    frame["pattern"] = pd.array(pattern, dtype="string")
    for name, vals, fill, dtype in (
        ("hot_periods", (bins >= 1).sum(axis=1), 0, "int64"),
        ("cold_periods", (bins <= -1).sum(axis=1), 0, "int64"),
        ("final_bin", bins[:, -1], 0, "int64"),
        ("trend_z", mk.z, np.nan, "float64"),
        ("trend_p", mk.p, np.nan, "float64"),
        ("trend_tau", mk.tau, np.nan, "float64"),
    ):
        col = np.full(n, fill, dtype=dtype)
        col[grids] = vals
        frame[name] = col
    starts = tuple(pd.Timestamp(d) for d in period_start(numbers, period))
    return EmergingResult(frame=frame, period=period, period_starts=starts, analysed=grids, z=z, bins=bins,
                          counts=counts[grids])


# --- kernel density ------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class KernelDensity:
    """A density surface in cases per km²: ``density`` (rows south→north, columns west→east),
    cell centres ``x0_m + (j + 0.5)·cell_m``, ``y0_m + (i + 0.5)·cell_m`` in ``crs``."""

    density: np.ndarray
    x0_m: float
    y0_m: float
    cell_m: float
    bandwidth_m: float
    crs: str
    n_points: int

    def cells(self, *, min_share: float = 0.01) -> pd.DataFrame:
        """Cells with density ≥ ``min_share`` × the maximum: ``lon, lat, density`` (WGS84 centres)."""
        d = self.density
        if d.size == 0 or not np.isfinite(d).any() or d.max() <= 0:
            return pd.DataFrame({"lon": [], "lat": [], "density": []})
        iy, ix = np.nonzero(d >= min_share * d.max())
        xs = self.x0_m + (ix + 0.5) * self.cell_m
        ys = self.y0_m + (iy + 0.5) * self.cell_m
        lon, lat = Transformer.from_crs(CRS.from_user_input(self.crs), "EPSG:4326", always_xy=True).transform(xs, ys)
        return pd.DataFrame({"lon": lon, "lat": lat, "density": d[iy, ix]})


def default_bandwidth_m(x_m: np.ndarray, y_m: np.ndarray) -> float:
    """ArcGIS's default search radius: ``0.9 · min(SD, √(1/ln 2) · Dm) · n^−0.2``."""
    x = np.asarray(x_m, dtype="float64")
    y = np.asarray(y_m, dtype="float64")
    n = len(x)
    if n < 2:
        raise AnalysisError("kernel density needs at least 2 cases", code="analysis.too_few_cases",
                            params={"n": n, "min": 2})
    cx, cy = x.mean(), y.mean()
    d2 = (x - cx) ** 2 + (y - cy) ** 2
    sd = float(np.sqrt(d2.sum() / n))
    dm = float(np.median(np.sqrt(d2)))
    h = 0.9 * min(sd, np.sqrt(1.0 / np.log(2.0)) * dm) * n ** -0.2
    if not np.isfinite(h) or h <= 0:
        h = max(sd, 1.0) * 0.9 * n ** -0.2
    return float(max(h, 1.0))


def kernel_density_xy(
    x_m: np.ndarray,
    y_m: np.ndarray,
    *,
    bounds_m: tuple[float, float, float, float],
    cell_m: float,
    bandwidth_m: float,
    crs: str = "",
) -> KernelDensity:
    """Quartic kernel density of points (metric coordinates) on a raster covering ``bounds_m``."""
    if cell_m <= 0:
        raise AnalysisError(f"`cell_m` was {cell_m} but must be greater than zero", code="analysis.not_positive",
                            params={"name": "cell_m", "value": str(cell_m)})
    if bandwidth_m <= 0:
        raise AnalysisError(f"`bandwidth_m` was {bandwidth_m} but must be greater than zero",
                            code="analysis.not_positive", params={"name": "bandwidth_m", "value": str(bandwidth_m)})
    minx, miny, maxx, maxy = bounds_m
    nx = max(int(np.ceil((maxx - minx) / cell_m)), 1)
    ny = max(int(np.ceil((maxy - miny) / cell_m)), 1)
    if nx * ny > 25_000_000:
        raise AnalysisError(f"a {cell_m} m raster over this area has {nx * ny:,} cells; choose larger cells",
                            code="analysis.raster_too_large", params={"cell_m": f"{cell_m:g}", "cells": f"{nx * ny:,}"})
    x = np.asarray(x_m, dtype="float64")
    y = np.asarray(y_m, dtype="float64")
    ix = np.floor((x - minx) / cell_m).astype("int64")
    iy = np.floor((y - miny) / cell_m).astype("int64")
    inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    grid = np.bincount(iy[inside] * nx + ix[inside], minlength=nx * ny).reshape(ny, nx).astype("float64")
    r = int(np.floor(bandwidth_m / cell_m))
    offs = np.arange(-r, r + 1) * cell_m
    dx, dy = np.meshgrid(offs, offs)
    u2 = (dx ** 2 + dy ** 2) / bandwidth_m ** 2
    kernel = np.where(u2 < 1.0, 3.0 / (np.pi * bandwidth_m ** 2) * (1.0 - u2) ** 2, 0.0)
    dens = fftconvolve(grid, kernel, mode="same") if grid.any() else np.zeros_like(grid)
    dens = np.clip(dens, 0.0, None) * 1e6  # per m² -> per km²
    dens[dens < 1e-9 * max(dens.max(), 1e-300)] = 0.0
    return KernelDensity(density=dens, x0_m=float(minx), y0_m=float(miny), cell_m=float(cell_m),
                         bandwidth_m=float(bandwidth_m), crs=crs, n_points=int(inside.sum()))


def kernel_density(
    table: CaseTable,
    flt: CaseFilter | None = None,
    *,
    cell_m: float | None = None,
    bandwidth_m: float | None = None,
    max_cells: int = 40_000,
) -> KernelDensity:
    """Kernel density of the filtered case points over the district (cases per km²).

    ``cell_m`` defaults to the size giving about ``max_cells`` cells over the
    extent of all cases; ``bandwidth_m`` to ArcGIS's default radius. When that
    cell would be coarser than a quarter of the bandwidth (a tight selection,
    such as one grid's cases), the raster covers the selected cases only, with
    cells of at most a quarter of the bandwidth (and no more than
    `MAX_AUTO_CELLS`), so the kernel is not squeezed into a cell or two (which
    would overstate the density and lose its shape).
    """
    flt = flt or CaseFilter()
    mask = case_mask(table, flt)
    if not mask.any():
        raise AnalysisError(f"no cases match ({flt.describe()}): choose a longer period or fewer filters",
                            code="analysis.no_cases_match", params={"filter": flt.describe()})
    finite = np.isfinite(table.x_m) & np.isfinite(table.y_m)
    allx, ally = table.x_m[finite], table.y_m[finite]
    x, y = table.x_m[mask & finite], table.y_m[mask & finite]
    h = bandwidth_m if bandwidth_m is not None else default_bandwidth_m(x, y)

    def _around(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float, float, float]:
        return float(xs.min()) - h, float(ys.min()) - h, float(xs.max()) + h, float(ys.max()) + h

    def _area(b: tuple[float, float, float, float]) -> float:
        return (b[2] - b[0]) * (b[3] - b[1])

    bounds = _around(allx, ally)
    if cell_m is None:
        cell_m = float(max(np.sqrt(_area(bounds) / max_cells), 1.0))
        if cell_m > h / KERNEL_CELLS_PER_BANDWIDTH:
            bounds = _around(x, y)
            cell_m = float(max(min(np.sqrt(_area(bounds) / max_cells), h / KERNEL_CELLS_PER_BANDWIDTH),
                               np.sqrt(_area(bounds) / MAX_AUTO_CELLS), 1e-3))
    return kernel_density_xy(x, y, bounds_m=bounds, cell_m=cell_m, bandwidth_m=h, crs=table.crs)


# --- one table per grid (the CLI's output) -------------------------------------------

HOTSPOT_COLUMNS = ("grid_id", "cases", "rate_per_1000", "gi_z", "gi_p", "gi_p_sim", "gi_bin", "pattern")


@dataclass(frozen=True)
class HotspotReport:
    """Hot spots and emerging patterns in one frame (`HOTSPOT_COLUMNS`), and notes for the reader."""

    frame: pd.DataFrame
    hot: HotspotResult
    emerging: EmergingResult | None
    notes: tuple[str, ...]


def hotspot_report(
    table: CaseTable,
    weights: GridWeights,
    flt: CaseFilter | None = None,
    *,
    measure: Measure = "count",
    permutations: int = 999,
    seed: int | None = 0,
    period: Period = "week",
    weights_scheme: WeightsScheme = "binary",
) -> HotspotReport:
    """Gi* of the whole filtered range plus the emerging pattern over its weeks or months, per grid.

    When the range is shorter than `MIN_PERIODS` periods the pattern is left
    empty and a note says why (the hot spots are still computed).
    """
    scheme = _scheme(weights_scheme)
    hot = hot_spots(table, weights, flt, measure=measure, permutations=permutations, seed=seed,
                    weights_scheme=scheme)
    notes: list[str] = []
    emerging: EmergingResult | None = None
    pattern = pd.array([pd.NA] * table.n_grids, dtype="string")
    try:
        emerging = emerging_hot_spots(table, weights, flt, period=period, measure=measure, weights_scheme=scheme)
        pattern = emerging.frame["pattern"].array
    except AnalysisError as err:
        if err.code not in ("analysis.too_few_weeks", "analysis.too_few_months"):
            raise
        notes.append(f"pattern left empty: {err}")
    f = hot.frame
    frame = pd.DataFrame({
        "grid_id": f["grid_id"], "cases": f["cases"], "rate_per_1000": f["rate_per_1000"].round(4),
        "gi_z": f["gi_z"].round(6), "gi_p": f["gi_p"].round(6), "gi_p_sim": f["gi_p_sim"].round(4),
        "gi_bin": f["gi_bin"], "pattern": pattern,
    })
    if table.outside:
        notes.append(f"{table.outside} case(s) lie outside every grid and are not counted per grid")
    return HotspotReport(frame=frame, hot=hot, emerging=emerging, notes=tuple(notes))
