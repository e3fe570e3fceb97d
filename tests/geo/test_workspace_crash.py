"""A real import process killed with SIGKILL at every stage of writing a version (and at timed
moments in between) leaves the previous version current, loadable and unchanged (checksum and
content); once the commit is written, the new version is current and the next open finishes the
switch of the GeoPackage."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pyogrio
import pytest

from geo.dataset import DEMO_PATH
from geo.workspace import open_store
from tests.conftest import ROOT

# Run in a child process: stop at STAGE (SIGSTOP to itself) while importing a changed cases layer.
CHILD = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from geo import workspace

    stage = sys.argv[2]

    def pause(at):
        if at == stage:
            print("paused", at, flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)

    workspace._pause = pause
    store = workspace.open_store(sys.argv[1])
    cases = store.load().cases
    cases = cases.assign(status="closed")
    print("importing", flush=True)
    store.import_layer("cases", cases, mode="replace", source="kill.csv")
    print("done", flush=True)
""")

STAGES = ("version_dir", "version_renamed", "gpkg_written", "pointer_switched")


@pytest.fixture(scope="module")
def dataset_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash")
    path = folder / "crash.gpkg"
    shutil.copy(DEMO_PATH, path)
    store = open_store(str(path))
    store.current()  # adopted as version 1
    return path


def _child(path, stage: str, tmp_path) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(root=str(ROOT)), encoding="utf-8")
    return subprocess.Popen([sys.executable, str(script), str(path), stage], stdout=subprocess.PIPE, text=True,
                            env={**os.environ})


def _wait_for(proc: subprocess.Popen, word: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the child ended before {word!r} (exit {proc.poll()})")
        if line.startswith(word):
            return
    raise AssertionError(f"the child never printed {word!r}")


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()


def _state(path):
    store = open_store(str(path))
    info = store.current()
    ds = store.load()  # checks the checksum
    plain = pyogrio.read_dataframe(path, layer="cases", columns=["status"], read_geometry=False)
    return info, (ds.cases["status"] == "closed").all(), (plain["status"] == "closed").all()


@pytest.mark.parametrize("stage", STAGES)
def test_kill_at_each_stage(dataset_path, stage, tmp_path):
    before = open_store(str(dataset_path)).current()
    proc = _child(dataset_path, stage, tmp_path)
    _wait_for(proc, "paused")
    _kill(proc)
    assert proc.returncode == -signal.SIGKILL
    info, all_closed, gpkg_closed = _state(dataset_path)
    if stage == "pointer_switched":  # committed: the new version is current, the GeoPackage follows on open
        assert info.id == before.id + 1 and info.kind == "replace" and info.source == "kill.csv"
        assert all_closed and gpkg_closed
        # put the open cases back for the next stages
        store = open_store(str(dataset_path))
        store.restore(before.id)
        assert store.current().checksum == before.checksum
    else:
        assert info == before  # same version, same checksum, same record
        assert not all_closed and not gpkg_closed
        assert open_store(str(dataset_path)).verify(before.id).checksum == before.checksum


def test_kill_at_timed_moments(dataset_path, tmp_path):
    store = open_store(str(dataset_path))
    start = store.current()
    outcomes = []
    for delay_s in (0.0, 0.15, 0.4, 0.8):
        before = open_store(str(dataset_path)).current()
        proc = _child(dataset_path, "never", tmp_path)
        _wait_for(proc, "importing")
        time.sleep(delay_s)
        _kill(proc)
        info, all_closed, gpkg_closed = _state(dataset_path)
        if info.id == before.id:
            assert info == before and not all_closed and not gpkg_closed
            outcomes.append("previous")
        else:
            assert info.id == before.id + 1 and all_closed and gpkg_closed
            outcomes.append("new")
            open_store(str(dataset_path)).restore(start.id)
    assert outcomes[0] == "previous"  # killed as the import began
    # and after all that, an import runs to the end with the next free number
    store = open_store(str(dataset_path))
    last = store.current().id
    cases = store.load().cases
    info = store.import_layer("cases", cases.assign(status="closed"), source="final.csv")
    assert info.id == last + 1
    assert not any(p.name.startswith(".v") for p in store.history.iterdir())
    store.restore(start.id)  # the open cases current again: the tests of each stage may run after this one


# --- the GeoPackage written after the commit (a large version: geo.workspace.DEFER_GPKG_ROWS) ------------------

# An import whose GeoPackage is deferred, with no background writer started: the file is left pending.
DEFERRED_IMPORT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from geo import workspace

    workspace.DEFER_GPKG_ROWS = 0
    workspace._spawn_writer = lambda store, fd: None
    store = workspace.open_store(sys.argv[1])
    store.import_layer("cases", store.load().cases.assign(status="closed"), mode="replace", source="kill.csv")
    print("pending", store.gpkg_pending(), flush=True)
""")

# The writer of that pending GeoPackage, stopped (SIGSTOP) at STAGE.
WRITER = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from geo import workspace

    stage = sys.argv[2]

    def pause(at):
        if at == stage:
            print("paused", at, flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)

    workspace._pause = pause
    store = workspace.GpkgStore(workspace.Path(sys.argv[1]), name="crash", spec=sys.argv[1])
    with store._gpkg_writer_lock(block=True):
        print("writing", flush=True)
        store._write_pending()
    print("done", flush=True)
""")


def _run(script: str, tmp_path, *args: str) -> subprocess.Popen:
    path = tmp_path / f"child_{abs(hash(script))}.py"
    path.write_text(script.format(root=str(ROOT)), encoding="utf-8")
    return subprocess.Popen([sys.executable, str(path), *args], stdout=subprocess.PIPE, text=True, env={**os.environ})


@pytest.mark.parametrize("stop", ["gpkg_deferred_written", "gpkg_switched", 0.0, 0.5])
def test_kill_during_the_deferred_gpkg_write(dataset_path, stop, tmp_path):
    before = open_store(str(dataset_path)).current()
    proc = _run(DEFERRED_IMPORT, tmp_path, str(dataset_path))
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "pending True" in out
    proc = _run(WRITER, tmp_path, str(dataset_path), stop if isinstance(stop, str) else "never")
    _wait_for(proc, "paused" if isinstance(stop, str) else "writing")
    if not isinstance(stop, str):
        time.sleep(stop)
    _kill(proc)
    # the next open: the new version is current and loads, whatever the GeoPackage's state
    store = open_store(str(dataset_path))
    info = store.current()
    assert info.id == before.id + 1 and info.source == "kill.csv"
    assert (store.load().cases["status"] == "closed").all()
    assert store.verify(before.id).checksum == before.checksum  # the previous version untouched
    # and its GeoPackage is finished (by the writer the open started, or here): the new version's content
    assert store.geopackage() == dataset_path and not store.gpkg_pending()
    plain = pyogrio.read_dataframe(dataset_path, layer="cases", columns=["status"], read_geometry=False)
    assert (plain["status"] == "closed").all() and len(plain) == len(store.load().cases)
    assert not list(store.history.glob(".v*.tmp.gpkg"))
    again = open_store(str(dataset_path))
    assert again.current() == info  # the finished file is in step: nothing taken in as an external edit
    again.restore(before.id)  # the open cases current again for the other tests
    assert again.current().checksum == before.checksum
