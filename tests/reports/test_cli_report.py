"""`cli.py report`: the format from the suffix, the default month, exit 2 with a clear message on bad input."""

from __future__ import annotations

import json

import openpyxl
import pymupdf
import pytest

from cli import EXIT_BAD_INPUT, EXIT_OK, main
from geo.dataset import write_dataset
from tests.analysis.meeting_fixtures import meeting_dataset


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    path = tmp_path_factory.mktemp("meeting") / "small.gpkg"
    write_dataset(meeting_dataset(), path)
    return path


def test_report_xlsx_with_the_default_month(gpkg, tmp_path, capsys):
    out = tmp_path / "会议" / "march.xlsx"
    assert main(["report", "--data", str(gpkg), "--out", str(out)]) == EXIT_OK
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "xlsx" and summary["month"] == "2024-03" and summary["street"] is None
    assert summary["figures"]["open"] == 5 and summary["figures"]["overdue"] == 4
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "汇总"
    assert [c.value for c in wb["超期未办结事件"]["A"][1:]] == ["C9", "C3", "C6", "C8"]
    assert not list(tmp_path.glob("会议/.*.writing"))


def test_report_pdf_for_one_street_and_month_in_english(gpkg, tmp_path, capsys):
    out = tmp_path / "east.pdf"
    assert main(["report", "--data", str(gpkg), "--out", str(out), "--street", "东街", "--month", "2024-02",
                 "--lang", "en"]) == EXIT_OK
    summary = json.loads(capsys.readouterr().out)
    assert (summary["street"], summary["month"], summary["lang"]) == ("东街", "2024-02", "en")
    doc = pymupdf.open(out)
    assert doc[0].get_text().startswith("东街 scheduling meeting, 2024-02")
    # title, the follow-ups (none recorded yet), figures, trend, streets, then units
    assert doc[1].get_text().startswith("Follow-ups: what was decided, and is it done\nNo follow-ups recorded yet.")
    assert "Responsible-unit league table" in doc[5].get_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--out", "deck.docx"], "error: 无法按“.docx”生成报告：输出文件须以 .pptx、.pdf 或 .xlsx 结尾"),
    (["--out", "deck"], "error: 无法按“deck”生成报告：输出文件须以 .pptx、.pdf 或 .xlsx 结尾"),
    (["--out", "deck.pdf", "--month", "2024-13"], "error: 月份“2024-13”格式不对，应为 YYYY-MM（例如 2019-06）"),
    (["--out", "deck.pdf", "--month", "2024-04"], "error: 月份 2024-04 不在数据范围内，请选择 2024-01 至 2024-03 之间的月份"),
    (["--out", "deck.pdf", "--street", "北街"], "error: 街道“北街”不存在；本数据集的街道为：东街、西街"),
    (["--out", "deck.pptx", "--street", "北街", "--lang", "en"],
     "error: Street “北街” does not exist; the dataset's streets are: 东街、西街"),
])
def test_bad_input_exits_2_with_a_clear_message(gpkg, tmp_path, capsys, args, message):
    args = [a if not a.startswith("deck") else str(tmp_path / a) for a in args]
    message = message.replace("“deck”", f"“{tmp_path / 'deck'}”")
    assert main(["report", "--data", str(gpkg), *args]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err == message
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_global_lang_before_the_command_applies_to_report(gpkg, tmp_path, capsys):
    """``cli.py --lang en report …`` speaks English: the command's own --lang does not reset it to zh."""
    out = tmp_path / "deck.pdf"
    assert main(["--lang", "en", "report", "--data", str(gpkg), "--out", str(out), "--street", "北街"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == "error: Street “北街” does not exist; the dataset's streets are: 东街、西街"
    assert not out.exists()
