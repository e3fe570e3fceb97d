"""Figures over time: facilities operating at a day, coverage at month ends, the meeting's five figures by month.

Contract
--------
- A facility is *operating at the end of day D* (`operating_mask`) when it is not ``planned``, its
  ``opened_on`` is missing or on/before D, and its ``closed_on`` is missing or after D (a station closed on D
  no longer serves at D's end). Without ``opened_on`` in the layer (no value at all) nothing is known about
  the past: `has_facility_dates` is False and callers show no history (`analysis.needs`
  ``meeting.coverage_history`` says what ``opened_on`` would add).
- *Coverage at D* (`coverage_at`): the meeting's coverage figure (`analysis.meeting`: aged 60+ within
  300 m, straight line, of a day-care station, `analysis.coverage.compute_coverage`) counting only the
  stations operating at D, for the district or one street. No station operating: 0.
- *Trend* (`figure_trend`): for each of the ``n`` months up to a month, the five key figures at that
  month's end with the meeting's own definitions (`analysis.meeting`): coverage (None without dates),
  open and overdue at the month's end, the month's closure rate, committees formed by its end. A month is
  ended at its last day, or at the as-of day for the as-of month.
- *Every street's trend* (`figure_trends`): `figure_trend` of the whole district and of each street, in one pass:
  per month end the cases' handling state (`analysis.cases.handling_state`), the coverage and the campaign
  estates' stages are worked out once and counted by street (``numpy.bincount`` over the cases' street codes),
  giving frame for frame what `figure_trend` gives street by street (tests/analysis/test_trend_all_streets.py).
- Opening a planned station (a site of a saved scenario becoming a facility with its ``opened_on``) lives
  with the scenarios: `analysis.siting.scenario.open_site`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis import estates as estates_analysis
from analysis.cases import CaseFilter, CaseTable, case_kpis, case_mask, case_table_from_dataset, handling_state
from analysis.coverage import CoverageInputs, compute_coverage, district_totals, prepare_inputs
from analysis.needs import column_present
from geo.calendar import local_ns
from geo.dataset import Dataset

COVERAGE_TYPE = "day_care"
COVERAGE_RADIUS_M = 300.0
TREND_MONTHS = 12
TREND_COLUMNS: tuple[str, ...] = ("month", "end", "coverage", "open", "overdue", "closure_rate", "committees")


def has_facility_dates(ds: Dataset) -> bool:
    """Whether the facilities carry ``opened_on`` with at least one value (so coverage has a past)."""
    return column_present(ds, "facilities", "opened_on")


def operating_mask(facilities: pd.DataFrame, day: dt.date) -> np.ndarray:
    """Per facility, whether it operates at the end of ``day`` (the module's Contract)."""
    n = len(facilities)
    end_ns = pd.Timestamp(day).value + 86_400 * 10**9  # midnight after the day
    ok = np.ones(n, dtype=bool)
    if "status" in facilities.columns:
        ok &= (facilities["status"].astype("string").fillna("operating") != "planned").to_numpy(dtype=bool)
    if "opened_on" in facilities.columns:
        opened = local_ns(facilities["opened_on"])
        ok &= (opened == np.iinfo("int64").min) | (opened < end_ns)
    if "closed_on" in facilities.columns:
        closed = local_ns(facilities["closed_on"])
        ok &= (closed == np.iinfo("int64").min) | (closed >= end_ns)
    return ok


def coverage_inputs(ds: Dataset) -> CoverageInputs | None:
    """The dataset prepared once for coverage at many days; None without day-care stations."""
    if ds.facilities is None or not (ds.facilities["type"] == COVERAGE_TYPE).any():
        return None
    return prepare_inputs(ds)


def _grids_covered_at(inputs: CoverageInputs, day: dt.date) -> pd.DataFrame | None:
    """The coverage grid table at the end of ``day`` (the Contract); None when no day-care station operates."""
    fac = inputs.facilities
    not_operating = ~operating_mask(fac, day)
    at_day = dataclasses.replace(inputs, facility_planned=inputs.facility_planned | not_operating,
                                 _snaps=inputs._snaps)
    if not (~at_day.facility_planned & (inputs.facility_type == COVERAGE_TYPE)).any():
        return None
    return compute_coverage(at_day, facility_types=(COVERAGE_TYPE,), radius_m=COVERAGE_RADIUS_M,
                            distance="euclidean", weight="elderly", include_planned=False).grids


def coverage_at(inputs: CoverageInputs, day: dt.date, *, street: str | None = None) -> float:
    """Share of the aged 60+ of the district (or ``street``) covered at the end of ``day`` (the Contract)."""
    grids = _grids_covered_at(inputs, day)
    if grids is None:
        return 0.0
    if street is not None:
        grids = grids[grids["street"] == street]
    return float(district_totals(grids).covered_share)


def coverage_history(ds: Dataset, days: list[dt.date], *, street: str | None = None) -> pd.DataFrame:
    """``day, stations, covered_share``: the operating day-care stations and the coverage at each day."""
    inputs = coverage_inputs(ds)
    rows = []
    for day in days:
        if inputs is None:
            rows.append({"day": day, "stations": 0, "covered_share": np.nan})
            continue
        mask = operating_mask(inputs.facilities, day) & (inputs.facility_type == COVERAGE_TYPE)
        if street is not None and "street" in inputs.facilities.columns:
            stations = int((mask & (inputs.facilities["street"] == street).to_numpy(dtype=bool)).sum())
        else:
            stations = int(mask.sum())
        rows.append({"day": day, "stations": stations, "covered_share": coverage_at(inputs, day, street=street)})
    return pd.DataFrame(rows, columns=["day", "stations", "covered_share"])


def _month_end(year: int, month: int, as_of: dt.date) -> dt.date:
    nxt = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return min(nxt - dt.timedelta(days=1), as_of)


def trend_months(year: int, month: int, n: int = TREND_MONTHS) -> list[tuple[int, int]]:
    """The ``n`` months up to and including (year, month), oldest first."""
    out = []
    y, m = year, month
    for _ in range(n):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def _trend_inputs(ds: Dataset, with_coverage: bool | None, inputs: CoverageInputs | None,
                  table: CaseTable | None) -> tuple[bool, CoverageInputs | None, CaseTable | None, dt.date | None]:
    """What the trends read, given or read from ``ds``: whether coverage is counted (facilities carry opening
    dates), the coverage inputs, the case table (None without cases) and the day of the first case."""
    if with_coverage is None:
        with_coverage = has_facility_dates(ds)
    if with_coverage and inputs is None:
        inputs = coverage_inputs(ds)
    if table is None and ds.rows("cases") > 0:
        table = case_table_from_dataset(ds)
    first_day = None
    if table is not None and table.n_cases:
        first_day = pd.Timestamp(int(table.reported_ns[table.reported_ns != np.iinfo("int64").min].min())).date()
    return with_coverage, inputs, table, first_day


def figure_trend(ds: Dataset, *, year: int, month: int, as_of: dt.date, street: str | None = None,
                 n: int = TREND_MONTHS, table: CaseTable | None = None, inputs: CoverageInputs | None = None,
                 with_coverage: bool | None = None, campaign: pd.DataFrame | None = None,
                 has_deadline: bool = True) -> pd.DataFrame:
    """The five key figures at each of the ``n`` month ends up to (year, month) (`TREND_COLUMNS`, the Contract).

    Months before the first case are kept with their case figures unknown (NaN), so every trend is ``n``
    months long. ``campaign``: the scope's campaign estates (`analysis.meeting`), None without stage dates.
    """
    months = trend_months(year, month, n)
    with_coverage, inputs, table, first_day = _trend_inputs(ds, with_coverage, inputs, table)
    streets = (street,) if street else ()
    rows = []
    for y, m in months:
        start, end = dt.date(y, m, 1), _month_end(y, m, as_of)
        row: dict[str, object] = {"month": f"{y:04d}-{m:02d}", "end": end}
        row["coverage"] = coverage_at(inputs, end, street=street) if with_coverage and inputs is not None else np.nan
        if table is not None and first_day is not None and end >= first_day.replace(day=1):
            stock = case_kpis(table, CaseFilter(streets=streets), as_of=end).iloc[0]
            flow = case_kpis(table, CaseFilter(since=start, until=end, streets=streets), as_of=end).iloc[0]
            row.update(open=float(stock["open"]), overdue=float(stock["overdue"]) if has_deadline else np.nan,
                       closure_rate=float(flow["closure_rate"]))
        else:
            row.update(open=np.nan, overdue=np.nan, closure_rate=np.nan)
        if campaign is not None and len(campaign):
            counts = estates_analysis.stage_counts(campaign, by=None, as_of=pd.Timestamp(end))
            row["committees"] = float(counts["reached_committee_formed"].iloc[0])
        else:
            row["committees"] = np.nan
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(TREND_COLUMNS))
    return frame.astype({c: "float64" for c in TREND_COLUMNS[2:]})


