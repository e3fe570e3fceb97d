"""Layer validation: every problem found at once, each message as the clerk reads it."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from geo.crs import gcj02_to_wgs84
from geo.errors import DataError, Problem
from geo.schema import LAYERS, check_layer, validate_layer


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
        "layer grids, column 网格编号 (grid_id): duplicate id(s) A (rows 1, 2) — give every row its own id",
        "layer grids, row 2, column 街道 (street): empty cell — fill in every cell of this column",
        "layer grids, row 2, column 户数 (households): not a whole number: '很多' — enter a whole number such as 120",
        "layer grids, row 2, column 老年人口 (elderly): aged 60+ exceeds population — check the elderly and "
        "population figures",
    ]
    assert str(exc.value).startswith("4 problems found:\n- layer grids, column 网格编号 (grid_id)")
    codes = [(p.code, p.row, p.column, p.source_column, p.value) for p in exc.value.problems]
    assert codes == [("data.duplicate_id", None, "grid_id", "网格编号", "A"),
                     ("data.empty_value", 2, "street", "街道", None),
                     ("data.not_integer", 2, "households", "户数", "很多"),
                     ("data.elderly_exceeds_population", 2, "elderly", "老年人口", None)]
    assert dict(exc.value.problems[0].params) == {"values": "A", "rows": "1, 2", "count": 2}


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
    assert msgs == [
        "layer grids, row 2, column 人口 (population): not a whole number: '540.5' — enter a whole number such as 120",
        "layer grids, row 1, column 人口 (population): value(s) below 0 — enter a value of at least 0",
        "layer grids, row 1, column 老年人口 (elderly): aged 60+ exceeds population — check the elderly and "
        "population figures",
    ]
    assert [(p.code, p.value, dict(p.params)) for p in exc.value.problems[:2]] == [
        ("data.not_integer", "540.5", {"values": "540.5", "rows": "2", "count": 1}),
        ("data.below_minimum", "-5", {"values": "-5", "rows": "1", "count": 1, "minimum": "0"}),
    ]


def test_facility_codes_accept_chinese_labels_and_reject_unknown():
    df = pd.DataFrame({"编号": ["f1", "f2", "f3"], "名称": ["甲", "乙", "丙"],
                       "类型": ["日间照料中心", "health_center", "超市"], "经度": [113.1, 113.2, 113.3],
                       "纬度": [27.8, 27.8, 27.8]})
    with pytest.raises(DataError) as exc:
        validate_layer(df, "facilities")
    assert _messages(exc.value) == [
        "layer facilities, row 3, column 类型 (type): unknown value(s) '超市' — use one of day_care, "
        "elderly_service_center, nursing_home, elderly_canteen, health_station, health_center"
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
    assert _messages(exc.value) == ["layer facilities, row 1, column lon/lat: longitude/latitude missing or not a "
                                    "number — enter decimal degrees such as 113.15 and 27.87"]
    assert exc.value.problems[0].value == "abc, 27.8"


def test_swapped_lon_lat_is_caught():
    df = pd.DataFrame({"facility_id": ["a"], "name": ["n"], "type": ["day_care"], "lon": [27.8], "lat": [113.1]})
    with pytest.raises(DataError) as exc:
        validate_layer(df, "facilities")
    assert _messages(exc.value) == [
        "layer facilities, row 1, column lon/lat (geometry): longitude and latitude are swapped — exchange the two columns "
        "(or the X/Y axis order): longitude is the larger number, 73–136 in China"
    ]
    assert exc.value.problems[0].code == "data.lonlat_swapped"
    assert exc.value.problems[0].value == "27.8, 113.1"
    # far outside China (not merely swapped) is a different problem
    with pytest.raises(DataError) as exc:
        validate_layer(df.assign(lon=[2.35], lat=[48.85]), "facilities")
    assert _messages(exc.value) == [
        "layer facilities, row 1, column lon/lat (geometry): coordinates outside China — check that the file's coordinate "
        "system is set (or chosen) correctly"
    ]
    assert exc.value.problems[0].code == "data.outside_china"


def test_coordinates_outside_china_are_reported_with_the_other_problems():
    # row 1 has lon/lat swapped, row 2 no coordinates, and the ids repeat: all three in one pass
    df = pd.DataFrame({"facility_id": ["a", "a", "b"], "name": ["n", "m", "k"], "type": ["day_care"] * 3,
                       "lon": [27.8, None, 113.1], "lat": [113.1, None, 27.8]})
    with pytest.raises(DataError) as exc:
        validate_layer(df, "facilities")
    assert _messages(exc.value) == [
        "layer facilities, row 2, column lon/lat: longitude/latitude missing or not a number — enter decimal "
        "degrees such as 113.15 and 27.87",
        "layer facilities, column facility_id: duplicate id(s) a (rows 1, 2) — give every row its own id",
        "layer facilities, row 1, column lon/lat (geometry): longitude and latitude are swapped — exchange the two columns "
        "(or the X/Y axis order): longitude is the larger number, 73–136 in China",
    ]
    # in a geometry layer too, beside a wrong geometry kind, counted in the layer's own rows
    g = _grids()
    g = g.set_geometry([LineString([(113.1, 27.8), (113.2, 27.9)]), box(27.80, 113.10, 27.81, 113.11)])
    with pytest.raises(DataError) as exc:
        validate_layer(g, "grids")
    assert _messages(exc.value) == [
        "layer grids, row 1, column geometry: geometry is LineString — this layer needs Polygon or MultiPolygon",
        "layer grids, row 2, column geometry: longitude and latitude are swapped — exchange the two columns "
        "(or the X/Y axis order): longitude is the larger number, 73–136 in China",
    ]


def test_wrong_and_unrepairable_geometry_refused_bow_tie_repaired():
    bowtie = Polygon([(113.1, 27.8), (113.11, 27.81), (113.11, 27.8), (113.1, 27.81), (113.1, 27.8)])
    flat = Polygon([(113.1, 27.8), (113.11, 27.8), (113.12, 27.8), (113.11, 27.8), (113.1, 27.8)])  # a line out and back
    g = _grids()
    with pytest.raises(DataError) as exc:
        validate_layer(g.set_geometry([LineString([(113.1, 27.8), (113.2, 27.9)]), flat]), "grids")
    assert _messages(exc.value) == [
        "layer grids, row 1, column geometry: geometry is LineString — this layer needs Polygon or MultiPolygon",
        "layer grids, row 2, column geometry: invalid geometry (Ring Self-intersection[113.11 27.8]) — repair it "
        "(for example QGIS 'Fix geometries') and load again",
    ]
    assert [p.code for p in exc.value.problems] == ["data.geometry_wrong_type", "data.geometry_invalid"]
    # a bow tie is repaired into its two triangles, and the repair is reported as a warning
    checked = check_layer(g.set_geometry([box(113.10, 27.80, 113.11, 27.81), bowtie]), "grids")
    fixed = checked.gdf.geometry.iloc[1]
    assert fixed.geom_type == "MultiPolygon" and fixed.is_valid
    assert fixed.area == pytest.approx(2 * 0.5 * 0.01 * 0.005)  # two triangles meeting at the crossing
    assert [(w.code, w.row, w.column) for w in checked.warnings] == [("data.geometry_repaired", 2, "geometry")]
    assert str(checked.warnings[0]).startswith("layer grids, row 2, column geometry: invalid geometry repaired "
                                               "(Self-intersection")


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
        "layer cases, row 2, column 上报时间 (reported_at): not a date: '昨天' — enter a date such as 2024-05-01 or "
        "2024-05-01 09:30",
        "layer cases, row 1, column 办结时间 (closed_at): closed before reported — check the two dates",
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
