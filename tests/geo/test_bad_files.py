"""The bad-file corpus: each file answered with its exact message in both languages, exit 2, nothing stored changed.

The files are made by `tests/geo/bad_files.py`. For each one the CLI's
`validate` is run in Chinese and in English, and the import path (read, check,
then `import_layer`) is run against a real workspace store whose files are
hashed before and after.
"""

import hashlib

import geopandas as gpd
import pytest

import cli
from geo.dataset import Dataset, write_dataset
from geo.errors import DataError
from geo.readers import read_layer
from geo.schema import validate_layer
from geo.workspace import open_store
from tests.geo.bad_files import BOXES, CORPUS, FACILITIES, GRIDS

EXPECTED = {
    'empty file': (
        ['error: 图层 服务设施: empty.csv 中没有数据行 — 在表头下至少填写一行数据'],
        ['error: layer facilities: empty.csv has no data rows — add at least one row (feature) below the header'],
    ),
    'wrong layer': (
        ['error: 图层 网格: 文件中没有名为 网格2 的图层或工作表（现有：网格） — 从文件现有的图层或工作表中选择'],
        ['error: layer grids: the file has no layer or sheet named 网格2 (it has 网格) — choose one of the layers or sheets the file has'],
    ),
    'missing column': (
        ['error: 图层 服务设施，列 type: 缺少必填列 — 添加名为 type / 类型 / 设施类型 之一的列'],
        ['error: layer facilities, column type: required column is missing — add a column named type / 类型 / 设施类型'],
    ),
    'duplicate ids': (
        ['error: 图层 服务设施，第 1, 2 行（共 2 行），列 设施编号 (facility_id): 编号重复：F1 — 每一行使用不同的编号'],
        ['error: layer facilities, rows 1, 2 (2 in all), column 设施编号 (facility_id): duplicate id(s): F1 — give every row its own id'],
    ),
    'non-numeric counts': (
        ['error: 图层 网格，第 1 行，列 户数 (households): 不是整数：很多 — 每格填一个整数，例如 120'],
        ['error: layer grids, row 1, column 户数 (households): not a whole number: 很多 — enter a whole number such as 120'],
    ),
    'negative households': (
        ['error: 图层 网格，第 1 行，列 户数 (households): 数值小于 0：-5 — 填写不小于 0 的数值'],
        ['error: layer grids, row 1, column 户数 (households): value(s) below 0: -5 — enter a value of at least 0'],
    ),
    'invalid geometry': (
        ['error: 图层 网格，第 2 行，列 geometry: 图形无效且无法自动修复（Ring Self-intersection[114.31 30.55]） — 在 GIS 软件中修复后重新导入（如 QGIS“修复几何图形”）'],
        ["error: layer grids, row 2, column geometry: invalid geometry that cannot be repaired (Ring Self-intersection[114.31 30.55]) — repair it (for example QGIS 'Fix geometries') and load again"],
    ),
    'mixed geometry': (
        ['error: 图层 网格，第 2 行，列 geometry: 图形类型为 Point，本图层需要 Polygon / MultiPolygon — 只保留 Polygon / MultiPolygon 类型的要素，其他类型放到对应图层'],
        ['error: layer grids, row 2, column geometry: geometry is Point; this layer needs Polygon / MultiPolygon — keep only Polygon / MultiPolygon features; load other kinds into their own layer'],
    ),
    'outside China': (
        ['error: 图层 服务设施，第 2 行，列 经度/纬度 (geometry): 坐标不在中国境内：2.35, 48.85 — 检查文件的坐标系是否正确（投影坐标需选择对应的 EPSG 代码）'],
        ["error: layer facilities, row 2, column 经度/纬度 (geometry): coordinates outside China: 2.35, 48.85 — check that the file's coordinate system is set (or chosen) correctly; projected coordinates need their EPSG code"],
    ),
    'swapped lon/lat': (
        ['error: 图层 服务设施，第 1 行，列 经度/纬度 (geometry): 经度和纬度填反了：30.555, 114.305 — 交换经度、纬度两列（或 X/Y 顺序）：在中国经度是较大的数，约 73–136'],
        ['error: layer facilities, row 1, column 经度/纬度 (geometry): longitude and latitude are swapped: 30.555, 114.305 — exchange the two columns (or the X/Y axis order): longitude is the larger number, 73–136 in China'],
    ),
    'zip without .shp': (
        ['error: 图层 网格: 压缩包中没有 Shapefile（.shp 及其 .dbf、.shx）：grids.dbf, grids.shx, grids.prj — 把同一图层的 .shp、.shx、.dbf、.prj 一起压缩上传'],
        ['error: layer grids: no shapefile (.shp with its .dbf and .shx) among: grids.dbf, grids.shx, grids.prj — zip the .shp, .shx, .dbf and .prj files of one layer together'],
    ),
    'zip with ../ paths': (
        ['error: 图层 网格: 压缩包中有指向文件夹之外的路径：../../grids.dbf — 直接压缩文件本身，不要包含上级文件夹'],
        ['error: layer grids: the zip holds a path outside its folder: ../../grids.dbf — zip the files themselves, without folders above them'],
    ),
    'zip bomb': (
        ['error: 图层 网格: 压缩包解压后达 30.0 MB、3 个文件，压缩比最高 1028 倍；上限为 1000.0 MB、200 个文件、100 倍 — 只压缩本图层需要的文件'],
        ["error: layer grids: the zip unpacks to 30.0 MB in 3 files, compressed up to 1028 times; at most 1000.0 MB, 200 files and 100 times are accepted — zip only the layer's files"],
    ),
    'over the size limit': (
        ['error: 图层 网格事件: cases.csv 大小为 1.2 MB，超过上限 1.0 MB — 拆分文件，或请管理员调高 GRIDATLAS_MAX_UPLOAD_MB'],
        ['error: layer cases: cases.csv is 1.2 MB, over the limit of 1.0 MB — split the file or ask the administrator to raise GRIDATLAS_MAX_UPLOAD_MB'],
    ),
    'HTML and script in names': (
        ['error: 图层 服务设施，第 2 行，列 类型 (type): 无法识别的取值：<script>alert(1)</script> — 改为下列之一：日间照料中心、养老服务中心、养老院、老年食堂、社区卫生服务站、社区卫生服务中心（或代码 day_care, elderly_service_center, nursing_home, elderly_canteen, health_station, health_center）'],
        ['error: layer facilities, row 2, column 类型 (type): unknown value(s): <script>alert(1)</script> — use one of day_care, elderly_service_center, nursing_home, elderly_canteen, health_station, health_center (or the Chinese names 日间照料中心、养老服务中心、养老院、老年食堂、社区卫生服务站、社区卫生服务中心)'],
    ),
}


