"""The readers on files as real exports write them: mixed timestamp precision (in any row order), dates
without times, numeric ids (text with leading zeros, numbers read as int or float), full-width names.

Files are written byte by byte or cell by cell here (CSV text, openpyxl cells, GeoPackage fields), and the
expected values are written out by hand.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from geo.readers import read_layer

T = pd.Timestamp
# 事件编号, 上报时间, 办结时限, 办结时间, 网格编号, 问题描述 — as a grid platform's CSV export writes them
CSV_ROWS = [
    ("0000120", "2023-08-12 14:30:39", "2023-08-19", "2023-08-13 09:00:00.250", "007301", "路灯不亮（东门　3栋）、已报修"),
    ("0000121", "2025-06-15 07:42:30.831", "2025-06-22", "2025-06-16 18:05:00", "", "占道经营 (早市)"),
    ("0000122", "2024-02-29", "2024-03-07", "2024/3/1 8:15", "007301", "井盖缺失【急】"),
    ("0000123", "2024-11-03T21:07:45.123456", "2024-11-10", "2024-11-04T10:00:00+08:00", "", "油烟扰民　二楼［复查］"),
]
CSV_EXPECTED = {
    "0000120": (T("2023-08-12 14:30:39"), T("2023-08-19"), T("2023-08-13 09:00:00.25"), "007301",
                "路灯不亮（东门　3栋）、已报修"),
    "0000121": (T("2025-06-15 07:42:30.831"), T("2025-06-22"), T("2025-06-16 18:05"), None, "占道经营 (早市)"),
    "0000122": (T("2024-02-29"), T("2024-03-07"), T("2024-03-01 08:15"), "007301", "井盖缺失【急】"),
    "0000123": (T("2024-11-03 21:07:45.123456"), T("2024-11-10"), T("2024-11-04 10:00"), None, "油烟扰民　二楼［复查］"),
}
ORDERS = {"fractionless_first": (0, 1, 2, 3), "fraction_first": (1, 3, 0, 2), "date_only_first": (2, 1, 3, 0),
          "reversed": (3, 2, 1, 0)}


def _cases(gdf: gpd.GeoDataFrame) -> dict[str, tuple]:
    return {r.case_id: (r.reported_at, r.deadline, r.closed_at, None if pd.isna(r.grid_id) else r.grid_id,
                        r.description) for r in gdf.itertuples()}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
@pytest.mark.parametrize("order", list(ORDERS), ids=list(ORDERS))
def test_csv_cases_with_mixed_precision_in_any_order(tmp_path, order, encoding):
    lines = ["事件编号,事件类别,上报时间,状态,办结时限,办结时间,网格编号,问题描述,经度,纬度"]
    for i in ORDERS[order]:
        case_id, reported, deadline, closed, grid, text = CSV_ROWS[i]
        lines.append(f"{case_id},路灯,{reported},已办结,{deadline},{closed},{grid},{text},113.1{i},27.8")
    path = tmp_path / "事件导出.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    gdf = read_layer(path, "cases").gdf
    assert gdf["case_id"].tolist() == [CSV_ROWS[i][0] for i in ORDERS[order]]
    assert _cases(gdf) == CSV_EXPECTED
    assert gdf["reported_at"].dtype == "datetime64[ns]" and gdf["deadline"].dtype == "datetime64[ns]"
    assert set(gdf["status"]) == {"closed"}


def test_xlsx_with_number_and_text_ids_and_date_cells_beside_text(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "设施"
    sheet.append(["设施编号", "设施名称", "设施类型", "经度", "纬度"])
    sheet.append(["007", "东门日间照料中心（二号楼）", "日间照料中心", 113.101, 27.801])  # id typed as text
    sheet.append([12, "北岭 老年食堂、助餐点　(试运营)", "老年食堂", 113.102, 27.802])  # id typed as a number
    sheet.append([4302110001, "原粮站［改］", "老年食堂", 113.103, 27.803])
    cases = book.create_sheet("事件")
    cases.append(["事件编号", "事件类别", "上报时间", "状态", "办结时限", "网格编号", "经度", "纬度"])
    cases.append(["0000120", "路灯", dt.datetime(2023, 8, 12, 14, 30, 39), "已办结", dt.date(2023, 8, 19), "007301",
                  113.1, 27.8])
    cases.append([121, "路灯", dt.datetime(2025, 6, 15, 7, 42, 30, 831000), "已办结", "2025-06-22", 7301, 113.1, 27.8])
    cases.append(["0000122", "路灯", dt.date(2024, 2, 29), "已办结", dt.datetime(2024, 3, 7), None, 113.1, 27.8])
    cases.append(["0000123", "路灯", "2024-11-03 21:07:45.12", "已办结", "2024/11/10", "007301", 113.1, 27.8])
    path = tmp_path / "导出.xlsx"
    book.save(path)

    fac = read_layer(path, "facilities", sublayer="设施").gdf
    assert fac[["facility_id", "name", "type"]].values.tolist() == [
        ["007", "东门日间照料中心（二号楼）", "day_care"], ["12", "北岭 老年食堂、助餐点　(试运营)", "elderly_canteen"],
        ["4302110001", "原粮站［改］", "elderly_canteen"]]
    got = read_layer(path, "cases", sublayer="事件").gdf
    assert got["case_id"].tolist() == ["0000120", "121", "0000122", "0000123"]
    assert got["reported_at"].tolist() == [T("2023-08-12 14:30:39"), T("2025-06-15 07:42:30.831"), T("2024-02-29"),
                                           T("2024-11-03 21:07:45.12")]
    assert got["deadline"].tolist() == [T("2023-08-19"), T("2025-06-22"), T("2024-03-07"), T("2024-11-10")]
    assert [None if pd.isna(v) else v for v in got["grid_id"]] == ["007301", "7301", None, "007301"]


def test_geopackage_with_integer_ids_and_datetime_fields(tmp_path):
    path = tmp_path / "导出.gpkg"
    grids = gpd.GeoDataFrame(
        {"网格编号": pd.array([4302110001, 4302110002], dtype="int64"), "街道": ["田心街道"] * 2,
         "社区": ["东门（一）社区", "北岭　社区"], "户数": [10, 20], "人口": [30, 40], "老年人口": [5, 6]},
        geometry=[box(113.10, 27.80, 113.11, 27.81), box(113.11, 27.80, 113.12, 27.81)], crs=4326)
    pyogrio.write_dataframe(grids, path, layer="grids", driver="GPKG")
    cases = gpd.GeoDataFrame(
        {"事件编号": pd.array([120, 121, 122], dtype="int64"), "事件类别": ["路灯"] * 3,
         "上报时间": np.array(["2023-08-12T14:30:39", "2025-06-15T07:42:30.831", "2024-02-29T00:00:00"],
                          dtype="datetime64[ms]"),
         "状态": ["已办结"] * 3, "网格编号": pd.array([4302110002, None, 4302110001], dtype="Int64")},
        geometry=[Point(113.115, 27.805), Point(113.105, 27.805), Point(113.105, 27.805)], crs=4326)
    pyogrio.write_dataframe(cases, path, layer="cases", driver="GPKG")
    assert read_layer(path, "grids").gdf["grid_id"].tolist() == ["4302110001", "4302110002"]
    got = read_layer(path, "cases").gdf
    assert got["case_id"].tolist() == ["120", "121", "122"]
    assert got["reported_at"].tolist() == [T("2023-08-12 14:30:39"), T("2025-06-15 07:42:30.831"), T("2024-02-29")]
    assert [None if pd.isna(v) else v for v in got["grid_id"]] == ["4302110002", None, "4302110001"]


def test_geopackage_with_dates_as_text_fields(tmp_path):
    path = tmp_path / "小区.gpkg"
    estates = gpd.GeoDataFrame(
        {"小区编号": ["00017", "00018", "00019"], "小区名称": ["锦绣（南区）", "东门 新村　一期", "【老】粮站宿舍"],
         "户数": [120, 80, 40], "管理方式": ["无物业管理"] * 3,
         "业委会成立日期": ["2023-06-01", "2024-01-15 10:00:00.5", None]},
        geometry=[Point(113.101, 27.801), Point(113.102, 27.802), Point(113.103, 27.803)], crs=4326)
    pyogrio.write_dataframe(estates, path, layer="estates", driver="GPKG")
    got = read_layer(path, "estates").gdf
    assert got[["estate_id", "name"]].values.tolist() == [["00017", "锦绣（南区）"], ["00018", "东门 新村　一期"],
                                                          ["00019", "【老】粮站宿舍"]]
    assert got["committee_formed_on"].tolist()[:2] == [T("2023-06-01"), T("2024-01-15 10:00:00.5")]
    assert pd.isna(got["committee_formed_on"].iloc[2])
