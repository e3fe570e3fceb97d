"""Values as real exports write them: timestamps of any precision, ids as text.

Contract
--------
Every reader (`geo.schema.check_layer`, through which CSV, Excel, GeoPackage,
GeoJSON and Shapefile pass) and both stores (`geo.workspace`, `geo.postgis`)
turn cells into values with these two functions and nothing else, so the same
cell gives the same value whichever way it came in, on every run.

`parse_datetimes` reads one column of dates and times, row by row, by one
fixed grammar (no format guessed from the first rows):

- a date ``YYYY-MM-DD`` (also ``YYYY/MM/DD``, ``YYYY.MM.DD``, ``YYYY年M月D日``;
  month and day with one or two digits), optionally followed by
- a time ``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.fff…`` (one to nine digits of
  a second; ``,`` also accepted before them), separated from the date by a
  space or ``T``, optionally followed by
- an offset ``Z``, ``±HH``, ``±HHMM`` or ``±HH:MM``.

A value without an offset is taken as the district's local time; one with an
offset is converted to China Standard Time (``Asia/Shanghai``). The result is
naive ``datetime64[ns]`` local time, whatever mixture of precisions,
separators and offsets the column holds. Cells that are already dates
(``datetime64`` of any unit, with or without a time zone, Python ``datetime``
or ``date`` objects) are taken as they are (zoned ones converted the same
way). An empty cell is ``NaT``; a cell that does not follow the grammar (or
names a day that does not exist) is ``NaT`` too and is flagged in the mask
returned beside the values, so the validator can report it.

`as_text` makes a column text (pandas ``string``): text stays as written
(``00123`` keeps its zeros), an integer becomes its decimal text (``123``),
and a float that holds a whole number — what Excel, a Shapefile or a CSV
reader gives for a numeric id column with an empty cell — becomes the same
decimal text, never ``123.0``. Other floats keep their shortest decimal text.
"""

from __future__ import annotations

import datetime as _dt
import numbers

import numpy as np
import pandas as pd

TIMEZONE = "Asia/Shanghai"  # what naive local times mean, and what zoned ones are converted to

_DATE = r"(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?"
_TIME = r"(?:(?:\s*T\s*|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?)?"
_OFFSET = r"\s*(?P<offset>Z|z|[+-]\d{2}(?::?\d{2})?)?"
DATETIME_PATTERN = f"^{_DATE}{_TIME}{_OFFSET}$"
_PARTS = ("year", "month", "day", "hour", "minute", "second")
_ISO_LOCAL = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"


def _zoned_to_local(values: pd.Series) -> pd.Series:
    """Naive ``datetime64[ns]`` local time from a datetime column (zoned: converted to `TIMEZONE`)."""
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    return values.astype("datetime64[ns]")


def parse_datetimes(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """One column of dates/times as naive local ``datetime64[ns]`` (same index), and the mask of cells that
    were not empty but could not be read (see the module's Contract for the grammar)."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _zoned_to_local(values), np.zeros(len(values), dtype=bool)
    if values.dtype == object:
        values = values.map(_cell_text, na_action="ignore")
    text = values.astype("string").str.strip()
    present = (text.notna() & (text != "")).to_numpy(dtype=bool)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    # the common case, plain ISO 8601 local time of any precision, read by pandas' ISO 8601 parser; the
    # pattern first, since that parser also takes what the grammar does not (``2024-05``, ``20240501``)
    plain = present & text.str.fullmatch(_ISO_LOCAL).fillna(False).to_numpy(dtype=bool)
    if plain.any():
        out[plain] = pd.to_datetime(text[plain], format="ISO8601", errors="coerce").to_numpy(dtype="datetime64[ns]")
    rest = present & ~plain
    if rest.any():
        out[rest] = _parse_by_parts(text[rest]).to_numpy()
    bad = present & out.isna().to_numpy()
    return out, bad


def _parse_by_parts(text: pd.Series) -> pd.Series:
    """The grammar's other forms (slashes, 年月日, one-digit fields, offsets), field by field."""
    parts = text.str.extract(DATETIME_PATTERN)
    matched = parts["year"].notna()
    nums = {p: pd.to_numeric(parts[p], errors="coerce").fillna(0).astype("int64") for p in _PARTS}
    fraction = parts["fraction"].fillna("").str.ljust(9, "0").str.slice(0, 9)
    nums["ns"] = pd.to_numeric(fraction.where(fraction != "", "0"), errors="coerce").fillna(0).astype("int64")
    stamps = pd.to_datetime(pd.DataFrame(nums).where(matched, other=np.nan), errors="coerce").astype("datetime64[ns]")
    offset = parts["offset"]
    zoned = (offset.notna() & matched).to_numpy(dtype=bool)
    if zoned.any():
        utc = (stamps[zoned] - _offset_delta(offset[zoned])).dt.tz_localize("UTC")
        stamps[zoned] = utc.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    return stamps


def _cell_text(value: object) -> object:
    """A cell as the text the grammar reads (datetime and date objects in ISO form)."""
    if isinstance(value, pd.Timestamp | _dt.datetime):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def _offset_delta(offset: pd.Series) -> pd.Series:
    """``Z``, ``+08``, ``+0800``, ``+08:00`` as the time to subtract to reach UTC."""
    text = offset.str.upper().str.replace(":", "", regex=False).replace("Z", "+00")
    sign = np.where(text.str.slice(0, 1) == "-", -1, 1)
    hours = pd.to_numeric(text.str.slice(1, 3)).astype("int64")
    minutes = pd.to_numeric(text.str.slice(3, 5).replace("", "0")).astype("int64")
    return pd.to_timedelta(sign * (hours * 60 + minutes), unit="min")


def as_text(values: pd.Series) -> pd.Series:
    """A column as pandas ``string`` (see the module's Contract): ids keep their zeros, ``123.0`` is ``123``."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.na_value is pd.NA:
        return values
    if pd.api.types.is_bool_dtype(values.dtype) or not (pd.api.types.is_numeric_dtype(values.dtype)
                                                         or values.dtype == object):
        return values.astype("string")
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values.astype("string")  # text cells only (the usual case): no look at each cell
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.astype("string")
    if pd.api.types.is_float_dtype(values.dtype):
        numbers_ = values.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(numbers_) & (np.mod(numbers_, 1) == 0)
        small = whole & (np.abs(numbers_) < 2.0**63)
        out = np.full(len(values), None, dtype=object)
        out[small] = numbers_[small].astype("int64").astype(str)
        out[whole & ~small] = [f"{v:.0f}" for v in numbers_[whole & ~small]]
        other = ~np.isnan(numbers_) & ~whole
        out[other] = [repr(float(v)) for v in numbers_[other]]
        return pd.Series(out, index=values.index, dtype="string")
    return values.map(_number_text, na_action="ignore").astype("string")


def _number_text(value: object) -> object:
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        if np.isnan(f):
            return pd.NA
        return f"{f:.0f}" if f.is_integer() else repr(f)
    return str(value)