def figure_trends(ds: Dataset, *, year: int, month: int, as_of: dt.date, streets: Sequence[str],
                  n: int = TREND_MONTHS, table: CaseTable | None = None, inputs: CoverageInputs | None = None,
                  with_coverage: bool | None = None, campaign: pd.DataFrame | None = None,
                  campaign_by_street: bool = True, has_deadline: bool = True) -> dict[str | None, pd.DataFrame]:
    """`figure_trend` of the whole district (key None) and of each of ``streets``, in one pass (the Contract).

    Per month end the cases' handling state, the coverage grid table and the campaign estates' stages are worked
    out once, then counted by street. ``campaign``: the district's campaign estates (`analysis.meeting`), None
    without stage dates; a street's are those whose ``street`` is that street (none: its committees unknown), and
    with ``campaign_by_street`` False (the estates carry no street) every street's committees are unknown. A street
    the case filter does not know (not a street of the case table, for which `figure_trend` raises
    ``analysis.unknown_value``) is left out of the answer.
    """
    months = trend_months(year, month, n)
    with_coverage, inputs, table, first_day = _trend_inputs(ds, with_coverage, inputs, table)
    asked = [s for s in dict.fromkeys(streets) if s is not None]
    scopes: list[str | None] = [None, *asked]
    # cases: the street code of each case plus one (0: outside every grid), counted with one bincount per figure
    bin_of: dict[str, int] = {}
    case_bin = np.zeros(0, dtype="int64")
    if table is not None:
        bin_of = {label: i + 1 for i, label in enumerate(table.streets)}
        case_bin = table.case_street().astype("int64") + 1
    n_bins = len(bin_of) + 1
    # campaign estates: the rows of each scope (None: its committees are unknown)
    estates_of: dict[str | None, np.ndarray | None] = dict.fromkeys(scopes)
    if campaign is not None and len(campaign):
        estates_of[None] = np.ones(len(campaign), dtype=bool)
        if campaign_by_street and "street" in campaign.columns:
            for s in asked:
                rows_s = (campaign["street"] == s).to_numpy(dtype=bool, na_value=False)
                estates_of[s] = rows_s if rows_s.any() else None
    refused: set[str] = set()
    rows: dict[str | None, list[dict[str, object]]] = {s: [] for s in scopes}
    for y, m in months:
        start, end = dt.date(y, m, 1), _month_end(y, m, as_of)
        covered = _grids_covered_at(inputs, end) if with_coverage and inputs is not None else None
        counted = table is not None and first_day is not None and end >= first_day.replace(day=1)
        if counted:
            state = handling_state(table, as_of=end)
            in_month = case_mask(table, CaseFilter(since=start, until=end))

            def by_street(flag: np.ndarray) -> np.ndarray:
                return np.bincount(case_bin[flag], minlength=n_bins)

            n_open = by_street(state.known & state.open)
            n_overdue = by_street(state.known & state.overdue)
            n_month = by_street(state.known & in_month)
            n_closed = by_street(state.known & in_month & state.closed)
        reached = None
        if estates_of[None] is not None:
            stage = estates_analysis.stage_on(campaign, as_of=pd.Timestamp(end))
            reached = (stage != estates_analysis.STAGES[0]).to_numpy(dtype=bool)  # committee formed or beyond
        for s in scopes:
            row: dict[str, object] = {"month": f"{y:04d}-{m:02d}", "end": end}
            if with_coverage and inputs is not None:
                part = covered if covered is None or s is None else covered[covered["street"] == s]
                row["coverage"] = 0.0 if part is None else float(district_totals(part).covered_share)
            else:
                row["coverage"] = np.nan
            if counted:
                if not s:  # the whole district (figure_trend filters no street for a blank one), outside cases too
                    sel = slice(None)
                elif s in bin_of:
                    sel = slice(bin_of[s], bin_of[s] + 1)
                else:
                    refused.add(s)
                    sel = slice(0, 0)
                cases, closed = np.array([n_month[sel].sum()]), np.array([n_closed[sel].sum()])
                with np.errstate(invalid="ignore", divide="ignore"):
                    rate = np.where(cases > 0, closed / np.maximum(cases, 1), np.nan)  # as analysis.cases counts it
                row.update(open=float(n_open[sel].sum()),
                           overdue=float(n_overdue[sel].sum()) if has_deadline else np.nan,
                           closure_rate=float(rate[0]))
            else:
                row.update(open=np.nan, overdue=np.nan, closure_rate=np.nan)
            mine = estates_of[s]
            row["committees"] = float(reached[mine].sum()) if reached is not None and mine is not None else np.nan
            rows[s].append(row)
    return {s: pd.DataFrame(r, columns=list(TREND_COLUMNS)).astype({c: "float64" for c in TREND_COLUMNS[2:]})
            for s, r in rows.items() if s not in refused}
