"""The background GeoPackage writer takes only the CPU and disk time nobody else wants (SCHED_IDLE, niceness 19,
idle I/O class), still writes the same file as a synchronous write, and a caller that waits for it
(`GpkgStore.geopackage`) raises it back to normal priority — or, where the kernel refuses that, stops it and
writes the file itself.

Each test holds the dataset's lock across the import (the import takes it again, re-entrantly), so the real
writer it starts stops at its switch (which needs that lock) until the test lets it go: its priority is read
from the kernel (``/proc/PID/task/TID/sched``, ``sched_getscheduler``, ``getpriority``, ``ioprio_get``)
while it is certainly running.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from geo import _idle, workspace
from tests.geo.test_gpkg_deferred import _assert_same_gpkg
from tests.writerfixtures import closed_cases, demo_copy, inline_reference, wait_for_writer

SCHED_IDLE_POLICY = 5  # the kernel's number for SCHED_IDLE, as /proc/PID/sched prints it
SCHED_OTHER_POLICY = 0


def _sched(pid: int, tid: int) -> dict[str, int]:
    """``policy`` and ``prio`` of one thread, as the kernel's scheduler reports them."""
    out = {}
    for line in Path(f"/proc/{pid}/task/{tid}/sched").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("policy", "prio"):
            out[key.strip()] = int(value.strip())
    return out


def _threads(pid: int) -> list[int]:
    return sorted(int(p.name) for p in Path(f"/proc/{pid}/task").iterdir())


def _running_writer(store, timeout_s: float = 60) -> int:
    """The pid of the writer once it has said who it is (``gpkg.writer``, written after it lowered itself)."""
    marker = store.history / workspace.GPKG_WRITER
    deadline = time.monotonic() + timeout_s
    while not marker.exists():
        assert time.monotonic() < deadline, "the writer never started"
        assert workspace._WRITERS[-1].poll() is None, "the writer ended before it said who it is"
        time.sleep(0.05)
    pid = json.loads(marker.read_text(encoding="utf-8"))["pid"]
    assert pid == workspace._WRITERS[-1].pid
    return pid


def _wait_until(check, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.fixture
def deferred(monkeypatch):
    monkeypatch.setattr(workspace, "DEFER_GPKG_ROWS", 0)


def test_the_writer_runs_at_idle_priority_and_writes_the_same_file(home, tmp_path, monkeypatch):
    reference = inline_reference(tmp_path / "inline", monkeypatch)
    monkeypatch.setattr(workspace, "DEFER_GPKG_ROWS", 0)
    store = demo_copy(tmp_path / "bg")
    me = os.getpid()
    assert _sched(me, me)["policy"] == SCHED_OTHER_POLICY and _idle.ioprio_get(0)[0] != _idle.IOPRIO_CLASS_IDLE
    with store._lock():  # the writer can write its file but not switch it in
        store.import_layer("cases", closed_cases(store), source="cases.csv")
        pid = _running_writer(store)
        assert store.gpkg_pending() and store.gpkg_writing()
        assert os.sched_getscheduler(pid) == os.SCHED_IDLE
        assert os.getpriority(os.PRIO_PROCESS, pid) == 19
        tids = _threads(pid)
        for tid in tids:  # every thread (pyarrow's and GDAL's started after it lowered itself)
            assert _sched(pid, tid) == {"policy": SCHED_IDLE_POLICY, "prio": 120 + 19}
            assert _idle.ioprio_get(tid)[0] == _idle.IOPRIO_CLASS_IDLE
    assert wait_for_writer() == 0  # an idle machine: it finishes
    assert not store.gpkg_pending() and store.gpkg_failure() is None
    assert not (store.history / workspace.GPKG_WRITER).exists()
    _assert_same_gpkg(reference.location, store.location)


def test_a_caller_that_waits_raises_the_writer_to_normal_priority(home, tmp_path, monkeypatch, deferred):
    store = demo_copy(tmp_path / "bg")
    got: list = []
    with store._lock():
        store.import_layer("cases", closed_cases(store), source="cases.csv")
        # asked for at once, before the writer has started Python: the caller waits for it to say who it is
        waiter = threading.Thread(target=lambda: got.append(workspace.open_store(store.location).geopackage()))
        waiter.start()
        pid = _running_writer(store)
        my_nice = os.getpriority(os.PRIO_PROCESS, 0)

        def raised() -> bool:
            return all(_sched(pid, tid) == {"policy": SCHED_OTHER_POLICY, "prio": 120 + my_nice}
                       and _idle.ioprio_get(tid)[0] == _idle.IOPRIO_CLASS_BE for tid in _threads(pid))

        _wait_until(raised)
        assert os.sched_getscheduler(pid) == os.SCHED_OTHER and waiter.is_alive()  # still waiting for the file
    waiter.join(timeout=120)
    assert got == [Path(store.location)] and not store.gpkg_pending()
    assert wait_for_writer() == 0  # the writer finished it, not the caller
    plain = workspace.pyogrio.read_dataframe(store.location, layer="cases", columns=["status"], read_geometry=False)
    assert (plain["status"] == "closed").all() and len(plain) == len(store.load().cases)


def test_without_the_right_to_raise_it_the_writer_is_stopped_and_the_caller_writes(home, tmp_path, monkeypatch):
    """An unprivileged caller cannot take a process out of SCHED_IDLE (the kernel says EPERM; here, as root,
    `raise_to_normal` is made to refuse the same way): the writer is stopped, the caller writes the file."""
    reference = inline_reference(tmp_path / "inline", monkeypatch)
    monkeypatch.setattr(workspace, "DEFER_GPKG_ROWS", 0)
    store = demo_copy(tmp_path / "bg")

    def refuse(pid):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(_idle, "raise_to_normal", refuse)
    got: list = []
    with store._lock():
        store.import_layer("cases", closed_cases(store), source="cases.csv")
        _running_writer(store)
        waiter = threading.Thread(target=lambda: got.append(workspace.open_store(store.location).geopackage()))
        waiter.start()
        assert wait_for_writer() == -signal.SIGTERM  # stopped while it waited for the switch
    waiter.join(timeout=120)
    assert got == [Path(store.location)] and not store.gpkg_pending()
    assert store.gpkg_failure() is None  # stopped on purpose, written by the caller: no failure
    assert not list(store.history.glob(".v*.tmp.gpkg"))
    _assert_same_gpkg(reference.location, store.location)


def test_lower_falls_back_to_niceness_where_the_scheduler_calls_are_missing(monkeypatch):
    """A platform without sched_setscheduler or the ioprio syscall: `lower` sets niceness 19, silently."""
    calls = []
    monkeypatch.delattr(os, "sched_setscheduler")
    monkeypatch.setattr(os, "setpriority", lambda which, who, prio: calls.append((which, who, prio)))
    monkeypatch.setattr(_idle.platform, "machine", lambda: "sparc64")
    _idle.lower()
    assert calls == [(os.PRIO_PROCESS, 0, 19)]
    with pytest.raises(OSError, match="no ioprio syscall on Linux sparc64"):
        _idle.ioprio_get(0)
