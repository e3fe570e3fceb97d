"""Every format, text encoding and datum a clerk brings, read into WGS84 within 1 m of the true position.

Reference positions are given in WGS84; the inputs are made from them with
published GCJ-02/BD-09 values (wandergis/coordtransform's test vectors, as in
tests/geo/test_crs.py) and with PROJ strings written out by hand for the
CGCS2000 Gauss-Krüger zones, not with the code under test.
"""

import zipfile

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import Point, box

from geo.errors import DataError
from geo.readers import read_layer, read_table

GEOD = Geod(ellps="WGS84")
# Tiananmen-area reference point: WGS84, and the published GCJ-02 and BD-09 values of it.
WGS = (116.404, 39.915)
GCJ = (116.41024449916938, 39.91640428150164)
BD = (116.41662724378733, 39.922699552216216)
# Wuhan (Wuchang) reference point for the 114°E Gauss-Krüger zone.
WUHAN = (114.316, 30.554)
GK_114 = "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"  # EPSG:4547
GK_39 = "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=39500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"  # EPSG:4527


def _metres(p: Point, ref: tuple[float, float]) -> float:
    return GEOD.inv(p.x, p.y, ref[0], ref[1])[2]


def _facilities(lon: float, lat: float, **extra) -> pd.DataFrame:
    return pd.DataFrame({"设施编号": ["F1"], "设施名称": ["东门日间照料中心"], "设施类型": ["日间照料中心"], "经度": [lon],
                         "纬度": [lat], **extra})


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_encoding(tmp_path, encoding):
    path = tmp_path / "设施.csv"
    _facilities(*WGS).to_csv(path, index=False, encoding=encoding)
    read = read_layer(path, "facilities")
    assert read.gdf["name"].tolist() == ["东门日间照料中心"]
    assert read.gdf["type"].tolist() == ["day_care"]
    assert read.source.encoding == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030",
                                    "gb18030": "gb18030"}[encoding]
    assert read.columns == {"设施编号": "facility_id", "设施名称": "name", "设施类型": "type", "经度": "lon", "纬度": "lat"}
    assert _metres(read.gdf.geometry.iloc[0], WGS) < 0.01


def test_csv_with_semicolons_and_tabs(tmp_path):
    for sep in (";", "\t"):
        path = tmp_path / "f.csv"
        _facilities(*WGS).to_csv(path, index=False, sep=sep)
        assert read_layer(path, "facilities").gdf["facility_id"].tolist() == ["F1"]


@pytest.mark.parametrize(("coord_sys", "given"), [("wgs84", WGS), ("gcj02", GCJ), ("bd09", BD)])
def test_web_map_datums_within_a_metre(tmp_path, coord_sys, given):
    path = tmp_path / "f.csv"
    _facilities(*given).to_csv(path, index=False, encoding="gbk")
    read = read_layer(path, "facilities", coord_sys=coord_sys)
    assert _metres(read.gdf.geometry.iloc[0], WGS) < 1.0
    assert read.coord_sys == coord_sys


def test_gauss_kruger_x_y_columns_with_a_chosen_epsg(tmp_path):
    x, y = Transformer.from_crs("EPSG:4326", GK_114, always_xy=True).transform(*WUHAN)
    path = tmp_path / "f.csv"
    pd.DataFrame({"编号": ["F1"], "名称": ["甲"], "类型": ["养老院"], "X坐标": [x], "Y坐标": [y]}).to_csv(path, index=False)
    read = read_layer(path, "facilities", epsg=4547)
    assert _metres(read.gdf.geometry.iloc[0], WUHAN) < 1.0
    assert read.crs_used == "EPSG:4547"
    # without the EPSG code, metres are not degrees: the clerk is told the coordinates are outside China
    with pytest.raises(DataError) as exc:
        read_layer(path, "facilities")
    assert [p.code for p in exc.value.problems] == ["data.outside_china"]


def test_zone_numbered_gauss_kruger_4527(tmp_path):
    x, y = Transformer.from_crs("EPSG:4326", GK_39, always_xy=True).transform(*WGS)
    assert x > 39_000_000  # the zone number is part of the easting
    path = tmp_path / "f.xlsx"
    pd.DataFrame({"编号": ["F1"], "名称": ["甲"], "类型": ["养老院"], "x": [x], "y": [y]}).to_excel(path, index=False)
    assert _metres(read_layer(path, "facilities", epsg=4527).gdf.geometry.iloc[0], WGS) < 1.0


