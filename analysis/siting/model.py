"""Parameters, results and the reduced instance of a siting run (the types every other module shares)."""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from analysis.options import CANDIDATE_SOURCES, DISTANCES, SOLVERS, CandidateSource, Distance, check_choice
from geo.errors import AnalysisError
from geo.schema import FACILITY_TYPES

DEFAULT_TIME_LIMIT_S = 60.0


# Gains at or below this many aged 60+ count as nothing (float noise).
_TOL = 1e-7


ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class SitingParams:
    """What a siting run is asked; saved with scenarios. Distances in metres."""

    facility_type: str = "day_care"
    radius_m: float = 300.0
    distance: Distance = "euclidean"
    candidates: CandidateSource = "layer"
    min_spacing_m: float = 0.0
    capacity: bool = False
    site_capacity: float | None = None
    street: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SitingParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def check_params(params: SitingParams) -> None:
    """Raise `AnalysisError` naming the first bad parameter."""
    check_choice("facility_type", params.facility_type, tuple(FACILITY_TYPES))
    if not (isinstance(params.radius_m, numbers.Real) and not isinstance(params.radius_m, bool)
            and math.isfinite(params.radius_m) and params.radius_m > 0):
        raise AnalysisError(f"`radius_m` was {params.radius_m} but must be a distance greater than 0 m",
                            code="analysis.not_positive", params={"name": "radius_m", "value": str(params.radius_m)})
    check_choice("distance", params.distance, DISTANCES)
    check_choice("candidates", params.candidates, CANDIDATE_SOURCES)
    if not (math.isfinite(params.min_spacing_m) and params.min_spacing_m >= 0):
        raise AnalysisError(f"`min_spacing_m` was {params.min_spacing_m} but must be 0 m or more",
                            code="analysis.negative", params={"name": "min_spacing_m", "value": str(params.min_spacing_m)})
    if params.site_capacity is not None and not (math.isfinite(params.site_capacity) and params.site_capacity > 0):
        raise AnalysisError(f"`site_capacity` was {params.site_capacity} but must be greater than 0",
                            code="analysis.not_positive",
                            params={"name": "site_capacity", "value": str(params.site_capacity)})
    if params.street is not None and not (isinstance(params.street, str) and params.street.strip()):
        raise AnalysisError(f"`street` was {params.street!r} but must be a street name or None",
                            code="analysis.street_empty", params={"value": repr(params.street)})


@dataclass(frozen=True)
class SitingResult:
    """A set of new sites and what they add. Figures are aged 60+ (weighted).

    ``site_ids`` are in order of contribution: each site's ``gains_elderly``
    is what it adds to the existing stations and the sites before it. Sites
    that would add nothing are left out, so there may be fewer than
    ``n_requested``. ``bound_elderly`` is a proven upper bound on what any
    choice of ``n_requested`` sites could add (None when unknown: capacitated
    greedy). ``optimal``: proven best (for a target: proven fewest sites, and
    the most coverage with that many). ``elapsed_s``: solving time, after the
    problem was built.
    """

    site_ids: tuple[str, ...]
    gains_elderly: tuple[float, ...]
    n_requested: int
    solver: str
    total_elderly: float
    existing_elderly: float
    added_elderly: float
    bound_elderly: float | None
    optimal: bool
    status: str
    elapsed_s: float
    target_share: float | None = None
    min_sites_bound: int | None = None

    @property
    def n_new(self) -> int:
        return len(self.site_ids)

    @property
    def covered_elderly(self) -> float:
        """Covered by existing and new stations together."""
        return self.existing_elderly + self.added_elderly

    @property
    def covered_share(self) -> float:
        return self.covered_elderly / self.total_elderly if self.total_elderly > 0 else 0.0

    @property
    def existing_share(self) -> float:
        return self.existing_elderly / self.total_elderly if self.total_elderly > 0 else 0.0

    @property
    def added_share(self) -> float:
        return self.added_elderly / self.total_elderly if self.total_elderly > 0 else 0.0

    @property
    def gap(self) -> float | None:
        """Proven relative gap on the added aged 60+: (bound - found) / bound; 0 when optimal."""
        if self.optimal:
            return 0.0
        if self.bound_elderly is None:
            return None
        if self.bound_elderly <= _TOL:
            return 0.0
        return max(0.0, (self.bound_elderly - self.added_elderly) / self.bound_elderly)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["site_ids"] = list(self.site_ids)
        out["gains_elderly"] = list(self.gains_elderly)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SitingResult:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in known}
        kw["site_ids"] = tuple(str(s) for s in kw.get("site_ids", ()))
        kw["gains_elderly"] = tuple(float(g) for g in kw.get("gains_elderly", ()))
        return cls(**kw)


@dataclass(frozen=True)
class CoverageCurve:
    """Coverage (existing + new, aged 60+) against the number of new sites, N = 1..K.

    ``greedy_elderly[i]``: the greedy plan's first ``n_new[i]`` sites (nested:
    each N adds one site to the previous). ``exact_elderly[i]``: the best
    possible with ``n_new[i]`` sites (sets may differ between N); None when
    only greedy was asked. ``exact_optimal[i]``: whether that value is proven.
    """

    n_new: tuple[int, ...]
    greedy_elderly: tuple[float, ...]
    greedy_site_ids: tuple[str, ...]
    exact_elderly: tuple[float, ...] | None
    exact_optimal: tuple[bool, ...] | None
    total_elderly: float
    existing_elderly: float
    elapsed_s: float

    def frame(self) -> pd.DataFrame:
        """Columns: n_new, greedy_elderly, greedy_share, greedy_site_id, [exact_elderly, exact_share, exact_optimal]."""
        total = self.total_elderly if self.total_elderly > 0 else 1.0
        df = pd.DataFrame({
            "n_new": list(self.n_new),
            "greedy_elderly": list(self.greedy_elderly),
            "greedy_share": [v / total for v in self.greedy_elderly],
            "greedy_site_id": list(self.greedy_site_ids[: len(self.n_new)])
            + [""] * max(0, len(self.n_new) - len(self.greedy_site_ids)),
        })
        if self.exact_elderly is not None:
            df["exact_elderly"] = list(self.exact_elderly)
            df["exact_share"] = [v / total for v in self.exact_elderly]
            df["exact_optimal"] = list(self.exact_optimal or ())
        return df


