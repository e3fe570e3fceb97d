"""Case handling: open, overdue, closed late, closure rate, time to close; the 清零 overdue list.

Cases are turned once into a `CaseTable` of integer codes (grid, category,
source, unit, report day, week, month) and timestamps as int64 nanoseconds, so
that any filter is a boolean mask and any per-grid or per-period figure a
`numpy.bincount`; a filter change on 1 M cases takes milliseconds.

Definitions, all "as of" a date (the dataset's meta ``as_of``, else the day of
the latest report; or a date given by the user), taken at the end of that day.
The calendar (week and month numbers) and the handling rule are written once,
in `geo.calendar`, which the stores' counts use too; in short:

- a case is *known* if it was reported before the end of the as-of day;
- *closed*: status ``closed`` and (no ``closed_at``, or closed before the end
  of the as-of day); every other known case is *open*;
- *overdue*: open and its ``deadline`` has passed (cases without a deadline
  are never overdue);
- *closed late*: closed with ``closed_at`` after ``deadline``;
- *closure rate*: closed / known cases;
- *hours to close*: ``closed_at - reported_at`` of closed cases that have both;
  the median is over those.

Cases outside every grid (``grid_id`` missing or unknown) keep their place in
the table with grid code ``-1``: they count in district totals, by category
and by unit, not in per-grid or per-street figures; `CaseTable.outside`
reports how many there are.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from analysis.options import PERIODS, Period, bad_choice, check_choice
from geo import calendar
from geo.calendar import NAT, local_ns, month_of, month_start, week_index, week_start
from geo.crs import metric_crs
from geo.dataset import LazyLayer
from geo.errors import AnalysisError
from geo.personal import mask_personal
from geo.personal import mask_phone as mask_phone  # re-exported: the one masking function lives in geo.personal

GROUPS: tuple[str, ...] = ("street", "grid", "category", "unit", "source")
_NS_PER_DAY = calendar.NS_PER_DAY
_NS_PER_HOUR = 3_600 * 10**9
KPI_COLUMNS = ("cases", "open", "overdue", "closed", "closed_late", "closure_rate", "median_hours_to_close")


def _ns(values: pd.Series) -> np.ndarray:
    """int64 nanoseconds since 1970 (``NAT`` where missing), local time (`geo.calendar.local_ns`)."""
    return local_ns(values)


def _codes(values: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes (``-1`` missing or blank) and the sorted labels they index."""
    text = values.astype("string").str.strip()
    raw, uniques = pd.factorize(text, use_na_sentinel=True)
    found = [str(u) for u in uniques]
    labels = tuple(sorted(u for u in found if u != ""))
    position = {label: i for i, label in enumerate(labels)}
    remap = np.array([position.get(u, -1) for u in found] + [-1], dtype="int32")
    return remap[np.where(raw >= 0, raw, len(found))], labels


def _lookup(values: pd.Series, labels: tuple[str, ...]) -> np.ndarray:
    """Position of each value in ``labels`` (``-1`` missing or unknown)."""
    raw, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    pos = pd.Index(list(labels)).get_indexer([str(u) for u in uniques]).astype("int32")
    return np.append(pos, -1).astype("int32")[np.where(raw >= 0, raw, len(pos))]


def period_start(index: np.ndarray | int, period: Period) -> np.ndarray:
    """First day of each period number, as datetime64[D]."""
    return week_start(index) if period == "week" else month_start(index)


def _check_period(period: str) -> None:
    check_choice("period", period, PERIODS)


def resolve_as_of(meta: dict[str, str] | None, cases: pd.DataFrame | None) -> pd.Timestamp:
    """"Today" for overdue figures (`geo.calendar.resolve_as_of`): meta ``as_of`` if it is a date, else the day
    of the latest report of ``cases``, else today."""
    reported = None
    if calendar.meta_as_of(meta) is None:  # the reports are read only when they decide
        if cases is not None and len(cases):
            if isinstance(cases, LazyLayer):  # a layer not read yet: this one column only
                reported = cases.column("reported_at")
            elif "reported_at" in cases.columns:
                reported = cases["reported_at"]
    return calendar.resolve_as_of(meta, reported)


