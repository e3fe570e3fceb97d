"""The corpus of bad files a clerk may bring: each made in a folder on demand (no binary fixtures)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, Polygon, box

GRIDS = {"网格编号": ["A", "B"], "街道": ["中华路", "中华路"], "社区": ["昙华林", "昙华林"], "户数": [100, 200],
         "人口": [270, 540], "老年人口": [50, 90]}
BOXES = [box(114.30, 30.55, 114.31, 30.56), box(114.31, 30.55, 114.32, 30.56)]
FACILITIES = {"设施编号": ["F1", "F2"], "名称": ["昙华林日间照料中心", "积玉桥老年食堂"], "类型": ["日间照料中心", "老年食堂"],
              "经度": [114.305, 114.315], "纬度": [30.555, 30.556]}


@dataclass(frozen=True)
class BadFile:
    """A bad file: how to make it, the layer it is offered as, extra CLI options, the env it needs."""

    name: str
    layer: str
    make: Callable[[Path], Path]
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


def _csv(folder: Path, name: str, data: dict, *, encoding: str = "utf-8") -> Path:
    path = folder / name
    pd.DataFrame(data).to_csv(path, index=False, encoding=encoding)
    return path


def _geojson(folder: Path, name: str, data: dict, geoms: list) -> Path:
    path = folder / name
    gpd.GeoDataFrame(data, geometry=geoms, crs=4326).to_file(path, driver="GeoJSON")
    return path


def _zip(folder: Path, name: str, members: dict[str, bytes]) -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return path


def _empty(folder: Path) -> Path:
    path = folder / "empty.csv"
    path.write_bytes(b"")
    return path


def _wrong_layer(folder: Path) -> Path:
    path = folder / "grids.gpkg"
    gpd.GeoDataFrame(GRIDS, geometry=BOXES, crs=4326).to_file(path, layer="网格")
    return path


def _missing_column(folder: Path) -> Path:
    return _csv(folder, "facilities.csv", {k: v for k, v in FACILITIES.items() if k != "类型"}, encoding="gbk")


def _duplicate_ids(folder: Path) -> Path:
    return _csv(folder, "facilities.csv", {**FACILITIES, "设施编号": ["F1", "F1"]})


def _not_numbers(folder: Path) -> Path:
    return _geojson(folder, "grids.geojson", {**GRIDS, "户数": ["很多", "200"]}, BOXES)


def _negative_households(folder: Path) -> Path:
    return _geojson(folder, "grids.geojson", {**GRIDS, "户数": [-5, 200]}, BOXES)


def _invalid_geometry(folder: Path) -> Path:
    spike = Polygon([(114.30, 30.55), (114.31, 30.55), (114.32, 30.55), (114.31, 30.55), (114.30, 30.55)])
    return _geojson(folder, "grids.geojson", GRIDS, [BOXES[0], spike])


def _mixed_geometry(folder: Path) -> Path:
    return _geojson(folder, "grids.geojson", GRIDS, [BOXES[0], Point(114.31, 30.55)])


def _outside_china(folder: Path) -> Path:
    return _csv(folder, "facilities.csv", {**FACILITIES, "经度": [114.305, 2.35], "纬度": [30.555, 48.85]})


def _swapped(folder: Path) -> Path:
    return _csv(folder, "facilities.csv", {**FACILITIES, "经度": [30.555, 114.315], "纬度": [114.305, 30.556]})


def _zip_without_shp(folder: Path) -> Path:
    return _zip(folder, "grids.zip", {"grids.dbf": b"x", "grids.shx": b"x", "grids.prj": b"x"})


def _zip_with_parent_path(folder: Path) -> Path:
    return _zip(folder, "grids.zip", {"grids.shp": b"x", "../../grids.dbf": b"x"})


def _zip_bomb(folder: Path) -> Path:
    # 1.2 GB of zeros would be the real thing; 30 MB compressed ~1000 times makes the same point quickly
    return _zip(folder, "grids.zip", {"grids.shp": b"\0" * (30 * 1024 * 1024), "grids.shx": b"x", "grids.dbf": b"x"})


def _too_large(folder: Path) -> Path:
    path = folder / "cases.csv"
    row = "C1,市容环境,2024-05-01,已办结,114.3,30.5\n"
    path.write_text("事件编号,事件类别,上报时间,状态,经度,纬度\n" + row * (1200 * 1024 // len(row.encode())),
                    encoding="utf-8")
    return path


def _html_in_names(folder: Path) -> Path:
    return _csv(folder, "facilities.csv", {**FACILITIES, "名称": ["<img src=x onerror=alert(1)>", "积玉桥老年食堂"],
                                           "类型": ["日间照料中心", "<script>alert(1)</script>"]})


CORPUS: tuple[BadFile, ...] = (
    BadFile("empty file", "facilities", _empty),
    BadFile("wrong layer", "grids", _wrong_layer, ("--sheet", "网格2")),
    BadFile("missing column", "facilities", _missing_column),
    BadFile("duplicate ids", "facilities", _duplicate_ids),
    BadFile("non-numeric counts", "grids", _not_numbers),
    BadFile("negative households", "grids", _negative_households),
    BadFile("invalid geometry", "grids", _invalid_geometry),
    BadFile("mixed geometry", "grids", _mixed_geometry),
    BadFile("outside China", "facilities", _outside_china),
    BadFile("swapped lon/lat", "facilities", _swapped),
    BadFile("zip without .shp", "grids", _zip_without_shp),
    BadFile("zip with ../ paths", "grids", _zip_with_parent_path),
    BadFile("zip bomb", "grids", _zip_bomb),
    BadFile("over the size limit", "cases", _too_large, env=(("GRIDATLAS_MAX_UPLOAD_MB", "1"),)),
    BadFile("HTML and script in names", "facilities", _html_in_names),
)
