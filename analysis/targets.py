"""Quarterly targets (预安) checked off from the data (销号), and the 考核 table.

Contract
--------
A target (`geo.followups.Target`) names a quarter, a responsible unit or a street, a measure and a threshold.
`check_targets` gives each target's value at the quarter's end and whether it is met, with the meeting's own
definitions (`analysis.meeting`, `geo.calendar`'s handling rule):

- The quarter runs from its first day to its last (`geo.calendar.quarter_bounds`); it *ends* at its last
  day, or at the as-of day while it is not over (``final`` False: the figures may still change). A quarter
  that starts after the as-of day is refused (``analysis.quarter_out_of_range``).
- ``closure_rate``: of the subject's cases reported in the quarter, the share closed by its end;
  ``overdue``: the subject's cases overdue at the quarter's end (every case reported up to then);
  ``closed_late``: of the cases reported in the quarter, those closed after their deadline by its end;
  ``committees``: the street's campaign estates with an owners' committee (stage ``committee_formed`` or
  beyond) by the end; ``coverage``: the street's aged 60+ covered at the end (`analysis.history.coverage_at`,
  only the stations operating then).
- A unit's cases are those with that ``responsible_unit``; a street's, those in its grids. A unit with no
  case reported in the quarter has no closure rate (nothing to close): that target is *not judged*;
  its overdue and closed-late counts are 0 and judged as usual.
- ``met``: value ≥ threshold (``min`` measures) or ≤ threshold (``max``); <NA> (not judged) when the value
  is unknown, with ``note`` saying why: ``no_cases`` (no case in the quarter), ``needs`` (the dataset lacks
  what the measure needs: deadlines, closing times, stage dates, facilities' opening dates for a past
  quarter), ``street_unknown`` (the street is not in the dataset).

`scorecard` is the 考核 table: per subject, targets set, met, not met and not judged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis import estates as estates_analysis
from analysis.cases import CaseFilter, CaseTable, case_kpis, case_table_from_dataset, resolve_as_of
from analysis.history import coverage_at, coverage_inputs, has_facility_dates
from analysis.needs import STAGE_DATES, column_present
from geo.calendar import parse_quarter, quarter_bounds, quarter_text
from geo.dataset import Dataset
from geo.errors import AnalysisError
from geo.followups import MEASURES, Target

CHECK_COLUMNS: tuple[str, ...] = ("quarter", "kind", "subject", "measure", "bound", "threshold", "value", "met",
                                  "cases", "end", "final", "note")
SCORE_COLUMNS: tuple[str, ...] = ("kind", "subject", "targets", "met", "not_met", "not_judged")


def quarter_end(quarter: str, as_of: dt.date) -> tuple[dt.date, dt.date, bool]:
    """(first day, end day, final) of a quarter judged at ``as_of`` (the Contract); refuses a future quarter."""
    year, q = parse_quarter(quarter)
    first, last = quarter_bounds(year, q)
    if first > as_of:
        raise AnalysisError(f"quarter {quarter_text(year, q)} starts after the data's as-of day {as_of}",
                            code="analysis.quarter_out_of_range",
                            params={"quarter": quarter_text(year, q), "as_of": as_of.isoformat()})
    return first, min(last, as_of), last <= as_of


def _campaign_of(ds: Dataset, street: str) -> pd.DataFrame | None:
    e = ds.estates
    if e is None or len(e) == 0 or "street" not in e.columns:
        return None
    try:
        camp = estates_analysis.campaign_estates(e)
    except AnalysisError:
        return None
    return camp[camp["street"] == street]


def check_targets(ds: Dataset, targets: Sequence[Target], quarter: str, *, table: CaseTable | None = None
                  ) -> pd.DataFrame:
    """Each target of ``quarter`` with its value and whether it is met (`CHECK_COLUMNS`, the Contract), in the
    order given. Targets of other quarters are left out."""
    as_of = resolve_as_of(ds.meta_dict, ds.lazy_layer("cases")).date()
    start, end, final = quarter_end(quarter, as_of)
    q = quarter_text(*parse_quarter(quarter))
    mine = [t for t in targets if t.quarter == q]
    has_cases = ds.rows("cases") > 0
    if has_cases and table is None and mine:
        table = case_table_from_dataset(ds)
    has_deadline = has_cases and column_present(ds, "cases", "deadline")
    has_closed_at = has_cases and column_present(ds, "cases", "closed_at")
    has_stage_dates = any(column_present(ds, "estates", c) for c in STAGE_DATES)
    streets = set(ds.streets)
    inputs = None
    rows = []
    for t in mine:
        value: float | None = None
        note = ""
        n_cases: int | None = None
        if t.kind == "street" and t.subject not in streets:
            note = "street_unknown"
        elif t.measure in ("closure_rate", "overdue", "closed_late"):
            flt = _case_filter(table, t)
            if flt is None:  # a unit no case names (or no cases at all): nothing reported, nothing open
                n_cases = 0
                stock = {"overdue": 0}
                flow = {"cases": 0, "closure_rate": np.nan, "closed_late": 0}
            else:
                stock = case_kpis(table, flt, as_of=end).iloc[0]
                flow = case_kpis(table, CaseFilter(since=start, until=end, streets=flt.streets, units=flt.units),
                                 as_of=end).iloc[0]
                n_cases = int(flow["cases"])
            if t.measure == "closure_rate":
                value = None if n_cases == 0 else float(flow["closure_rate"])
                note = "no_cases" if n_cases == 0 else ""
            elif t.measure == "overdue":
                value, note = (float(stock["overdue"]), "") if has_deadline else (None, "needs")
            else:
                value, note = (float(flow["closed_late"]), "") if has_deadline and has_closed_at else (None, "needs")
        elif t.measure == "committees":
            camp = _campaign_of(ds, t.subject) if has_stage_dates else None
            if camp is None:
                note = "needs"
            else:
                counts = estates_analysis.stage_counts(camp, by=None, as_of=pd.Timestamp(end)) if len(camp) else None
                value = float(counts["reached_committee_formed"].iloc[0]) if counts is not None else 0.0
        elif t.measure == "coverage":
            if not has_facility_dates(ds) and end != as_of:
                note = "needs"  # the past's coverage needs the facilities' opening dates
            else:
                inputs = inputs if inputs is not None else coverage_inputs(ds)
                value = coverage_at(inputs, end, street=t.subject) if inputs is not None else 0.0
        met = pd.NA if value is None or np.isnan(value) else bool(
            value >= t.threshold - 1e-12 if MEASURES[t.measure] == "min" else value <= t.threshold + 1e-12)
        rows.append({"quarter": q, "kind": t.kind, "subject": t.subject, "measure": t.measure,
                     "bound": MEASURES[t.measure], "threshold": t.threshold,
                     "value": np.nan if value is None else value, "met": met,
                     "cases": pd.NA if n_cases is None else n_cases, "end": end, "final": final, "note": note})
    frame = pd.DataFrame(rows, columns=list(CHECK_COLUMNS))
    return frame.astype({"threshold": "float64", "value": "float64", "met": "boolean", "cases": "Int64",
                         "final": "bool"})


def _case_filter(table: CaseTable | None, t: Target) -> CaseFilter | None:
    if table is None:
        return None
    if t.kind == "unit":
        return CaseFilter(units=(t.subject,)) if t.subject in table.units else None
    return CaseFilter(streets=(t.subject,))


def scorecard(check: pd.DataFrame) -> pd.DataFrame:
    """The 考核 table: per subject (units first, then streets, each by name), targets set, met, not met, not
    judged (`SCORE_COLUMNS`)."""
    if len(check) == 0:
        return pd.DataFrame(columns=list(SCORE_COLUMNS))
    met = check["met"]
    frame = check.assign(_met=met.fillna(False).astype(int), _not=(~met.fillna(True)).astype(int),
                         _na=met.isna().astype(int))
    out = frame.groupby(["kind", "subject"], sort=False).agg(
        targets=("measure", "size"), met=("_met", "sum"), not_met=("_not", "sum"), not_judged=("_na", "sum"))
    out = out.reset_index()
    out["_order"] = out["kind"].map({"unit": 0, "street": 1})
    out = out.sort_values(["_order", "subject"], kind="mergesort").drop(columns="_order").reset_index(drop=True)
    return out[list(SCORE_COLUMNS)].astype({c: "int64" for c in SCORE_COLUMNS[2:]})
