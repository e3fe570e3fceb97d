"""数据管理 in a real browser: a GBK CSV of facilities with Chinese headers in GCJ-02 is uploaded,
its headers confirmed, checked, previewed and saved as a new version; the new facilities appear on
the overview map; then the previous version is restored and they are gone again.
"""

import shutil

import pandas as pd
import pytest
from pyproj import Geod

from geo.crs import wgs84_to_gcj02
from geo.dataset import DEMO_PATH, read_dataset
from tests.e2e.conftest import (
    assert_no_exception,
    choose_option,
    screenshot,
    start_app,
    stop_app,
    wait_for_app,
    wait_for_map_count,
)

pytestmark = pytest.mark.e2e

# three new day-care stations, positions given in WGS84 (inside the demo district)
NEW = pd.DataFrame({"设施编号": ["NEW-1", "NEW-2", "NEW-3"],
                    "设施名称": ["新建日间照料中心甲", "新建日间照料中心乙", "<img src=x onerror=alert(1)>"],
                    "设施类型": ["日间照料中心"] * 3, "运营状态": ["运营", "规划", "运营"], "床位数": [20, 30, 25]})


@pytest.fixture(scope="module")
def data_app(tmp_path_factory):
    """The app on a copy of the demo (as a GeoPackage outside the checkout) with its own workspace."""
    root = tmp_path_factory.mktemp("dataapp")
    gpkg = root / "district.gpkg"
    shutil.copy(DEMO_PATH, gpkg)
    proc, url = start_app(str(gpkg), env_extra={"GRIDATLAS_HOME": str(root / "workspace")})
    yield url, gpkg, root
    stop_app(proc)


def _new_positions(ds) -> list[tuple[float, float]]:
    pts = ds.grids.geometry.representative_point()
    return [(float(p.x), float(p.y)) for p in pts.iloc[[3, 40, 90]]]


def _gbk_csv(path, positions) -> None:
    lon, lat = wgs84_to_gcj02([p[0] for p in positions], [p[1] for p in positions])
    NEW.assign(经度=lon, 纬度=lat).to_csv(path, index=False, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")


def _choose(page, index: int, option: str) -> None:
    """Pick ``option`` in the index-th selectbox of the page body."""
    choose_option(page, page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').nth(index), option, exact=False)
    wait_for_app(page)


def _day_care_count(page, expected: int) -> None:
    wait_for_map_count(page, "path.ga-facility-day_care", expected)


def test_upload_check_preview_save_then_restore(data_app, offline_page, tmp_path):
    url, gpkg, _root = data_app
    page = offline_page
    ds = read_dataset(gpkg)
    n0 = int((ds.facilities["type"] == "day_care").sum())
    positions = _new_positions(ds)
    csv = tmp_path / "新增设施.csv"
    _gbk_csv(csv, positions)

    page.goto(f"{url}/")
    wait_for_app(page)
    _day_care_count(page, n0)

    page.goto(f"{url}/data")
    wait_for_app(page)
    page.wait_for_selector("text=导入图层", timeout=60_000)
    # layer: facilities; coordinate system: GCJ-02
    main = page.locator('[data-testid="stMain"]')
    _choose(page, 0, "服务设施 (facilities)")
    _choose(page, 1, "GCJ-02 经纬度（高德、腾讯地图）")
    main.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    page.wait_for_selector("text=已读取 新增设施.csv：3 行，格式 csv，编码 gb18030", timeout=60_000)
    wait_for_app(page)
    page.wait_for_selector("text=1. 核对表头", timeout=30_000)
    page.wait_for_selector("text=2. 核对编码取值", timeout=30_000)
    assert_no_exception(page)
    screenshot(page, "data_mapping_zh")
    page.get_by_role("button", name="确认表头和取值，检查数据").click()
    wait_for_app(page)
    page.wait_for_selector("text=检查通过：3 行均可导入。", timeout=60_000)
    frame = wait_for_map_count(page, "path.ga-preview", 3)
    # the name with HTML in it is text on the map, never markup
    assert frame.locator("img[src='x']").count() == 0
    screenshot(page, "data_preview_zh")

    # add the three by id, keeping the others
    page.get_by_text("按编号更新和新增（其余保留）").click()
    wait_for_app(page)
    page.get_by_role("button", name="保存为新版本").click()
    wait_for_app(page)
    saved = page.wait_for_selector("text=/已保存为第 \\d+ 版：新增 3 行，修改 0 行，删除 0 行。/", timeout=60_000)
    assert saved is not None
    assert_no_exception(page)
    after = read_dataset(gpkg)
    new = after.facilities.set_index("facility_id").loc[["NEW-1", "NEW-2", "NEW-3"]]
    geod = Geod(ellps="WGS84")
    for (lon, lat), p in zip(positions, new.geometry, strict=True):
        assert geod.inv(p.x, p.y, lon, lat)[2] < 1.0  # GCJ-02 converted back to within a metre
    assert new["status"].tolist() == ["operating", "planned", "operating"]
    assert len(after.facilities) == len(ds.facilities) + 3

    page.goto(f"{url}/")
    wait_for_app(page)
    _day_care_count(page, n0 + 3)
    screenshot(page, "data_overview_after_import")

    # restore the version before the import
    page.goto(f"{url}/data")
    wait_for_app(page)
    page.get_by_role("tab", name="版本记录").click()
    page.wait_for_selector("text=恢复到版本", timeout=60_000)
    page.get_by_role("button", name="恢复…").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=30_000)
    assert "确认恢复" in dialog.inner_text()
    screenshot(page, "data_restore_dialog")
    dialog.get_by_role("button", name="确认恢复").click()
    wait_for_app(page)
    page.wait_for_selector("text=/已恢复：第 \\d+ 版的数据现为第 \\d+ 版。/", timeout=60_000)
    assert_no_exception(page)
    assert len(read_dataset(gpkg).facilities) == len(ds.facilities)

    page.goto(f"{url}/")
    wait_for_app(page)
    _day_care_count(page, n0)
    assert page.traffic.blocked == []
    assert page.js_errors == []


def test_bad_file_report_in_both_languages(data_app, offline_page, tmp_path):
    url, gpkg, _root = data_app
    page = offline_page
    before = gpkg.read_bytes()
    bad = tmp_path / "坏设施.csv"
    pd.DataFrame({"设施编号": ["B1", "B1"], "设施名称": ["甲", "乙"], "设施类型": ["日间照料中心", "超市"],
                  "经度": [30.55, 114.31], "纬度": [114.30, 30.55]}).to_csv(bad, index=False, encoding="gbk")
    page.goto(f"{url}/data")
    wait_for_app(page)
    page.wait_for_selector("text=导入图层", timeout=60_000)
    main = page.locator('[data-testid="stMain"]')
    _choose(page, 0, "服务设施 (facilities)")
    main.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    page.wait_for_selector("text=2. 核对编码取值", timeout=60_000)
    wait_for_app(page)
    page.get_by_role("button", name="确认表头和取值，检查数据").click()
    wait_for_app(page)
    page.wait_for_selector("text=发现 3 个问题，修正文件后重新上传（数据集未做任何改动）：", timeout=60_000)
    assert_no_exception(page)
    screenshot(page, "data_report_zh")
    page.get_by_text("English", exact=True).click()
    wait_for_app(page)
    page.wait_for_selector("text=3 problem(s) found; fix the file and upload it again (nothing was changed):",
                           timeout=60_000)
    screenshot(page, "data_report_en")
    assert gpkg.read_bytes() == before