def test_unknown_epsg_is_a_problem(tmp_path):
    path = tmp_path / "f.csv"
    _facilities(*WGS).to_csv(path, index=False)
    with pytest.raises(DataError) as exc:
        read_layer(path, "facilities", epsg=999999)
    (p,) = exc.value.problems
    assert (p.code, dict(p.params)) == ("data.crs_unknown", {"epsg": "999999"})
    assert str(p).startswith("layer facilities: EPSG:999999 is not a known coordinate system — choose a code such as")


def _gk_points(tmp_path, name, *, crs_text=GK_114):
    x, y = Transformer.from_crs("EPSG:4326", crs_text, always_xy=True).transform(*WUHAN)
    return gpd.GeoDataFrame({"编号": ["F1"], "名称": ["武昌日间照料中心"], "类型": ["日间照料中心"]},
                            geometry=[Point(x, y)], crs="EPSG:4547")


def test_geopackage_in_cgcs2000_gauss_kruger_matching_layer_by_chinese_name(tmp_path):
    path = tmp_path / "bureau.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs=4326).to_file(path, layer="其他")
    _gk_points(tmp_path, "f").to_file(path, layer="服务设施")
    read = read_layer(path, "facilities")
    assert read.source.sublayer == "服务设施" and read.source.sublayers == ("其他", "服务设施")
    assert read.source.crs == "EPSG:4547"
    assert _metres(read.gdf.geometry.iloc[0], WUHAN) < 1.0
    with pytest.raises(DataError) as exc:
        read_layer(path, "facilities", sublayer="设施")
    assert str(exc.value.problems[0]) == ("layer facilities: bureau.gpkg has no layer '设施' (it has 其他, 服务设施) — "
                                          "choose one of the layers the file has")
    assert exc.value.problems[0].code == "data.layer_not_found"


def test_geopackage_in_cgcs2000_geographic(tmp_path):
    path = tmp_path / "g.gpkg"
    gpd.GeoDataFrame({"编号": ["F1"], "名称": ["甲"], "类型": ["养老院"]}, geometry=[Point(*WUHAN)],
                     crs="EPSG:4490").to_file(path, layer="facilities")
    read = read_layer(path, "facilities")
    assert read.source.crs == "EPSG:4490"
    assert _metres(read.gdf.geometry.iloc[0], WUHAN) < 1.0


def test_chosen_epsg_overrides_the_file_and_says_so(tmp_path):
    path = tmp_path / "g.gpkg"
    x, y = Transformer.from_crs("EPSG:4326", GK_114, always_xy=True).transform(*WUHAN)
    # a file labelled WGS84 that really holds Gauss-Krüger metres
    gpd.GeoDataFrame({"编号": ["F1"], "名称": ["甲"], "类型": ["养老院"]}, geometry=[Point(x, y)],
                     crs=4326).to_file(path, layer="facilities")
    read = read_layer(path, "facilities", epsg=4547)
    assert _metres(read.gdf.geometry.iloc[0], WUHAN) < 1.0
    assert [(w.code, dict(w.params)) for w in read.warnings] == [
        ("data.crs_overridden", {"file_crs": "EPSG:4326", "chosen": "EPSG:4547"})]


def test_geojson_polygons(tmp_path):
    path = tmp_path / "grids.geojson"
    grids = gpd.GeoDataFrame({"网格编号": ["A"], "街道": ["中华路"], "社区": ["昙华林"], "户数": [300], "人口": [800],
                              "老年人口": [200]}, geometry=[box(114.30, 30.55, 114.31, 30.56)], crs=4326)
    grids.to_file(path, driver="GeoJSON")
    read = read_layer(path, "grids")
    assert read.source.format == "geojson"
    assert read.gdf.geometry.iloc[0].equals_exact(box(114.30, 30.55, 114.31, 30.56), 1e-9)


def _gbk_shapefile(folder, *, cpg: bool):
    folder.mkdir()
    gdf = _gk_points(folder, "f")
    pyogrio.write_dataframe(gdf, folder / "设施.shp", encoding="GBK")
    assert (folder / "设施.cpg").read_text() == "GBK"
    dbf = (folder / "设施.dbf").read_bytes()
    assert "武昌日间照料中心".encode("gbk") in dbf  # the attribute table really is GBK
    if not cpg:
        (folder / "设施.cpg").unlink()
    return folder / "设施.shp"


