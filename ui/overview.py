"""Figures the overview takes from the other analyses, worked out once per dataset version and kept on disk.

The overview is the page a leader opens first, often right after the server
was restarted or an import. Its figures (the district's or a street's key numbers, the
day-care coverage, open and overdue cases, the street table) are plain
numbers derived from one version, so they are kept beside it
(`ui.data.derived`): a restarted server reads them back without loading the
cases or importing the coverage and hot-spot code. They are built by
`analysis.pagedata` (which an import, on the page or on the command line, also
runs when it ends), with the coverage page's own cached answer, so every page
shows the same numbers.
"""

from __future__ import annotations

import pandas as pd

from analysis import pagedata
from analysis.pagedata import DAY_CARE_RADIUS_M, DayCareFigures, OverviewFigures
from analysis.summary import street_table
from ui.context import PageContext
from ui.data import derived, get_dataset, getter

__all__ = ["DAY_CARE_RADIUS_M", "DayCareFigures", "OverviewFigures", "build_figures", "figures",
           "streets_at_a_glance"]


def build_figures(ctx: PageContext) -> OverviewFigures:
    """Work the figures out (what `figures` keeps), the day-care answer shared with the coverage page."""
    from ui.coverage import cached_coverage

    def coverage():
        return cached_coverage(ctx.path, ctx.token, ("day_care",), DAY_CARE_RADIUS_M, "euclidean", "elderly", False)

    return pagedata.build_figures(get_dataset(ctx.path), ctx.street, getter(ctx.path, ctx.token), coverage=coverage)


def figures(ctx: PageContext) -> OverviewFigures:
    """The district's (or the chosen street's) figures, once per dataset version (kept on disk and in memory)."""
    return derived(ctx.path, ctx.token, pagedata.figures_name(ctx.street), lambda: build_figures(ctx))


def streets_at_a_glance(ctx: PageContext) -> pd.DataFrame:
    """One row per street (see `analysis.summary.street_table`), once per dataset version (kept on disk)."""
    return derived(ctx.path, ctx.token, pagedata.STREETS, lambda: street_table(get_dataset(ctx.path)))
