"""A large version is committed on its GeoParquet files and its plain GeoPackage written after the commit
(geo.workspace.DEFER_GPKG_ROWS): the GeoPackage then written equals, layer by layer, the one the import used to
write before its commit; the version is current and loads while the file is pending; a background process
finishes it; newer versions committed meanwhile are not overtaken by an older writer. (A kill -9 of the writer:
test_workspace_crash.py.)"""

from __future__ import annotations

import json
import shutil
import time

import pandas as pd
import pyogrio
import pytest
from pandas.testing import assert_frame_equal

from geo import workspace
from geo.dataset import DEMO_PATH
from geo.workspace import open_store


def _layers(path) -> dict[str, pd.DataFrame]:
    """Every layer of a GeoPackage as read back (geometry as WKB bytes, so that frames compare exactly)."""
    out = {}
    for name, _ in pyogrio.list_layers(path):
        frame = pyogrio.read_dataframe(path, layer=name, fid_as_index=True)
        if "geometry" in frame.columns:
            wkb = frame.geometry.to_wkb()
            frame = pd.DataFrame(frame.drop(columns="geometry")).assign(geometry=wkb)
        out[str(name)] = frame
    return out


def _assert_same_gpkg(a, b) -> None:
    la, lb = _layers(a), _layers(b)
    assert sorted(la) == sorted(lb)
    for name in la:
        assert_frame_equal(la[name], lb[name], check_exact=True, obj=name)


def _copy(tmp_path, name: str):
    path = tmp_path / name / "d.gpkg"
    path.parent.mkdir()
    shutil.copy(DEMO_PATH, path)
    store = open_store(str(path))
    store.current()  # version 1, adopted
    return store


def _edits(store):
    """Two imports: the cases (all closed), then the facilities (one dropped)."""
    cases = store.load().cases.assign(status="closed")
    store.import_layer("cases", cases, source="cases.csv")
    facilities = store.load().facilities.iloc[1:]
    store.import_layer("facilities", facilities, source="facilities.csv")


@pytest.fixture
def no_writer(monkeypatch):
    """Every version deferred, and no background writer started (the test writes the file itself)."""
    started = []
    monkeypatch.setattr(workspace, "DEFER_GPKG_ROWS", 0)
    monkeypatch.setattr(workspace, "_spawn_writer", lambda store, fd: started.append(fd))
    return started


def test_deferred_gpkg_equals_the_one_written_before_the_commit(home, tmp_path, no_writer, monkeypatch):
    inline = _copy(tmp_path, "inline")
    deferred = _copy(tmp_path, "deferred")
    with monkeypatch.context() as m:  # the old path: the GeoPackage written before the commit
        m.setattr(workspace, "DEFER_GPKG_ROWS", 10**12)
        _edits(inline)
    assert not inline.gpkg_pending()
    v1_file = _layers(deferred.location)
    cases = deferred.load().cases.assign(status="closed")
    info = deferred.import_layer("cases", cases, source="cases.csv")
    # committed: current, loadable (checksum checked), while the GeoPackage is still version 1's file
    assert deferred.gpkg_pending() and deferred.current().id == info.id == 2
    assert (deferred.load().cases["status"] == "closed").all()
    pointer = json.loads((deferred.history / "CURRENT").read_text(encoding="utf-8"))
    assert (pointer["version"], pointer["gpkg"]["version"]) == (2, 1)
    assert (_layers(deferred.location)["cases"]["status"] != "closed").any()
    _assert_same_gpkg_frames(v1_file, _layers(deferred.location))
    # a second version on top of the pending one: still one file behind, both layers to write
    deferred.import_layer("facilities", deferred.load().facilities.iloc[1:], source="facilities.csv")
    assert deferred.gpkg_pending() and len(no_writer) >= 2  # each commit handed the file to a writer
    path = deferred.geopackage()  # no writer ran: written now
    assert str(path) == deferred.location and not deferred.gpkg_pending()
    pointer = json.loads((deferred.history / "CURRENT").read_text(encoding="utf-8"))
    assert pointer["gpkg"]["version"] == pointer["version"] == 3
    assert not list(deferred.history.glob(".v*.tmp.gpkg"))
    _assert_same_gpkg(inline.location, deferred.location)
    # the finished file is in step: a reopen takes nothing in as an external edit
    again = open_store(deferred.location)
    assert again.current().id == 3 and again.current().kind == "replace" and len(again.versions()) == 3


def _assert_same_gpkg_frames(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        assert_frame_equal(a[name], b[name], check_exact=True, obj=name)


def test_small_versions_are_written_before_their_commit(home, tmp_path):
    store = _copy(tmp_path, "small")
    store.import_layer("cases", store.load().cases.assign(status="closed"), source="cases.csv")
    assert not store.gpkg_pending()  # the demo's cases are far below DEFER_GPKG_ROWS
    assert (pyogrio.read_dataframe(store.location, layer="cases")["status"] == "closed").all()


def test_a_background_process_finishes_the_gpkg(home, tmp_path, monkeypatch):
    monkeypatch.setattr(workspace, "DEFER_GPKG_ROWS", 0)
    inline = _copy(tmp_path, "inline")
    with monkeypatch.context() as m:
        m.setattr(workspace, "DEFER_GPKG_ROWS", 10**12)
        inline.import_layer("cases", inline.load().cases.assign(status="closed"), source="cases.csv")
    store = _copy(tmp_path, "bg")
    store.import_layer("cases", store.load().cases.assign(status="closed"), source="cases.csv")
    deadline = time.monotonic() + 120
    while store.gpkg_pending() and time.monotonic() < deadline:  # nobody here writes it: the spawned writer
        time.sleep(0.2)
    assert not store.gpkg_pending()
    _assert_same_gpkg(inline.location, store.location)
    assert store.current().id == 2 and len(store.versions()) == 2


def test_an_older_writer_gives_way_to_a_newer_commit(home, tmp_path, no_writer, monkeypatch):
    store = _copy(tmp_path, "race")
    store.import_layer("cases", store.load().cases.assign(status="closed"), source="cases.csv")
    v2 = json.loads((store.history / "CURRENT").read_text(encoding="utf-8"))
    writes = []

    def newer_commit_first(stage):  # the writer of version 2 has written its file; version 3 commits now
        if stage == "gpkg_deferred_written" and not writes:
            writes.append(stage)
            store.import_layer("facilities", store.load().facilities.iloc[1:], source="f.csv")

    monkeypatch.setattr(workspace, "_pause", newer_commit_first)
    with store._gpkg_writer_lock(block=True):
        assert v2["version"] == 2 and store._write_pending() is False  # its file discarded, not switched in
    assert store.gpkg_pending() and store.current().id == 3
    assert not (store.history / ".v0002.tmp.gpkg").exists()
    monkeypatch.setattr(workspace, "_pause", lambda stage: None)
    store.geopackage()
    assert not store.gpkg_pending()
    plain = pyogrio.read_dataframe(store.location, layer="facilities")
    assert len(plain) == len(store.load().facilities)
    assert (pyogrio.read_dataframe(store.location, layer="cases")["status"] == "closed").all()
