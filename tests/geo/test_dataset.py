"""Dataset GeoPackage round trip, problems collected across layers, atomic writes, grid assignment."""

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from geo.assign import assign_grid_ids
from geo.dataset import Dataset, read_dataset, write_dataset
from geo.errors import DataError
from geo.schema import validate_layer


def _small() -> Dataset:
    grids = validate_layer(gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"], "street": ["田心", "田心"], "community": ["东门", "北岭"], "households": [10, 20],
         "population": [30, 60], "elderly": [5, 11]},
        geometry=[box(113.10, 27.80, 113.11, 27.81), box(113.11, 27.80, 113.12, 27.81)], crs=4326), "grids")
    fac = validate_layer(gpd.GeoDataFrame(
        {"facility_id": ["F1"], "name": ["东门日照中心"], "type": ["day_care"]},
        geometry=[Point(113.105, 27.805)], crs=4326), "facilities")
    cases = validate_layer(gpd.GeoDataFrame(
        {"case_id": ["C1", "C2", "C3"], "category": ["路灯", "油烟", "其他"],
         "reported_at": ["2019-05-01", "2019-05-02", "2019-05-03"], "status": ["open", "closed", "open"]},
        geometry=[Point(113.105, 27.805), Point(113.115, 27.805), Point(113.2, 27.9)], crs=4326), "cases")
    return Dataset(grids=grids, facilities=fac, cases=cases, name="测试区", meta=(("as_of", "2019-06-30"),))


def test_round_trip_keeps_layers_and_assigns_cases_once(tmp_path):
    path = write_dataset(_small(), tmp_path / "d.gpkg")
    ds = read_dataset(path)
    assert ds.name == "测试区"
    assert ds.meta_dict["as_of"] == "2019-06-30"
    assert ds.present_layers() == ["grids", "facilities", "cases"]
    assert ds.grids["grid_id"].tolist() == ["G1", "G2"]
    assert ds.cases["grid_id"].tolist()[:2] == ["G1", "G2"]
    assert pd.isna(ds.cases["grid_id"].iloc[2])  # outside every grid: kept, not dropped
    assert ds.metric_crs.to_epsg() == 32649


def test_problems_from_every_layer_come_together(tmp_path):
    path = tmp_path / "bad.gpkg"
    grids = gpd.GeoDataFrame({"grid_id": ["G1"], "street": ["s"], "community": ["c"], "households": [1],
                              "population": [1], "elderly": [3]}, geometry=[box(113.1, 27.8, 113.2, 27.9)], crs=4326)
    pyogrio.write_dataframe(grids, path, layer="grids")
    cases = gpd.GeoDataFrame({"case_id": ["C1"], "category": ["路灯"], "reported_at": ["x"], "status": ["open"]},
                             geometry=[Point(113.15, 27.85)], crs=4326)
    pyogrio.write_dataframe(cases, path, layer="cases")
    with pytest.raises(DataError) as exc:
        read_dataset(path)
    assert [str(p) for p in exc.value.problems] == [
        "layer grids, row 1, column elderly: aged 60+ exceeds population — check the elderly and population figures",
        "layer facilities: layer is missing from the dataset — add a layer named facilities (服务设施)",
        "layer cases, row 1, column reported_at: not a date: 'x' — enter a date such as 2024-05-01 or 2024-05-01 09:30",
    ]


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="does not exist — give the path of a GeoPackage"):
        read_dataset(tmp_path / "nope.gpkg")
    junk = tmp_path / "junk.gpkg"
    junk.write_text("not a geopackage")
    with pytest.raises(DataError, match="cannot be opened as a GeoPackage"):
        read_dataset(junk)


def test_failed_write_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = write_dataset(_small(), tmp_path / "d.gpkg")
    before = path.read_bytes()
    real = pyogrio.write_dataframe
    written: list[str] = []

    def disk_full_on_second_layer(df, target, **kw):
        written.append(kw.get("layer"))
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        return real(df, target, **kw)

    monkeypatch.setattr(pyogrio, "write_dataframe", disk_full_on_second_layer)
    with pytest.raises(OSError, match="No space left on device"):
        write_dataset(_small(), path)
    assert len(written) == 2  # the failure came part-way through, after one layer was written
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.gpkg"]  # the temporary file is gone
    monkeypatch.undo()
    assert read_dataset(path).grids["grid_id"].tolist() == ["G1", "G2"]


def test_assign_grid_ids_matches_sjoin_and_counts_boundary_once():
    ds = _small()
    pts = gpd.GeoDataFrame(geometry=[Point(113.11, 27.805), Point(113.101, 27.801), Point(114, 28)], crs=4326)
    ids = assign_grid_ids(pts, ds.grids)
    assert ids.iloc[0] == "G1"  # on the shared edge: the first grid
    assert ids.iloc[1] == "G1"
    assert pd.isna(ids.iloc[2])
    joined = gpd.sjoin(pts.iloc[[1]], ds.grids, predicate="within")
    assert joined["grid_id"].tolist() == [ids.iloc[1]]
    with pytest.raises(ValueError, match="points are in EPSG:32649 but grids are in EPSG:4326"):
        assign_grid_ids(pts.to_crs(32649), ds.grids)
