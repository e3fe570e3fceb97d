"""GRIDATLAS_MAX_UPLOAD_MB guards what is uploaded and what is read, not the size of a local multi-layer file:
the CLI imports a small layer from a GeoPackage larger than the limit, refuses a layer over it, and the page
still refuses an upload over it."""

from __future__ import annotations

import json
import secrets

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from cli import main
from geo.errors import DataError
from geo.upload import gpkg_layer_bytes
from geo.workspace import open_store
from tests.geo.test_osm import tiny_dataset
from ui.data_page import Upload, read_upload

MB = 1024 * 1024
PAD_ROWS, PAD_CHARS = 1500, 1600  # 2.4 MB of text in the layer beside the grids


@pytest.fixture
def big_gpkg(tmp_path):
    """A GeoPackage of 2.5+ MB: the 2 grids of the tiny dataset, and a large layer of padding beside them."""
    path = tmp_path / "district.gpkg"
    grids = tiny_dataset().grids
    pyogrio.write_dataframe(grids, path, layer="grids")
    pad = gpd.GeoDataFrame({"note": [secrets.token_hex(PAD_CHARS // 2) for _ in range(PAD_ROWS)]},
                           geometry=[Point(114.3, 30.55)] * PAD_ROWS, crs="EPSG:4326")
    pyogrio.write_dataframe(pad, path, layer="archive", append=True)
    assert path.stat().st_size > 2.4 * MB
    return path


def test_layer_bytes_count_the_layer_not_the_file(big_gpkg):
    grids, archive = gpkg_layer_bytes(big_gpkg, "grids"), gpkg_layer_bytes(big_gpkg, "archive")
    size = big_gpkg.stat().st_size
    assert PAD_ROWS * PAD_CHARS <= archive <= size  # at least the text it holds
    assert 0 < grids < 0.05 * MB and grids + archive <= size


def test_cli_imports_a_small_layer_of_a_local_file_larger_than_the_limit(home, big_gpkg, monkeypatch, capsys):
    monkeypatch.setenv("GRIDATLAS_MAX_UPLOAD_MB", "1")
    store = open_store("limits")
    store.import_dataset(tiny_dataset(), source="test")
    assert main(["import", "--data", "limits", "--layer", "grids", str(big_gpkg)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["format"], out["version"]["layer"], out["version"]["layers"]["grids"]) == ("gpkg", "grids", 2)


def test_cli_refuses_a_layer_over_the_limit(home, big_gpkg, monkeypatch, capsys):
    monkeypatch.setenv("GRIDATLAS_MAX_UPLOAD_MB", "1")
    store = open_store("limits")
    store.import_dataset(tiny_dataset(), source="test")
    assert main(["--lang", "en", "import", "--data", "limits", "--layer", "grids", "--sheet", "archive",
                 str(big_gpkg)]) == 2
    size_mb = f"{gpkg_layer_bytes(big_gpkg, 'archive') / MB:.1f}"
    assert capsys.readouterr().err.splitlines() == [
        f"error: layer grids: layer archive of district.gpkg is {size_mb} MB, over the limit of 1.0 MB — import the "
        "layer in parts, or ask the administrator to raise GRIDATLAS_MAX_UPLOAD_MB"]
    assert main(["import", "--data", "limits", "--layer", "grids", "--sheet", "archive", str(big_gpkg)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: 图层 网格: district.gpkg 中的图层 archive 大小为 {size_mb} MB，超过上限 1.0 MB — 分批导入该图层，"
        "或请管理员调高 GRIDATLAS_MAX_UPLOAD_MB"]
    assert store.current().id == 1


def test_an_upload_over_the_limit_is_still_refused(big_gpkg, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_MAX_UPLOAD_MB", "1")
    data = big_gpkg.read_bytes()
    with pytest.raises(DataError) as exc:
        read_upload(Upload((("district.gpkg", data),)), "grids", None)
    (p,) = exc.value.problems
    size_mb = f"{len(data) / MB:.1f}"
    assert (p.code, str(p)) == ("upload.too_large", f"layer grids: district.gpkg is {size_mb} MB, over the limit of "
                                "1.0 MB — split the file or ask the administrator to raise GRIDATLAS_MAX_UPLOAD_MB")
    monkeypatch.setenv("GRIDATLAS_MAX_UPLOAD_MB", "4")  # the same upload under a higher limit: its grids are read
    raw = read_upload(Upload((("district.gpkg", data),)), "grids", None)
    assert (raw.source.sublayer, len(raw.frame)) == ("grids", 2)
