"""tasks and targets on the command line: refusals with their messages (exit 2, nothing changed), the XLSX
template imported, the audit log."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cli import main
from geo.audit import AuditLog
from geo.followups import write_target_template
from geo.storage import open_store
from tests.analysis.meeting_fixtures import meeting_dataset


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    path = str(tmp_path / "meeting.gpkg")
    open_store(path).import_dataset(meeting_dataset(), source="fixture.gpkg")
    return path


def _run(capsys, *argv) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, json.loads(out.out) if code == 0 and out.out.strip() else None, out.err


@pytest.mark.parametrize(("argv", "message"), [
    (["tasks", "add", "--title", "事项", "--unit", "城管", "--due", "2024-13"],
     "error: 图层 督办事项: due “2024-13”不是 YYYY-MM 格式的月份。 — 请填月份，例如 2019-06。"),
    (["tasks", "add", "--title", " ", "--unit", "城管", "--due", "2024-04"],
     "error: 图层 督办事项: 督办事项的必填内容（title）为空。 — 请填写后再保存。"),
    (["tasks", "add", "--title", "事项", "--unit", "城管", "--due", "2024-04", "--street", "南街"],
     "error: 街道“南街”不存在；本数据集的街道为：东街、西街"),
    (["tasks", "done", "--id", "3", "--note", "完成"],
     "error: 图层 督办事项: 没有编号为 3 的督办事项。 — 请先用 tasks list 查看已有事项。"),
    (["targets", "set", "--quarter", "2024Q5", "--unit", "城管", "--measure", "overdue", "--max", "1"],
     "error: 图层 考核目标: 季度“2024Q5”不是 YYYYQn 格式。 — 请填季度，例如 2019Q2。"),
    (["targets", "set", "--quarter", "2024Q1", "--unit", "城管", "--measure", "overdue", "--min", "1"],
     "error: 图层 考核目标: 指标 overdue 只能用 --max 设目标值。 — 请只给 --max。"),
    (["targets", "check", "--quarter", "2024Q2"],
     "error: 2024Q2 在数据截止日 2024-03-20 之后才开始，无法核销。"),
])
def test_refusals_say_why_and_change_nothing(data, capsys, argv, message):
    code, _, err = _run(capsys, argv[0], argv[1], "--data", data, *argv[2:])
    assert code == 2
    assert err.strip() == message
    store = open_store(data)
    assert store.list_followups() == [] and store.list_targets() == []
    assert AuditLog().entries() == []


def test_the_units_template_is_imported_and_checked(data, capsys, tmp_path):
    template = tmp_path / "预安表.xlsx"
    write_target_template(template, quarter="2024Q1", units=["城管"], streets=["东街"])
    frame = pd.read_excel(template)
    assert frame.columns.tolist() == ["季度", "责任单位", "街道", "指标", "目标值"]
    assert frame["指标"].tolist() == ["办结率", "季末逾期未办结", "超时办结", "业委会已成立", "老人覆盖率"]
    # the coverage row's value is no number: refused in the file's terms — its sheet, the sheet's row 6 (the
    # header is row 1), the header 目标值, the measure as the page names it, what to write
    frame["目标值"] = ["40%", 2, 0, 2, "八成"]
    frame.to_excel(template, index=False)
    code, _, err = _run(capsys, "targets", "import", "--data", data, "--file", str(template))
    assert code == 2
    assert err.strip() == ("error: 预安表（工作表 Sheet1），第 6 行，列 目标值: 目标值“八成”不是数字。 — "
                           "请填写老人覆盖率不低于的比例，例如 80% 或 0.8。")
    code, _, err = _run(capsys, "--lang", "en", "targets", "import", "--data", data, "--file", str(template))
    assert code == 2
    assert err.strip() == ("error: Targets template (sheet Sheet1), row 6, column 目标值: The target value “八成” is "
                           "not a number. — Write the lowest share of the aged 60+ covered to reach, such as 80% or "
                           "0.8.")
    assert open_store(data).list_targets() == [] and AuditLog().entries() == []
    # the coverage row left blank, as downloaded: no target for it, skipped (not refused), the row kept
    frame["目标值"] = ["40%", 2, 0, 2, None]
    frame.to_excel(template, index=False)
    code, summary, err = _run(capsys, "targets", "import", "--data", data, "--file", str(template))
    assert code == 0, err
    assert (summary["targets"], summary["quarters"]) == (4, ["2024Q1"])
    assert (summary["skipped_rows"], summary["left_blank"]) == ([6], [])
    code, check, err = _run(capsys, "targets", "check", "--data", data, "--quarter", "2024q1", "--out",
                            str(tmp_path / "check.xlsx"))
    assert code == 0, err
    # as of 2024-03-20 (fixture table): 城管's Q1 cases C1 C2 C5 C6, closed C1 C2 -> 0.5 ≥ 0.4 met; overdue C6
    # (1 ≤ 2 met); closed late C2 (1 > 0 not met); 东街's committees E1 02-10, E2 03-15 -> 2 ≥ 2 met
    got = pd.read_excel(tmp_path / "check.xlsx")
    assert got[["unit", "street", "measure", "value", "met"]].fillna("").values.tolist() == [
        ["城管", "", "closure_rate", 0.5, True], ["城管", "", "overdue", 1, True],
        ["城管", "", "closed_late", 1, False], ["", "东街", "committees", 2, True]]
    assert check["scorecard"] == [
        {"kind": "unit", "subject": "城管", "targets": 3, "met": 2, "not_met": 1, "not_judged": 0},
        {"kind": "street", "subject": "东街", "targets": 1, "met": 1, "not_met": 0, "not_judged": 0}]
    assert [e.action for e in AuditLog().entries()] == ["target_set"]
