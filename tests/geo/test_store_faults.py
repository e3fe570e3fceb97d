"""Faults in the workspace: a full disk during an import, a version whose checksum fails, a missing or corrupt
dataset file. Each is a clear, coded error; nothing stored is lost; it works again once the cause is fixed."""

from __future__ import annotations

import errno
import hashlib
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo import workspace
from geo.dataset import DEMO_PATH, read_dataset
from geo.errors import DataError, StorageError
from geo.schema import validate_layer
from geo.workspace import open_store
from i18n import error_text


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    s = open_store(str(tmp_path / "district.gpkg"))
    s.import_dataset(read_dataset(DEMO_PATH), source="demo")
    return s


def _new_facility() -> gpd.GeoDataFrame:
    return validate_layer(gpd.GeoDataFrame({"facility_id": ["NEW1"], "name": ["新站"], "type": ["day_care"]},
                                           geometry=[Point(113.13, 27.87)], crs=4326), "facilities")


def _tree(path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file() and p.name != "lock"}


def test_full_disk_during_an_import_changes_nothing_and_recovers(store, monkeypatch):
    before_files = _tree(store.history)
    gpkg_before = hashlib.sha256(Path(store.location).read_bytes()).hexdigest()
    before_current, before_token = store.current(), store.token
    real = workspace._write_layer  # every layer file of a version is written through it

    def full(table, path, *args, **kwargs):
        with open(path, "wb") as fh:  # a part of the file lands, then the disk is full
            fh.write(b"PAR1" + b"\0" * 100)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(workspace, "_write_layer", full)
    with pytest.raises(StorageError) as info:
        store.import_layer("facilities", _new_facility(), mode="upsert", source="stations.xlsx")
    err = info.value
    assert err.code == "storage.disk_full" and err.params["version"] == 2
    assert "the current version is unchanged" in err.message
    assert error_text(err, lang="zh").startswith("磁盘已满，数据集 district 的第 2 版未能写入；当前版本未受影响。")
    # nothing stored is lost or left half-written
    assert store.current() == before_current and store.token == before_token
    assert _tree(store.history) == before_files
    assert hashlib.sha256(Path(store.location).read_bytes()).hexdigest() == gpkg_before
    assert store.verify().id == 1 and len(store.load().facilities) == len(read_dataset(DEMO_PATH).facilities)
    # space again: the same import goes through as version 2
    monkeypatch.setattr(workspace, "_write_layer", real)
    info2 = store.import_layer("facilities", _new_facility(), mode="upsert", source="stations.xlsx")
    assert info2.id == 2 and info2.rows_added == 1 and "NEW1" in set(store.load().facilities["facility_id"])


def test_other_write_failure_is_write_failed(store, monkeypatch):
    def denied(table, path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(workspace, "_write_layer", denied)
    with pytest.raises(StorageError) as info:
        store.import_layer("facilities", _new_facility(), mode="upsert", source="x.csv")
    assert info.value.code == "storage.write_failed" and store.current().id == 1


def test_checksum_failure_refuses_that_version_keeps_the_rest_and_recovers(store):
    store.import_layer("facilities", _new_facility(), mode="upsert", source="stations.xlsx")
    layer = store.history / "v0001" / "layers" / "facilities.parquet"  # v2 has its own (grids are shared links)
    good = layer.read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    layer.write_bytes(bytes(bad))
    with pytest.raises(StorageError) as info:
        store.restore(1)
    assert info.value.code == "storage.checksum_failed"
    assert "不符" in error_text(info.value, lang="zh") and "version 1" in info.value.message
    assert store.current().id == 2 and store.verify(2).id == 2  # the current version is untouched
    layer.write_bytes(good)  # the file is put back from a backup
    assert store.restore(1).id == 3 and "NEW1" not in set(store.load().facilities["facility_id"])


def test_missing_and_corrupt_dataset_files_are_clear_problems(tmp_path):
    with pytest.raises(DataError) as info:
        read_dataset(tmp_path / "gone.gpkg")
    assert "does not exist" in info.value.problems[0].message
    broken = tmp_path / "broken.gpkg"
    shutil.copy(DEMO_PATH, broken)
    broken.write_bytes(broken.read_bytes()[:4096])  # cut short, as by a failed copy
    with pytest.raises(DataError) as info:
        read_dataset(broken)
    assert "cannot be opened as a GeoPackage" in info.value.problems[0].message or info.value.problems
