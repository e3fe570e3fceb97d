"""Grouped case counts, the same on every backend: ``DatasetStore.case_counts``.

Contract
--------
``case_counts(by, *, since, until, categories, as_of, district)`` gives one row
per group of ``by`` (any of `GROUPS`: ``district``, ``street``, ``grid_id``,
``responsible_unit``, ``category``, ``week``) with

- ``cases``: the cases reported in ``[since, until]`` (whole days; either
  open-ended), of ``categories`` when given, and known at the end of the
  ``as_of`` day (a case reported later is not counted yet, as on the
  district pages);
- ``open``: those open at the end of the ``as_of`` day, ``overdue``: those
  open then and past their deadline, ``closed_late``: those closed by then
  after their deadline (the handling rule of `geo.calendar`, taken at the end
  of the day: a case closed after it is open; a case without a deadline is
  never overdue nor late);

``as_of`` defaults to the dataset's meta ``as_of``, else the day of the latest
report (`default_as_of`, after `geo.calendar.resolve_as_of`). Grouping by ``grid_id`` counts only cases with a
grid; by ``district`` or ``street``, only cases whose grid is in the grids
layer; ``district=NAME`` counts only the cases in that district's grids.
``week`` is the Monday-based week number (`geo.calendar.week_index`). Rows are sorted by
the keys (missing keys last); keys are text (``week``: int64), counts int64.

The GeoPackage store counts with pandas over its GeoParquet files
(`count_frame`), PostGIS in SQL with the expressions built here (`sql_week`,
`sql_rule`); `tests/geo/test_store_contract.py` runs the same counts on both
against a count made by hand, `tests/analysis/test_count_parity.py` against
`analysis.cases` too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from geo import calendar
from geo.errors import StorageError

GROUPS: tuple[str, ...] = ("district", "street", "grid_id", "responsible_unit", "category", "week")
COUNTS: tuple[str, ...] = ("cases", "open", "overdue", "closed_late")
# the cases columns the counts read (those present)
CASE_COLUMNS: tuple[str, ...] = ("grid_id", "reported_at", "status", "deadline", "closed_at", "category",
                                 "responsible_unit")
_NS_PER_DAY = 86_400 * 10**9


def columns_for(by: tuple[str, ...], *, categories: tuple[str, ...] = (), district: str | None = None
                ) -> tuple[str, ...]:
    """The cases columns a count needs (the handling rule's always; a million cases read no more than that)."""
    need = {"reported_at", "status", "deadline", "closed_at"}
    if {"grid_id", "district", "street"} & set(by) or district is not None:
        need.add("grid_id")
    if "category" in by or categories:
        need.add("category")
    if "responsible_unit" in by:
        need.add("responsible_unit")
    return tuple(c for c in CASE_COLUMNS if c in need)


def check_by(by: Iterable[str]) -> tuple[str, ...]:
    """The grouping, checked: `StorageError` ``storage.bad_grouping`` for an unknown or empty one."""
    by = tuple(by)
    bad = [b for b in by if b not in GROUPS]
    if bad or not by:
        raise StorageError(f"cannot group cases by {', '.join(bad) or 'nothing'}; use {', '.join(GROUPS)}",
                           code="storage.bad_grouping", params={"by": ", ".join(bad) or "—"})
    return by


# --- the rules: taken from `geo.calendar`, where each is written once ------------------------------------------

def week_number(reported: pd.Series) -> pd.Series:
    """`geo.calendar.week_index` of each report (local time); <NA> without."""
    return calendar.week_of_times(reported)


def sql_week(column: str) -> str:
    """`week_number` as a SQL expression over a timestamp column (`geo.calendar.week_sql`)."""
    return calendar.week_sql(column)


def default_as_of(meta: Mapping[str, str], latest_report: object) -> pd.Timestamp | None:
    """"Today" of the counts (`geo.calendar.resolve_as_of`): meta ``as_of`` if it is a date, else the day of
    the latest report (None: no cases, nothing to count)."""
    given = calendar.meta_as_of(meta)
    if given is not None:
        return given
    if latest_report is None or pd.isna(latest_report):
        return None
    return calendar.resolve_as_of(None, latest_report)


def day_end(as_of: object) -> pd.Timestamp:
    """The first moment after the ``as_of`` day (rules are taken at the end of the day)."""
    return pd.Timestamp(calendar.end_of_day_ns(as_of))


def _handling(frame: pd.DataFrame, end: pd.Timestamp) -> calendar.Handling:
    n = len(frame)
    missing = np.full(n, calendar.NAT, dtype="int64")
    status = frame["status"] if "status" in frame.columns else pd.Series(pd.NA, index=frame.index)
    return calendar.handling(
        reported_ns=calendar.local_ns(frame["reported_at"]), closed_status=calendar.closed_status(status),
        deadline_ns=calendar.local_ns(frame["deadline"]) if "deadline" in frame.columns else missing,
        closed_ns=calendar.local_ns(frame["closed_at"]) if "closed_at" in frame.columns else missing,
        end_ns=int(pd.Timestamp(end).value))


def is_open_at(frame: pd.DataFrame, end: pd.Timestamp) -> np.ndarray:
    """Open at ``end`` (`geo.calendar.handling`): reported before it and not closed by then."""
    return _handling(frame, end).open


def is_overdue_at(frame: pd.DataFrame, end: pd.Timestamp, open_: np.ndarray) -> np.ndarray:
    """Open at ``end`` and its deadline before ``end`` (never without a deadline; `geo.calendar.handling`)."""
    return open_ & _handling(frame, end).overdue


def sql_rule(alias: str, end_param: str, columns: Iterable[str]) -> calendar.HandlingSQL:
    """The handling rule (`geo.calendar.HandlingSQL`) over the cases table ``alias`` with these ``columns``."""
    cols = set(columns)
    return calendar.HandlingSQL(reported_at=f"{alias}.reported_at", status=f"{alias}.status",
                                deadline=f"{alias}.deadline" if "deadline" in cols else None,
                                closed_at=f"{alias}.closed_at" if "closed_at" in cols else None, end=end_param)


def sql_open_at(alias: str, end_param: str, columns: Iterable[str]) -> str:
    """`is_open_at` in SQL (``end_param``: the placeholder of the end moment, a timestamp)."""
    return sql_rule(alias, end_param, columns).open


def sql_overdue_at(alias: str, end_param: str, columns: Iterable[str]) -> str:
    """`is_overdue_at` in SQL (the open rule and the deadline before the end)."""
    return sql_rule(alias, end_param, columns).overdue


# --- counting a frame (the GeoPackage store) ------------------------------------------------------------------------

def select(frame: pd.DataFrame, *, since: str | None, until: str | None, categories: Iterable[str]) -> pd.DataFrame:
    """The cases the counts take: reported in ``[since, until]`` (whole days), of ``categories`` when given."""
    keep = np.ones(len(frame), dtype=bool)
    reported = pd.to_datetime(frame["reported_at"])
    if since:
        keep &= (reported >= pd.Timestamp(since).normalize()).to_numpy(dtype=bool, na_value=False)
    if until:
        keep &= (reported < day_end(until)).to_numpy(dtype=bool, na_value=False)
    categories = tuple(categories)
    if categories:
        keep &= frame["category"].astype("string").isin(categories).to_numpy(dtype=bool, na_value=False)
    return frame[keep]


def count_frame(cases: pd.DataFrame, grids: pd.DataFrame, by: tuple[str, ...], end: pd.Timestamp | None
                ) -> pd.DataFrame:
    """Counts of ``cases`` (already selected) grouped by ``by``; ``grids``: grid_id with street and district."""
    frame = cases
    if {"district", "street"} & set(by):
        frame = frame.merge(grids[[c for c in ("grid_id", "district", "street") if c in grids.columns]],
                            on="grid_id", how="inner")
    if "grid_id" in by:
        frame = frame[frame["grid_id"].notna()]
    if "week" in by:
        frame = frame.assign(week=week_number(frame["reported_at"]))
        frame = frame[frame["week"].notna()]
    none = np.zeros(len(frame), dtype=bool)
    flags = _handling(frame, end) if end is not None else calendar.Handling(none, none, none, none, none)
    keys = pd.DataFrame({b: frame[b].to_numpy() if b in frame.columns else pd.NA for b in by}, index=frame.index)
    keys["cases"] = flags.known.astype("int64")
    keys["open"] = flags.open.astype("int64")
    keys["overdue"] = flags.overdue.astype("int64")
    keys["closed_late"] = flags.closed_late.astype("int64")
    keys = keys[flags.known]  # a case reported after the day is not counted yet
    out = keys.groupby(list(by), dropna=False, sort=False)[list(COUNTS)].sum().reset_index()
    return finish(out, by)


def finish(out: pd.DataFrame, by: tuple[str, ...]) -> pd.DataFrame:
    """The contract's form: key dtypes, int64 counts, rows sorted by the keys (missing last)."""
    out = out[[*by, *COUNTS]].copy()
    for b in by:
        out[b] = out[b].astype("int64") if b == "week" else out[b].astype("string")
    for c in COUNTS:
        out[c] = out[c].astype("int64")
    return out.sort_values(list(by), na_position="last", kind="stable").reset_index(drop=True)


def empty(by: tuple[str, ...]) -> pd.DataFrame:
    return finish(pd.DataFrame({c: [] for c in (*by, *COUNTS)}), by)