def _as_of_end_ns(as_of: pd.Timestamp | dt.date | str) -> int:
    return calendar.end_of_day_ns(as_of)


@dataclass(frozen=True, eq=False)
class CaseTable:
    """Cases as integer codes and int64 times, built once per dataset (`build_case_table`).

    Per grid (grid layer order): ``grid_ids``, ``grid_street`` (code into
    ``streets``), ``grid_population``. Per case (case layer order): ``grid``
    (``-1`` outside every grid), ``category``/``source``/``unit`` (codes into
    ``categories``/``sources``/``units``, ``-1`` missing), ``closed`` (status),
    ``reported_ns``/``deadline_ns``/``closed_ns`` (``NAT`` missing), ``day``
    (days since 1970-01-01), ``week``/``month`` (period numbers), ``x_m``/``y_m``
    (metric coordinates in ``crs``). ``as_of`` is the default "today".
    """

    grid_ids: tuple[str, ...]
    streets: tuple[str, ...]
    grid_street: np.ndarray
    grid_population: np.ndarray
    categories: tuple[str, ...]
    sources: tuple[str, ...]
    units: tuple[str, ...]
    grid: np.ndarray
    category: np.ndarray
    source: np.ndarray
    unit: np.ndarray
    closed: np.ndarray
    reported_ns: np.ndarray
    deadline_ns: np.ndarray
    closed_ns: np.ndarray
    day: np.ndarray
    week: np.ndarray
    month: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    crs: str
    as_of: pd.Timestamp
    outside: int

    @property
    def n_cases(self) -> int:
        return len(self.grid)

    @property
    def n_grids(self) -> int:
        return len(self.grid_ids)

    def case_street(self) -> np.ndarray:
        """Street code of each case (``-1`` outside every grid); computed once per table, read-only."""
        return self._case_street

    @functools.cached_property
    def _case_street(self) -> np.ndarray:
        out = np.full(len(self.grid), -1, dtype="int32")
        inside = self.grid >= 0
        out[inside] = self.grid_street[self.grid[inside]]
        out.flags.writeable = False
        return out

    @functools.cached_property
    def _state_at_as_of(self) -> HandlingState:
        return _handling_state(self, _as_of_end_ns(self.as_of))

    def periods(self, period: Period) -> np.ndarray:
        _check_period(period)
        return self.week if period == "week" else self.month


# the columns of the cases layer `build_case_table` encodes (with the geometry)
CASE_TABLE_COLUMNS = ("grid_id", "category", "source", "responsible_unit", "reported_at", "deadline", "closed_at",
                      "status")


