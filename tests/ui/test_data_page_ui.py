"""The 数据管理 page's tables, templates and texts, without a browser."""

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from geo import settings
from geo.errors import DataError
from geo.readers import read_layer, read_table
from geo.schema import LAYER_NAMES
from i18n import TABLE, problem_text
from ui.data_page import (
    NONE,
    mapped_twice,
    mapping_from_table,
    mapping_table,
    report_table,
    template_bytes,
    values_table,
)

ROOT = Path(__file__).resolve().parents[2]


def _facilities_csv(tmp_path):
    path = tmp_path / "设施.csv"
    pd.DataFrame({"设施编号": ["F1", "F2", "F3"], "名称": ["甲", "乙", "<img src=x onerror=alert(1)>"],
                  "类型": ["日间照料中心", "养老院", "超市"], "状态": ["运营", "规划", "运营"], "经度": [114.3, 114.31, 114.32],
                  "纬度": [30.55, 30.56, 30.57], "备注": ["", "", ""]}).to_csv(path, index=False, encoding="gbk")
    return path


def test_mapping_table_auto_maps_chinese_headers_and_can_be_edited(tmp_path):
    raw = read_table(_facilities_csv(tmp_path), "facilities")
    table = mapping_table(raw, "facilities")
    assert table.to_dict("list") == {
        "source": ["设施编号", "名称", "类型", "状态", "经度", "纬度", "备注"],
        "target": ["facility_id", "name", "type", "status", "lon", "lat", NONE],
        "example": ["F1", "甲", "日间照料中心", "运营", "114.3", "30.55", ""],
    }
    edited = table.copy()
    edited.loc[6, "target"] = "name"
    mapping = mapping_from_table(edited)
    assert mapping["备注"] == "name"
    assert mapped_twice(mapping) == {"name": ["名称", "备注"]}


def test_values_table_shows_codes_and_the_unknown(tmp_path):
    raw = read_table(_facilities_csv(tmp_path), "facilities")
    mapping = mapping_from_table(mapping_table(raw, "facilities"))
    zh = values_table(raw, "facilities", mapping, lang="zh")
    assert zh.values.tolist() == [
        ["类型 · type", "日间照料中心", "day_care", "日间照料中心"],
        ["类型 · type", "养老院", "nursing_home", "养老院"],
        ["类型 · type", "超市", "—", "无法识别"],
        ["状态 · status", "运营", "operating", "运营"],
        ["状态 · status", "规划", "planned", "规划"],
    ]
    assert values_table(raw, "facilities", mapping, lang="en")["label"].tolist() == [
        "Day-care station", "Nursing home", "not recognised", "Operating", "Planned"]


def test_values_of_estates_and_cases():
    from geo.schema import value_mapping

    assert value_mapping(pd.Series(["无物业管理", "物业公司", " 自管 "]), "estates", "management") == {
        "无物业管理": "unmanaged", "物业公司": "property_company", "自管": "self_governed"}
    assert value_mapping(pd.Series(["已办结", "未办结", None]), "cases", "status") == {"已办结": "closed",
                                                                                    "未办结": "open"}


def test_report_table_in_both_languages_keeps_html_as_text(tmp_path):
    path = _facilities_csv(tmp_path)
    with pytest.raises(DataError) as exc:
        read_layer(path, "facilities")
    zh = report_table(exc.value.problems, (), lang="zh")
    assert zh.to_dict("records") == [{
        "kind": "错误", "layer": "服务设施", "rows": "3", "column": "类型 (type)", "value": "超市",
        "what": "无法识别的取值：超市",
        "fix": "改为下列之一：日间照料中心、养老服务中心、养老院、老年食堂、社区卫生服务站、社区卫生服务中心（或代码 day_care, "
               "elderly_service_center, nursing_home, elderly_canteen, health_station, health_center）"}]
    en = report_table(exc.value.problems, (), lang="en")
    assert en.loc[0, "what"] == "unknown value(s): 超市" and en.loc[0, "kind"] == "Error"
    # the name with HTML in it is accepted as text (tables show text; the map payload escapes it)
    fixed = pd.read_csv(path, dtype=str, encoding="gb18030").replace({"超市": "老年食堂"})
    fixed.to_csv(path, index=False)
    ok = read_layer(path, "facilities")
    assert ok.gdf["name"].tolist() == ["甲", "乙", "<img src=x onerror=alert(1)>"]
    from ui.maps import geojson_payload

    names = [f["properties"]["name"] for f in geojson_payload(ok.gdf, columns=["name"])["features"]]
    assert names[2] == "&lt;img src=x onerror=alert(1)&gt;"


@pytest.mark.parametrize("layer", LAYER_NAMES)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_every_template_reads_back_without_a_problem(tmp_path, layer, fmt):
    path = tmp_path / f"t.{fmt}"
    path.write_bytes(template_bytes(layer, fmt))
    read = read_layer(path, layer)
    assert len(read.gdf) == 1 and read.warnings == ()
    headers = read_table(path, layer).headers
    assert all(re.search(r"[\u4e00-\u9fff]", h) or h == "WKT" for h in headers), headers
    if fmt == "csv":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese headers right


def test_template_example_values_are_the_chinese_names():
    from geo.schema import template_table

    assert template_table("facilities").loc[0, "类型"] == "日间照料中心"
    assert template_table("estates").loc[0, "管理方式"] == "无物业管理"
    assert template_table("cases").loc[0, "状态"] == "已办结"


def _codes_in_source() -> set[str]:
    codes = set()
    for path in (ROOT / "geo" / name for name in ("schema.py", "readers.py", "upload.py")):
        codes |= set(re.findall(r'"((?:data|upload)\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    return codes - {"data.invalid"}


def test_every_problem_code_has_both_texts_in_both_languages():
    codes = _codes_in_source()
    assert {"data.column_missing", "data.not_number", "data.not_integer", "data.not_date", "data.duplicate_id",
            "data.lonlat_swapped", "upload.zip_bomb", "upload.zip_unsafe_path", "upload.no_shp"} <= codes
    missing = sorted(f"{kind}.{c}" for c in codes for kind in ("err", "fix") if f"{kind}.{c}" not in TABLE)
    assert missing == []


def test_problem_text_falls_back_to_english_for_an_unknown_code():
    from geo.errors import Problem

    p = Problem("grids", "something odd", "look at it", row=4, column="street", code="data.never_seen")
    assert problem_text(p, lang="zh") == "图层 网格，第 4 行，列 street: something odd — look at it"


def test_upload_limit_agrees_with_streamlit_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    default = next(s.default for s in settings.SETTINGS if s.env == "GRIDATLAS_MAX_UPLOAD_MB")
    assert config["server"]["maxUploadSize"] == default == 200