def test_the_corpus_is_complete():
    assert [b.name for b in CORPUS] == list(EXPECTED)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "workspace"))
    grids = validate_layer(gpd.GeoDataFrame(GRIDS, geometry=BOXES, crs=4326), "grids")
    fac = validate_layer(gpd.pd.DataFrame(FACILITIES), "facilities")
    path = write_dataset(Dataset(grids=grids, facilities=fac, name="昙华林"), tmp_path / "district.gpkg")
    s = open_store(str(path))
    s.current()  # the file is taken in as version 1
    return s


def _digest(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("bad", CORPUS, ids=[b.name for b in CORPUS])
def test_bad_file(bad, tmp_path, monkeypatch, capsys, store):
    for key, value in bad.env:
        monkeypatch.setenv(key, value)
    folder = tmp_path / "in"
    folder.mkdir()
    path = bad.make(folder)
    zh, en = EXPECTED[bad.name]
    for lang, expected in (("zh", zh), ("en", en)):
        assert cli.main(["--lang", lang, "validate", "--layer", bad.layer, *bad.args, str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.err.rstrip().splitlines() == expected
        assert captured.out == ""
    before = _digest(tmp_path)
    versions = store.versions()
    sheet = dict(zip(bad.args[::2], bad.args[1::2], strict=True)).get("--sheet")
    with pytest.raises(DataError):
        store.import_layer(bad.layer, read_layer(path, bad.layer, sublayer=sheet).gdf, source=path.name)
    assert _digest(tmp_path) == before  # byte for byte: the dataset, its history and the input
    assert store.versions() == versions


def test_html_in_a_name_is_accepted_as_text(tmp_path, capsys, store):
    path = tmp_path / "f.csv"
    gpd.pd.DataFrame({**FACILITIES, "名称": ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>"]}).to_csv(
        path, index=False)
    assert cli.main(["--lang", "en", "validate", "--layer", "facilities", str(path)]) == 0
    read = read_layer(path, "facilities")
    info = store.import_layer("facilities", read.gdf, source=path.name)
    assert store.load(info.id).facilities["name"].tolist() == ["<img src=x onerror=alert(1)>",
                                                               "<script>alert(1)</script>"]
