"""The units' targets template (预安表) read back: blank rows skipped, bad rows refused in the file's own terms — the
sheet, the sheet's row number (header = row 1), the file's header, the measure as the page names it, the fix in words."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from geo.errors import DataError
from geo.followups import MEASURES, TEMPLATE_LAYER, read_target_template, write_target_template
from i18n import TABLE, label_of, problem_text

UNITS = ["城管", "住建", "环保"]
STREETS = ["东街", "西街"]


def _template(tmp_path, name: str = "预安表.xlsx") -> tuple[pd.DataFrame, object]:
    path = tmp_path / name
    write_target_template(path, quarter="2024Q1", units=UNITS, streets=STREETS)
    return pd.read_excel(path, dtype=object), path


def _problems(path, **kw) -> list:
    with pytest.raises(DataError) as err:
        read_target_template(path, quarter="2024Q1", streets=STREETS, **kw)
    return list(err.value.problems)


def test_a_downloaded_template_needs_no_row_deleted(tmp_path):
    frame, path = _template(tmp_path)
    assert len(frame) == 3 * len(UNITS) + 2 * len(STREETS)
    filled = {(0, "95%"), (1, 3), (9, 2), (10, 0.8)}  # 城管's closure rate and overdue, 东街's committees, coverage
    for i, v in filled:
        frame.loc[i, "目标值"] = v
    frame.to_excel(path, index=False)
    got = read_target_template(path, quarter="2024Q1", streets=STREETS)
    # expected from the frame itself: each filled row a target; every other row skipped, its sheet row = index + 2
    kinds = ["street" if isinstance(s, str) else "unit" for s in frame["街道"]]
    subjects = [s if isinstance(s, str) else u for u, s in zip(frame["责任单位"], frame["街道"], strict=True)]
    assert [(x.kind, x.subject, x.measure, x.threshold) for x in got.targets] == [
        ("unit", "城管", "closure_rate", 0.95), ("unit", "城管", "overdue", 3.0),
        ("street", "东街", "committees", 2.0), ("street", "东街", "coverage", 0.8)]
    assert {x.quarter for x in got.targets} == {"2024Q1"}
    blank = [i for i in range(len(frame)) if i not in dict(filled)]
    assert got.skipped == tuple((i + 2, kinds[i], subjects[i]) for i in blank)
    # 住建, 环保 and 西街 filled nothing: left blank; 城管's closed-late row is the one other row skipped
    assert got.blank_subjects == (("unit", "住建"), ("unit", "环保"), ("street", "西街"))
    assert got.other_skipped == 1


def test_every_bad_row_named_at_once_in_the_files_terms(tmp_path):
    frame, path = _template(tmp_path)
    rows = [
        {"季度": "2024Q1", "责任单位": "城管", "街道": None, "指标": "办结率", "目标值": "九成"},          # 2 not a number
        {"季度": "2024Q1", "责任单位": None, "街道": None, "指标": "超时办结", "目标值": 1},               # 3 no subject
        {"季度": "2024Q1", "责任单位": "住建", "街道": None, "指标": None, "目标值": 1},                 # 4 no measure
        {"季度": "2024Q1", "责任单位": "住建", "街道": None, "指标": "满意度", "目标值": 0.9},            # 5 unknown
        {"季度": "2024Q1", "责任单位": "住建", "街道": None, "指标": "办结率", "目标值": 95},             # 6 share > 1
        {"季度": "2024Q1", "责任单位": "环保", "街道": None, "指标": "季末逾期未办结", "目标值": 1.5},    # 7 not whole
        {"季度": "2024Q1", "责任单位": "环保", "街道": None, "指标": "老人覆盖率", "目标值": "80%"},      # 8 street only
        {"季度": "2024Q1", "责任单位": "环保", "街道": "东街", "指标": "超时办结", "目标值": 0},          # 9 both
        {"季度": "2024Q1", "责任单位": None, "街道": "南街", "指标": "业委会已成立", "目标值": 2},        # 10 no street
        {"季度": "2024Q5", "责任单位": "城管", "街道": None, "指标": "超时办结", "目标值": 0},            # 11 quarter
        {"季度": "2024Q1", "责任单位": None, "街道": "西街", "指标": "业委会已成立", "目标值": 2},        # 12 fine
        {"季度": None, "责任单位": None, "街道": "西街", "指标": "业委会", "目标值": 3},                  # 13 repeats 12
        {"季度": "2024Q1", "责任单位": "住建", "街道": None, "指标": "超时办结", "目标值": None},          # 14 skipped
    ]
    pd.DataFrame(rows, columns=frame.columns).to_excel(path, index=False, sheet_name="二季度")
    problems = _problems(path)
    assert [(p.row, p.column, p.code) for p in problems] == [
        (2, "目标值", "data.target_file_not_number"),
        (3, "责任单位", "data.target_file_subject"),
        (4, "指标", "data.target_file_measure_blank"),
        (5, "指标", "data.target_file_measure"),
        (6, "目标值", "data.target_file_share"),
        (7, "目标值", "data.target_file_count"),
        (8, "责任单位", "data.target_file_street_only"),
        (9, "责任单位", "data.target_file_two_subjects"),
        (10, "街道", "data.target_file_street_unknown"),
        (11, "季度", "data.target_file_quarter"),
        (13, "指标", "data.target_file_duplicate"),
    ]
    assert {p.layer for p in problems} == {TEMPLATE_LAYER} and {p.params["sheet"] for p in problems} == {"二季度"}
    zh = [problem_text(p, lang="zh") for p in problems]
    en = [problem_text(p, lang="en") for p in problems]
    where = "预安表（工作表 二季度），第 {}"
    assert zh == [
        where.format("2 行，列 目标值: 目标值“九成”不是数字。 — 请填写办结率不低于的比例，例如 90% 或 0.9。"),
        where.format("3 行，列 责任单位: 填了目标值，但责任单位和街道都为空。 — 填写责任单位或街道的名称；不设目标的行请清空“目标值”。"),
        where.format("4 行，列 指标: 填了目标值，但指标为空。 — "
                     "填写指标（办结率、季末逾期未办结、超时办结、业委会已成立、老人覆盖率 之一）；不设目标的行请清空“目标值”。"),
        where.format("5 行，列 指标: 指标“满意度”不是预安表的指标。 — "
                     "请填写以下之一：办结率、季末逾期未办结、超时办结、业委会已成立、老人覆盖率。"),
        where.format("6 行，列 目标值: 办结率是比例，目标值 95 不在 0 到 100% 之间。 — 请填写办结率不低于的比例，例如 90% 或 0.9。"),
        where.format("7 行，列 目标值: 季末逾期未办结是件数，目标值 1.5 不是 0 或正整数。 — "
                     "请填写季末逾期未办结不超过的件数（0 或正整数），例如 2。"),
        where.format("8 行，列 责任单位: 老人覆盖率按街道考核，不能设给责任单位“环保”。 — 把街道名称填在“街道”列，“责任单位”留空。"),
        where.format("9 行，列 责任单位: 同一行既填了责任单位“环保”，又填了街道“东街”。 — "
                     "每行只填一个：责任单位的指标填在“责任单位”列，街道的指标填在“街道”列。"),
        where.format("10 行，列 街道: 街道“南街”不在本数据集中。 — 请填写本数据集的街道：东街、西街。"),
        where.format("11 行，列 季度: 季度“2024Q5”不是 YYYYQn 格式。 — 请填写季度，例如 2019Q2。"),
        where.format("13 行，列 指标: 与第 12 行重复：西街的业委会已成立已经填过。 — 每个单位的每项指标只填一行，请删去重复的一行。"),
    ]
    assert en[0] == ("Targets template (sheet 二季度), row 2, column 目标值: The target value “九成” is not a number. — "
                     "Write the lowest closure rate to reach, as a share such as 90% or 0.9.")
    assert en[4] == ("Targets template (sheet 二季度), row 6, column 目标值: Closure rate is a share, but the target "
                     "value 95 is not between 0 and 100%. — Write the lowest closure rate to reach, as a share such as "
                     "90% or 0.9.")
    assert en[6] == ("Targets template (sheet 二季度), row 8, column 责任单位: Aged 60+ covered is judged per street, not "
                     "for a responsible unit (“环保”). — Put the street's name under 街道 and leave 责任单位 empty.")
    assert en[10] == ("Targets template (sheet 二季度), row 13, column 指标: Repeats row 12: 西街's target for Committees "
                      "formed is already given. — Give each measure once per unit or street; delete the repeated row.")
    # no message speaks of a command-line option or a measure's code (in English, "overdue" is also a word)
    assert not [text for text in zh if "--" in text or any(code in text for code in MEASURES)]
    assert not [text for text in en if "--" in text or "closure_rate" in text or "closed_late" in text]


def test_the_rows_are_the_sheets_own_numbers_below_a_title_and_english_headers(tmp_path):
    path = tmp_path / "t.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "targets"
    sheet.append([])  # a blank first row, then the headers on row 2 (English ones accepted)
    sheet.append(["quarter", "unit", "street", "measure", "threshold"])
    sheet.append(["2024Q1", "城管", None, "closure_rate", "abc"])  # row 3
    book.save(path)
    [p] = _problems(path)
    assert (p.row, p.column, p.value) == (3, "threshold", "abc")
    assert problem_text(p, lang="en") == ("Targets template (sheet targets), row 3, column threshold: The target value "
                                          "“abc” is not a number. — Write the lowest closure rate to reach, as a share "
                                          "such as 90% or 0.9.")


def test_whole_file_problems(tmp_path):
    frame, path = _template(tmp_path)
    [p] = _problems(path)  # downloaded and uploaded as is: nothing to import
    assert (p.code, p.row, p.column) == ("data.target_file_empty", None, "目标值")
    assert problem_text(p, lang="zh") == ("预安表（工作表 Sheet1），列 目标值: 没有一行填写了目标值。 — "
                                          "在“目标值”列填写各单位的目标后再导入；不设目标的行留空即可，导入时跳过。")
    frame.drop(columns="目标值").to_excel(path, index=False)
    [p] = _problems(path)
    assert (p.code, p.row) == ("data.target_template", 1)
    assert problem_text(p, lang="zh") == ("预安表（工作表 Sheet1），第 1 行: 表头缺少列：目标值。 — "
                                          "请使用模板的表头：季度、责任单位或街道、指标、目标值。")
    csv = tmp_path / "预安表.csv"
    csv.write_text("季度,责任单位,指标,目标值\n2024Q1,城管,办结率,0.9\n", encoding="utf-8")
    [p] = _problems(csv)
    assert p.code == "data.target_file_unreadable"
    assert problem_text(p, lang="zh") == ("图层 预安表: “预安表.csv”不是可以读取的 Excel 工作簿。 — "
                                          "请用预安表模板填写，保存为 .xlsx 后再导入。")
    assert problem_text(p, lang="en") == ("layer Targets template: “预安表.csv” cannot be read as an Excel workbook. — "
                                          "Fill in the targets template, save it as .xlsx and import it again.")


def test_an_uploaded_file_object_is_read_like_a_path(tmp_path):
    frame, path = _template(tmp_path)
    frame.loc[0, "目标值"] = 0.9
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    buf.seek(0)
    got = read_target_template(buf, quarter="2024Q1")
    assert [(x.subject, x.measure, x.threshold) for x in got.targets] == [("城管", "closure_rate", 0.9)]


def test_the_fix_of_a_value_names_the_measure_as_the_page_does():
    for measure in MEASURES:
        zh, en = TABLE[f"code.target_entry.{measure}"]
        assert label_of("measure", measure, lang="zh") in zh
        assert label_of("measure", measure, lang="en").casefold() in en.casefold()