def build_case_table(
    cases: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    as_of: pd.Timestamp | dt.date | str | None = None,
    crs: CRS | str | None = None,
) -> CaseTable:
    """Encode a cases layer (with ``grid_id`` assigned at load) against its grids.

    ``as_of`` defaults to the day of the latest report. ``crs`` (metric; the
    grids' UTM zone by default) is where the case coordinates are kept for
    kernel density. Inputs are not modified.
    """
    if cases is None or len(cases) == 0:
        raise AnalysisError("the dataset has no cases: load a cases layer (网格事件) first",
                            code="analysis.layer_missing", params={"layer": "cases"})
    if grids is None or len(grids) == 0:
        raise AnalysisError("the dataset has no grids: load a grids layer (网格) first",
                            code="analysis.layer_missing", params={"layer": "grids"})
    for col in ("category", "reported_at", "status"):
        if col not in cases.columns:
            raise AnalysisError(f"the cases layer has no column {col!r}", code="analysis.column_missing",
                                params={"layer": "cases", "column": col})
    grid_ids = tuple(grids["grid_id"].astype("string").tolist())
    street_codes, streets = _codes(grids["street"])
    population = pd.to_numeric(grids["population"], errors="coerce").fillna(0).to_numpy(dtype="float64")

    if "grid_id" in cases.columns:
        grid = _lookup(cases["grid_id"], grid_ids)
    else:
        grid = np.full(len(cases), -1, dtype="int32")
    category, categories = _codes(cases["category"])
    n = len(cases)
    if "source" in cases.columns:
        source, sources = _codes(cases["source"])
    else:
        source, sources = np.full(n, -1, dtype="int32"), ()
    if "responsible_unit" in cases.columns:
        unit, units = _codes(cases["responsible_unit"])
    else:
        unit, units = np.full(n, -1, dtype="int32"), ()
    reported = _ns(cases["reported_at"])
    if (reported == NAT).any():
        raise AnalysisError(f"{int((reported == NAT).sum())} case(s) have no reported_at; validate the layer first",
                            code="analysis.values_missing",
                            params={"layer": "cases", "column": "reported_at", "n": int((reported == NAT).sum())})
    deadline = _ns(cases["deadline"]) if "deadline" in cases.columns else np.full(n, NAT, dtype="int64")
    closed_at = _ns(cases["closed_at"]) if "closed_at" in cases.columns else np.full(n, NAT, dtype="int64")
    closed = calendar.closed_status(cases["status"])
    day = calendar.day_number(reported).astype("int32")
    month = month_of(day).astype("int32")

    target = CRS.from_user_input(crs) if crs is not None else metric_crs(grids)
    xy = shapely.get_coordinates(np.asarray(cases.geometry.values, dtype=object))
    if len(xy) != len(cases):
        raise AnalysisError("every case needs a point geometry; validate the layer first",
                            code="analysis.values_missing", params={"layer": "cases", "column": "geometry",
                                                                    "n": len(cases) - len(xy)})
    x, y = xy[:, 0], xy[:, 1]
    if cases.crs is not None and not CRS.from_user_input(cases.crs).equals(target):
        x, y = Transformer.from_crs(CRS.from_user_input(cases.crs), target, always_xy=True).transform(x, y)
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    when = calendar.as_of_day(as_of) if as_of is not None else calendar.resolve_as_of(None, pd.Timestamp(reported.max()))
    return CaseTable(
        grid_ids=grid_ids, streets=streets, grid_street=street_codes, grid_population=population,
        categories=categories, sources=sources, units=units,
        grid=grid, category=category, source=source, unit=unit, closed=closed,
        reported_ns=reported, deadline_ns=deadline, closed_ns=closed_at,
        day=day, week=week_index(day).astype("int32"), month=month,
        x_m=x, y_m=y, crs=target.to_wkt(), as_of=when, outside=int((grid < 0).sum()),
    )


@dataclass(frozen=True)
class CaseFilter:
    """Which cases to count. Empty tuples mean "all"; ``until`` is inclusive (whole day)."""

    since: dt.date | None = None
    until: dt.date | None = None
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    grids: tuple[str, ...] = ()

    def describe(self) -> str:
        """The filter in words, for messages."""
        parts = []
        if self.since or self.until:
            parts.append(f"between {self.since or 'the start'} and {self.until or 'the end'}")
        for name, vals in (("category", self.categories), ("source", self.sources), ("status", self.statuses),
                           ("street", self.streets), ("unit", self.units), ("grid", self.grids)):
            if vals:
                parts.append(f"{name} {', '.join(vals)}")
        return "; ".join(parts) if parts else "all cases"


