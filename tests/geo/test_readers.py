"""Reading one layer from the files clerks bring: GB18030 CSV, Excel, GeoPackage, unreadable files."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.errors import DataError
from geo.readers import read_layer_file

FACILITIES = pd.DataFrame({"编号": ["F1", "F2"], "名称": ["东门日照中心", "老年食堂"], "类型": ["日间照料中心", "老年食堂"],
                           "经度": [113.15, 113.16], "纬度": [27.87, 27.88]})


def test_csv_saved_by_chinese_excel_in_gb18030(tmp_path):
    path = tmp_path / "设施.csv"
    FACILITIES.to_csv(path, index=False, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    out = read_layer_file(path, "facilities")
    assert out["name"].tolist() == ["东门日照中心", "老年食堂"]
    assert out["type"].tolist() == ["day_care", "elderly_canteen"]
    assert out.geometry.iloc[1].equals(Point(113.16, 27.88))


def test_excel_sheet(tmp_path):
    path = tmp_path / "facilities.xlsx"
    FACILITIES.assign(容量=[30, 12.0]).to_excel(path, index=False)
    out = read_layer_file(path, "facilities", coord_sys="wgs84")
    assert out["facility_id"].tolist() == ["F1", "F2"]
    assert out["capacity"].tolist() == [30.0, 12.0]
    assert out.crs.to_epsg() == 4326


def test_geopackage_layer_by_name_or_first(tmp_path):
    path = tmp_path / "d.gpkg"
    grids = gpd.GeoDataFrame({"网格编号": ["A"], "街道": ["田心"], "社区": ["东门"], "户数": [10], "人口": [30],
                              "老年人口": [5]}, geometry=[box(113.10, 27.80, 113.11, 27.81)], crs=4326)
    grids.to_file(path, layer="网格")
    out = read_layer_file(path, "grids")  # no layer named grids: the first one is read
    assert out["grid_id"].tolist() == ["A"]
    assert read_layer_file(path, "grids", sublayer="网格")["elderly"].tolist() == [5]


def test_unreadable_and_missing_files(tmp_path):
    junk = tmp_path / "grids.geojson"
    junk.write_text("{not json")
    with pytest.raises(DataError, match=r"layer grids: grids.geojson cannot be read \(.*\) — save it as GeoPackage, "
                                        "GeoJSON, Shapefile, CSV \\(UTF-8\\) or Excel"):
        read_layer_file(junk, "grids")
    with pytest.raises(DataError, match=r"layer roads: file .*none.gpkg does not exist — check the path"):
        read_layer_file(tmp_path / "none.gpkg", "roads")
