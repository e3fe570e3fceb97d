"""Figures the overview takes from the other analyses, through their cached page helpers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.cases import CaseFilter, case_kpis
from analysis.coverage import DEFAULT_RADIUS_M, CoverageTotals, district_totals
from analysis.summary import DistrictSummary, district_summary, street_table
from geo.errors import AnalysisError
from ui.cases import case_table
from ui.context import PageContext
from ui.coverage import cached_coverage
from ui.data import get_dataset

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
    if ctx.ds.rows("cases") == 0:  # counted without reading the cases
        return None
    flt = CaseFilter(streets=(ctx.street,)) if ctx.street is not None else CaseFilter()
    row = case_kpis(case_table(ctx), flt).iloc[0]
    return {"open": int(row["open"]), "overdue": int(row["overdue"])}


@st.cache_resource(show_spinner=False, max_entries=32)
def _summary(path: str, token: str, street: str | None) -> DistrictSummary:
    return district_summary(get_dataset(path), street=street)


@st.cache_resource(show_spinner=False, max_entries=4)
def _street_table(path: str, token: str) -> pd.DataFrame:
    return street_table(get_dataset(path))


def summary(ctx: PageContext) -> DistrictSummary:
    """The district's (or the chosen street's) figures, worked out once per dataset version."""
    return _summary(ctx.path, ctx.token, ctx.street)


def streets_at_a_glance(ctx: PageContext) -> pd.DataFrame:
    """One row per street (see `analysis.summary.street_table`), once per dataset version."""
    return _street_table(ctx.path, ctx.token)