@pytest.mark.parametrize("cpg", [True, False])
def test_gbk_shapefile_loose_with_or_without_cpg(tmp_path, cpg):
    shp = _gbk_shapefile(tmp_path / "shp", cpg=cpg)
    read = read_layer(shp, "facilities")
    assert read.gdf["name"].tolist() == ["武昌日间照料中心"]
    assert read.source.encoding == ("gbk" if cpg else "gb18030")
    assert _metres(read.gdf.geometry.iloc[0], WUHAN) < 1.0  # .prj says EPSG:4547


def test_zipped_gbk_shapefile_in_a_folder(tmp_path):
    shp = _gbk_shapefile(tmp_path / "shp", cpg=False)
    path = tmp_path / "设施.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in shp.parent.iterdir():
            zf.write(part, f"导出/{part.name}")
        zf.writestr("导出/readme.txt", "not read")
    read = read_layer(path, "facilities")
    assert read.source.format == "shapefile"
    assert read.gdf["name"].tolist() == ["武昌日间照料中心"]
    assert _metres(read.gdf.geometry.iloc[0], WUHAN) < 1.0


def test_excel_named_sheet_and_missing_sheet(tmp_path):
    path = tmp_path / "f.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"说明": ["本表为设施台账"]}).to_excel(xw, sheet_name="说明", index=False)
        _facilities(*GCJ).to_excel(xw, sheet_name="设施", index=False)
    read = read_layer(path, "facilities", sublayer="设施", coord_sys="gcj02")
    assert read.source.sublayers == ("说明", "设施")
    assert _metres(read.gdf.geometry.iloc[0], WGS) < 1.0
    with pytest.raises(DataError) as exc:
        read_layer(path, "facilities", sublayer="Sheet9")
    assert exc.value.problems[0].code == "data.layer_not_found"
    assert dict(exc.value.problems[0].params) == {"name": "Sheet9", "available": "说明, 设施"}
    # the first sheet by default: it has no facility columns, and every missing one is named
    with pytest.raises(DataError) as exc:
        read_layer(path, "facilities")
    assert [(p.code, p.column) for p in exc.value.problems] == [
        ("data.geometry_missing", None), ("data.column_missing", "facility_id"), ("data.column_missing", "name"),
        ("data.column_missing", "type")]


def test_polygons_from_wkt_and_geojson_text(tmp_path):
    path = tmp_path / "grids.csv"
    pd.DataFrame({"网格编号": ["A", "B"], "街道": ["中华路", "中华路"], "社区": ["昙华林", "昙华林"], "户数": [1, 2],
                  "人口": [3, 4], "老年人口": [1, 1],
                  "WKT": [box(114.30, 30.55, 114.31, 30.56).wkt,
                          '{"type": "Polygon", "coordinates": [[[114.31, 30.55], [114.32, 30.55], [114.32, 30.56], '
                          '[114.31, 30.55]]]}']}).to_csv(path, index=False, encoding="gbk")
    read = read_layer(path, "grids")
    assert read.columns["WKT"] == "wkt"
    assert read.gdf.geometry.iloc[0].equals_exact(box(114.30, 30.55, 114.31, 30.56), 1e-12)
    assert read.gdf.geometry.iloc[1].area == pytest.approx(0.5 * 0.01 * 0.01)
    bad = pd.read_csv(path, dtype=str, encoding="gb18030")
    bad.loc[1, "WKT"] = "POLYGON((114.3 30.5"
    bad.to_csv(path, index=False)
    with pytest.raises(DataError) as exc:
        read_layer(path, "grids")
    (p,) = exc.value.problems
    assert (p.code, p.row, p.column, p.source_column, p.value) == (
        "data.geometry_unreadable", 2, "wkt", "WKT", "POLYGON((114.3 30.5")


def test_read_table_keeps_the_files_own_headers(tmp_path):
    path = tmp_path / "f.csv"
    _facilities(*WGS, 备注=["<b>x</b>"]).to_csv(path, index=False)
    raw = read_table(path, "facilities")
    assert raw.headers == ["设施编号", "设施名称", "设施类型", "经度", "纬度", "备注"]
    assert not raw.has_geometry
    # an extra column is kept, as text, after the layer's own
    assert read_layer(path, "facilities").gdf["备注"].tolist() == ["<b>x</b>"]
