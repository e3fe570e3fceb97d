"""Layer validation: every problem found at once, each message as the clerk reads it."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from geo.crs import gcj02_to_wgs84
from geo.errors import DataError, Problem
from geo.schema import LAYERS, validate_layer


def _grids(**over):
    data = {
        "网格编号": ["A", "B"],
        "街道": ["响石岭", "响石岭"],
        "社区": ["李家冲", "李家冲"],
        "户数": [100, 200],
        "人口": [270, 540],
        "老年人口": [50, 90],
    }
    data.update(over)
    return gpd.GeoDataFrame(data, geometry=[box(113.10, 27.80, 113.11, 27.81), box(113.11, 27.80, 113.12, 27.81)],
                            crs=4326)


def _messages(err: DataError) -> list[str]:
    return [str(p) for p in err.problems]


def test_chinese_headers_become_english_columns():
    out = validate_layer(_grids(), "grids")
    assert list(out.columns) == ["grid_id", "street", "community", "households", "population", "elderly", "geometry"]
    assert out["elderly"].tolist() == [50, 90]
    assert out.crs.to_epsg() == 4326


def test_every_problem_is_reported_at_once():
    bad = _grids(户数=[100, "很多"], 老年人口=[50, 900], 网格编号=["A", "A"], 街道=["响石岭", None])
    with pytest.raises(DataError) as exc:
        validate_layer(bad, "grids")
    msgs = _messages(exc.value)
    assert msgs == [
        "layer grids, column grid_id: duplicate id(s) A (rows 1, 2) — give every row its own id",
        "layer grids, column street: 1 empty value(s) (rows 2) — fill in every cell of this column",
        "layer grids, column households: 1 value(s) are not int (rows 2) — enter a whole number in each cell",
        "layer grids, column elderly: aged 60+ exceeds population (rows 2) — check the elderly and population figures",
    ]
    assert str(exc.value).startswith("4 problems found:\n- layer grids, column grid_id")


def test_missing_required_columns_name_the_chinese_headers():
    with pytest.raises(DataError) as exc:
        validate_layer(_grids().drop(columns=["老年人口", "社区"]), "grids")
    assert _messages(exc.value) == [
        "layer grids, column community: required column is missing — add a column named community / 社区 / 社区名称",
        "layer grids, column elderly: required column is missing — add a column named elderly / 老年人口 / "
        "60岁以上人口 / 老年人数",
    ]


def test_negative_and_fractional_counts():
    with pytest.raises(DataError) as exc:
        validate_layer(_grids(人口=[-5, 540.5]), "grids")
    msgs = _messages(exc.value)
    assert "layer grids, column population: 1 value(s) are not int (rows 2) — enter a whole number in each cell" in msgs
    assert "layer grids, column population: value(s) below 0 (rows 1) — enter a value of at least 0" in msgs


def test_facility_codes_accept_chinese_labels_and_reject_unknown():
    df = pd.DataFrame({"编号": ["f1", "f2", "f3"], "名称": ["甲", "乙", "丙"],
                       "类型": ["日间照料中心", "health_center", "超市"], "经度": [113.1, 113.2, 113.3],
                       "纬度": [27.8, 27.8, 27.8]})
    with pytest.raises(DataError) as exc:
        validate_layer(df, "facilities")
    assert _messages(exc.value) == [
        "layer facilities, column type: unknown value(s) '超市' (rows 3) — use one of day_care, elderly_service_center, "
        "nursing_home, elderly_canteen, health_station, health_center"
    ]
    ok = validate_layer(df.iloc[:2], "facilities")
    assert ok["type"].tolist() == ["day_care", "health_center"]
    assert ok.geometry.iloc[0].equals(Point(113.1, 27.8))


def test_table_without_coordinates_and_bad_coordinates():
    df = pd.DataFrame({"facility_id": ["a"], "name": ["n"], "type": ["day_care"]})
    with pytest.raises(DataError) as exc:
        validate_layer(df, "facilities")
    assert _messages(exc.value) == ["layer facilities: no geometry found — add 经度/纬度 (lon/lat) columns"]
    df2 = pd.DataFrame({"facility_id": ["a", "b"], "name": ["n", "m"], "type": ["day_care", "day_care"],
                        "lon": ["abc", 113.1], "lat": [27.8, 27.8]})
    with pytest.raises(DataError) as exc:
        validate_layer(df2, "facilities")
    # reported once: the row without coordinates is not reported again as an empty geometry
    assert _messages(exc.value) == ["layer facilities, column lon/lat: longitude/latitude missing or not a number "
                                    "in rows 1 — enter decimal degrees such as 113.15 and 27.87"]


def test_swapped_lon_lat_is_caught():
    df = pd.DataFrame({"facility_id": ["a"], "name": ["n"], "type": ["day_care"], "lon": [27.8], "lat": [113.1]})
    with pytest.raises(DataError) as exc:
        validate_layer(df, "facilities")
    assert _messages(exc.value) == [
        "layer facilities, column geometry: coordinates outside China (rows 1) — check that longitude and latitude "
        "are not swapped and that the file's CRS is set"
    ]


def test_coordinates_outside_china_are_reported_with_the_other_problems():
    # row 1 has lon/lat swapped, row 2 no coordinates, and the ids repeat: all three in one pass
    df = pd.DataFrame({"facility_id": ["a", "a", "b"], "name": ["n", "m", "k"], "type": ["day_care"] * 3,
                       "lon": [27.8, None, 113.1], "lat": [113.1, None, 27.8]})
    with pytest.raises(DataError) as exc:
        validate_layer(df, "facilities")
    assert _messages(exc.value) == [
        "layer facilities, column lon/lat: longitude/latitude missing or not a number in rows 2 — enter decimal "
        "degrees such as 113.15 and 27.87",
        "layer facilities, column facility_id: duplicate id(s) a (rows 1, 2) — give every row its own id",
        "layer facilities, column geometry: coordinates outside China (rows 1) — check that longitude and latitude "
        "are not swapped and that the file's CRS is set",
    ]
    # in a geometry layer too, beside a wrong geometry kind, counted in the layer's own rows
    g = _grids()
    g = g.set_geometry([LineString([(113.1, 27.8), (113.2, 27.9)]), box(27.80, 113.10, 27.81, 113.11)])
    with pytest.raises(DataError) as exc:
        validate_layer(g, "grids")
    assert _messages(exc.value) == [
        "layer grids, column geometry: geometry is LineString (rows 1) — this layer needs Polygon or MultiPolygon",
        "layer grids, column geometry: coordinates outside China (rows 2) — check that longitude and latitude "
        "are not swapped and that the file's CRS is set",
    ]


def test_wrong_and_invalid_geometry():
    bowtie = Polygon([(113.1, 27.8), (113.11, 27.81), (113.11, 27.8), (113.1, 27.81), (113.1, 27.8)])
    g = _grids()
    g = g.set_geometry([LineString([(113.1, 27.8), (113.2, 27.9)]), bowtie])
    with pytest.raises(DataError) as exc:
        validate_layer(g, "grids")
    msgs = _messages(exc.value)
    assert msgs[0] == ("layer grids, column geometry: geometry is LineString (rows 1) — this layer needs Polygon or "
                       "MultiPolygon")
    assert msgs[1].startswith("layer grids, column geometry: invalid geometry (Self-intersection")
    assert msgs[1].endswith("(rows 2) — repair it (for example QGIS 'Fix geometries') and load again")


def test_gcj02_input_is_converted_to_wgs84():
    df = pd.DataFrame({"facility_id": ["a"], "name": ["n"], "type": ["day_care"], "经度": [113.15], "纬度": [27.87]})
    out = validate_layer(df, "facilities", coord_sys="gcj02")
    lon, lat = gcj02_to_wgs84(113.15, 27.87)
    assert out.geometry.iloc[0].x == pytest.approx(float(lon), abs=1e-12)
    assert out.geometry.iloc[0].y == pytest.approx(float(lat), abs=1e-12)


def test_cases_dates_and_status():
    df = pd.DataFrame({"事件编号": ["c1", "c2"], "类别": ["路灯", "油烟"], "上报时间": ["2019-05-01 10:00", "昨天"],
                       "状态": ["已办结", "open"], "办结时间": ["2019-04-30", None], "经度": [113.1, 113.1],
                       "纬度": [27.8, 27.8]})
    with pytest.raises(DataError) as exc:
        validate_layer(df, "cases")
    assert _messages(exc.value) == [
        "layer cases, column reported_at: 1 value(s) are not datetime (rows 2) — enter a datetime in each cell",
        "layer cases, column closed_at: closed before reported (rows 1) — check the two dates",
    ]


def test_unknown_layer_and_problem_text():
    with pytest.raises(ValueError, match="`layer` was 'schools' but is expected to be one of"):
        validate_layer(pd.DataFrame(), "schools")
    p = Problem("grids", "bad", "fix it", row=3, column="x")
    assert str(p) == "layer grids, row 3, column x: bad — fix it"
    assert set(LAYERS) == {"grids", "facilities", "estates", "cases", "candidates", "roads"}


def test_input_is_not_modified():
    g = _grids()
    before = g.copy()
    validate_layer(g, "grids")
    pd.testing.assert_frame_equal(pd.DataFrame(g), pd.DataFrame(before))
