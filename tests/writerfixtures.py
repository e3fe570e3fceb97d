"""Datasets whose plain GeoPackage is written after the commit by a real background writer
(`geo.workspace._spawn_writer`), for the writer's tests (tests/geo/test_writer_*.py, tests/ui, the CLI).

A failed write is a real one: the writer is started under a file-size limit (``RLIMIT_FSIZE``, inherited by
the child), so copying the current GeoPackage fails in the kernel with ``EFBIG`` ("File too large"), the way
a full disk fails with ``ENOSPC``; nothing in the writer is replaced.
"""

from __future__ import annotations

import resource
import shutil
from pathlib import Path

from geo import workspace
from geo.dataset import DEMO_PATH
from geo.workspace import GpkgStore, open_store

FSIZE_LIMIT = 64 * 1024  # bytes: far below the demo's GeoPackage (4.9 MB), above the writer's small records


def demo_copy(folder: Path) -> GpkgStore:
    """A dataset of its own, the demo's GeoPackage taken in as version 1."""
    folder.mkdir(parents=True)
    path = folder / "d.gpkg"
    shutil.copy(DEMO_PATH, path)
    store = open_store(str(path))
    store.current()
    return store


def closed_cases(store: GpkgStore):
    return store.load().cases.assign(status="closed")


def inline_reference(folder: Path, monkeypatch) -> GpkgStore:
    """The same import written the old way (the GeoPackage before the commit): the file to compare with."""
    store = demo_copy(folder)
    with monkeypatch.context() as m:
        m.setattr(workspace, "DEFER_GPKG_ROWS", 10**12)
        store.import_layer("cases", closed_cases(store), source="cases.csv")
    assert not store.gpkg_pending()
    return store


def limited_spawn(monkeypatch) -> None:
    """Every background writer started from here on runs under `FSIZE_LIMIT` (its writes fail with EFBIG)."""
    original = workspace._spawn_writer

    def spawn(store, fd):
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, hard))
        try:
            original(store, fd)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    monkeypatch.setattr(workspace, "_spawn_writer", spawn)


def failed_write(folder: Path, monkeypatch) -> GpkgStore:
    """Version 2 (every case closed) committed, its GeoPackage's background write failed for real and
    recorded; the writer has ended. ``DEFER_GPKG_ROWS`` stays 0 for the caller."""
    monkeypatch.setattr(workspace, "DEFER_GPKG_ROWS", 0)
    store = demo_copy(folder)
    with monkeypatch.context() as m:
        limited_spawn(m)
        store.import_layer("cases", closed_cases(store), source="cases.csv")
        writer = workspace._WRITERS[-1]
        assert writer.wait(timeout=120) == 1
    assert store.gpkg_pending() and store.gpkg_failure() is not None
    return store


def wait_for_writer(timeout_s: float = 120) -> int:
    """The return code of the last background writer this process started, once it has ended."""
    return workspace._WRITERS[-1].wait(timeout=timeout_s)
