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
- Opening a planned station (a site of a saved scenario becoming a facility with its ``opened_on``) lives
  with the scenarios: `analysis.siting.scenario.open_site`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from analysis import estates as estates_analysis
from analysis.cases import CaseFilter, CaseTable, case_kpis, case_table_from_dataset
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


def coverage_at(inputs: CoverageInputs, day: dt.date, *, street: str | None = None) -> float:
    """Share of the aged 60+ of the district (or ``street``) covered at the end of ``day`` (the Contract)."""
    fac = inputs.facilities
    not_operating = ~operating_mask(fac, day)
    at_day = dataclasses.replace(inputs, facility_planned=inputs.facility_planned | not_operating,
                                 _snaps=inputs._snaps)
    if not (~at_day.facility_planned & (inputs.facility_type == COVERAGE_TYPE)).any():
        return 0.0
    grids = compute_coverage(at_day, facility_types=(COVERAGE_TYPE,), radius_m=COVERAGE_RADIUS_M,
                             distance="euclidean", weight="elderly", include_planned=False).grids
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


def figure_trend(ds: Dataset, *, year: int, month: int, as_of: dt.date, street: str | None = None,
                 n: int = TREND_MONTHS, table: CaseTable | None = None, inputs: CoverageInputs | None = None,
                 with_coverage: bool | None = None, campaign: pd.DataFrame | None = None,
                 has_deadline: bool = True) -> pd.DataFrame:
    """The five key figures at each of the ``n`` month ends up to (year, month) (`TREND_COLUMNS`, the Contract).

    Months before the first case are kept with their case figures unknown (NaN), so every trend is ``n``
    months long. ``campaign``: the scope's campaign estates (`analysis.meeting`), None without stage dates.
    """
    months = trend_months(year, month, n)
    if with_coverage is None:
        with_coverage = has_facility_dates(ds)
    if with_coverage and inputs is None:
        inputs = coverage_inputs(ds)
    if table is None and ds.rows("cases") > 0:
        table = case_table_from_dataset(ds)
    streets = (street,) if street else ()
    first_day = None
    if table is not None and table.n_cases:
        first_day = pd.Timestamp(int(table.reported_ns[table.reported_ns != np.iinfo("int64").min].min())).date()
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
