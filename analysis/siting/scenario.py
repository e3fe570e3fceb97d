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

Readers ignore keys they do not know and fill keys that are missing with the
defaults below, so scenarios saved by earlier versions keep loading
(``tests/fixtures/siting_scenarios_v1.json`` holds two written before the
format moved here).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

import pandas as pd

from analysis.options import SOLVERS, Solver, check_choice
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
from geo.scenarios import Scenario

SCENARIO_KIND = "siting"

Mode = Literal["n", "target"]
"""The question: N new sites ("n"), or the fewest sites that reach a share ("target")."""
MODES: tuple[Mode, ...] = get_args(Mode)

DEFAULT_CURVE_MAX = 10


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


@dataclass(frozen=True)
class SitingRun:
    """One answer: the request, the result and the coverage curve (a plain table, as saved)."""

    request: SitingRequest
    result: SitingResult
    curve: pd.DataFrame

    def to_scenario(self, name: str, *, dataset: str) -> Scenario:
        return Scenario(name=name, kind=SCENARIO_KIND, params={**self.request.to_dict(), "dataset": dataset},
                        result={**self.result.to_dict(), "curve": self.curve.to_dict(orient="list")})

    @classmethod
    def from_scenario(cls, s: Scenario) -> SitingRun:
        res = dict(s.result)
        curve = pd.DataFrame(res.pop("curve", {}))
        return cls(request=SitingRequest.from_dict(s.params), result=SitingResult.from_dict(res), curve=curve)


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