@dataclass(frozen=True, eq=False)
class SitingProblem:
    """A siting instance, reduced: one row per group of interchangeable demand points.

    ``class_reach`` (rows x candidates, CSC, bool): which candidates reach each
    row; ``class_weight``: aged 60+ of each row. Uncapacitated, rows hold only
    uncovered demand. Capacitated, rows hold all demand within reach of any
    station, and ``class_existing`` (rows x existing stations) says which
    existing stations reach them. ``point_class`` maps each demand point to
    its row (-1: none); ``point_existing``: the share of each point covered by
    existing stations. ``conflicts``: pairs of candidate indices closer than
    the minimum spacing. ``demand``/``sites``/``existing`` are the metric
    GeoDataFrames behind it (None when built from a matrix).
    """

    site_ids: tuple[str, ...]
    class_reach: sparse.csc_matrix
    class_weight: NDArray[np.float64]
    total_elderly: float
    existing_elderly: float
    point_class: NDArray[np.int64]
    point_weight: NDArray[np.float64]
    point_existing: NDArray[np.float64]
    conflicts: NDArray[np.int64]
    site_capacity: NDArray[np.float64] | None
    class_existing: sparse.csr_matrix | None
    existing_capacity: NDArray[np.float64] | None
    class_existing_share: NDArray[np.float64] | None
    params: SitingParams
    build_s: float
    excluded_by_spacing: int = 0
    demand: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    existing: gpd.GeoDataFrame | None = None

    @property
    def n_candidates(self) -> int:
        return len(self.site_ids)

    @property
    def n_rows(self) -> int:
        return int(self.class_weight.shape[0])

    @property
    def n_points(self) -> int:
        return int(self.point_class.shape[0])

    @property
    def capacitated(self) -> bool:
        return self.site_capacity is not None

    @property
    def reachable_elderly(self) -> float:
        """Uncovered aged 60+ within reach of at least one candidate (uncapacitated)."""
        return float(self.class_weight.sum())

    def index_of(self, site_ids: Sequence[str]) -> NDArray[np.int64]:
        pos = {s: i for i, s in enumerate(self.site_ids)}
        missing = [s for s in site_ids if s not in pos]
        if missing:
            shown = ", ".join(map(str, missing[:5]))
            raise AnalysisError(f"unknown site id(s) {shown}: not among the candidates",
                                code="analysis.unknown_sites", params={"ids": shown})
        return np.array([pos[s] for s in site_ids], dtype=np.int64)


def _replace(prob: SitingProblem, **changes: Any) -> SitingProblem:

    return replace(prob, **changes)


def _check_n(prob: SitingProblem, n_new: int) -> None:
    if not isinstance(n_new, int | np.integer) or isinstance(n_new, bool) or n_new < 1:
        raise AnalysisError(f"`n_new` was {n_new!r} but must be a whole number of at least 1",
                            code="analysis.not_whole", params={"name": "n_new", "value": str(n_new), "min": 1})
    if prob.n_candidates == 0:
        raise AnalysisError("there are no candidate sites to choose from", code="analysis.no_candidates")
    if n_new > prob.n_candidates:
        dropped = (f" ({prob.excluded_by_spacing} more are closer than {prob.params.min_spacing_m:g} m "
                   "to an existing station)") if prob.excluded_by_spacing else ""
        raise AnalysisError(f"asked for {n_new} new sites but there are only {prob.n_candidates} "
                            f"candidate sites{dropped}; ask for at most {prob.n_candidates}",
                            code="analysis.too_many_sites_spacing" if prob.excluded_by_spacing
                            else "analysis.too_many_sites",
                            params={"n": int(n_new), "available": prob.n_candidates,
                                    "excluded": prob.excluded_by_spacing, "spacing": f"{prob.params.min_spacing_m:g}"})


def _check_solver(solver: str) -> None:
    check_choice("solver", solver, SOLVERS)


def _result(
    prob: SitingProblem,
    order: NDArray[np.int64],
    gains: NDArray[np.float64],
    *,
    n_requested: int,
    solver: str,
    bound: float | None,
    optimal: bool,
    status: str,
    t0: float,
    target_share: float | None = None,
    min_sites_bound: int | None = None,
) -> SitingResult:
    added = float(gains.sum()) if len(gains) else 0.0
    if bound is not None:
        bound = max(float(bound), added)
    return SitingResult(
        site_ids=tuple(prob.site_ids[j] for j in order), gains_elderly=tuple(float(g) for g in gains),
        n_requested=int(n_requested), solver=solver, total_elderly=prob.total_elderly,
        existing_elderly=prob.existing_elderly, added_elderly=added, bound_elderly=bound,
        optimal=bool(optimal), status=status, elapsed_s=time.perf_counter() - t0, target_share=target_share,
        min_sites_bound=min_sites_bound)
