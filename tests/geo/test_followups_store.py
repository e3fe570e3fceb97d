"""Follow-ups and targets stored with the dataset, on both stores (`geo.followups`, `geo._gpkg_meeting`)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from geo import _gpkg_meeting
from geo.dataset import write_dataset
from geo.errors import DataError, StorageError
from geo.followups import new_followup, new_target
from geo.storage import open_store
from tests.storefixtures import small_dataset


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    s.import_dataset(small_dataset(), source="src.gpkg")
    return s


def test_followups_round_trip_and_survive_a_restore(store):
    assert store.list_followups() == []
    a = store.add_followup(new_followup(title=" 清理 东门 堆物 ", unit="城管", due="2024-4", meeting="2024-03"),
                           user="wang")
    b = store.add_followup(new_followup(title="修复路灯", unit="住建", due="2024-05", meeting="2024-03",
                                        street="东街"), user="li")
    assert (a.id, b.id) == (1, 2)
    assert (a.title, a.due, a.street, a.author) == ("清理 东门 堆物", "2024-04", None, "wang")
    done = store.close_followup(2, note="已修复", done_on="2024-04-02", user="li")
    assert (done.done_on, done.note) == ("2024-04-02", "已修复")
    store.import_dataset(small_dataset(), source="again.gpkg")
    store.restore(1)
    again = open_store(store.spec).list_followups()
    assert [(f.id, f.title, f.unit, f.street, f.due, f.meeting, f.done_on, f.note, f.author) for f in again] == [
        (1, "清理 东门 堆物", "城管", None, "2024-04", "2024-03", None, None, "wang"),
        (2, "修复路灯", "住建", "东街", "2024-05", "2024-03", "2024-04-02", "已修复", "li")]


def test_closing_is_refused_twice_and_for_an_unknown_id(store):
    store.add_followup(new_followup(title="事项", unit="城管", due="2024-04", meeting="2024-03"))
    store.close_followup(1, note="完成", done_on="2024-04-01")
    with pytest.raises(DataError, match="follow-up 1 was already closed on 2024-04-01") as err:
        store.close_followup(1, note="再次", done_on="2024-04-02")
    assert err.value.problems[0].code == "data.followup_done_already"
    with pytest.raises(DataError, match="there is no follow-up 9") as err:
        store.close_followup(9, note="完成", done_on="2024-04-01")
    assert err.value.problems[0].code == "data.followup_missing"
    with pytest.raises(DataError, match="the note is empty"):
        store.add_followup(new_followup(title="事项", unit="城管", due="2024-04", meeting="2024-03"))
        store.close_followup(2, note="  ", done_on="2024-04-01")
    assert [f.done_on for f in store.list_followups()] == ["2024-04-01", None]


def test_targets_are_replaced_by_quarter_subject_and_measure(store):
    t1 = store.set_target(new_target(quarter="2024Q1", kind="unit", subject="城管", measure="overdue", maximum=3),
                          user="wang")
    store.set_target(new_target(quarter="2024Q1", kind="street", subject="东街", measure="closure_rate", minimum=0.9))
    store.set_target(new_target(quarter="2024Q2", kind="unit", subject="城管", measure="overdue", maximum=1))
    store.set_target(new_target(quarter="2024Q1", kind="unit", subject="城管", measure="overdue", maximum=2))
    assert t1.author == "wang" and t1.set_at
    q1 = store.list_targets("2024Q1")
    assert [(t.kind, t.subject, t.measure, t.threshold) for t in q1] == [
        ("street", "东街", "closure_rate", 0.9), ("unit", "城管", "overdue", 2.0)]
    assert [t.quarter for t in store.list_targets()] == ["2024Q1", "2024Q1", "2024Q2"]
    store.delete_target(("2024Q2", "unit", "城管", "overdue"))
    with pytest.raises(DataError, match="there is no overdue target for unit '城管' in 2024Q2"):
        store.delete_target(("2024Q2", "unit", "城管", "overdue"))
    assert len(store.list_targets()) == 2


def test_a_geopackage_carries_its_followups_and_targets_into_the_workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    path = tmp_path / "given.gpkg"
    write_dataset(small_dataset(), path)
    fu = _gpkg_meeting.add_followup(path, new_followup(title="带来的事项", unit="城管", due="2024-04",
                                                       meeting="2024-03"), user="clerk")
    _gpkg_meeting.close_followup(path, fu.id, note="办了", done_on="2024-03-30")
    _gpkg_meeting.set_target(path, new_target(quarter="2024Q1", kind="unit", subject="城管", measure="overdue",
                                              maximum=0))
    store = open_store(str(path))
    got = store.list_followups()
    assert [(f.id, f.title, f.done_on, f.note, f.author) for f in got] == [(1, "带来的事项", "2024-03-30", "办了", "clerk")]
    assert [(t.subject, t.threshold) for t in store.list_targets()] == [("城管", 0.0)]
    assert store.add_followup(new_followup(title="新事项", unit="住建", due="2024-05", meeting="2024-04")).id == 2


# --- a city: each district keeps its own follow-ups and targets, as its scenarios --------------------------------

@pytest.fixture
def city(store_url):
    from tests.storefixtures import small_city

    s = open_store(store_url)
    s.import_dataset(small_city(), source="city.gpkg")
    return s


def _fu(title: str, unit: str = "区城管局", street: str | None = None):
    return new_followup(title=title, unit=unit, due="2024-04", meeting="2024-03", street=street)


def test_a_city_keeps_each_districts_followups_apart(city):
    east = city.add_followup(_fu("东区事项", street="东一街"), user="wang", district="东区")
    west = city.add_followup(_fu("西区事项"), user="li", district="西区")
    whole = city.add_followup(_fu("全市事项", unit="市民政局"), user="zhao")
    assert [(f.id, f.district) for f in (east, west, whole)] == [(1, "东区"), (2, "西区"), (3, None)]
    again = open_store(city.spec)  # a restarted server, another process
    assert [(f.id, f.title, f.district) for f in again.list_followups(district="东区")] == [(1, "东区事项", "东区")]
    assert [(f.id, f.title, f.district) for f in again.list_followups(district="西区")] == [(2, "西区事项", "西区")]
    assert [(f.id, f.title, f.district) for f in again.list_followups()] == [(3, "全市事项", None)]
    # another district's follow-up is not there to be closed, even by its id
    with pytest.raises(DataError, match="there is no follow-up 1") as err:
        again.close_followup(1, note="办了", done_on="2024-04-01", district="西区")
    assert err.value.problems[0].code == "data.followup_missing"
    with pytest.raises(DataError, match="there is no follow-up 1"):
        again.close_followup(1, note="办了", done_on="2024-04-01")
    done = again.close_followup(1, note="办了", done_on="2024-04-01", district="东区")
    assert (done.id, done.done_on, done.district) == (1, "2024-04-01", "东区")
    assert [f.done_on for f in again.list_followups(district="西区")] == [None]
    with pytest.raises(StorageError, match="has no district '北区'"):
        again.add_followup(_fu("北区事项"), district="北区")
    with pytest.raises(StorageError, match="has no district '北区'"):
        again.list_followups(district="北区")


def test_two_districts_set_the_same_units_target_each_their_own(city):
    def target(maximum):
        return new_target(quarter="2024Q1", kind="unit", subject="区城管局", measure="overdue", maximum=maximum)

    east = city.set_target(target(3), user="wang", district="东区")
    city.set_target(target(5), district="西区")  # the same unit name in another district: a target of its own
    city.set_target(target(9))  # and the whole city's
    city.set_target(target(2), district="东区")  # replaces 东区's only
    assert east.district == "东区"
    again = open_store(city.spec)
    assert [(t.threshold, t.district) for t in again.list_targets("2024Q1", district="东区")] == [(2.0, "东区")]
    assert [(t.threshold, t.district) for t in again.list_targets(district="西区")] == [(5.0, "西区")]
    assert [(t.threshold, t.district) for t in again.list_targets()] == [(9.0, None)]
    again.delete_target(("2024Q1", "unit", "区城管局", "overdue"), district="西区")
    with pytest.raises(DataError, match="there is no overdue target for unit '区城管局' in 2024Q1") as err:
        again.delete_target(("2024Q1", "unit", "区城管局", "overdue"), district="西区")
    assert err.value.problems[0].code == "data.target_missing"
    assert [t.threshold for t in again.list_targets(district="东区")] == [2.0]
    assert [t.threshold for t in again.list_targets()] == [9.0]


_OLD_GPKG_TABLES = (  # the two tables as files written before districts kept their own
    'CREATE TABLE "followups" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "title" TEXT NOT NULL, '
    '"unit" TEXT NOT NULL, "street" TEXT, "due" TEXT NOT NULL, "meeting" TEXT NOT NULL, "recorded_at" TEXT NOT NULL, '
    '"author" TEXT NOT NULL DEFAULT \'\', "done_on" TEXT, "note" TEXT)',
    'CREATE TABLE "targets" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "quarter" TEXT NOT NULL, '
    '"kind" TEXT NOT NULL, "subject" TEXT NOT NULL, "measure" TEXT NOT NULL, "threshold" REAL NOT NULL, '
    '"set_at" TEXT NOT NULL, "author" TEXT NOT NULL DEFAULT \'\', UNIQUE ("quarter", "kind", "subject", "measure"))',
    "INSERT INTO followups (title, unit, due, meeting, recorded_at, author) "
    "VALUES ('旧事项', '城管', '2024-04', '2024-03', '2024-03-05T10:00:00+08:00', 'old')",
    "INSERT INTO targets (quarter, kind, subject, measure, threshold, set_at) "
    "VALUES ('2024Q1', 'unit', '城管', 'overdue', 4, '2024-01-02T09:00:00+08:00')",
)


def test_a_file_written_before_districts_reads_as_the_datasets_and_takes_district_records(tmp_path):
    import sqlite3

    path = tmp_path / "scenarios.gpkg"
    con = sqlite3.connect(path)
    for sql in _OLD_GPKG_TABLES:
        con.execute(sql)
    con.commit()
    con.close()
    # read as it is (a read changes nothing): the dataset's own records
    assert [(f.id, f.title, f.district) for f in _gpkg_meeting.list_followups(path)] == [(1, "旧事项", None)]
    assert _gpkg_meeting.list_followups(path, district="东区") == []
    assert [(t.threshold, t.district) for t in _gpkg_meeting.list_targets(path)] == [(4.0, None)]
    # the first change brings both tables up to date, rows kept; the same key then holds in a district too
    fu = _gpkg_meeting.add_followup(path, replace(_fu("东区事项"), district="东区"))
    assert (fu.id, fu.district) == (2, "东区")
    east = new_target(quarter="2024Q1", kind="unit", subject="城管", measure="overdue", maximum=1)
    _gpkg_meeting.set_target(path, replace(east, district="东区"))
    assert [(t.threshold, t.district, t.set_at) for t in _gpkg_meeting.list_targets(path)] == [
        (4.0, None, "2024-01-02T09:00:00+08:00")]
    assert [(t.threshold, t.district) for t in _gpkg_meeting.list_targets(path, district="东区")] == [(1.0, "东区")]
    assert [(f.id, f.title, f.author) for f in _gpkg_meeting.list_followups(path)] == [(1, "旧事项", "old")]
    _gpkg_meeting.set_target(path, new_target(quarter="2024Q1", kind="unit", subject="城管", measure="overdue",
                                              maximum=3))  # still one per key in the dataset's own
    assert [t.threshold for t in _gpkg_meeting.list_targets(path)] == [3.0]
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'targets__old%'").fetchone() == (0,)
    con.close()


def test_a_database_written_before_districts_is_brought_up_to_date(pg_url):
    """A PostGIS catalogue whose two tables predate districts (a database of its own, dropped after)."""
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    from geo import postgis

    server = pg_url.split("?")[0]
    name = f"gridatlas_old_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(server)
    old = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    try:
        with psycopg.connect(old, autocommit=True) as con:
            con.execute("CREATE SCHEMA gridatlas")
            con.execute("CREATE TABLE gridatlas.followups (dataset text NOT NULL, id bigint NOT NULL, title text "
                        "NOT NULL, unit text NOT NULL, street text, due text NOT NULL, meeting text NOT NULL, "
                        "recorded_at timestamptz NOT NULL DEFAULT now(), author text NOT NULL DEFAULT '', "
                        "done_on date, note text, PRIMARY KEY (dataset, id))")
            con.execute("CREATE TABLE gridatlas.targets (seq bigserial PRIMARY KEY, dataset text NOT NULL, quarter "
                        "text NOT NULL, kind text NOT NULL, subject text NOT NULL, measure text NOT NULL, threshold "
                        "double precision NOT NULL, set_at timestamptz NOT NULL DEFAULT now(), author text NOT NULL "
                        "DEFAULT '', UNIQUE (dataset, quarter, kind, subject, measure))")
            con.execute("INSERT INTO gridatlas.followups (dataset, id, title, unit, due, meeting) "
                        "VALUES ('c', 1, '旧事项', '城管', '2024-04', '2024-03')")
            con.execute("INSERT INTO gridatlas.targets (dataset, quarter, kind, subject, measure, threshold) "
                        "VALUES ('c', '2024Q1', 'unit', '城管', 'overdue', 4)")
        from tests.storefixtures import small_city

        store = open_store(f"{old}?dataset=c")
        store.import_dataset(small_city(), source="city.gpkg")
        assert [(f.id, f.title, f.district) for f in store.list_followups()] == [(1, "旧事项", None)]
        assert [(t.threshold, t.district) for t in store.list_targets()] == [(4.0, None)]
        assert store.add_followup(_fu("东区事项"), district="东区").id == 2
        store.set_target(new_target(quarter="2024Q1", kind="unit", subject="城管", measure="overdue", maximum=1),
                         district="东区")
        assert [(t.threshold, t.district) for t in store.list_targets(district="东区")] == [(1.0, "东区")]
        assert [t.threshold for t in store.list_targets()] == [4.0]
        assert [f.title for f in store.list_followups(district="东区")] == ["东区事项"]
    finally:
        pool = postgis._pools.pop(old, None)
        if pool is not None:
            pool.close()
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
