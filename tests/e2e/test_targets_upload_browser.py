"""The 调度会 page's targets (预安) in a real browser, offline, on a demo of its own workspace.

- The uploader shows the string table's words (`ui.uploads`) in both languages, not Streamlit's English, and
  falls back to Streamlit's own text (never to nothing) when its test id changes.
- The units' template downloaded from the page, filled and uploaded back (Playwright's `set_input_files`) is
  imported with the rows left blank (skipped, and said so): the store holds the new target and the page shows it.
  A broken file shows the coded error with every bad row in the file's terms, and the targets stay as they were.
"""

from __future__ import annotations

import pandas as pd
import pytest

from geo.dataset import DEMO_PATH
from geo.errors import DataError
from geo.followups import read_target_template
from geo.storage import open_store
from i18n import problem_text, t
from reports import loop
from tests.e2e.conftest import assert_no_exception, screenshot, start_app, stop_app, wait_for_app

pytestmark = pytest.mark.e2e

QUARTER = "2019Q2"  # the demo's default meeting month, 2019-06, ends it
DROP = '.st-key-tg_file [data-testid="stFileUploaderDropzone"]'
AFTER_JS = "el => getComputedStyle(el, '::after').content"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("targets-home")


@pytest.fixture(scope="module")
def url(home):
    proc, url = start_app(str(DEMO_PATH), env_extra={"GRIDATLAS_HOME": str(home)})
    yield url
    stop_app(proc)


def _targets(home, monkeypatch) -> list:
    monkeypatch.setenv("GRIDATLAS_HOME", str(home))
    return sorted(open_store(str(DEMO_PATH)).list_targets(QUARTER), key=repr)


def _open_targets(page, lang: str) -> None:
    box = page.locator('[data-testid="stExpander"]').filter(has_text=t("loop.page.set_targets", lang=lang)).first
    box.scroll_into_view_if_needed()
    if not page.locator(DROP).first.is_visible():
        box.locator("summary").first.click()
    page.locator(DROP).first.wait_for(state="visible", timeout=60_000)


def _shown(page) -> tuple[str, str, str]:
    """(instruction line, button text, Streamlit's own instruction text if visible) of the targets uploader."""
    line = page.locator(f'{DROP} [data-testid="stFileUploaderDropzoneInstructions"]').first
    button = page.locator(f'{DROP} button [data-testid="stMarkdownContainer"]').first
    return line.evaluate(AFTER_JS), button.evaluate(AFTER_JS), line.inner_text().strip()


def _upload(page, path, lang: str) -> None:
    page.locator(f'{DROP} input[type="file"]').set_input_files(str(path))
    # the file listed and the rerun it started over, so the click is not lost in that rerun
    page.locator(".st-key-tg_file").get_by_text(path.name, exact=True).wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_role("button", name=t("loop.page.import_button", lang=lang)).wait_for(timeout=60_000)
    page.get_by_role("button", name=t("loop.page.import_button", lang=lang)).click()
    wait_for_app(page)


def _switch(page, label: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)


def test_uploader_texts_in_both_languages_and_the_fallback(url, offline_page):
    page = offline_page
    page.goto(f"{url}/meeting")
    wait_for_app(page)
    page.wait_for_selector("h1:has-text('石峰区 2019-06 月调度会')", timeout=120_000)
    for lang, switch in (("zh", None), ("en", "English")):
        if switch:
            _switch(page, switch)
        _open_targets(page, lang)
        line, button, builtin = _shown(page)
        assert line == '"' + t("upload.instructions", lang=lang, mb=200, types="XLSX") + '"'
        assert button == '"' + t("upload.button", lang=lang) + '"'
        assert builtin == ""  # Streamlit's "200MB per file • XLSX" is hidden
        assert page.locator(f'{DROP} button').first.inner_text().strip() == "upload"  # only the icon's ligature
        page.locator(DROP).first.screenshot(path=str(screenshot(page, f"targets_upload_{lang}").with_name(
            f"targets_uploader_{lang}.png")))
    # a later Streamlit that renames the test id: its own text shows again, ours goes
    page.locator(f'{DROP} [data-testid="stFileUploaderDropzoneInstructions"]').first.evaluate(
        "el => el.setAttribute('data-testid', 'renamed')")
    renamed = page.locator(f'{DROP} [data-testid="renamed"]').first
    assert renamed.evaluate(AFTER_JS) == "none"
    assert renamed.inner_text().strip() == "200MB per file • XLSX"
    assert_no_exception(page)