def _day_number(d: dt.date | str | pd.Timestamp) -> int:
    return int(pd.Timestamp(d).normalize().value // _NS_PER_DAY)


def _member(codes: np.ndarray, labels: tuple[str, ...], wanted: tuple[str, ...], what: str) -> np.ndarray:
    unknown = [w for w in wanted if w not in labels]
    if unknown:
        have = ", ".join(labels) if labels else "none"
        raise AnalysisError(f"{what} {', '.join(map(repr, unknown))} does not exist; the cases have: {have}",
                            code="analysis.unknown_value",
                            params={"what": what, "value": ", ".join(unknown), "have": have})
    idx = np.array([labels.index(w) for w in wanted], dtype=codes.dtype)
    return np.isin(codes, idx)


def case_mask(table: CaseTable, flt: CaseFilter | None = None) -> np.ndarray:
    """Boolean mask of the cases the filter keeps. Unknown values raise `AnalysisError`."""
    flt = flt or CaseFilter()
    mask = np.ones(table.n_cases, dtype=bool)
    if flt.since is not None and flt.until is not None and pd.Timestamp(flt.since) > pd.Timestamp(flt.until):
        raise AnalysisError(f"the period starts ({flt.since}) after it ends ({flt.until})",
                            code="analysis.period_reversed", params={"since": str(flt.since), "until": str(flt.until)})
    if flt.since is not None:
        mask &= table.day >= _day_number(flt.since)
    if flt.until is not None:
        mask &= table.day <= _day_number(flt.until)
    if flt.categories:
        mask &= _member(table.category, table.categories, flt.categories, "category")
    if flt.sources:
        mask &= _member(table.source, table.sources, flt.sources, "source")
    if flt.units:
        mask &= _member(table.unit, table.units, flt.units, "responsible unit")
    if flt.statuses:
        bad = [s for s in flt.statuses if s not in ("open", "closed")]
        if bad:
            raise AnalysisError(f"status {', '.join(map(repr, bad))} does not exist; use open or closed",
                                code="analysis.unknown_value",
                                params={"what": "status", "value": ", ".join(bad), "have": "open, closed"})
        want_closed = "closed" in flt.statuses
        want_open = "open" in flt.statuses
        mask &= (table.closed & want_closed) | (~table.closed & want_open)
    if flt.streets:
        mask &= _member(table.case_street(), table.streets, flt.streets, "street")
    if flt.grids:
        mask &= _member(table.grid, table.grid_ids, flt.grids, "grid")
    return mask


@dataclass(frozen=True, eq=False)
class HandlingState:
    """Per-case handling flags as of a moment (arrays aligned with the table)."""

    known: np.ndarray
    closed: np.ndarray
    open: np.ndarray
    overdue: np.ndarray
    closed_late: np.ndarray
    hours_to_close: np.ndarray  # NaN where not closed or a time is missing
    as_of_end_ns: int


def handling_state(table: CaseTable, *, as_of: pd.Timestamp | dt.date | str | None = None) -> HandlingState:
    """Known, open, overdue, closed, closed-late and hours to close of every case, at the end of ``as_of``.

    At the table's own ``as_of`` (what every page asks for) it is computed once per table; its arrays are read-only.
    """
    end = _as_of_end_ns(as_of if as_of is not None else table.as_of)
    if end == _as_of_end_ns(table.as_of):
        return table._state_at_as_of
    return _handling_state(table, end)


def _handling_state(table: CaseTable, end: int) -> HandlingState:
    flags = calendar.handling(reported_ns=table.reported_ns, closed_status=table.closed, deadline_ns=table.deadline_ns,
                              closed_ns=table.closed_ns, end_ns=end)
    hours = np.full(table.n_cases, np.nan)
    timed = flags.closed & (table.closed_ns != NAT)
    hours[timed] = (table.closed_ns[timed] - table.reported_ns[timed]) / _NS_PER_HOUR
    for a in (flags.known, flags.closed, flags.open, flags.overdue, flags.closed_late, hours):
        a.flags.writeable = False
    return HandlingState(known=flags.known, closed=flags.closed, open=flags.open, overdue=flags.overdue,
                         closed_late=flags.closed_late, hours_to_close=hours, as_of_end_ns=end)


def _group_codes(table: CaseTable, by: str) -> tuple[np.ndarray, tuple[str, ...]]:
    if by == "street":
        return table.case_street(), table.streets
    if by == "grid":
        return table.grid, table.grid_ids
    if by == "category":
        return table.category, table.categories
    if by == "unit":
        return table.unit, table.units
    if by == "source":
        return table.source, table.sources
    raise bad_choice("by", by, GROUPS)


def _kpi_frame(codes: np.ndarray, size: int, keep: np.ndarray, state: HandlingState) -> dict[str, np.ndarray]:
    sel = keep & state.known & (codes >= 0)
    c = codes[sel].astype("int64")

    def count(flag: np.ndarray) -> np.ndarray:
        return np.bincount(c, weights=flag[sel], minlength=size).astype("int64") if size else np.zeros(0, "int64")

    cases = np.bincount(c, minlength=size).astype("int64") if size else np.zeros(0, "int64")
    closed = count(state.closed)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(cases > 0, closed / np.maximum(cases, 1), np.nan)
    hours = state.hours_to_close[sel]
    finite = np.isfinite(hours)
    median = np.full(size, np.nan)
    if finite.any():
        med = pd.Series(hours[finite]).groupby(c[finite]).median()
        median[med.index.to_numpy()] = med.to_numpy()
    return {"cases": cases, "open": count(state.open), "overdue": count(state.overdue), "closed": closed,
            "closed_late": count(state.closed_late), "closure_rate": rate, "median_hours_to_close": median}


def case_kpis(
    table: CaseTable,
    flt: CaseFilter | None = None,
    *,
    by: str | None = None,
    as_of: pd.Timestamp | dt.date | str | None = None,
) -> pd.DataFrame:
    """Handling figures for the filtered cases, district-wide (``by=None``) or by group.

    ``by`` is one of ``street``, ``grid``, ``category``, ``unit``, ``source``;
    the frame has that column (labels, every label even with no cases) then
    ``cases, open, overdue, closed, closed_late, closure_rate,
    median_hours_to_close``. Cases with no value for the group (no grid, no
    unit...) are left out of a grouped frame.
    """
    keep = case_mask(table, flt)
    state = handling_state(table, as_of=as_of)
    if by is None:
        figures = _kpi_frame(np.zeros(table.n_cases, dtype="int32"), 1, keep, state)
        return pd.DataFrame(figures)
    codes, labels = _group_codes(table, by)
    figures = _kpi_frame(codes, len(labels), keep, state)
    frame = pd.DataFrame({by: pd.array(labels, dtype="string"), **figures})
    return frame


def unit_league(
    table: CaseTable,
    flt: CaseFilter | None = None,
    *,
    as_of: pd.Timestamp | dt.date | str | None = None,
) -> pd.DataFrame:
    """Responsible units ranked: most overdue first, then most closed late, then lowest closure rate.

    Columns as `case_kpis` plus ``overdue_share`` (overdue / open) and ``rank``
    (1 = most in need of attention). Units without cases in the filter are left out.
    """
    frame = case_kpis(table, flt, by="unit", as_of=as_of)
    frame = frame[frame["cases"] > 0].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["overdue_share"] = np.where(frame["open"] > 0, frame["overdue"] / frame["open"].clip(lower=1), 0.0)
    frame = frame.sort_values(["overdue", "closed_late", "closure_rate", "unit"],
                              ascending=[False, False, True, True], kind="mergesort")
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def kpis_over_time(
    table: CaseTable,
    flt: CaseFilter | None = None,
    *,
    period: Period = "month",
    as_of: pd.Timestamp | dt.date | str | None = None,
) -> pd.DataFrame:
    """Handling figures by reporting period: ``period_start`` then the `case_kpis` columns.

    Each row is about the cases reported in that week or month, with their
    state as of ``as_of``; periods with no cases inside the range are listed with zeros.
    """
    _check_period(period)
    keep = case_mask(table, flt)
    state = handling_state(table, as_of=as_of)
    codes_all = table.periods(period)
    sel = keep & state.known
    if not sel.any():
        return pd.DataFrame({"period_start": pd.Series([], dtype="datetime64[s]"),
                             **{c: [] for c in KPI_COLUMNS}})
    first, last = int(codes_all[sel].min()), int(codes_all[sel].max())
    codes = np.where(sel, codes_all - first, -1)
    figures = _kpi_frame(codes, last - first + 1, keep, state)
    starts = period_start(np.arange(first, last + 1), period).astype("datetime64[s]")
    return pd.DataFrame({"period_start": starts, **figures})


def counts_over_time(
    table: CaseTable,
    flt: CaseFilter | None = None,
    *,
    period: Period = "month",
    by: str = "category",
) -> pd.DataFrame:
    """Cases reported per period and group (long form): ``period_start, <by>, cases``; zeros included."""
    _check_period(period)
    keep = case_mask(table, flt)
    codes, labels = _group_codes(table, by)
    pcodes = table.periods(period)
    sel = keep & (codes >= 0)
    if not sel.any():
        return pd.DataFrame({"period_start": pd.Series([], dtype="datetime64[s]"),
                             by: pd.Series([], dtype="string"), "cases": pd.Series([], dtype="int64")})
    first, last = int(pcodes[sel].min()), int(pcodes[sel].max())
    n_p, n_g = last - first + 1, len(labels)
    flat = (pcodes[sel].astype("int64") - first) * n_g + codes[sel]
    counts = np.bincount(flat, minlength=n_p * n_g).reshape(n_p, n_g)
    starts = period_start(np.arange(first, last + 1), period).astype("datetime64[s]")
    return pd.DataFrame({
        "period_start": np.repeat(starts, n_g),
        by: pd.array(np.tile(np.array(labels, dtype=object), n_p), dtype="string"),
        "cases": counts.ravel().astype("int64"),
    })


_ROW_COLUMNS = ("case_id", "street", "grid_id", "category", "source", "responsible_unit", "reported_at",
                "deadline", "closed_at", "description", "reporter_phone")


class KeptRows:
    """Some rows of a cases layer, read once (the columns lists show) and kept, standing in for the layer.

    Lists that draw from a small, known set of rows (the overdue list of any filter draws from the cases
    overdue at the table's ``as_of``: about 1,500 of a million) take their rows from here instead of reading
    the stored layer each time; a row not kept is read from the layer.
    """

    def __init__(self, cases: pd.DataFrame | LazyLayer, rows: np.ndarray):
        self._cases = cases
        self.positions = np.unique(np.asarray(rows, dtype="int64"))
        self._frame = _take(cases, self.positions, list(_ROW_COLUMNS))
        self.rows = len(cases)

    def __len__(self) -> int:
        return self.rows

    def take_rows(self, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
        """As `geo.dataset.LazyLayer.take_rows`."""
        rows = np.asarray(rows, dtype="int64")
        at = np.searchsorted(self.positions, rows)
        kept = (at < len(self.positions)) & (self.positions[np.minimum(at, len(self.positions) - 1)] == rows)
        if not kept.all() or not set(columns) <= set(_ROW_COLUMNS):
            return _take(self._cases, rows, columns)
        frame = self._frame
        return frame.iloc[at][[c for c in columns if c in frame.columns]].reset_index(drop=True)


def _take(cases: pd.DataFrame | LazyLayer | KeptRows, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """The ``columns`` (those the layer has) of the rows at positions ``rows``; a layer not read yet
    (`geo.dataset.LazyLayer`) reads just these."""
    if isinstance(cases, (LazyLayer, KeptRows)):
        return cases.take_rows(rows, columns)
    return cases.iloc[rows][[c for c in columns if c in cases.columns]].reset_index(drop=True)


def _case_rows(cases: pd.DataFrame | LazyLayer | KeptRows, table: CaseTable, rows: np.ndarray, *,
               mask: bool) -> pd.DataFrame:
    sub = _take(cases, rows, list(_ROW_COLUMNS))
    out = pd.DataFrame(index=range(len(rows)))
    for col in _ROW_COLUMNS:
        if col == "street":
            codes = table.case_street()[rows]
            labels = np.array(table.streets + ("",), dtype=object)
            out[col] = pd.array(labels[np.where(codes >= 0, codes, len(table.streets))], dtype="string")
        elif col in sub.columns:
            out[col] = sub[col].to_numpy()
        else:
            out[col] = pd.NA
    out["reporter_phone"] = out["reporter_phone"].astype("string")
    return mask_personal(out) if mask else out


def overdue_list(
    cases: pd.DataFrame,
    table: CaseTable,
    flt: CaseFilter | None = None,
    *,
    as_of: pd.Timestamp | dt.date | str | None = None,
    mask: bool = True,
) -> pd.DataFrame:
    """The 清零 list: every overdue case, longest overdue first.

    Columns: ``case_id, street, grid_id, category, source, responsible_unit,
    reported_at, deadline, closed_at, description, reporter_phone`` (masked by
    `geo.personal.mask_personal` unless ``mask`` is False, for staff and above),
    ``days_overdue`` (since the deadline) and ``age_days`` (since reported),
    both at the end of the as-of day. ``cases`` is the layer the table was built from.
    """
    if len(cases) != table.n_cases:
        raise AnalysisError(f"the cases layer has {len(cases)} rows but the table was built from {table.n_cases}",
                            code="analysis.shape_mismatch",
                            params={"what": "cases", "got": len(cases), "expected": table.n_cases})
    keep = case_mask(table, flt)
    state = handling_state(table, as_of=as_of)
    rows = np.flatnonzero(keep & state.overdue)
    over = (state.as_of_end_ns - table.deadline_ns[rows]) / _NS_PER_DAY
    age = (state.as_of_end_ns - table.reported_ns[rows]) / _NS_PER_DAY
    order = np.argsort(-over, kind="stable")
    out = _case_rows(cases, table, rows[order], mask=mask)
    out["days_overdue"] = np.round(over[order], 1)
    out["age_days"] = np.round(age[order], 1)
    return out


def cases_in_grid(
    cases: pd.DataFrame,
    table: CaseTable,
    grid_id: str,
    flt: CaseFilter | None = None,
    *,
    as_of: pd.Timestamp | dt.date | str | None = None,
    limit: int = 500,
    mask: bool = True,
) -> pd.DataFrame:
    """The filtered cases of one grid, newest first (at most ``limit``), with their state as of ``as_of``.

    Columns as `overdue_list` without the ages, plus ``state`` (``open``,
    ``overdue`` or ``closed``).
    """
    if grid_id not in table.grid_ids:
        raise AnalysisError(f"grid {grid_id!r} does not exist", code="analysis.unknown_value",
                            params={"what": "grid", "value": str(grid_id), "have": f"{table.n_grids} grids"})
    if len(cases) != table.n_cases:
        raise AnalysisError(f"the cases layer has {len(cases)} rows but the table was built from {table.n_cases}",
                            code="analysis.shape_mismatch",
                            params={"what": "cases", "got": len(cases), "expected": table.n_cases})
    keep = case_mask(table, flt) & (table.grid == table.grid_ids.index(grid_id))
    state = handling_state(table, as_of=as_of)
    rows = np.flatnonzero(keep & state.known)
    rows = rows[np.argsort(-table.reported_ns[rows], kind="stable")][:limit]
    out = _case_rows(cases, table, rows, mask=mask)
    out["state"] = pd.array(np.where(state.overdue[rows], "overdue", np.where(state.closed[rows], "closed", "open")),
                            dtype="string")
    return out


def case_table_from_dataset(ds) -> CaseTable:
    """`build_case_table` for a `geo.dataset.Dataset`: as of its meta ``as_of`` (else the latest report)."""
    if ds.rows("cases") == 0:  # counted without reading the layer
        raise AnalysisError("the dataset has no cases: load a cases layer (网格事件) first",
                            code="analysis.layer_missing", params={"layer": "cases"})
    raw = ds.lazy_layer("cases")
    # a stored layer not read yet: only the columns the table encodes, read for it and let go (a server then
    # holds the table, not a million cases' every column)
    cases = raw.read(list(CASE_TABLE_COLUMNS)) if isinstance(raw, LazyLayer) else raw
    return build_case_table(cases, ds.grids, as_of=resolve_as_of(ds.meta_dict, cases), crs=ds.metric_crs)
