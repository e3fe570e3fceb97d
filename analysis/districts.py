"""The city level and the per-district analyses: one pipeline each, whatever runs it.

Contract
--------
Every function here takes ``client`` (a ``distributed.Client`` from
`analysis.distributed.connect`, or ``None``): its heavy steps — counting cases
per grid and period in chunks, and the statistics of each group of grids —
run as Dask tasks on that cluster, or in this process without one, through
the same functions on the same inputs. So a command writes the same bytes
with and without ``--scheduler`` (``tests/analysis/test_executor_identity.py``
runs them on a real two-worker cluster), and the page and the CLI agree.

- `grid_hotspots`: Gi* of the filtered cases per grid (counts, or per 1,000
  residents) and the emerging pattern over weeks or months, across the whole
  dataset (``by=None``: one group, the answer of
  `analysis.hotspots.hotspot_report`) or within each group of grids
  (``by="district"``, else any grids column): one row per grid in grid
  order, ``grid_id``, [``by``], ``cases, rate_per_1000, gi_z, gi_p, gi_p_sim,
  gi_bin, pattern`` — the same columns whichever executor ran it.
- `district_hotspots`: the same statistics per district from a grids ×
  periods count matrix that a store counted (the city page: the counts come
  from SQL, the cases are never loaded).
- `EMERGING` (``new_hot_spot``, ``intensifying_hot_spot``): what the city
  page counts as "emerging" — new or intensifying, as the README says;
  `emerging_count`.
- `league_table`: one row per district from the city's grids, coverage,
  facilities, the store's case counts and the district hot spots.
- `city_overview_of`: what the whole city's overview draws (`CityOverview`:
  district outlines dissolved and simplified, the league table, the
  version's meta), derived once per version and kept in the store's
  ``derived(version)`` (entry `CITY_OVERVIEW`): built as an import's last
  step, so the overview's first visit reads no grid or case layer.
- `grid_coverage`: coverage per grid, one task per district of a city (one
  for a district dataset), in-process or on the cluster: the ``coverage``
  command.
- `site_answer`: the whole dataset's siting answer as one task (the
  ``site`` command without ``--per-district``).
- `district_siting_curves`: each district's siting coverage curve
  (`analysis.distributed.district_siting_curves`), for the CLI's
  ``site --per-district`` and the page alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.cases import CaseFilter, CaseTable, case_mask
from analysis.distributed import (
    DistrictCurve,
    DistrictHotspots,
    _gather_map,
    _groups,
    grid_period_counts,
)
from analysis.distributed import district_siting_curves as _district_siting_curves
from analysis.hotspots import (
    MIN_PERIODS,
    GridWeights,
    _analysed_grids,
    _check_grids,
    _check_measure,
    _scheme,
    classify_patterns,
    confidence_bins,
    gi_star,
    gi_star_z,
    grid_values,
    mann_kendall,
    period_range,
    queen_weights,
)
from analysis.options import Measure, Period, WeightsScheme
from analysis.pagedata import (
    CITY_OVERVIEW,  # the version's derived entry (`city_overview_of`); change when the class changes
)
from geo.errors import AnalysisError

if TYPE_CHECKING:
    from distributed import Client

EMERGING: tuple[str, ...] = ("new_hot_spot", "intensifying_hot_spot")
HOTSPOT_COLUMNS: tuple[str, ...] = ("grid_id", "cases", "rate_per_1000", "gi_z", "gi_p", "gi_p_sim", "gi_bin",
                                    "pattern")


# --- the statistics of one group of grids (one task) -----------------------------------------------------------


@dataclass(frozen=True)
class GroupStatistics:
    """Gi* and the emerging pattern of one group's analysed grids (arrays in the order given).

    ``pattern`` is None when the range has fewer than `MIN_PERIODS` periods
    (``note`` says so); ``error``: why the group has no statistics at all
    (then every array is None).
    """

    name: str
    z: np.ndarray | None = None
    p: np.ndarray | None = None
    p_sim: np.ndarray | None = None
    bins: np.ndarray | None = None
    pattern: np.ndarray | None = None
    trend: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # Mann-Kendall z, p, tau of each grid
    period_bins: np.ndarray | None = None  # grids × periods confidence bins
    note: str | None = None
    error: AnalysisError | None = None


def group_statistics(name: str, totals: np.ndarray, periods: np.ndarray, weights: GridWeights, *,
                     period: Period = "week", permutations: int = 999, seed: int | None = 0,
                     weights_scheme: WeightsScheme = "binary", trend_alpha: float = 0.05) -> GroupStatistics:
    """Gi* of ``totals`` and the emerging pattern of ``periods`` (grids × periods) on ``weights``.

    The calls of `analysis.hotspots.hot_spots` and `analysis.hotspots.emerging_hot_spots`, on arrays: what a
    task ships is the group's values and weights, never the cases. An `AnalysisError` becomes ``error``.
    """
    try:
        _check_grids(len(totals))
        gi = gi_star(np.asarray(totals, dtype="float64"), weights, permutations=permutations, seed=seed,
                     weights_scheme=weights_scheme)
    except AnalysisError as err:
        return GroupStatistics(name=name, error=err)
    unit = "weeks" if period == "week" else "months"
    if periods.shape[1] < MIN_PERIODS:
        return GroupStatistics(name=name, z=gi.z, p=gi.p, p_sim=gi.p_sim, bins=gi.bins,
                               note=f"pattern left empty: emerging hot spots need at least {MIN_PERIODS} {unit}; "
                                    f"the selection spans {periods.shape[1]}")
    z = gi_star_z(np.asarray(periods, dtype="float64"), weights, weights_scheme=weights_scheme)
    bins = confidence_bins(z, fdr=True)
    mk = mann_kendall(z)
    pattern = np.asarray(classify_patterns(bins, mk.z, mk.p, trend_alpha=trend_alpha), dtype=object)
    return GroupStatistics(name=name, z=gi.z, p=gi.p, p_sim=gi.p_sim, bins=gi.bins, pattern=pattern,
                           trend=(mk.z, mk.p, mk.tau), period_bins=bins)


def _group_task(name: str, totals: np.ndarray, periods: np.ndarray, weights: GridWeights, **kw: Any
                ) -> GroupStatistics:
    return group_statistics(name, totals, periods, weights, **kw)


# --- the pipeline: counts, groups, statistics, one frame -----------------------------------------------------


@dataclass(frozen=True)
class HotspotRun:
    """What `grid_hotspots` found: ``frame`` (see the module Contract) and figures for the summary.

    ``groups`` names each group (one, ``""``, across the whole dataset);
    ``notes`` say what is missing (a group without statistics, a pattern left
    empty, cases outside every grid); ``n_periods`` is the emerging range.
    """

    frame: pd.DataFrame
    by: str | None
    groups: tuple[str, ...]
    n_cases: int
    n_grids_analysed: int
    n_periods: int
    notes: tuple[str, ...]


def grid_hotspots(table: CaseTable, grids: gpd.GeoDataFrame, flt: CaseFilter | None = None, *,
                  by: str | None = None, measure: Measure = "count", permutations: int = 999, seed: int | None = 0,
                  period: Period = "week", weights_scheme: WeightsScheme = "binary", trend_alpha: float = 0.05,
                  client: Client | None = None) -> HotspotRun:
    """Hot spots per grid, across the dataset (``by=None``) or within each group of grids (``by`` column).

    Across the dataset, a selection Gi* cannot analyse (no case, too few
    grids) raises `AnalysisError` as `analysis.hotspots.hotspot_report` does;
    within groups, such a group gets NaN statistics, bin 0 and a note.
    """
    _check_measure(measure)
    flt = flt or CaseFilter()
    if len(grids) != table.n_grids or tuple(grids["grid_id"].astype("string")) != table.grid_ids:
        raise AnalysisError("the grids are not those the case table was built from", code="analysis.weights_mismatch")
    values = grid_values(table, flt)  # cases, population and rate per grid (a bincount: in-process)
    n_cases = int(values["cases"].sum())
    if by is None and n_cases == 0:
        raise AnalysisError(f"no cases match ({flt.describe()}): choose a longer period or fewer filters",
                            code="analysis.no_cases_match", params={"filter": flt.describe()})
    keep = case_mask(table, flt) & (table.grid >= 0)
    first, last = period_range(table, flt, period=period)
    periods = grid_period_counts(np.where(keep, table.grid, -1), table.periods(period), n_grids=table.n_grids,
                                 first=first, last=last, client=client) if last >= first else \
        np.zeros((table.n_grids, 0), dtype="int64")
    if by is None and periods.shape[1] >= MIN_PERIODS and periods.sum() == 0:
        raise AnalysisError(f"no cases match ({flt.describe()}): choose a longer period or fewer filters",
                            code="analysis.no_cases_match", params={"filter": flt.describe()})
    analysed = np.zeros(table.n_grids, dtype=bool)
    analysed[_analysed_grids(table, flt, measure)] = True
    column = "cases" if measure == "count" else "rate_per_1000"
    y = values[column].to_numpy(dtype="float64")
    population = table.grid_population
    weights = queen_weights(grids)
    items, positions = [], []
    for name, rows in _groups(grids, by).items():
        rows = rows[analysed[rows]]
        y_periods = periods[rows].astype("float64")
        if measure == "rate":
            y_periods = y_periods / population[rows][:, None] * 1000.0
        items.append((name, y[rows], y_periods, weights.subset(rows)))
        positions.append(rows)
    scheme = _scheme(weights_scheme)
    stats: list[GroupStatistics] = _gather_map(client, _group_task, items,
                                               {"period": period, "permutations": permutations, "seed": seed,
                                                "weights_scheme": scheme, "trend_alpha": trend_alpha})
    n = table.n_grids
    z, p, p_sim = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    bins = np.zeros(n, dtype="int64")
    pattern = np.full(n, None, dtype=object)
    notes: list[str] = []
    for s, rows in zip(stats, positions, strict=True):
        if s.error is not None:
            if by is None:
                raise s.error
            notes.append(f"{s.name}: {s.error.message}")
            continue
        z[rows], p[rows], p_sim[rows], bins[rows] = s.z, s.p, s.p_sim, s.bins
        if s.pattern is not None:
            pattern[rows] = s.pattern
        elif s.note:
            notes.append(s.note if by is None else f"{s.name}: {s.note}")
    frame = pd.DataFrame({
        "grid_id": values["grid_id"], "cases": values["cases"], "rate_per_1000": values["rate_per_1000"].round(4),
        "gi_z": pd.Series(z).round(6), "gi_p": pd.Series(p).round(6), "gi_p_sim": pd.Series(p_sim).round(4),
        "gi_bin": bins, "pattern": pd.array(pattern, dtype="string"),
    })
    if by is not None:
        labels = grids[by].astype("string").fillna("").to_numpy(dtype=object)
        frame.insert(1, by, pd.array(labels, dtype="string"))
    if table.outside:
        notes.append(f"{table.outside} case(s) lie outside every grid and are not counted per grid")
    return HotspotRun(frame=frame, by=by, groups=tuple(s.name for s in stats), n_cases=n_cases,
                      n_grids_analysed=int(analysed.sum()), n_periods=int(periods.shape[1]), notes=tuple(notes))


# --- the city page: per-district hot spots from a store's counts ------------------------------------------------


def district_hotspots(grids: gpd.GeoDataFrame, counts: np.ndarray, *, by: str = "district",
                      client: Client | None = None, permutations: int = 0, seed: int | None = 0,
                      weights_scheme: WeightsScheme = "binary") -> list[DistrictHotspots]:
    """Gi* and emerging patterns per district from ``counts`` (grids × weeks, grids order), one task each.

    For the city page, whose counts come from the store (SQL): the same statistics (`group_statistics`) as
    `grid_hotspots` on counts.
    """
    if counts.shape[0] != len(grids):
        raise AnalysisError(f"`counts` has {counts.shape[0]} rows but there are {len(grids)} grids",
                            code="analysis.shape_mismatch",
                            params={"what": "counts", "got": counts.shape[0], "expected": len(grids)})
    items, frames = [], []
    for name, rows in _groups(grids, by).items():
        sub = grids.iloc[rows]
        total = counts[rows].sum(axis=1)
        items.append((name, total.astype("float64"), counts[rows].astype("float64"), queen_weights(sub)))
        frames.append(pd.DataFrame({"grid_id": pd.array(sub["grid_id"].astype(str), dtype="string"),
                                    "cases": total.astype("int64")}))
    stats: list[GroupStatistics] = _gather_map(client, _group_task, items,
                                               {"period": "week", "permutations": permutations, "seed": seed,
                                                "weights_scheme": weights_scheme})
    out = []
    for s, frame in zip(stats, frames, strict=True):
        n = len(frame)
        ok = s.error is None
        nan = np.full(n, np.nan)
        zeros = np.zeros(n, dtype="int64")
        pb = s.period_bins
        trend = s.trend or (nan, nan, nan)
        frame = frame.assign(gi_z=s.z if ok else nan, gi_p=s.p if ok else nan, gi_p_sim=s.p_sim if ok else nan,
                             gi_bin=s.bins.astype("int64") if ok else zeros,
                             pattern=pd.array(s.pattern if ok and s.pattern is not None else [pd.NA] * n,
                                              dtype="string"),
                             hot_periods=(pb >= 1).sum(axis=1).astype("int64") if pb is not None else zeros,
                             cold_periods=(pb <= -1).sum(axis=1).astype("int64") if pb is not None else zeros,
                             final_bin=pb[:, -1].astype("int64") if pb is not None else zeros,
                             trend_z=trend[0], trend_p=trend[1], trend_tau=trend[2])
        out.append(DistrictHotspots(district=s.name, frame=frame, n_cases=int(frame["cases"].sum()),
                                    note=None if ok else s.error.message))
    return out


def emerging_count(pattern: pd.Series) -> int:
    """Grids whose pattern is new or intensifying (`EMERGING`)."""
    return int(pattern.astype("string").isin(EMERGING).fillna(False).sum())


def district_patterns(grids: gpd.GeoDataFrame, counts: np.ndarray, *, client: Client | None = None
                      ) -> pd.DataFrame:
    """Per district: ``district, hot_grids`` (Gi* bin above 0) ``, emerging`` (new or intensifying); NaN for a
    district without statistics. ``counts``: grids × weeks (`district_hotspots`)."""
    if counts.shape[1] == 0:
        return pd.DataFrame({"district": pd.Series(dtype="string"), "hot_grids": [], "emerging": []})
    rows = []
    for part in district_hotspots(grids, counts, client=client, permutations=0):
        ok = part.note is None
        rows.append({"district": part.district, "hot_grids": int((part.frame["gi_bin"] > 0).sum()) if ok else np.nan,
                     "emerging": emerging_count(part.frame["pattern"]) if ok else np.nan})
    return pd.DataFrame(rows)


# --- the league table --------------------------------------------------------------------------------------------


def league_table(grids: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, coverage: pd.DataFrame,
                 case_counts: pd.DataFrame, patterns: pd.DataFrame, *,
                 outlines: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """One row per district (grids' order): ``district, grids, streets, population, elderly, elderly_share,
    facilities, coverage, cases, open, overdue, overdue_per_10k, hot_grids, emerging``.

    ``coverage``: per grid ``grid_id, elderly, covered_elderly`` (`analysis.coverage.compute_coverage`);
    ``case_counts``: per district ``district, cases, open, overdue`` (the store's counts); ``patterns``:
    `district_patterns`; ``outlines``: `district_outlines` of ``grids`` when already made (facilities are
    counted within them).
    """
    by = grids.groupby("district", sort=False)
    table = pd.DataFrame({"grids": by.size(), "streets": by["street"].nunique(),
                          "population": by["population"].sum(), "elderly": by["elderly"].sum()})
    table["elderly_share"] = table["elderly"] / table["population"]
    if outlines is None:
        outlines = district_outlines(grids)
    fac = gpd.sjoin(facilities[["facility_id", "geometry"]], outlines[["district", "geometry"]], predicate="within",
                    how="inner")
    table["facilities"] = fac.groupby("district").size().reindex(table.index).fillna(0).astype("int64")
    district_of = grids.set_index(grids["grid_id"].astype(str))["district"]
    cov = coverage.assign(district=district_of.loc[coverage["grid_id"].astype(str)].to_numpy())
    covered = cov.groupby("district")[["elderly", "covered_elderly"]].sum()
    table["coverage"] = (covered["covered_elderly"] / covered["elderly"]).reindex(table.index)
    counts = case_counts.set_index("district") if len(case_counts) else None
    for c in ("cases", "open", "overdue"):
        table[c] = counts[c].reindex(table.index).fillna(0).astype("int64") if counts is not None else 0
    table["overdue_per_10k"] = np.where(table["population"] > 0, table["overdue"] / table["population"] * 1e4,
                                        np.nan)
    pats = patterns.set_index("district") if len(patterns) else None
    for c in ("hot_grids", "emerging"):
        table[c] = pats[c].reindex(table.index) if pats is not None else np.nan
    return table.rename_axis("district").reset_index()


# --- the city overview: derived once per version ----------------------------------------------------------------

OUTLINE_SIMPLIFY_M = 60.0  # outlines as drawn: 13 shapes at city zoom (the map's own simplification)
OUTLINE_COLUMNS: tuple[str, ...] = ("district", "population", "elderly", "elderly_per_km2", "geometry")


@dataclass(frozen=True)
class CityOverview:
    """What the whole city's overview draws, derived once per version and kept with it (`city_overview_of`).

    ``districts``: the grids' ``district`` values in layer order; ``outlines``: one row per district
    (`OUTLINE_COLUMNS`: residents, aged 60+ and aged 60+ per km² of the dissolved grids, measured in the
    city's UTM zone before the outline is simplified by `OUTLINE_SIMPLIFY_M` metres; WGS84); ``table``: the
    `league_table`; ``name`` and ``meta``: the version's (as `geo.storage.DatasetStore.load` gives them);
    ``layers``: rows per layer of the version.
    """

    districts: tuple[str, ...]
    outlines: gpd.GeoDataFrame
    table: pd.DataFrame
    name: str
    meta: tuple[tuple[str, str], ...]
    layers: tuple[tuple[str, int], ...]


def district_outlines(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One outline per district (grids' order), dissolved from its grids, with residents and aged 60+ summed."""
    sums = grids.groupby("district", sort=False)[["population", "elderly"]].sum()
    shapes = grids[["district", "geometry"]].dissolve(by="district", sort=False)
    return shapes.join(sums).reset_index()


def week_matrix(counts: pd.DataFrame, grids: gpd.GeoDataFrame) -> np.ndarray:
    """Cases per grid (grids' order) and week from a store's ``case_counts(("grid_id", "week"))``: grids × weeks
    from the first week counted to the last (no column without a case)."""
    pos = pd.Categorical(counts["grid_id"], categories=grids["grid_id"].astype("string")).codes
    counts = counts[pos >= 0].assign(pos=pos[pos >= 0])
    if counts.empty:
        return np.zeros((len(grids), 0), dtype="int64")
    first, last = int(counts["week"].min()), int(counts["week"].max())
    matrix = np.zeros((len(grids), last - first + 1), dtype="int64")
    matrix[counts["pos"].to_numpy(), counts["week"].to_numpy() - first] = counts["cases"].to_numpy()
    return matrix


def city_overview(ds: Any, district_counts: pd.DataFrame, week_counts: pd.DataFrame, *,
                  layers: Sequence[tuple[str, int]] = (), client: Client | None = None) -> CityOverview:
    """The `CityOverview` of a city ``ds`` (grids with ``district``, facilities, estates; no cases needed).

    ``district_counts``: the store's ``case_counts(("district",), as_of=…)``; ``week_counts``: its
    ``case_counts(("grid_id", "week"))`` (the hot spots of `district_patterns`). Day-care coverage as the
    overview's (`analysis.coverage.DEFAULT_RADIUS_M`).
    """
    from analysis.coverage import DEFAULT_RADIUS_M, compute_coverage

    grids = ds.grids
    if "district" not in grids.columns:
        raise AnalysisError("the grids layer has no column 'district' to split by",
                            code="analysis.group_column_missing", params={"column": "district"})
    cov = compute_coverage(ds, facility_types=("day_care",), radius_m=DEFAULT_RADIUS_M["day_care"]).grids
    patterns = district_patterns(grids, week_matrix(week_counts, grids), client=client)
    outlines = district_outlines(grids)
    table = league_table(grids, ds.facilities, cov, district_counts[["district", "cases", "open", "overdue"]],
                         patterns, outlines=outlines)
    metric = outlines.to_crs(ds.metric_crs)
    outlines["elderly_per_km2"] = (outlines["elderly"] / (metric.area / 1e6)).round(0)
    simple = metric.geometry.simplify(OUTLINE_SIMPLIFY_M, preserve_topology=True).to_crs(grids.crs)
    outlines = outlines.set_geometry(simple.to_numpy()).set_crs(grids.crs, allow_override=True)
    names = tuple(str(d) for d in pd.unique(grids["district"].dropna().astype(str)))
    return CityOverview(districts=names, outlines=outlines[list(OUTLINE_COLUMNS)].reset_index(drop=True),
                        table=table, name=ds.name, meta=tuple(ds.meta), layers=tuple(layers))


def city_overview_of(store: Any, *, version: int | None = None, client: Client | None = None) -> CityOverview:
    """The city overview of a store's version (default: the current one), kept in its ``derived(version)``.

    Built at import (``cli.py demo``/``import``/``restore`` and the 数据管理 page call it as the version's last
    step) from the city without its cases and the store's counts (in SQL on PostGIS); a version made before
    builds it on its first open, once. Reading it back reads no layer.
    """
    cache = store.derived(version)

    def build() -> CityOverview:
        ds = store.load(version, layers=("estates",))
        counts = store.case_counts(("district",), version=version, as_of=ds.meta_dict.get("as_of"))
        weeks = store.case_counts(("grid_id", "week"), version=version)
        info = store.current() if version is None else next(v for v in store.versions() if v.id == version)
        return city_overview(ds, counts, weeks, layers=info.layers, client=client)

    return cache.get(CITY_OVERVIEW, build)


# --- coverage: one pipeline, groups of grids beneath -----------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRun:
    """`grid_coverage`'s answer: ``grids`` (`analysis.coverage.CoverageResult.grids`, grid order), the resolved
    ``params``, district ``totals`` and the grouping ``by`` it ran on (None: the whole dataset as one)."""

    grids: pd.DataFrame
    params: Any
    totals: Any
    by: str | None


def grid_coverage(ds: Any, *, client: Client | None = None, **options: Any) -> CoverageRun:
    """Coverage per grid of a dataset: one task per district of a city (grids' ``district`` column), one task for
    a district dataset.

    ``options`` are `analysis.coverage.compute_coverage`'s. The groups follow from the data, never from the
    executor: in-process or on a cluster the same groups go through `analysis.distributed.district_coverage`.
    A district dataset's figures are `compute_coverage`'s; a city's are each district's own (measured in its
    UTM zone, as its pages measure it; every district sees every facility).
    """
    from analysis.coverage import district_totals, prepare_inputs, resolve_params
    from analysis.distributed import district_coverage

    defaults = {"facility_types": ("day_care",), "radius_m": None, "distance": "euclidean", "weight": "elderly",
                "include_planned": False}  # compute_coverage's
    params = resolve_params(prepare_inputs(ds), **{k: options.get(k, v) for k, v in defaults.items()})  # bad
    # options fail here, before any task
    by = "district" if "district" in ds.grids.columns else None
    layers = {n: ds.layer(n) for n in ("grids", "facilities", "estates", "roads")}
    grids = district_coverage(layers, by=by, client=client, **options)
    return CoverageRun(grids=grids, params=params, totals=district_totals(grids), by=by)


# --- siting: the whole dataset's answer as one task ----------------------------------------------------------------


@dataclass(frozen=True)
class SiteAnswer:
    """`site_answer`'s result: the `analysis.siting.SitingResult`, its `analysis.siting.summary` figures, and
    the `analysis.siting.SitingRun` (with its coverage curve) when asked for one to save."""

    result: Any
    summary: dict[str, Any]
    run: Any | None


def _site_task(ds: Any, request: Any, n_new: int | None, keep_run: bool, time_limit_s: float) -> SiteAnswer:
    from analysis.siting import run_siting, siting_problem, solve_siting, summary
    from analysis.siting.exact import fewest_sites

    prob = siting_problem(ds, request.params)
    run = None
    if keep_run:
        run = run_siting(prob, request, time_limit_s=time_limit_s)
        result = run.result
    elif request.mode == "target":
        result = fewest_sites(prob, target_share=request.target_share, solver=request.solver,
                              time_limit_s=time_limit_s)
    else:
        result = solve_siting(prob, n_new=request.n_new if n_new is None else n_new, solver=request.solver,
                              time_limit_s=time_limit_s)
    return SiteAnswer(result=result, summary=summary(prob, result), run=run)


def site_answer(ds: Any, request: Any, *, n_new: int | None = None, keep_run: bool = False,
                time_limit_s: float = 60.0, client: Client | None = None) -> SiteAnswer:
    """The whole dataset's siting answer (``request``: `analysis.siting.SitingRequest`: N new stations, or the
    fewest for a target share), as one task: on the cluster with ``client``, else here. ``n_new``: N as asked,
    checked by the solver (``request.n_new`` when None); ``keep_run``: trace the coverage curve too
    (`analysis.siting.run_siting`, for saving a scenario). The cases never travel."""
    from geo.dataset import Dataset

    slim = Dataset(grids=ds.grids, facilities=ds.facilities, estates=ds.estates, candidates=ds.candidates,
                   roads=ds.roads, name=ds.name, meta=ds.meta)
    return _gather_map(client, _site_task, [(slim, request, n_new, keep_run, time_limit_s)], {})[0]


# --- siting curves per district ------------------------------------------------------------------------------------


def district_siting_curves(ds: Any, params: Any, *, by: str = "district", max_new: int = 10, solver: str = "exact",
                           time_limit_s: float = 60.0, client: Client | None = None) -> list[DistrictCurve]:
    """Each district's siting coverage curve, one task per district (`analysis.distributed.district_siting_curves`)."""
    return _district_siting_curves(ds, params, by=by, max_new=max_new, solver=solver, time_limit_s=time_limit_s,
                                   client=client)


__all__: Sequence[str] = ("CITY_OVERVIEW", "EMERGING", "HOTSPOT_COLUMNS", "CityOverview", "CoverageRun",
                          "GroupStatistics", "HotspotRun", "SiteAnswer", "city_overview", "city_overview_of",
                          "district_hotspots", "district_outlines", "district_patterns", "district_siting_curves",
                          "emerging_count", "grid_coverage", "grid_hotspots", "group_statistics", "league_table",
                          "site_answer", "week_matrix")
