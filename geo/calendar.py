"""The case calendar and the handling rule, each written once: for numpy/pandas, and as SQL text.

Contract
--------
Every count the app shows (open, overdue, closed late, per street, grid,
unit, category and week) is built from these definitions, whichever path
computes it: `analysis.cases` (numpy over a case table), the GeoPackage
store's counts (pandas) and the PostGIS store's counts (SQL built by the
``*_sql`` functions below from its column names). ``tests/analysis/
test_count_parity.py`` runs the three on the same data.

**Times.** A time is read as the wall-clock time it carries. A time with a
UTC offset is first converted to `LOCAL_TZ` (Asia/Shanghai), then the offset
is dropped. A *day number* is the number of days since 1970-01-01 (a
Thursday) of that local time.

**Calendar.**

- `week_index`: the Monday-based week number, ``(day + 3) // 7`` (floor
  division, so days before 1970 work too). Week 0 runs from Monday
  1969-12-29 to Sunday 1970-01-04; a week that spans a new year belongs to
  neither year (2024-12-30 and 2025-01-05 are in one week). `week_start`
  gives its Monday.
- `month_of`: the month number, months since January 1970
  (``(year - 1970) * 12 + month - 1``); `month_start` gives its first day.
- A *quarter* ``YYYYQn`` (`parse_quarter`): months 3n-2 … 3n of the year;
  `quarter_bounds` gives its first and last day, `quarter_of` the quarter of a
  day; a quarter's last month is 3, 6, 9 or 12 (`is_quarter_end_month`).

**Handling at a day D** (the *as-of* day), judged at the end of D, that is
before ``end = D + 1 day`` (midnight, exclusive):

- *known*: reported before ``end``; a case reported later does not exist yet;
- *closed*: known, status ``closed``, and ``closed_at`` missing or before
  ``end`` — so a case closed after D is *open* at D;
- *open*: known and not closed (any status but ``closed``, a missing one
  included, is open);
- *overdue*: open with a ``deadline`` before ``end``; a case without a
  deadline is never overdue;
- *closed late*: closed with both ``closed_at`` and ``deadline`` and
  ``closed_at`` after ``deadline``.

**A missing as-of** (`resolve_as_of`): the dataset's meta ``as_of`` when it
reads as a date; otherwise (no ``as_of``, or text that is not a date) the day
of the latest report; with no report at all, today. Every path resolves it
the same way: the PostGIS store reads ``max(reported_at)`` in SQL and passes
it here; nothing counts "open" without a day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.values import TIMEZONE, parse_datetimes

LOCAL_TZ = TIMEZONE  # Asia/Shanghai: the one time zone, named in geo.values
NAT = np.iinfo("int64").min  # "no time" in the int64 nanosecond arrays
NS_PER_DAY = 86_400 * 10**9
_EPOCH_DAY = "DATE '1970-01-01'"

# --- times ---------------------------------------------------------------------------------------------------------


def local_ns(values: Any) -> np.ndarray:
    """int64 nanoseconds since 1970 of local wall-clock times (`NAT` where missing or not a time).

    Times given as text are read by `geo.values.parse_datetimes`, the one reading of times (every row by one
    grammar, not a format guessed from the first row); zoned times are converted to `LOCAL_TZ` there.
    """
    ts, _ = parse_datetimes(pd.Series(values) if not isinstance(values, pd.Series) else values)
    arr = ts.to_numpy(dtype="datetime64[ns]")
    out = arr.view("int64").copy()
    out[np.isnat(arr)] = NAT
    return out


def as_of_day(as_of: pd.Timestamp | dt.date | str) -> pd.Timestamp:
    """The as-of day (midnight starting it) of a date, a time or ISO text."""
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(LOCAL_TZ).tz_localize(None)
    return ts.normalize()


def end_of_day_ns(as_of: pd.Timestamp | dt.date | str) -> int:
    """The end of the as-of day (midnight after it, exclusive), in int64 nanoseconds."""
    return int(as_of_day(as_of).value) + NS_PER_DAY


def meta_as_of(meta: Mapping[str, Any] | None) -> pd.Timestamp | None:
    """The as-of day a dataset's meta gives (its ``as_of`` read as a date), or None."""
    text = (meta or {}).get("as_of")
    if not text:
        return None
    ts = pd.to_datetime(str(text), errors="coerce")
    return None if pd.isna(ts) else as_of_day(ts)


