"""Every option type is defined once (analysis/options.py) and the CLI and the pages offer exactly its values."""

from __future__ import annotations

import argparse
from typing import get_args

import pytest

import analysis.options as options
import cli
from analysis.options import OPTION_TYPES, check_choice
from geo.errors import AnalysisError
from i18n import t

# CLI option dest -> option type: wherever a command has one of these options, its choices are the type's values.
CLI_OPTIONS = {"distance": "distance", "weight": "weight", "solver": "solver", "candidates": "candidate_source",
               "weights": "weights_scheme", "period": "period", "measure": "measure", "format": "report_format",
               "mode": "import_mode", "role": "role", "objective": "objective"}
# Commands whose option takes another list than its dest's type: coverage counts the aged 60+, everyone, or the
# aged 80+ (the demand weights); site, equity and report count a demand weight.
CLI_OVERRIDES = {("coverage", "weight"): tuple(dict.fromkeys(options.WEIGHTS + options.DEMAND_WEIGHTS)),
                 ("site", "weight"): options.DEMAND_WEIGHTS, ("equity", "weight"): options.DEMAND_WEIGHTS,
                 ("report", "weight"): options.DEMAND_WEIGHTS}
# Option types the CLI must offer somewhere (the others belong to commands other areas add).
CLI_REQUIRED = {"distance", "weight", "solver", "candidate_source", "weights_scheme", "period", "measure"}


def test_each_tuple_is_its_literal():
    pairs = {"distance": options.Distance, "weight": options.Weight, "solver": options.Solver,
             "weights_scheme": options.WeightsScheme, "candidate_source": options.CandidateSource,
             "period": options.Period, "measure": options.Measure, "report_format": options.ReportFormat,
             "import_mode": options.ImportMode, "role": options.Role, "objective": options.Objective,
             "demand_weight": options.DemandWeight}
    assert set(pairs) == set(OPTION_TYPES)
    for name, literal in pairs.items():
        assert OPTION_TYPES[name] == get_args(literal), name
        assert len(set(OPTION_TYPES[name])) == len(OPTION_TYPES[name]) >= 2, name
        assert all(v.isascii() and v == v.lower() for v in OPTION_TYPES[name]), name
    assert options.ROLES == ("leader", "planner", "staff", "admin")  # ordered: each role can do what those before can


def test_check_choice():
    assert check_choice("solver", "greedy", options.SOLVERS) == "greedy"
    with pytest.raises(AnalysisError, match="`solver` was 'best' but is expected to be one of: exact, greedy") as exc:
        check_choice("solver", "best", options.SOLVERS)
    assert exc.value.code == "analysis.bad_choice"
    assert dict(exc.value.params) == {"name": "solver", "value": "best", "allowed": "exact, greedy"}
    with pytest.raises(AnalysisError, match="`weight` was None"):
        check_choice("weight", None, options.WEIGHTS)


def _cli_choices() -> dict[tuple[str, str], tuple]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = {}
    for command, p in sub.choices.items():
        for action in p._actions:
            if action.dest in CLI_OPTIONS and action.choices is not None:
                out[(command, action.dest)] = tuple(action.choices)
    return out


def test_cli_offers_exactly_each_type():
    found = _cli_choices()
    seen = set()
    for (command, dest), choices in found.items():
        kind = CLI_OPTIONS[dest]
        if (command, dest) in CLI_OVERRIDES:
            assert choices == CLI_OVERRIDES[(command, dest)], f"{command} --{dest}"
            seen.add(kind)
            continue
        assert choices == OPTION_TYPES[kind], f"{command} --{dest}"
        seen.add(kind)
    assert CLI_REQUIRED <= seen
    assert {("coverage", "distance"), ("site", "distance"), ("site", "solver"), ("site", "candidates"),
            ("hotspots", "weights"), ("hotspots", "period"), ("hotspots", "measure"), ("coverage", "weight"),
            ("site", "objective")} <= set(found)
    # the old flag is an accepted alias
    args = cli.build_parser().parse_args(["coverage", "--type", "day_care", "--method", "walking", "--out", "x.csv"])
    assert args.distance == "walking"


# --- the pages -----------------------------------------------------------------------------------

def _labels(prefix: str, values: tuple) -> list[str]:
    return [t(f"{prefix}{v}", lang="zh") for v in values]


@pytest.fixture(scope="module")
def pages():
    """Each page run once in AppTest (no browser): its widgets as Streamlit built them."""
    from streamlit.testing.v1 import AppTest

    from tests.e2e.conftest import ROOT

    out = {}
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    for page in ("pages/coverage.py", "pages/siting.py", "pages/cases.py"):
        at.switch_page(page)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        out[page] = {w.key: list(w.options) for w in at.radio}
    return out


@pytest.mark.parametrize(("page", "key", "kind", "prefix"), [
    ("pages/coverage.py", "cov_distance", "distance", "coverage.distance."),
    ("pages/coverage.py", "cov_weight", "weight", "coverage.weight."),
    ("pages/siting.py", "site_distance", "distance", "siting.distance."),
    ("pages/siting.py", "site_solver", "solver", "siting.solver."),
    ("pages/siting.py", "site_source", "candidate_source", "siting.candidates."),
    ("pages/cases.py", "cases_measure", "measure", "cases.measure."),
    ("pages/cases.py", "cases_step", "period", "cases.step."),
    ("pages/cases.py", "cases_weights", "weights_scheme", "cases.weights."),
])
def test_page_widgets_offer_exactly_each_type(pages, page, key, kind, prefix):
    widgets = pages[page]
    assert widgets[f"{key}__zh"] == _labels(prefix, OPTION_TYPES[kind])
