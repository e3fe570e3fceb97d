"""The siting scenario format: what a planner asked (`SitingRequest`) and what came back (`SitingRun`).

Scenarios are kept in the dataset (`geo.scenarios`, kind ``"siting"``) and
read back by the siting page and the CLI, so this format is a storage
contract, not a page detail:

- ``params`` (JSON object): the request — ``params`` (`SitingParams` as a
  dict), ``mode`` ("n": N new sites, "target": fewest sites for a share),
  ``n_new``, ``target_share``, ``solver``, ``curve_max`` — plus ``dataset``
  (the dataset's name when it was saved);
- ``result`` (JSON object): `SitingResult.to_dict()` plus ``curve``, the
  coverage curve as columns (``n_new``, ``greedy_elderly``, ``greedy_share``
  and, with the exact solver, ``exact_elderly``, ``exact_share``,
  ``exact_optimal``).

Both objectives are kind ``"siting"``; ``params`` also holds

- ``objective``: ``"coverage"`` (MCLP, the format above) or ``"distance"``
  (p-median: ``params`` is `DistanceRequest` as a dict, ``result`` the
  figures of `DistanceFigures` plus ``by_street``, the distances per street as
  records of `analysis.siting.pmedian.STREET_COLUMNS`);
- ``demand`` (`PlanDemand`): whom the stations were sited for — ``year``
  (None: the data's own year), ``weight`` (``elderly`` 60+ or ``elderly_80``)
  and, with a year, the survival table's name, whether it is an assumption,
  and its ratios (so the same demand can be computed again later, even from a
  table a planner uploaded once).

Readers ignore keys they do not know and fill keys that are missing with the
defaults below, so scenarios saved by earlier versions keep loading: no
``objective`` is the coverage objective, no ``demand`` today's aged 60+
(``tests/fixtures/siting_scenarios_v1.json`` holds two written before the
format moved here). `load_run` reads either objective; `chosen_sites` gives
the sites and facility type of either; `scenario_equity` computes a saved
answer's equity before and after with its own demand; `open_scenario_site`
records one of its sites as opened (the page and ``scenarios --open``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.coverage import SEARCH_LIMIT_M
from analysis.options import (
    CANDIDATE_SOURCES,
    DEMAND_WEIGHTS,
    DISTANCES,
    OBJECTIVES,
    SOLVERS,
    CandidateSource,
    DemandWeight,
    Distance,
    Objective,
    Solver,
    check_choice,
)
from analysis.projection import SurvivalTable, with_demand
from analysis.siting.curve import coverage_curve
from analysis.siting.exact import fewest_sites, solve_siting
from analysis.siting.model import (
    DEFAULT_TIME_LIMIT_S,
    CoverageCurve,
    ProgressFn,
    SitingParams,
    SitingProblem,
    SitingResult,
)
from analysis.siting.pmedian import STREET_COLUMNS, PMedianResult
from geo.dataset import Dataset
from geo.errors import AnalysisError
from geo.scenarios import Scenario

if TYPE_CHECKING:
    from analysis.equity import EquityResult
    from geo.storage import DatasetStore, VersionInfo

SCENARIO_KIND = "siting"

Mode = Literal["n", "target"]
"""The question: N new sites ("n"), or the fewest sites that reach a share ("target")."""
MODES: tuple[Mode, ...] = get_args(Mode)

DEFAULT_CURVE_MAX = 10


@dataclass(frozen=True)
class PlanDemand:
    """Whom a scenario's stations were sited for: the aged 60+ (``weight="elderly"``) or 80+ (``"elderly_80"``),
    in the data's own year (``year`` None) or projected to ``year`` with a survival table (its name ``survival``,
    whether it is an assumption, and its ratios by band, kept so the demand can be computed again)."""

    year: int | None = None
    weight: DemandWeight = "elderly"
    survival: str | None = None
    survival_assumption: bool = False
    ratios: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        check_choice("weight", self.weight, DEMAND_WEIGHTS)

    @property
    def is_today(self) -> bool:
        """Today's aged 60+: what every scenario saved before demands were recorded was sited for."""
        return self.year is None and self.weight == "elderly"

    @classmethod
    def of(cls, year: int | None = None, weight: str = "elderly", survival: SurvivalTable | None = None
           ) -> PlanDemand:
        """The demand of a run: a plan year (None: today) and weight; ``survival`` the table used (None: the
        shipped one, recorded only with a year)."""
        if year is None:
            return cls(None, weight)
        if survival is None:
            from analysis.projection import default_survival

            survival = default_survival()
        return cls(int(year), weight, survival.source, bool(survival.assumption), tuple(survival.ratios))

    def table(self) -> SurvivalTable | None:
        """The survival table it was projected with (None: no year, or a scenario that did not record one)."""
        if not self.ratios:
            return None
        return SurvivalTable(tuple(self.ratios), self.survival or "", self.survival_assumption)

    def dataset(self, ds: Dataset) -> Dataset:
        """``ds`` with this demand as its grids' ``elderly`` (`analysis.projection.with_demand`)."""
        return with_demand(ds, year=self.year, weight=self.weight, survival=self.table())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"year": self.year, "weight": self.weight}
        if self.year is not None:
            out.update(survival=self.survival, survival_assumption=self.survival_assumption,
                       survival_ratios=dict(self.ratios))
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> PlanDemand:
        """Missing (a scenario saved before demands were recorded): today's aged 60+."""
        d = d or {}
        year = d.get("year")
        ratios = tuple((str(b), float(r)) for b, r in (d.get("survival_ratios") or {}).items())
        return cls(None if year is None else int(year), str(d.get("weight") or "elderly"),
                   d.get("survival"), bool(d.get("survival_assumption", False)), ratios)


