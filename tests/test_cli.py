"""The command line: validate reports a summary or every problem (exit 2)."""

import json

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

import cli


def test_validate_ok_prints_summary(tmp_path, capsys):
    path = tmp_path / "fac.csv"
    pd.DataFrame({"编号": ["F1", "F2"], "名称": ["甲", "乙"], "类型": ["日间照料中心", "老年食堂"],
                  "经度": [113.15, 113.16], "纬度": [27.87, 27.88]}).to_csv(path, index=False)
    assert cli.main(["validate", "--layer", "facilities", "--coord-sys", "gcj02", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] == 2
    assert out["coord_sys"] == "gcj02"
    assert out["columns"] == ["facility_id", "name", "type"]
    # GCJ-02 input moved to WGS84: west/north of the input by a few hundred metres
    assert out["bounds_wgs84"][0] < 113.15


def test_validate_bad_file_lists_every_problem_on_stderr(tmp_path, capsys):
    path = tmp_path / "grids.geojson"
    gpd.GeoDataFrame({"网格编号": ["A", "A"], "街道": ["s", "s"], "社区": ["c", "c"], "户数": [1, 2],
                      "人口": [3, 4], "老年人口": [1, 9]},
                     geometry=[box(113.1, 27.8, 113.2, 27.9), box(113.2, 27.8, 113.3, 27.9)], crs=4326).to_file(path)
    assert cli.main(["--lang", "en", "validate", "--layer", "grids", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: layer grids, rows 1, 2 (2 in all), column 网格编号 (grid_id): duplicate id(s): A — give every row its "
        "own id",
        "error: layer grids, row 2, column 老年人口 (elderly): aged 60+ exceeds population — check the elderly and "
        "population figures",
    ]
    # Chinese by default
    assert cli.main(["validate", "--layer", "grids", str(path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: 图层 网格，第 1, 2 行（共 2 行），列 网格编号 (grid_id): 编号重复：A — 每一行使用不同的编号",
        "error: 图层 网格，第 2 行，列 老年人口 (elderly): 60岁以上人口多于总人口 — 核对老年人口和总人口两列",
    ]


def test_validate_missing_file(tmp_path, capsys):
    assert cli.main(["--lang", "en", "validate", "--layer", "roads", str(tmp_path / "none.gpkg")]) == 2
    assert capsys.readouterr().err.strip() == f"error: layer roads: file {tmp_path / 'none.gpkg'} does not exist — check the path"


def test_validate_file_without_rows(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("编号,名称,类型,经度,纬度\n", encoding="utf-8")
    assert cli.main(["validate", "--layer", "facilities", str(path)]) == 2
    assert capsys.readouterr().err.strip() == "error: 图层 服务设施: empty.csv 中没有数据行 — 在表头下至少填写一行数据"


def test_negative_seed_and_huge_permutations_are_refused(tmp_path, capsys):
    assert cli.main(["--lang", "en", "demo", "--scale", "shifeng", "--seed", "-1", "--out", str(tmp_path / "d.gpkg")]) == 2
    assert capsys.readouterr().err.strip() == "error: `--seed` was -1 but must be 0 or more."
    assert cli.main(["--lang", "en", "hotspots", "--permutations", "100000000", "--out", str(tmp_path / "h.csv")]) == 2
    assert capsys.readouterr().err.strip() == ("error: `--permutations` was 100000000 but must be between 0 and "
                                               "99,999.")
    assert cli.main(["hotspots", "--seed", "-3", "--lang", "en", "--out", str(tmp_path / "h.csv")]) == 2
    assert capsys.readouterr().err.strip() == "error: `--seed` was -3 but must be 0 or more."
    # Chinese by default (as in the app), and with --lang zh before or after the command
    assert cli.main(["hotspots", "--seed", "-3", "--out", str(tmp_path / "h.csv")]) == 2
    assert capsys.readouterr().err.strip() == "error: 参数 --seed 的值 -3 无效，不能小于 0。"
    assert cli.main(["demo", "--scale", "shifeng", "--cases", "0", "--lang", "zh", "--out", str(tmp_path / "d.gpkg")]) == 2
    assert capsys.readouterr().err.strip() == "error: 参数 --cases 的值 0 无效，必须是不小于 1 的整数。"
    assert not (tmp_path / "d.gpkg").exists() and not (tmp_path / "h.csv").exists()
