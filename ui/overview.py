"""Figures the overview takes from the other analyses, through their cached page helpers."""

from __future__ import annotations

from analysis.cases import CaseFilter, case_kpis
from analysis.coverage import DEFAULT_RADIUS_M, CoverageTotals, district_totals
from geo.errors import AnalysisError
from ui.cases import case_table
from ui.context import PageContext
from ui.coverage import cached_coverage

DAY_CARE_RADIUS_M = DEFAULT_RADIUS_M["day_care"]


def day_care_coverage(ctx: PageContext) -> CoverageTotals | None:
    """Share of the aged 60+ within a 5-minute walk (straight line) of an operating day-care station."""
    try:
        result = cached_coverage(ctx.path, ctx.token, ("day_care",), DAY_CARE_RADIUS_M, "euclidean", "elderly", False)
    except AnalysisError:
        return None
    table = result.grids
    if ctx.street is not None:
        table = table[table["street"] == ctx.street]
    return district_totals(table)


def case_figures(ctx: PageContext) -> dict[str, int] | None:
    """Open and overdue cases as of the dataset's date (None without a cases layer)."""
    if ctx.ds.cases is None or len(ctx.ds.cases) == 0:
        return None
    flt = CaseFilter(streets=(ctx.street,)) if ctx.street is not None else CaseFilter()
    row = case_kpis(case_table(ctx), flt).iloc[0]
    return {"open": int(row["open"]), "overdue": int(row["overdue"])}
