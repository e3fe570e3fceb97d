"""Follow-ups and targets stored with the dataset, on both stores (`geo.followups`, `geo._gpkg_meeting`)."""

from __future__ import annotations

import pytest

from geo import _gpkg_meeting
from geo.dataset import write_dataset
from geo.errors import DataError
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