def resolve_as_of(meta: Mapping[str, Any] | None, latest_report: Any = None) -> pd.Timestamp:
    """"Today" for handling figures: meta ``as_of`` when it is a date, else the day of the latest report, else today.

    ``latest_report``: the latest ``reported_at`` (a time, or a column of them — its latest is taken), or
    None when there are no cases.
    """
    given = meta_as_of(meta)
    if given is not None:
        return given
    if latest_report is not None:
        if np.ndim(latest_report):
            ns = local_ns(latest_report)
            ns = ns[ns != NAT]
            latest = pd.Timestamp(int(ns.max())) if len(ns) else None
        else:
            latest = pd.to_datetime(latest_report, errors="coerce")
        if latest is not None and not pd.isna(latest):
            return as_of_day(latest)
    return pd.Timestamp.today().normalize()


# --- calendar --------------------------------------------------------------------------------------------------------


def day_number(ns: np.ndarray) -> np.ndarray:
    """Day numbers (days since 1970-01-01) of int64 nanosecond times (not `NAT`)."""
    return np.floor_divide(np.asarray(ns, dtype="int64"), NS_PER_DAY)


def week_index(day: np.ndarray | int) -> np.ndarray:
    """Monday-based week number of a day number (days since 1970-01-01)."""
    return (np.asarray(day, dtype="int64") + 3) // 7


def week_of_times(values: Any) -> pd.Series:
    """`week_index` of each time (local time, see `local_ns`), as an Int64 series; <NA> without a time."""
    ns = local_ns(values)
    missing = ns == NAT
    week = week_index(day_number(np.where(missing, 0, ns)))
    index = values.index if isinstance(values, pd.Series) else None
    return pd.Series(pd.array(np.where(missing, None, week), dtype="Int64"), index=index)


def week_start(week: np.ndarray | int) -> np.ndarray:
    """First day (a Monday) of a week number, as datetime64[D]."""
    return (np.asarray(week, dtype="int64") * 7 - 3).astype("datetime64[D]")


def month_of(day: np.ndarray | int) -> np.ndarray:
    """Month number (months since January 1970) of a day number."""
    return np.asarray(day, dtype="int64").astype("datetime64[D]").astype("datetime64[M]").astype("int64")


def month_start(month: np.ndarray | int) -> np.ndarray:
    """First day of a month number (months since 1970-01), as datetime64[D]."""
    return np.asarray(month, dtype="int64").astype("datetime64[M]").astype("datetime64[D]")


def parse_quarter(text: str) -> tuple[int, int]:
    """``YYYYQn`` (``2019Q2``; ``q`` and spaces tolerated) as (year, quarter), or `AnalysisError`
    ``analysis.quarter_invalid``."""
    import re

    from geo.errors import AnalysisError

    m = re.fullmatch(r"(\d{4})\s*[Qq]\s*([1-4])", str(text).strip()) if text is not None else None
    if not m:
        raise AnalysisError(f"quarter {text!r} is not a quarter in the form YYYYQn (for example 2019Q2)",
                            code="analysis.quarter_invalid", params={"quarter": str(text)})
    return int(m.group(1)), int(m.group(2))


def quarter_text(year: int, quarter: int) -> str:
    return f"{year:04d}Q{quarter}"


