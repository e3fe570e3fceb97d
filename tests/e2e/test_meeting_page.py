"""The 调度会 page in a real browser, offline, on the demo and on the Wuchang-scale dataset.

The figures shown are compared with `analysis.meeting.meeting_brief` (whose
own figures are checked by hand in tests/analysis/test_meeting.py); each
download button must return a file that opens as what it claims to be.
"""

from __future__ import annotations

import io
import subprocess

import openpyxl
import pymupdf
import pytest
from pptx import Presentation

from analysis.meeting import meeting_brief
from geo.dataset import DEMO_PATH, read_dataset
from reports import content
from tests.e2e.conftest import (
    ROOT,
    SCREENS,
    assert_no_exception,
    choose_option,
    screenshot,
    start_app,
    stop_app,
    wait_for_app,
)

pytestmark = pytest.mark.e2e
WUCHANG = ROOT / "cache" / "wuchang.gpkg"


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _images_drawn(page, expected: int) -> None:
    page.wait_for_function(
        """n => { const imgs = [...document.querySelectorAll('[data-testid="stImage"] img')];
                  return imgs.length === n && imgs.every(i => i.complete && i.naturalWidth > 500); }""",
        arg=expected, timeout=120_000)


def _check_figures(page, brief) -> None:
    for card in content.cards(brief, "zh"):
        assert _metric(page, card.label) == card.value, card.label
        box = page.locator('[data-testid="stMetric"]').filter(has_text=card.label).first
        if card.change is not None:
            assert box.locator('[data-testid="stMetricDelta"]').inner_text().strip() == card.change


def _sections(page, name: str) -> None:
    """Screenshots of each section of the page (the page scrolls inside Streamlit's own container)."""
    for key in ("followups", "figures", "trend", "streets", "units", "gaps", "hot", "estates", "targets", "problems",
                "downloads"):
        box = page.locator(f".st-key-meeting-{key}")
        box.scroll_into_view_if_needed()
        screenshot_box(box, f"{name}_{key}")


def screenshot_box(box, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    box.screenshot(path=str(SCREENS / f"{name}.png"))


def _download_all(page, brief, tmp_path, *, quarter: bool = False) -> dict[str, bytes]:
    """The three files; the deck and the PDF have the title, the follow-ups (the page always passes the
    dataset's), every fixed section and, with ``quarter``, the quarter's 考核 page."""
    page.get_by_role("button", name="生成会议材料").click()
    # the files' buttons (the targets template's, in its closed expander, is another, hidden, download button)
    page.locator('[data-testid="stDownloadButton"]').filter(has_text="下载 PPT").first.wait_for(timeout=240_000)
    files = {}
    for fmt, label in (("pptx", "下载 PPT"), ("pdf", "下载 PDF"), ("xlsx", "下载 Excel")):
        with page.expect_download(timeout=120_000) as info:
            page.locator('[data-testid="stDownloadButton"]').filter(has_text=label).locator("button").click()
        d = info.value
        assert d.suggested_filename == f"{brief.street or brief.district}_{brief.month}_调度会.{fmt}"
        path = tmp_path / d.suggested_filename
        d.save_as(path)
        files[fmt] = path.read_bytes()
    deck = Presentation(io.BytesIO(files["pptx"]))
    pages = 1 + 1 + len(content.SECTIONS) + (1 if quarter else 0)
    assert len(deck.slides) == pages
    assert deck.slides[1].shapes[0].text_frame.text == "督办事项落实情况"
    assert deck.slides[0].shapes[0].text_frame.text == content.title(brief, "zh")
    pdf = pymupdf.open(stream=files["pdf"], filetype="pdf")
    assert pdf.page_count == pages and pdf[0].get_text().startswith(content.title(brief, "zh"))
    wb = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    assert wb.sheetnames[:3] == ["汇总", "街道排名", "责任单位排名"]
    assert [c.value for c in wb["街道排名"]["C"][1:]] == list(brief.street_league["street"])
    return files


def test_meeting_page_on_the_demo(app_url, offline_page, tmp_path):
    page = offline_page
    ds = read_dataset(DEMO_PATH)
    june = meeting_brief(ds)
    page.goto(f"{app_url}/meeting")
    wait_for_app(page)
    page.wait_for_selector("h1:has-text('石峰区 2019-06 月调度会')", timeout=120_000)
    _check_figures(page, june)
    _images_drawn(page, 4)  # gaps, hot spots, estates, the 12-month trend
    assert_no_exception(page)
    page.wait_for_selector("h3:has-text('本月问题清单')", timeout=60_000)  # the last section: the page is whole
    text = page.inner_text("body")
    for street in june.street_league["street"]:
        assert street in text
    for unit in june.unit_league["unit"]:
        assert unit in text
    assert "本月问题清单" in text
    # the loop: the demo's follow-ups (one overdue) and, in June, 2019Q2's targets checked
    assert "督办事项落实情况" in text and "逾期未办结事件逐件销号" in text and "已超期" in text
    assert "2019Q2 季度考核（预安销号）" in text and "按季末 2019-06-30 的数据核销：18 项目标中" in text
    screenshot(page, "meeting_demo")

    # another month: the figures follow
    may = meeting_brief(ds, month="2019-05")
    choose_option(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="月份").first, "2019-05")
    page.wait_for_selector("h1:has-text('石峰区 2019-05 月调度会')", timeout=120_000)
    wait_for_app(page)
    _check_figures(page, may)
    _images_drawn(page, 4)  # gaps, hot spots, estates, the 12-month trend
    _download_all(page, may, tmp_path)
    assert_no_exception(page)
    _sections(page, "meeting_demo")
    assert not page.traffic.blocked, page.traffic.blocked
    assert not page.js_errors, page.js_errors


@pytest.fixture(scope="module")
def wuchang_url():
    if not WUCHANG.exists():
        subprocess.run(["make", "wuchang"], cwd=ROOT, check=True)
    proc, url = start_app(str(WUCHANG))
    yield url
    stop_app(proc)


def test_meeting_page_on_the_wuchang_scale(wuchang_url, offline_page, tmp_path):
    page = offline_page
    ds = read_dataset(WUCHANG)
    brief = meeting_brief(ds)
    page.goto(f"{wuchang_url}/meeting")
    wait_for_app(page, timeout_ms=240_000)
    page.wait_for_selector(f"h1:has-text('{content.title(brief, 'zh')}')", timeout=240_000)
    _check_figures(page, brief)
    _images_drawn(page, 4)  # gaps, hot spots, estates, the 12-month trend
    assert_no_exception(page)
    screenshot(page, "meeting_wuchang")
    _download_all(page, brief, tmp_path)
    _sections(page, "meeting_wuchang")
    assert not page.traffic.blocked, page.traffic.blocked
