"""`geo.values`: timestamps of every precision read by one grammar, whatever the row order; ids as text."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import numpy as np
import pandas as pd
import pytest

from geo.values import as_text, parse_datetimes

T = pd.Timestamp
# (cell as an export writes it, the local time it means), written out by hand
CELLS = [
    ("2023-08-12 14:30:39", T("2023-08-12 14:30:39")),
    ("2025-06-15 07:42:30.831", T("2025-06-15 07:42:30.831")),
    ("2024-05-01", T("2024-05-01")),
    ("2024-05-01T09:30", T("2024-05-01 09:30")),
    ("2024-05-01T09:30:05.123456", T("2024-05-01 09:30:05.123456")),
    ("2024-05-01 09:30:05.123456789", T("2024-05-01 09:30:05.123456789")),
    ("2024-05-01 09:30:05,5", T("2024-05-01 09:30:05.5")),
    ("2024-05-01T09:30:00+08:00", T("2024-05-01 09:30")),
    ("2024-05-01T01:30:00Z", T("2024-05-01 09:30")),
    ("2024-05-01 01:30:00.25+00", T("2024-05-01 09:30:00.25")),
    ("2024-05-01T09:30:00-0500", T("2024-05-01 22:30")),
    ("2024/5/1 9:30", T("2024-05-01 09:30")),
    ("2024.05.01", T("2024-05-01")),
    ("2024年5月1日", T("2024-05-01")),
    ("2024年05月01日 08:00:00", T("2024-05-01 08:00")),
    ("  2024-02-29 ", T("2024-02-29")),
    ("1999-12-31 23:59:59.999", T("1999-12-31 23:59:59.999")),
]


def test_every_form_of_the_grammar_gives_its_local_time():
    values, bad = parse_datetimes(pd.Series([c for c, _ in CELLS], dtype="string"))
    assert values.dtype == "datetime64[ns]" and not bad.any()
    assert values.tolist() == [t for _, t in CELLS]


def test_the_row_order_never_changes_a_value():
    """The bug of issue 18: a format inferred from the first row failed the rows written otherwise."""
    rng = random.Random(18)
    orders = [list(range(len(CELLS))), list(reversed(range(len(CELLS))))]
    orders += [rng.sample(range(len(CELLS)), len(CELLS)) for _ in range(20)]
    orders += [list(p) for p in itertools.islice(itertools.permutations(range(4)), 24)]  # every order of the first 4
    for order in orders:
        cells = pd.Series([CELLS[i][0] for i in order], dtype=object)
        values, bad = parse_datetimes(cells)
        assert values.tolist() == [CELLS[i][1] for i in order] and not bad.any(), order


def test_empty_cells_are_missing_and_unreadable_ones_are_flagged():
    cells = pd.Series(["2024-05-01", None, "", "  ", "昨天", "2024-02-30", "2024-13-01", "2024-05", "20240501",
                       "2024-05-01 25:00", "45413", "May 1, 2024", "01/05/2024", "2024-05-01 09:30:00 PM"], dtype=object)
    values, bad = parse_datetimes(cells)
    assert values.iloc[0] == T("2024-05-01") and values.iloc[1:].isna().all()
    assert bad.tolist() == [False, False, False, False] + [True] * 10


def test_date_cells_and_datetime_columns_are_taken_as_they_are():
    cells = pd.Series([dt.date(2024, 5, 2), dt.datetime(2024, 5, 2, 3, 4, 5, 600000), T("2024-05-01 10:00", tz="UTC"),
                       "2024-05-03", np.nan], dtype=object)
    values, bad = parse_datetimes(cells)
    assert values.tolist()[:4] == [T("2024-05-02"), T("2024-05-02 03:04:05.6"), T("2024-05-01 18:00"), T("2024-05-03")]
    assert pd.isna(values.iloc[4]) and not bad.any()
    zoned = pd.Series(pd.to_datetime(["2024-05-01 10:00", None]).tz_localize("UTC"))
    values, bad = parse_datetimes(zoned)
    assert values.dtype == "datetime64[ns]" and values.iloc[0] == T("2024-05-01 18:00") and pd.isna(values.iloc[1])
    ms = pd.Series(np.array(["2025-06-15T07:42:30.831"], dtype="datetime64[ms]"))
    assert parse_datetimes(ms)[0].tolist() == [T("2025-06-15 07:42:30.831")]


def test_parsing_keeps_the_index_and_does_not_touch_its_input():
    cells = pd.Series(["2024-05-01", "2024/5/2"], index=[7, 3], dtype="string")
    before = cells.copy()
    values, _ = parse_datetimes(cells)
    assert values.index.tolist() == [7, 3] and values.tolist() == [T("2024-05-01"), T("2024-05-02")]
    pd.testing.assert_series_equal(cells, before)


@pytest.mark.parametrize(("column", "expected"), [
    (pd.Series(["00123", "0", " 7 ", None], dtype=object), ["00123", "0", " 7 ", None]),
    (pd.Series([123, 4302110001], dtype="int64"), ["123", "4302110001"]),
    (pd.Series([123.0, np.nan, 1.5, 4302110001.0]), ["123", None, "1.5", "4302110001"]),
    (pd.Series([1e20, -3.0, np.inf]), ["100000000000000000000", "-3", "inf"]),
    (pd.Series([1e20, 3.0, 0.25, "x"], dtype=object), ["100000000000000000000", "3", "0.25", "x"]),
    (pd.Series([1, None], dtype="Int64"), ["1", None]),
    (pd.Series([1, "007", 2.0, None, np.nan], dtype=object), ["1", "007", "2", None, None]),
    (pd.Series(["A-1", None], dtype="str"), ["A-1", None]),
])
def test_ids_become_text_without_a_decimal_point(column, expected):
    out = as_text(column)
    assert isinstance(out.dtype, pd.StringDtype) and out.dtype.na_value is pd.NA
    assert [None if pd.isna(v) else v for v in out] == expected


def test_the_calendar_reads_text_times_by_the_same_grammar():
    """`geo.calendar.local_ns` (every count's times) took a format from the first text value and dropped the rest."""
    from geo.calendar import NAT, local_ns

    cells = ["2023-08-12 14:30:39", "2025-06-15 07:42:30.831", "2024-05-01", "2024-05-01T01:30:00Z", None, "昨天"]
    got = local_ns(pd.Series(cells, dtype=object)).tolist()
    assert got == [T("2023-08-12 14:30:39").value, T("2025-06-15 07:42:30.831").value, T("2024-05-01").value,
                   T("2024-05-01 09:30").value, NAT, NAT]
    assert local_ns(pd.Series(cells[1::-1], dtype="string")).tolist() == got[1::-1]
