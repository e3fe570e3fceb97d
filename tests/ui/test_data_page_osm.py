"""The 数据管理 page's import of an OpenStreetMap extract: the same reader as the CLI, within the dataset's extent."""

from __future__ import annotations

from geo.osm import extent_of
from geo.readers import check_table
from tests.geo.test_osm import tiny_dataset, write_fixture
from ui.data_page import Upload, read_upload, upload_extent


def test_an_uploaded_extract_gives_the_walkable_ways_within_the_dataset(tmp_path):
    fixture = write_fixture(tmp_path / "town.osm")
    upload = Upload((("town.osm", fixture.path.read_bytes()),))
    grids = tiny_dataset().grids
    assert upload_extent(upload, grids) == extent_of(grids)
    assert upload_extent(Upload((("roads.geojson", b"{}"),)), grids) is None
    raw = read_upload(upload, "roads", None, extent=upload_extent(upload, grids))
    assert raw.source.format == "osm" and raw.headers == ["osm_id", "name", "highway", "walkable"]
    read = check_table(raw, "roads")
    ids = set(read.gdf["osm_id"].astype(int))
    assert not ids & set(fixture.excluded) and fixture.spur_id in ids and read.warnings == ()
    assert read.gdf["walkable"].tolist() == [True] * len(read.gdf)
