"""Figures the overview takes from the other analyses, worked out once per dataset version and kept on disk.

The overview is the page a leader opens first, often right after the server
was restarted. Its figures (the district's or a street's key numbers, the
day-care coverage, open and overdue cases, the street table) are plain
numbers derived from one version, so they are kept beside it
(`ui.data.derived`): a restarted server reads them back without loading the
cases or importing the coverage and hot-spot code. They are built from the
same cached helpers the coverage and cases pages use, so every page shows
the same numbers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from analysis.summary import DistrictSummary, district_summary, street_table
from geo.errors import AnalysisError
from ui.context import PageContext
from ui.data import derived, get_dataset

DAY_CARE_RADIUS_M = 300.0  # analysis.coverage.DEFAULT_RADIUS_M["day_care"] (a test keeps them equal)


@dataclass(frozen=True)
class DayCareFigures:
    """Share of the aged 60+ within a 5-minute walk of an operating day-care station, and how many are not."""

    covered_share: float
    uncovered: float


@dataclass(frozen=True)
class OverviewFigures:
    """The overview's key figures for the whole district (``street`` None) or one street."""

    summary: DistrictSummary
    day_care: DayCareFigures | None  # None: no operating day-care station to measure from
    cases: dict[str, int] | None  # {"open", "overdue"}; None without a cases layer


def _day_care(ctx: PageContext) -> DayCareFigures | None:
    from analysis.coverage import district_totals
    from ui.coverage import cached_coverage

    try:
        result = cached_coverage(ctx.path, ctx.token, ("day_care",), DAY_CARE_RADIUS_M, "euclidean", "elderly", False)
    except AnalysisError:
        return None
    table = result.grids
    if ctx.street is not None:
        table = table[table["street"] == ctx.street]
    totals = district_totals(table)
    return DayCareFigures(covered_share=totals.covered_share, uncovered=totals.uncovered)


def _cases(ctx: PageContext) -> dict[str, int] | None:
    if ctx.ds.rows("cases") == 0:  # counted without reading the cases
        return None
    from analysis.cases import CaseFilter, case_kpis
    from ui.cases import case_table

    flt = CaseFilter(streets=(ctx.street,)) if ctx.street is not None else CaseFilter()
    row = case_kpis(case_table(ctx), flt).iloc[0]
    return {"open": int(row["open"]), "overdue": int(row["overdue"])}


def build_figures(ctx: PageContext) -> OverviewFigures:
    """Work the figures out (what `figures` keeps)."""
    return OverviewFigures(summary=district_summary(get_dataset(ctx.path), street=ctx.street),
                           day_care=_day_care(ctx), cases=_cases(ctx))


def figures(ctx: PageContext) -> OverviewFigures:
    """The district's (or the chosen street's) figures, once per dataset version (kept on disk and in memory)."""
    digest = hashlib.sha256(repr(ctx.street).encode()).hexdigest()[:16]
    return derived(ctx.path, ctx.token, f"overview_figures.v1.{digest}", lambda: build_figures(ctx))


def streets_at_a_glance(ctx: PageContext) -> pd.DataFrame:
    """One row per street (see `analysis.summary.street_table`), once per dataset version (kept on disk)."""
    return derived(ctx.path, ctx.token, "overview_streets.v1", lambda: street_table(get_dataset(ctx.path)))