def quarter_of(day: dt.date) -> tuple[int, int]:
    """(year, quarter) of a day."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """First and last day of a quarter."""
    first = dt.date(year, 3 * quarter - 2, 1)
    nxt = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def is_quarter_end_month(year: int, month: int) -> bool:
    """Whether the month is the last of its quarter (March, June, September, December)."""
    return month % 3 == 0


# --- the handling rule ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Handling:
    """Per-case flags at the end of one as-of day (boolean arrays aligned with the cases)."""

    known: np.ndarray
    closed: np.ndarray
    open: np.ndarray
    overdue: np.ndarray
    closed_late: np.ndarray


def handling(*, reported_ns: np.ndarray, closed_status: np.ndarray, deadline_ns: np.ndarray, closed_ns: np.ndarray,
             end_ns: int) -> Handling:
    """The handling rule (module docstring) on int64 nanosecond arrays (`NAT` = missing)."""
    known = reported_ns < end_ns
    has_closed_at = closed_ns != NAT
    closed = known & closed_status & (~has_closed_at | (closed_ns < end_ns))
    open_ = known & ~closed
    has_deadline = deadline_ns != NAT
    overdue = open_ & has_deadline & (deadline_ns < end_ns)
    closed_late = closed & has_deadline & has_closed_at & (closed_ns > deadline_ns)
    return Handling(known=known, closed=closed, open=open_, overdue=overdue, closed_late=closed_late)


def closed_status(status: Any) -> np.ndarray:
    """Whether each status says ``closed`` (missing: no)."""
    return (pd.Series(status).astype("string") == "closed").fillna(False).to_numpy(dtype=bool)


def handling_frame(cases: pd.DataFrame, as_of: pd.Timestamp | dt.date | str) -> pd.DataFrame:
    """The handling flags of a cases frame at ``as_of``, plus its ``week`` and ``month`` (by report).

    Columns: ``known, closed, open, overdue, closed_late`` (bool), ``week``, ``month`` (int64); the
    frame's index. ``deadline`` and ``closed_at`` may be absent (never overdue / never closed late).
    """
    n = len(cases)
    missing = np.full(n, NAT, dtype="int64")
    reported = local_ns(cases["reported_at"])
    flags = handling(reported_ns=reported, closed_status=closed_status(cases["status"]),
                     deadline_ns=local_ns(cases["deadline"]) if "deadline" in cases.columns else missing,
                     closed_ns=local_ns(cases["closed_at"]) if "closed_at" in cases.columns else missing,
                     end_ns=end_of_day_ns(as_of))
    day = day_number(np.where(reported == NAT, 0, reported))
    return pd.DataFrame({"known": flags.known, "closed": flags.closed, "open": flags.open, "overdue": flags.overdue,
                         "closed_late": flags.closed_late, "week": week_index(day), "month": month_of(day)},
                        index=cases.index)


# --- the same, as SQL (PostgreSQL) ---------------------------------------------------------------------------------


def local_time_sql(column: str, *, with_offset: bool) -> str:
    """A time column as local wall-clock time: ``timestamptz`` columns converted to `LOCAL_TZ`."""
    return f"({column} AT TIME ZONE '{LOCAL_TZ}')" if with_offset else column


def day_sql(time: str) -> str:
    """SQL day number (days since 1970-01-01) of a local time expression."""
    return f"(({time})::date - {_EPOCH_DAY})"


def week_sql(time: str) -> str:
    """SQL `week_index` of a local time expression (an integer)."""
    return f"(floor(({day_sql(time)} + 3) / 7.0)::integer)"


def month_sql(time: str) -> str:
    """SQL `month_of` of a local time expression (an integer)."""
    return (f"((extract(year FROM ({time}))::integer - 1970) * 12 "
            f"+ extract(month FROM ({time}))::integer - 1)")


def end_of_day_sql(as_of: pd.Timestamp | dt.date | str) -> str:
    """The end of the as-of day as a SQL timestamp literal (from a date, never from user text)."""
    end = as_of_day(as_of) + pd.Timedelta(days=1)
    return f"TIMESTAMP '{end:%Y-%m-%d %H:%M:%S}'"


@dataclass(frozen=True)
class HandlingSQL:
    """The handling rule as SQL boolean expressions over a cases table's columns.

    Each field is a column expression (local times: see `local_time_sql`);
    ``deadline``/``closed_at`` None when the table has no such column.
    ``end`` is `end_of_day_sql` of the as-of day.
    """

    reported_at: str
    status: str
    deadline: str | None
    closed_at: str | None
    end: str

    @property
    def known(self) -> str:
        return f"({self.reported_at} < {self.end})"

    @property
    def closed(self) -> str:
        in_time = f" AND ({self.closed_at} IS NULL OR {self.closed_at} < {self.end})" if self.closed_at else ""
        return f"({self.known} AND COALESCE({self.status} = 'closed', FALSE){in_time})"

    @property
    def open(self) -> str:
        return f"({self.known} AND NOT {self.closed})"

    @property
    def overdue(self) -> str:
        if not self.deadline:
            return "FALSE"
        return f"({self.open} AND {self.deadline} IS NOT NULL AND {self.deadline} < {self.end})"

    @property
    def closed_late(self) -> str:
        if not (self.deadline and self.closed_at):
            return "FALSE"
        return (f"({self.closed} AND {self.deadline} IS NOT NULL AND {self.closed_at} IS NOT NULL "
                f"AND {self.closed_at} > {self.deadline})")