def objective_of(s: Scenario) -> Objective:
    """The objective a saved siting scenario answered (missing: ``"coverage"``, what older scenarios are)."""
    objective = str(s.params.get("objective") or "coverage")
    check_choice("objective", objective, OBJECTIVES)
    return objective  # type: ignore[return-value]


@dataclass(frozen=True)
class SitingRequest:
    """What the planner asked: the instance, the question (N or a target), the solver, how far to trace the curve."""

    params: SitingParams
    mode: Mode = "n"
    n_new: int = 1
    target_share: float = 0.8
    solver: Solver = "exact"
    curve_max: int = DEFAULT_CURVE_MAX

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, MODES)
        check_choice("solver", self.solver, SOLVERS)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["params"] = self.params.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SitingRequest:
        return cls(params=SitingParams.from_dict(d.get("params", {})), mode=str(d.get("mode", "n")),
                   n_new=int(d.get("n_new", 1)), target_share=float(d.get("target_share", 0.8)),
                   solver=str(d.get("solver", "exact")), curve_max=int(d.get("curve_max", DEFAULT_CURVE_MAX)))


def _wrong_objective(s: Scenario, expected: str) -> AnalysisError:
    got = objective_of(s)
    return AnalysisError(f"scenario {s.name!r} was sited by {got}, not by {expected}",
                         code="analysis.scenario_objective", params={"name": s.name, "objective": got})


@dataclass(frozen=True)
class SitingRun:
    """One answer: the request, the result and the coverage curve (a plain table, as saved), and the demand it was
    sited for."""

    request: SitingRequest
    result: SitingResult
    curve: pd.DataFrame
    demand: PlanDemand = PlanDemand()

    objective: ClassVar[Objective] = "coverage"

    def to_scenario(self, name: str, *, dataset: str, demand: PlanDemand | None = None) -> Scenario:
        """The scenario to save; ``demand`` (default: the run's own) is recorded with it."""
        d = self.demand if demand is None else demand
        return Scenario(name=name, kind=SCENARIO_KIND,
                        params={**self.request.to_dict(), "objective": "coverage", "demand": d.to_dict(),
                                "dataset": dataset},
                        result={**self.result.to_dict(), "curve": self.curve.to_dict(orient="list")})

    @classmethod
    def from_scenario(cls, s: Scenario) -> SitingRun:
        """A coverage scenario back (`AnalysisError` ``analysis.scenario_objective`` for a distance one)."""
        if objective_of(s) != "coverage":
            raise _wrong_objective(s, "coverage")
        res = dict(s.result)
        curve = pd.DataFrame(res.pop("curve", {}))
        return cls(request=SitingRequest.from_dict(s.params), result=SitingResult.from_dict(res), curve=curve,
                   demand=PlanDemand.from_dict(s.params.get("demand")))


# --- the distance objective (p-median) --------------------------------------------------------------------------

