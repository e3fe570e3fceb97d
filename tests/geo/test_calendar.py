"""The calendar and the handling rule (geo.calendar): hand values, a brute-force walk over days, and the SQL
forms on a real PostgreSQL against the same walk."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geo import calendar
from geo.calendar import HandlingSQL, handling_frame, month_of, month_start, resolve_as_of, week_index, week_start

T = pd.Timestamp


def _day(text: str) -> int:
    return (dt.date.fromisoformat(text) - dt.date(1970, 1, 1)).days


@pytest.mark.parametrize(("day", "week"), [
    ("1970-01-01", 0),  # a Thursday: week 0 runs Monday 1969-12-29 .. Sunday 1970-01-04
    ("1969-12-29", 0),
    ("1970-01-04", 0),
    ("1969-12-28", -1),  # the Sunday before: floor division, not truncation
    ("1970-01-05", 1),
    ("2024-03-04", 2827),  # Monday: 19,786 days after 1970-01-01, (19786 + 3) // 7
    ("2024-03-10", 2827),  # Sunday
    ("2024-03-11", 2828),
])
def test_week_index_hand_values(day, week):
    assert int(week_index(_day(day))) == week


def test_weeks_across_year_ends():
    # Monday 2024-12-30 .. Sunday 2025-01-05 is one week; Monday 2025-01-06 starts the next
    w = week_index(np.array([_day("2024-12-29"), _day("2024-12-30"), _day("2025-01-01"), _day("2025-01-05"),
                             _day("2025-01-06")]))
    assert w[1] == w[2] == w[3] and w[0] == w[1] - 1 and w[4] == w[1] + 1
    assert str(week_start(w[2])) == "2024-12-30"
    # Thursday 2020-12-31 and Sunday 2021-01-03 share the week of Monday 2020-12-28
    assert week_index(_day("2020-12-31")) == week_index(_day("2021-01-03"))
    assert str(week_start(week_index(_day("2021-01-03")))) == "2020-12-28"


def test_calendar_against_datetime_every_day():
    days = [dt.date(1968, 1, 1) + dt.timedelta(days=i) for i in range((dt.date(2031, 1, 1) - dt.date(1968, 1, 1)).days)]
    numbers = np.array([(d - dt.date(1970, 1, 1)).days for d in days])
    starts = week_start(week_index(numbers)).astype(object)
    assert all(s == d - dt.timedelta(days=d.weekday()) for s, d in zip(starts, days, strict=True))
    months = month_of(numbers)
    assert months.tolist() == [(d.year - 1970) * 12 + d.month - 1 for d in days]
    assert all(s == d.replace(day=1) for s, d in zip(month_start(months).astype(object), days, strict=True))


@pytest.mark.parametrize(("day", "month"), [("1970-01-31", 0), ("1970-02-01", 1), ("1969-12-31", -1),
                                            ("2024-02-29", 649), ("2024-12-31", 659), ("2025-01-01", 660)])
def test_month_of_hand_values(day, month):
    assert int(month_of(_day(day))) == month


def test_resolve_as_of_missing_and_bad():
    reports = pd.Series(pd.to_datetime(["2024-03-01 08:00", "2024-03-12 23:59", None]))
    assert resolve_as_of({"as_of": "2024-03-10"}, reports) == T("2024-03-10")
    assert resolve_as_of({"as_of": "2024-03-10 17:30"}, reports) == T("2024-03-10")
    assert resolve_as_of({}, reports) == T("2024-03-12")  # missing: the day of the latest report
    assert resolve_as_of({"as_of": "soon"}, reports) == T("2024-03-12")  # not a date: as missing
    assert resolve_as_of(None, T("2024-03-12 06:00")) == T("2024-03-12")  # the latest report given alone
    # a report with a UTC offset is a Shanghai day: 20:00 UTC is 04:00 the next day there
    assert resolve_as_of({}, pd.Series(pd.to_datetime(["2024-03-10T20:00:00Z"]))) == T("2024-03-11")
    assert resolve_as_of({}, None) == pd.Timestamp.today().normalize()  # no cases at all: today
    assert resolve_as_of({}, pd.Series([], dtype="datetime64[ns]")) == pd.Timestamp.today().normalize()


# case: status, reported, deadline, closed_at -> known, closed, open, overdue, closed_late at the end of 2024-03-10
HAND = [
    ("closed in time", "closed", "2024-03-01 08:00", "2024-03-03 08:00", "2024-03-02 08:00", 1, 1, 0, 0, 0),
    ("closed late", "closed", "2024-03-01 08:00", "2024-03-02 08:00", "2024-03-04 20:00", 1, 1, 0, 0, 1),
    ("closed after as_of, was overdue", "closed", "2024-03-01 08:00", "2024-03-05 08:00", "2024-03-11 00:00",
     1, 0, 1, 1, 0),
    ("closed after as_of, not due", "closed", "2024-03-09 08:00", "2024-03-20 08:00", "2024-03-12 08:00",
     1, 0, 1, 0, 0),
    ("open, due the last minute", "open", "2024-03-05 09:00", "2024-03-10 23:59", None, 1, 0, 1, 1, 0),
    ("open, due at midnight after", "open", "2024-03-05 09:00", "2024-03-11 00:00", None, 1, 0, 1, 0, 0),
    ("open, no deadline", "open", "2024-01-05 09:00", None, None, 1, 0, 1, 0, 0),
    ("closed, no closed_at", "closed", "2024-03-05 09:00", "2024-03-06 09:00", None, 1, 1, 0, 0, 0),
    ("closed, no deadline", "closed", "2024-03-05 09:00", None, "2024-03-08 09:00", 1, 1, 0, 0, 0),
    ("no status", None, "2024-03-05 09:00", "2024-03-06 09:00", None, 1, 0, 1, 1, 0),
    ("reported the last minute", "open", "2024-03-10 23:59", "2024-03-10 23:59:30", None, 1, 0, 1, 1, 0),
    ("reported after as_of", "open", "2024-03-11 00:00", "2024-03-11 08:00", None, 0, 0, 0, 0, 0),
]


def _hand_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "status": pd.array([r[1] for r in HAND], dtype="string"),
        "reported_at": pd.to_datetime([r[2] for r in HAND], format="ISO8601"),
        "deadline": pd.to_datetime([r[3] for r in HAND], format="ISO8601"),
        "closed_at": pd.to_datetime([r[4] for r in HAND], format="ISO8601"),
    })


def test_handling_rule_hand_values():
    flags = handling_frame(_hand_frame(), "2024-03-10")
    for i, row in enumerate(HAND):
        got = tuple(int(flags.loc[i, c]) for c in ("known", "closed", "open", "overdue", "closed_late"))
        assert got == row[5:], row[0]
    # the as-of day may come as a time within it: still judged at the end of that day
    assert handling_frame(_hand_frame(), "2024-03-10 09:00").equals(flags)


def test_handling_without_deadline_or_closed_at_columns():
    frame = _hand_frame().drop(columns=["deadline", "closed_at"])
    flags = handling_frame(frame, "2024-03-10")
    assert not flags["overdue"].any() and not flags["closed_late"].any()
    # without closed_at, status decides: closed cases known at as_of are closed
    assert flags["closed"].tolist() == [r[1] == "closed" and r[5] == 1 for r in HAND]


def test_end_of_day():
    assert calendar.end_of_day_ns("2024-03-10") == T("2024-03-11").value
    assert calendar.end_of_day_ns(dt.date(2024, 12, 31)) == T("2025-01-01").value
    assert calendar.end_of_day_sql("2024-12-31 15:00") == "TIMESTAMP '2025-01-01 00:00:00'"


def test_sql_without_optional_columns_never_overdue():
    rule = HandlingSQL(reported_at="c.r", status="c.s", deadline=None, closed_at=None, end="TIMESTAMP '2024-03-11'")
    assert rule.overdue == "FALSE" and rule.closed_late == "FALSE"


def test_sql_forms_on_postgres(pg_url):
    """week_sql / month_sql over every day 1968–2030 and the handling rule on the hand cases, in PostgreSQL."""
    import psycopg

    from geo.postgis import _split

    conninfo, _ = _split(pg_url)
    with psycopg.connect(conninfo) as con:
        rows = con.execute(
            f"SELECT {calendar.day_sql('d')}, {calendar.week_sql('d')}, {calendar.month_sql('d')} FROM "
            "generate_series(TIMESTAMP '1968-01-01 13:00', TIMESTAMP '2030-12-31 13:00', INTERVAL '1 day') AS d"
        ).fetchall()
        day = np.array([r[0] for r in rows])
        assert day[0] == _day("1968-01-01") and len(day) == _day("2030-12-31") - _day("1968-01-01") + 1
        assert [r[1] for r in rows] == week_index(day).tolist()
        assert [r[2] for r in rows] == month_of(day).tolist()

        # the hand cases in a temporary table; one column with an offset, read as Shanghai time
        con.execute("CREATE TEMP TABLE hand (i int, status text, reported_at timestamp, deadline timestamp, "
                    "closed_at timestamptz)")
        with con.cursor() as cur:
            cur.executemany("INSERT INTO hand VALUES (%s, %s, %s, %s, %s)",
                            [(i, r[1], r[2], r[3], None if r[4] is None else r[4] + "+08:00")
                             for i, r in enumerate(HAND)])
        rule = HandlingSQL(reported_at="reported_at", status="status", deadline="deadline",
                           closed_at=calendar.local_time_sql("closed_at", with_offset=True),
                           end=calendar.end_of_day_sql("2024-03-10"))
        got = con.execute(f"SELECT {rule.known}, {rule.closed}, {rule.open}, {rule.overdue}, {rule.closed_late} "
                          "FROM hand ORDER BY i").fetchall()
    for g, row in zip(got, HAND, strict=True):
        assert tuple(int(v) for v in g) == row[5:], row[0]
