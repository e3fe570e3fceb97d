"""Figures the overview takes from the other analyses, worked out once per dataset version and kept on disk.

The overview is the page a leader opens first, often right after the server
was restarted or an import. Its figures (the district's or a street's key numbers, the
day-care coverage, open and overdue cases, the street table) are plain
numbers derived from one version, so they are kept beside it
(`ui.data.derived`): a restarted server reads them back without loading the
cases or importing the coverage and hot-spot code. They are built by
`analysis.pagedata` (which an import, on the page or on the command line, also
runs when it ends), with the coverage page's own cached answer, so every page
shows the same numbers. The sparklines (the 调度会 page's five figures over 12
months) are drawn from figures kept the same way, and their picture is kept
too; the drawing code (matplotlib) is imported only to draw one.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import pagedata
from analysis.needs import missing
from analysis.pagedata import DAY_CARE_RADIUS_M, DayCareFigures, OverviewFigures
from analysis.summary import street_table
from i18n import t
from ui.context import PageContext
from ui.data import derived, get_dataset, getter

__all__ = ["DAY_CARE_RADIUS_M", "DayCareFigures", "OverviewFigures", "build_figures", "figures", "strip_png",
           "streets_at_a_glance", "trend_strip"]


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


def _draw_strip(ctx: PageContext) -> bytes | None:
    from reports.loop import strip_png as draw

    return draw(pagedata.trend(ctx.ds, ctx.street, getter(ctx.path, ctx.token)), lang=ctx.lang)  # trend kept beside the version


def strip_png(ctx: PageContext) -> bytes | None:
    """The sparklines' picture (None: nothing to draw), once per version, street and language, kept beside the
    version (`ui.data.derived`) and drawn from the figures `analysis.pagedata.trend` keeps."""
    return derived(ctx.path, ctx.token, pagedata.trend_png_name(ctx.street, ctx.lang), lambda: _draw_strip(ctx))


# The needs (`analysis.needs`) whose one-line notes the overview shows: its figures' two, the sparklines' one.
FIGURE_NEEDS = ("overview.overdue", "overview.committees")
TREND_NEED = "history.coverage"


def read_needs(ds) -> None:
    """Work out which of the overview's notes ``ds`` needs (each reads a sample of its layer once per version)."""
    for key in (*FIGURE_NEEDS, TREND_NEED):
        missing(ds, key)


def trend_strip(ctx: PageContext) -> None:
    """The five figures over 12 months as sparklines for the leaders (the 调度会 page's definitions)."""
    png = strip_png(ctx)
    if png is None:
        return
    st.caption(t("loop.overview.caption", lang=ctx.lang))
    st.image(png, width="stretch")
    m = missing(ctx.ds, TREND_NEED)
    if m is not None:
        from reports.content import needs_line
        from ui.text import md

        st.caption(md(needs_line(m, ctx.lang)))
