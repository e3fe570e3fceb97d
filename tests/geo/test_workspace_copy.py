"""A dataset's files copied elsewhere (a backup put back, a workspace copied to another disk) open as the same
version: the current GeoPackage, found with another inode but the same bytes, is not taken in again as an
external edit (which validated the whole file again: half a minute for Wuchang)."""

from __future__ import annotations

import shutil

from geo.dataset import read_dataset, write_dataset
from geo.workspace import open_store
from tests.storefixtures import small_dataset


def test_a_copied_dataset_opens_as_the_same_version(home, tmp_path):
    src = write_dataset(small_dataset(), tmp_path / "src.gpkg")
    store = open_store("原件")
    store.import_dataset(read_dataset(src), source="src.gpkg")
    before = store.current()
    folder = store.history.parent
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)  # new inodes, same bytes
    again = open_store(str(copy / "原件.gpkg"))
    assert again.current() == before and [v.id for v in again.versions()] == [before.id]
    # a real edit of the copy is still taken in as a new version
    edited = read_dataset(copy / "原件.gpkg")
    write_dataset(edited.with_layer("grids", edited.grids.assign(elderly=[1, 2, 3])), copy / "原件.gpkg")
    info = open_store(str(copy / "原件.gpkg")).current()
    assert info.id == before.id + 1 and info.kind == "external"
