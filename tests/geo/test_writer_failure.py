"""A failed write of a version's plain GeoPackage is recorded beside CURRENT (``gpkg.failed``: the version, the
time, the error), the version itself stays current and loads, opens do not start a writer again after it, a
retry starts one, and the record goes when a later write succeeds. The failures are real: a writer under a
file-size limit (tests/writerfixtures.py) gets EFBIG from the kernel, as a full disk gives ENOSPC."""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import time
from datetime import datetime

import pytest

from geo import workspace
from geo.errors import StorageError
from tests.geo.test_gpkg_deferred import _assert_same_gpkg
from tests.writerfixtures import (
    FSIZE_LIMIT,
    closed_cases,
    demo_copy,
    failed_write,
    inline_reference,
    wait_for_writer,
)

EFBIG_TEXT = f"[Errno {errno.EFBIG}] {os.strerror(errno.EFBIG)}"  # "[Errno 27] File too large"


def test_a_failed_background_write_is_recorded_and_retried(home, tmp_path, monkeypatch):
    reference = inline_reference(tmp_path / "inline", monkeypatch)
    store = failed_write(tmp_path / "bg", monkeypatch)
    record = json.loads((store.history / "gpkg.failed").read_text(encoding="utf-8"))
    assert sorted(record) == ["code", "failed_at", "reason", "version"]
    assert record["version"] == 2 and record["code"] == "storage.gpkg_write_failed"
    assert EFBIG_TEXT in record["reason"]
    assert abs((datetime.now().astimezone() - datetime.fromisoformat(record["failed_at"])).total_seconds()) < 300
    failure = store.gpkg_failure()
    assert failure == workspace.GpkgFailure(version=2, failed_at=record["failed_at"],
                                            code="storage.gpkg_write_failed", reason=record["reason"])
    # the version itself is intact: current, its checksum good, every case closed
    assert store.current().id == 2 and store.verify(2).id == 2
    assert (store.load().cases["status"] == "closed").all()
    assert not list(store.history.glob(".v*.tmp.gpkg"))  # the half-written copy was removed
    # opening again does not start another writer that would fail the same way on every page view
    failed = workspace._WRITERS[-1]
    reopened = workspace.open_store(store.location)
    reopened.current()
    assert workspace._WRITERS[-1] is failed and not reopened.gpkg_writing()
    # a retry writes it in the background; on success the record is gone
    assert reopened.retry_gpkg() is True
    assert wait_for_writer() == 0
    assert not store.gpkg_pending() and store.gpkg_failure() is None
    assert not (store.history / "gpkg.failed").exists()
    _assert_same_gpkg(reference.location, store.location)
    assert store.retry_gpkg() is False  # nothing pending any more


def test_a_caller_that_writes_the_file_itself_records_its_failure_too(home, tmp_path, monkeypatch):
    store = failed_write(tmp_path / "bg", monkeypatch)
    (store.history / "gpkg.failed").unlink()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, hard))  # this process: Python ignores SIGXFSZ
    try:
        with pytest.raises(StorageError) as caught:
            store.geopackage()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    err = caught.value
    assert err.code == "storage.gpkg_write_failed" and dict(err.params) == {
        "name": "d", "version": 2, "reason": err.params["reason"]}
    assert EFBIG_TEXT in err.params["reason"]
    assert str(err) == (f"the plain GeoPackage of version 2 of dataset d could not be written "
                        f"({err.params['reason']}); the version itself is intact and current")
    assert store.gpkg_failure().reason == err.params["reason"] and store.gpkg_failure().version == 2
    path = store.geopackage()  # no limit now: written in the caller, the record removed
    assert str(path) == store.location and store.gpkg_failure() is None and not store.gpkg_pending()


def test_a_later_version_starts_its_own_writer_and_its_success_clears_the_record(home, tmp_path, monkeypatch):
    store = failed_write(tmp_path / "bg", monkeypatch)
    failed = workspace._WRITERS[-1]
    info = store.import_layer("facilities", store.load().facilities.iloc[1:], source="f.csv")
    assert info.id == 3 and workspace._WRITERS[-1] is not failed  # a new version: a writer at once
    assert wait_for_writer() == 0
    assert store.gpkg_failure() is None and not store.gpkg_pending()
    plain = workspace.pyogrio.read_dataframe(store.location, layer="cases", columns=["status"], read_geometry=False)
    assert (plain["status"] == "closed").all() and len(plain) == len(closed_cases(store))


def _kill_writer_at_its_switch(store) -> int:
    """Let the writer just started run up to its switch (the test holds the dataset lock), then kill -9 it."""
    marker = store.history / workspace.GPKG_WRITER
    writer = workspace._WRITERS[-1]
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline and writer.poll() is None
        time.sleep(0.05)
    os.kill(writer.pid, signal.SIGKILL)
    assert writer.wait(timeout=60) == -signal.SIGKILL
    return writer.pid


def test_a_killed_writer_is_recorded_restarted_once_and_then_left_to_a_retry(home, tmp_path, monkeypatch):
    monkeypatch.setattr(workspace, "DEFER_GPKG_ROWS", 0)
    store = demo_copy(tmp_path / "bg")
    with store._lock():
        store.import_layer("cases", closed_cases(store), source="cases.csv")
        first = _kill_writer_at_its_switch(store)
        # the next open finds the writer gone without finishing: recorded, and one writer started again
        assert store.gpkg_failure() is None
        reopened = workspace.open_store(store.location)
        reopened.current()
        failure = store.gpkg_failure()
        assert (failure.version, failure.code) == (2, "storage.gpkg_writer_killed")
        assert failure.reason == f"the writer process {first} ended before it finished (killed)"
        assert workspace._WRITERS[-1].pid != first
        second = _kill_writer_at_its_switch(store)  # killed again (out of memory, say)
        workspace.open_store(store.location).current()
        assert workspace._WRITERS[-1].pid == second  # no writer after every open: the record waits for a retry
        assert store.gpkg_failure() == failure and store.gpkg_pending()
        assert store.retry_gpkg() is True
        assert store.gpkg_failure().reason == f"the writer process {second} ended before it finished (killed)"
    assert wait_for_writer() == 0
    assert store.gpkg_failure() is None and not store.gpkg_pending()
    assert not (store.history / workspace.GPKG_WRITER).exists()