def test_targets_template_round_trip(url, home, offline_page, tmp_path, monkeypatch):
    page = offline_page
    lang = "zh"
    before = _targets(home, monkeypatch)
    assert len(before) == 18  # the demo's 2019Q2 targets, among them 城管's closure rate ≥ 90 %
    page.goto(f"{url}/meeting")
    wait_for_app(page)
    page.wait_for_selector("h1:has-text('石峰区 2019-06 月调度会')", timeout=120_000)
    _open_targets(page, lang)
    with page.expect_download() as info:
        page.get_by_role("button", name=t("upload.targets.template", lang=lang, quarter=QUARTER)).click()
    download = info.value
    assert download.suggested_filename == f"预安表_{QUARTER}.xlsx"
    template = tmp_path / download.suggested_filename
    download.save_as(template)
    frame = pd.read_excel(template, dtype=object)
    assert frame.columns.tolist() == ["季度", "责任单位", "街道", "指标", "目标值"]
    assert set(frame["季度"]) == {QUARTER}
    assert set(frame["街道"].dropna()) == {"井龙", "响石岭", "清水塘", "田心", "铜塘湾"}
    assert {"城管", "住建", "环保"} <= set(frame["责任单位"].dropna())

    # the clerk fills 城管's closure rate and uploads the template as it is: the rows left blank are skipped
    row = frame[(frame["责任单位"] == "城管") & (frame["指标"] == "办结率")].index
    assert len(row) == 1
    frame.loc[row, "目标值"] = "95%"
    frame.to_excel(template, index=False)
    _upload(page, template, lang)
    page.wait_for_selector(f"text={t('loop.page.imported', lang=lang, n=1)}", timeout=60_000)
    subjects = list(dict.fromkeys(frame["责任单位"].fillna(frame["街道"])))
    blank = [s for s in subjects if s != "城管"]  # every unit and street but 城管 filled nothing
    skipped = page.locator(".st-key-meeting-targets [data-testid='stAlert']").filter(
        has_text=t("targets_file.blank_subjects", lang=lang, n=len(blank), names="、".join(blank))).first
    skipped.wait_for(timeout=60_000)
    assert t("targets_file.other_rows", lang=lang, n=2) in page.locator(  # 城管's other two measures
        ".st-key-meeting-targets [data-testid='stAlert']").filter(has_text="另有").first.inner_text()
    after = _targets(home, monkeypatch)
    assert len(after) == 18
    mine = [x for x in after if x.subject == "城管" and x.measure == "closure_rate"]
    assert len(mine) == 1 and mine[0].threshold == pytest.approx(0.95) and mine[0].bound == "min"
    assert [x for x in after if x is not mine[0]] == [x for x in before
                                                     if not (x.subject == "城管" and x.measure == "closure_rate")]
    shown = loop.target_text({"measure": "closure_rate", "bound": "min", "threshold": 0.95}, lang)
    detail = page.locator(".st-key-meeting-targets [data-testid='stTable'] tbody tr").filter(has_text="城管")
    assert shown in detail.filter(has_text=shown).first.inner_text()

    # a broken file: a value that is no number and a measure that does not exist, both named at once
    broken = tmp_path / "broken.xlsx"
    pd.DataFrame([{"季度": QUARTER, "责任单位": "城管", "街道": "", "指标": "办结率", "目标值": "九成"},
                  {"季度": QUARTER, "责任单位": "住建", "街道": "", "指标": "满意度", "目标值": "0.9"}]
                 ).to_excel(broken, index=False)
    with pytest.raises(DataError) as err:
        read_target_template(broken, quarter=QUARTER)
    # named by the sheet's own rows (the header is row 1) and in the file's words
    assert [(p.row, p.column, p.code) for p in err.value.problems] == [
        (2, "目标值", "data.target_file_not_number"), (3, "指标", "data.target_file_measure")]
    assert problem_text(err.value.problems[0], lang=lang) == (
        "预安表（工作表 Sheet1），第 2 行，列 目标值: 目标值“九成”不是数字。 — 请填写办结率不低于的比例，例如 90% 或 0.9。")
    _upload(page, broken, lang)
    box = page.locator(".st-key-meeting-targets [data-testid='stAlert']").filter(
        has_text=problem_text(err.value.problems[0], lang=lang)).first
    try:
        box.wait_for(timeout=60_000)
    finally:
        screenshot(page, "targets_import_error_zh")
    text = box.inner_text()
    for p in err.value.problems:
        assert problem_text(p, lang=lang) in text
    assert _targets(home, monkeypatch) == after  # nothing stored
    assert_no_exception(page)
