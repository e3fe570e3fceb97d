"""Every choice a user makes, defined once.

Each choice is a ``Literal`` type and a tuple of its values in the order the
pages and the CLI offer them (the first value is the default unless a caller
says otherwise). The analyses annotate their parameters with these types, the
CLI passes the tuples as ``choices=`` and the pages as widget options, so the
three can never disagree (``tests/analysis/test_options.py`` checks it).

Contract: the tuples hold exactly the values of their ``Literal``; values are
lower-case ASCII words that also appear in saved scenarios and reports, so
renaming one is a format change. `check_choice` is the one validator: it raises
`AnalysisError` with code ``analysis.bad_choice`` and params
``{name, value, allowed}``.
"""

from __future__ import annotations

from typing import Literal, get_args

from geo.errors import bad_choice

Distance = Literal["euclidean", "walking"]
"""How distance is measured: straight line, or along the walking network."""
DISTANCES: tuple[Distance, ...] = get_args(Distance)

Weight = Literal["elderly", "population"]
"""Which residents a service counts: the elderly, or everyone."""
WEIGHTS: tuple[Weight, ...] = get_args(Weight)

Solver = Literal["exact", "greedy"]
"""Siting solver: the integer programme (proven optimum) or the greedy heuristic."""
SOLVERS: tuple[Solver, ...] = get_args(Solver)

WeightsScheme = Literal["binary", "row"]
"""Spatial weights for hot spots: binary neighbours, or row-standardised."""
WEIGHTS_SCHEMES: tuple[WeightsScheme, ...] = get_args(WeightsScheme)

Objective = Literal["coverage", "distance"]
"""What siting optimises: the aged 60+ newly within reach (MCLP), or their distance to the nearest station (p-median)."""
OBJECTIVES: tuple[Objective, ...] = get_args(Objective)

DemandWeight = Literal["elderly", "elderly_80"]
"""Whom a plan counts as demand: the aged 60+, or the aged 80+ (who need the most care; needs the age bands)."""
DEMAND_WEIGHTS: tuple[DemandWeight, ...] = get_args(DemandWeight)

CandidateSource = Literal["layer", "generated"]
"""Where siting candidates come from: the candidates layer, or generated grid centres."""
CANDIDATE_SOURCES: tuple[CandidateSource, ...] = get_args(CandidateSource)

Period = Literal["week", "month"]
"""Time step of case counts."""
PERIODS: tuple[Period, ...] = get_args(Period)

Measure = Literal["count", "rate"]
"""What hot spots are computed on: case counts, or cases per 1,000 residents."""
MEASURES: tuple[Measure, ...] = get_args(Measure)

ReportFormat = Literal["pptx", "pdf", "xlsx"]
"""File format of a meeting report."""
REPORT_FORMATS: tuple[ReportFormat, ...] = get_args(ReportFormat)

ImportMode = Literal["replace", "upsert"]
"""How an import meets the stored layer: replace it, or update/insert by id."""
IMPORT_MODES: tuple[ImportMode, ...] = get_args(ImportMode)

Role = Literal["leader", "planner", "staff", "admin"]
"""A signed-in user's role, ordered from reading to administering."""
ROLES: tuple[Role, ...] = get_args(Role)

OPTION_TYPES: dict[str, tuple[str, ...]] = {
    "distance": DISTANCES,
    "weight": WEIGHTS,
    "solver": SOLVERS,
    "weights_scheme": WEIGHTS_SCHEMES,
    "candidate_source": CANDIDATE_SOURCES,
    "period": PERIODS,
    "measure": MEASURES,
    "report_format": REPORT_FORMATS,
    "import_mode": IMPORT_MODES,
    "role": ROLES,
    "objective": OBJECTIVES,
    "demand_weight": DEMAND_WEIGHTS,
}
"""Every option type by name, for tests and documentation that walk them all."""


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``allowed``; raise `AnalysisError` otherwise.

    ``name`` is the parameter's name as the caller knows it (``distance``,
    ``solver``); the error's params are ``{name, value, allowed}`` with
    ``allowed`` joined by ", " so the string table can show it as is.
    """
    if isinstance(value, str) and value in allowed:
        return value
    raise bad_choice(name, value, allowed)
