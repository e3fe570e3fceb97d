"""The 调度会 page as its staff meet it (AppTest): the targets template uploaded with its blank rows (skipped and
counted), a bad one refused in the file's terms in zh and en, the English figures' labels and the scorecard's subjects."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.audit import AuditLog
from geo.followups import new_target, write_target_template
from geo.storage import open_store
from tests.analysis.meeting_fixtures import meeting_dataset
from tests.e2e.conftest import ROOT
from ui.text import md

APP = str(ROOT / "app.py")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    path = str(tmp_path / "meeting.gpkg")
    open_store(path).import_dataset(meeting_dataset(), source="fixture.gpkg")
    monkeypatch.setenv("GRIDATLAS_DATA", path)
    return path


def _page(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    if lang != "zh":
        at.session_state["lang"] = lang
    at.switch_page("pages/meeting.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _xlsx(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    return buf.getvalue()


def _template() -> pd.DataFrame:
    buf = io.BytesIO()
    write_target_template(buf, quarter="2024Q1", units=["城管", "住建"], streets=["东街", "西街"])
    buf.seek(0)
    return pd.read_excel(buf, dtype=object)


def _upload(at: AppTest, data: bytes, lang: str = "zh") -> AppTest:
    at.file_uploader(key="tg_file").set_value(("预安表_2024Q1.xlsx", data, XLSX)).run()
    button = {"zh": "导入目标", "en": "Import the targets"}[lang]
    next(b for b in at.button if b.label == button).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_downloaded_template_uploads_with_its_blank_rows(dataset):
    frame = _template()
    filled = {(frame.index[(frame["责任单位"] == "城管") & (frame["指标"] == "办结率")][0], "50%"),
              (frame.index[(frame["街道"] == "东街") & (frame["指标"] == "业委会已成立")][0], 2)}
    for i, v in filled:
        frame.loc[i, "目标值"] = v
    at = _upload(_page(), _xlsx(frame))
    assert "已导入 2 项目标。" in [s.value for s in at.success]
    # expected from the frame: the subjects with no value at all, in file order; the other blank rows counted
    subject = frame["责任单位"].fillna(frame["街道"])
    has_value = frame["目标值"].notna()
    blank = [s for s in dict.fromkeys(subject) if not has_value[subject == s].any()]
    others = int((~has_value & subject.isin(set(subject[has_value]))).sum())
    assert (blank, others) == (["住建", "西街"], 3)
    assert [i.value for i in at.info if "跳过" in i.value or "另有" in i.value] == [
        md(f"{len(blank)} 个单位未填写，已跳过：{'、'.join(blank)}。"), md(f"另有 {others} 行未填目标值，这些指标不设目标。")]
    stored = sorted((x.subject, x.measure, x.threshold) for x in open_store(dataset).list_targets())
    assert stored == [("东街", "committees", 2.0), ("城管", "closure_rate", 0.5)]
    [entry] = AuditLog().entries()
    assert entry.action == "target_set" and entry.detail == f"2 imported, {len(frame) - 2} blank rows skipped"


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh", ["预安表（工作表 Sheet1），第 2 行，列 目标值: 目标值“九成”不是数字。 — 请填写办结率不低于的比例，例如 90% 或 0.9。",
            "预安表（工作表 Sheet1），第 9 行，列 责任单位: 老人覆盖率按街道考核，不能设给责任单位“住建”。 — "
            "把街道名称填在“街道”列，“责任单位”留空。"]),
    ("en", ["Targets template (sheet Sheet1), row 2, column 目标值: The target value “九成” is not a number. — "
            "Write the lowest closure rate to reach, as a share such as 90% or 0.9.",
            "Targets template (sheet Sheet1), row 9, column 责任单位: Aged 60+ covered is judged per street, not for a "
            "responsible unit (“住建”). — Put the street's name under 街道 and leave 责任单位 empty."]),
])
def test_a_bad_template_is_refused_in_the_files_terms(dataset, lang, expected, monkeypatch):
    import i18n

    # AppTest formats the sidebar's options outside the page's run, where no session tells the language
    monkeypatch.setattr(i18n, "current_lang", lambda: lang)
    frame = _template()
    frame.loc[0, "目标值"] = "九成"  # 城管's closure rate, the sheet's row 2
    frame.loc[len(frame)] = ["2024Q1", "住建", None, "老人覆盖率", "80%"]  # a street's measure on a unit: row 9 + 2
    frame = pd.concat([frame.iloc[:7], frame.iloc[[-1]]]).reset_index(drop=True)  # ... moved up to row 9
    at = _upload(_page(lang), _xlsx(frame), lang)
    assert [e.value for e in at.error] == ["\n\n".join(expected)]
    assert open_store(dataset).list_targets() == [] and AuditLog().entries() == []


def test_english_figures_and_scorecard_subjects(dataset):
    store = open_store(dataset)
    store.set_target(new_target(quarter="2024Q1", kind="street", subject="西街", measure="committees", minimum=1))
    store.set_target(new_target(quarter="2024Q1", kind="unit", subject="城管", measure="overdue", maximum=0))
    at = _page("en")
    labels = [m.label for m in at.metric]
    assert "Closure rate" in labels and not [x for x in labels if "this month" in x]
    closure = next(m for m in at.metric if m.label == "Closure rate")
    assert closure.help.startswith("Closure rate this month: of the cases reported in the month, the share closed")
    score = next(tb.value for tb in at.table if "Met of set" in tb.value.columns)
    assert score[["Subject", "Name"]].values.tolist() == [["Unit", "城管"], ["Street", "西街"]]
    zh = next(tb.value for tb in _page("zh").table if "达标/目标数" in tb.value.columns)
    assert zh[["对象", "名称"]].values.tolist() == [["责任单位", "城管"], ["街道", "西街"]]
    assert "本月办结率" in [m.label for m in _page("zh").metric]