@dataclass(frozen=True)
class DistanceRequest:
    """What a planner asked of siting by distance (`analysis.siting.pmedian_sites`): N new stations or a budget,
    required and excluded candidate sites, straight or walking distance, distances capped at ``limit_m``."""

    n_new: int | None = None
    budget: float | None = None
    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    distance: Distance = "euclidean"
    facility_type: str = "day_care"
    candidates: CandidateSource = "layer"
    limit_m: float = SEARCH_LIMIT_M

    def __post_init__(self) -> None:
        check_choice("distance", self.distance, DISTANCES)
        check_choice("candidates", self.candidates, CANDIDATE_SOURCES)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["required"], d["excluded"] = list(self.required), list(self.excluded)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DistanceRequest:
        n, budget = d.get("n_new"), d.get("budget")
        return cls(n_new=None if n is None else int(n), budget=None if budget is None else float(budget),
                   required=tuple(str(x) for x in d.get("required") or ()),
                   excluded=tuple(str(x) for x in d.get("excluded") or ()),
                   distance=str(d.get("distance", "euclidean")), facility_type=str(d.get("facility_type", "day_care")),
                   candidates=str(d.get("candidates", "layer")), limit_m=float(d.get("limit_m", SEARCH_LIMIT_M)))


@dataclass(frozen=True)
class DistanceFigures:
    """What a saved distance answer keeps of `PMedianResult` (metres, aged 60+; see there)."""

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
    optimal: bool
    gap: float | None
    status: str
    elapsed_s: float

    @property
    def n_new(self) -> int:
        return len(self.site_ids)

    @classmethod
    def of(cls, res: PMedianResult) -> DistanceFigures:
        kw = {f.name: getattr(res, f.name) for f in fields(cls)}
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["site_ids"], out["savings_m"] = list(self.site_ids), list(self.savings_m)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DistanceFigures:
        kw = {f.name: d.get(f.name) for f in fields(cls)}
        kw["site_ids"] = tuple(str(x) for x in kw["site_ids"] or ())
        kw["savings_m"] = tuple(float(x) for x in kw["savings_m"] or ())
        return cls(**kw)


def _finite_or_none(v: object) -> object:
    return None if isinstance(v, float) and not math.isfinite(v) else v


@dataclass(frozen=True, eq=False)
class DistanceRun:
    """A distance answer as a scenario keeps it: the request, the figures, the distances per street
    (`analysis.siting.pmedian.STREET_COLUMNS`) and the demand it was sited for."""

    request: DistanceRequest
    result: DistanceFigures
    by_street: pd.DataFrame
    demand: PlanDemand = PlanDemand()

    objective: ClassVar[Objective] = "distance"

    @classmethod
    def of(cls, request: DistanceRequest, res: PMedianResult, *, demand: PlanDemand | None = None) -> DistanceRun:
        return cls(request=request, result=DistanceFigures.of(res), by_street=res.by_street.copy(),
                   demand=demand or PlanDemand())

    def to_scenario(self, name: str, *, dataset: str) -> Scenario:
        streets = [{k: _finite_or_none(v) for k, v in row.items()}
                   for row in self.by_street[list(STREET_COLUMNS)].to_dict(orient="records")]
        return Scenario(name=name, kind=SCENARIO_KIND,
                        params={**self.request.to_dict(), "objective": "distance", "demand": self.demand.to_dict(),
                                "dataset": dataset},
                        result={**self.result.to_dict(), "by_street": streets})

    @classmethod
    def from_scenario(cls, s: Scenario) -> DistanceRun:
        """A distance scenario back (`AnalysisError` ``analysis.scenario_objective`` for a coverage one)."""
        if objective_of(s) != "distance":
            raise _wrong_objective(s, "distance")
        res = dict(s.result)
        streets = pd.DataFrame(res.pop("by_street", None) or [], columns=list(STREET_COLUMNS))
        num = list(STREET_COLUMNS[1:])
        streets[num] = streets[num].astype("float64")
        return cls(request=DistanceRequest.from_dict(s.params), result=DistanceFigures.from_dict(res),
                   by_street=streets, demand=PlanDemand.from_dict(s.params.get("demand")))


SavedRun = SitingRun | DistanceRun


def load_run(s: Scenario) -> SavedRun:
    """A saved siting scenario of either objective."""
    return DistanceRun.from_scenario(s) if objective_of(s) == "distance" else SitingRun.from_scenario(s)


def chosen_sites(s: Scenario) -> tuple[tuple[str, ...], str]:
    """The sites a saved siting scenario chose (in its order) and the facility type they are for."""
    run = load_run(s)
    if isinstance(run, DistanceRun):
        return run.result.site_ids, run.request.facility_type
    return run.result.site_ids, run.request.params.facility_type


def _sites_as_candidates(ds: Dataset, run: SavedRun) -> Dataset:
    """``ds`` whose candidates layer holds the run's candidates (generated ones made again, as the run made them)."""
    if isinstance(run, DistanceRun):
        if run.request.candidates == "layer":
            return ds
        from analysis.demand import demand_points
        from analysis.siting.candidates import generate_candidates

        demand = demand_points(ds.grids, ds.estates, crs=ds.metric_crs)
        cand = generate_candidates(demand, np.zeros(len(demand), dtype=bool), estates=ds.estates, grids=ds.grids)
    else:
        if run.request.params.candidates == "layer":
            return ds
        from analysis.siting.candidates import siting_problem

        params = run.request.params
        graph = None
        if params.distance == "walking" and ds.roads is not None:
            from analysis.network import build_walk_graph

            graph = build_walk_graph(ds.roads, crs=ds.metric_crs)
        cand = siting_problem(ds, params, graph=graph).sites
    keep = cand[cand["site_id"].astype(str).isin(set(run.result.site_ids))]
    return ds.with_layer("candidates", keep.to_crs(ds.grids.crs))


def scenario_equity(
    ds: Dataset, run: SavedRun, *, graph: Any = None, radius_m: float | None = None,
) -> tuple[EquityResult, EquityResult]:
    """Equity (`analysis.equity`) before and after a saved answer, with the demand it was sited for.

    Before: the dataset's stations of the scenario's type; after: with the scenario's sites opened
    (`analysis.whatif.what_if`, the same code as the what-if section; a site already marked opened is a station
    before and after). Reach: a coverage scenario's own radius
    and distance; a distance scenario's distance and ``radius_m`` (default: the type's life-circle radius,
    `analysis.coverage.DEFAULT_RADIUS_M`). ``graph``: the walking graph, when the caller keeps one.
    """
    from analysis.whatif import what_if

    d = run.demand.dataset(ds)
    if isinstance(run, DistanceRun):
        ftype, distance, radius = run.request.facility_type, run.request.distance, radius_m
    else:
        p = run.request.params
        ftype, distance, radius = p.facility_type, p.distance, p.radius_m
    d = _sites_as_candidates(d, run)
    if distance == "walking" and graph is None:
        if d.roads is None or len(d.roads) == 0:
            raise AnalysisError("walking distance needs a roads layer (道路), and the dataset has none",
                                code="analysis.no_roads")
        from analysis.network import build_walk_graph

        graph = build_walk_graph(d.roads, crs=d.metric_crs)
    opened = set(d.facilities["facility_id"].astype(str))  # a site marked opened since is a station already
    res = what_if(d, open_sites=[i for i in run.result.site_ids if i not in opened], facility_types=(ftype,),
                  radius_m=radius,
                  distance=distance, graph=graph if distance == "walking" else None)
    return res.equity_before, res.equity_after


def opening_note(scenario: str, site_id: str, day: dt.date) -> str:
    """The source a version made by opening a scenario's site records (and the audit log's detail)."""
    return f"scenario {scenario}: site {site_id} opened {day.isoformat()}"


def open_site(ds: Dataset, scenario: Scenario, site_id: str, *, opened_on: dt.date) -> gpd.GeoDataFrame:
    """The facilities layer with a station of a saved siting scenario opened on ``opened_on``: the chosen
    candidate site (its ``site_id`` as ``facility_id``, its name and capacity, the scenario's facility type,
    status operating, the street of the grid it lies in). Validated as an import would be; the caller stores
    it as a new version. `AnalysisError` ``analysis.site_not_chosen`` (not a site of the scenario),
    ``analysis.site_not_candidate`` (a generated point, not in the candidates layer) or
    ``analysis.site_already_open`` (a facility has that id)."""
    from geo.assign import assign_grid_ids
    from geo.schema import validate_layer

    site_ids, facility_type = chosen_sites(scenario)  # either objective: coverage or distance
    site_id = str(site_id)
    if site_id not in site_ids:
        raise AnalysisError(f"site {site_id!r} is not one of scenario {scenario.name!r}'s sites "
                            f"({', '.join(site_ids)})", code="analysis.site_not_chosen",
                            params={"site": site_id, "scenario": scenario.name, "sites": "、".join(site_ids)})
    cand = ds.candidates
    row = cand[cand["site_id"].astype(str) == site_id] if cand is not None else None
    if row is None or len(row) == 0:
        raise AnalysisError(f"site {site_id!r} is not in the candidates layer (a generated point has no address)",
                            code="analysis.site_not_candidate", params={"site": site_id})
    fac = ds.facilities
    if (fac["facility_id"].astype(str) == site_id).any():
        raise AnalysisError(f"a facility {site_id!r} already exists", code="analysis.site_already_open",
                            params={"site": site_id})
    row = row.iloc[[0]].to_crs(fac.crs)
    grid = assign_grid_ids(row[["geometry"]], ds.grids.to_crs(fac.crs)).iloc[0]
    street = ds.grids.set_index("grid_id")["street"].get(grid) if not pd.isna(grid) else None
    new = {"facility_id": site_id, "name": str(row["name"].iloc[0]), "type": facility_type,
           "status": "operating", "street": street, "opened_on": pd.Timestamp(opened_on)}
    if "capacity" in row.columns and not pd.isna(row["capacity"].iloc[0]):
        new["capacity"] = float(row["capacity"].iloc[0])
    added = gpd.GeoDataFrame({k: [v] for k, v in new.items()}, geometry=row.geometry.to_numpy(), crs=fac.crs)
    out = pd.concat([fac, added], ignore_index=True)
    return validate_layer(gpd.GeoDataFrame(out, geometry="geometry", crs=fac.crs), "facilities")


def open_scenario_site(store: DatasetStore, scenario: Scenario, site_id: str, *, opened_on: dt.date,
                       user: str | None = None) -> tuple[VersionInfo, gpd.GeoDataFrame]:
    """Mark a site of a saved scenario opened on ``opened_on``: the facilities layer with it
    (`open_site`, its coded refusals) stored as a new version. The whole dataset's grids,
    facilities and candidates are read here (never one district's part, whose facilities alone would replace the
    city's). The caller writes the audit entry (``import``, `opening_note` as detail). Returns the version and the
    new facilities layer."""
    ds = store.load(layers=("candidates",))
    facilities = open_site(ds, scenario, str(site_id), opened_on=opened_on)
    info = store.import_layer("facilities", facilities, mode="replace", user=user,
                              source=opening_note(scenario.name, str(site_id), opened_on))
    return info, facilities


def curve_frame(curve: CoverageCurve) -> pd.DataFrame:
    """The curve as a plain table: n_new, greedy_elderly, greedy_share, [exact_elderly, exact_share, exact_optimal]."""
    df = curve.frame()
    keep = ["n_new", "greedy_elderly", "greedy_share"]
    if "exact_share" in df.columns:
        keep += ["exact_elderly", "exact_share", "exact_optimal"]
    return df[keep]


def run_siting(
    prob: SitingProblem,
    request: SitingRequest,
    *,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    on_solved: ProgressFn | None = None,
    on_progress: ProgressFn | None = None,
) -> SitingRun:
    """Answer a request on its instance: solve (N sites or a target), then trace the curve.

    The curve runs from 1 to ``max(curve_max, sites chosen)`` new sites, at
    most the number of candidates. ``on_solved(0, k)`` is called once the
    answer is found (``k`` the curve's length), ``on_progress(done, k)``
    after each point of the curve.
    """
    if request.mode == "target":
        result = fewest_sites(prob, target_share=request.target_share, solver=request.solver,
                              time_limit_s=time_limit_s)
    else:
        result = solve_siting(prob, n_new=request.n_new, solver=request.solver, time_limit_s=time_limit_s)
    k = max(1, min(max(request.curve_max, result.n_new), prob.n_candidates))
    if on_solved is not None:
        on_solved(0, k)
    curve = coverage_curve(prob, max_new=k, solver=request.solver, time_limit_s=time_limit_s,
                           on_progress=on_progress)
    return SitingRun(request=request, result=result, curve=curve_frame(curve))
