"""The 调度会 page's follow-ups, trend and targets on both stores (AppTest), with the CLI on the same dataset."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from analysis.meeting import meeting_brief
from cli import main
from geo.audit import AuditLog
from geo.errors import Problem
from geo.followups import new_target
from geo.storage import open_store
from i18n import problem_text, t
from reports import loop
from tests.analysis.meeting_fixtures import meeting_dataset
from tests.e2e.conftest import ROOT
from ui.meeting import md

APP = str(ROOT / "app.py")


@pytest.fixture
def dataset(store_url, monkeypatch):
    open_store(store_url).import_dataset(meeting_dataset(), source="fixture.gpkg")
    monkeypatch.setenv("GRIDATLAS_DATA", store_url)
    return store_url


def _page(lang: str = "zh", street: str | None = None, **state) -> AppTest:
    """The meeting page, run once; ``state``: more of the session's state (``district_choice`` in a city, …)."""
    at = AppTest.from_file(APP, default_timeout=300)
    if lang != "zh":
        at.session_state["lang"] = lang
    if street is not None:
        at.session_state["street_choice"] = street  # ui.widgets keeps the chosen street here for every language
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page("pages/meeting.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _cli(capsys, *argv) -> dict:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _table_with(at: AppTest, header: str):
    return next(tb.value for tb in at.table if header in tb.value.columns)


def _record(at: AppTest, *, title: str, unit: str, street: str, due: str) -> AppTest:
    """Fill the page's 登记 form and press it (as staff, or anyone when no users are set up)."""
    at.text_input(key="fu_title").set_value(title)
    at.text_input(key="fu_unit").set_value(unit)
    at.selectbox(key="fu_street__zh").set_value(street)
    at.text_input(key="fu_due").set_value(due)
    next(b for b in at.button if b.label == "登记").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_follow_ups_round_trip_through_page_and_cli(dataset, capsys):
    at = _page()
    assert t("loop.followups.none", lang="zh") in [m.value for m in at.markdown]
    _record(at, title="东街路灯维修", unit="住建", street="东街", due="2024-04")
    assert "已登记督办事项 1。" in [s.value for s in at.success]
    rows = _table_with(at, "督办事项")
    assert rows[["编号", "督办事项", "责任单位", "街道", "完成时限", "状态"]].values.tolist() == [
        ["1", "东街路灯维修", "住建", "东街", "2024-04", "办理中（本次会议新增）"]]

    # the CLI sees it, adds one, and closes the page's one
    listed = _cli(capsys, "tasks", "list", "--data", dataset)
    assert [(f["id"], f["title"], f["meeting"], f["state"]) for f in listed["followups"]] == [
        (1, "东街路灯维修", "2024-03", "open")]
    added = _cli(capsys, "tasks", "add", "--data", dataset, "--title", "西街占道清理", "--unit", "城管", "--due",
                 "2024-05")
    assert added["followup"]["id"] == 2 and added["followup"]["meeting"] == "2024-03"
    _cli(capsys, "tasks", "done", "--data", dataset, "--id", "1", "--note", "已修复", "--on", "2024-04-02")

    at = _page()  # judged at the end of 2024-04-30 (the month after the meeting's month; today is later)
    rows = _table_with(at, "督办事项")
    assert rows[["编号", "状态", "办结日期及情况"]].values.tolist() == [
        ["2", "办理中（本次会议新增）", ""], ["1", "已办结（本次会议新增）", "2024-04-02 已修复"]]
    # closing the CLI's one on the page
    at.selectbox(key="fu_pick").set_value(2)
    at.text_input(key="fu_note").set_value("已清理")
    next(b for b in at.button if b.label == "办结").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "督办事项 2 已办结。" in [s.value for s in at.success]
    states = _cli(capsys, "tasks", "list", "--data", dataset, "--open")
    assert states["followups"] == [] and states["counts"] == {"open": 0, "overdue": 0, "done": 0}

    actions = [(e.action, e.target.rsplit("/", 1)[-1]) for e in AuditLog().entries()]
    assert sorted(actions) == sorted([("followup_add", "1"), ("followup_add", "2"), ("followup_done", "1"),
                                      ("followup_done", "2")])


def test_an_empty_follow_up_is_refused_with_its_message(dataset):
    at = _page()
    at.text_input(key="fu_unit").set_value("城管")
    next(b for b in at.button if b.label == "登记").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [problem_text(Problem("followups", "", "", code="data.followup_empty",
                                                                 params={"what": "title"}), lang="zh")]
    assert "督办事项的必填内容（title）为空。" in at.error[0].value
    assert open_store(dataset).list_followups() == []


def test_the_loop_sections_in_english(dataset):
    open_store(dataset).set_target(new_target(quarter="2024Q1", kind="street", subject="西街", measure="committees",
                                              minimum=1))
    at = _page("en", street="西街")
    heads = [h.value for h in at.subheader]
    assert heads[0] == "Follow-ups: what was decided, and is it done"
    assert "Key figures over the last 12 months" in heads and "2024Q1 targets checked (考核)" in heads
    assert md("No follow-ups recorded yet.") in [m.value for m in at.markdown]
    # the fixture's facilities have no opening dates: one line says what opened_on would add
    assert md("Needs the opened_on column (date opened) of the facilities layer to show coverage month by "
              "month.") in [i.value for i in at.info]
    score = _table_with(at, "Met of set")
    assert score[["Subject", "Name", "Met of set"]].values.tolist() == [["Street", "西街", "0 of 1"]]  # E3 on 03-25


def test_next_months_deck_lists_last_months_follow_ups_with_their_state(dataset, capsys, tmp_path):
    _cli(capsys, "tasks", "add", "--data", dataset, "--title", "C3 逐件销号", "--unit", "住建", "--due", "2024-02",
         "--meeting", "2024-02")
    _cli(capsys, "tasks", "add", "--data", dataset, "--title", "东街巡查", "--unit", "城管", "--due", "2024-03",
         "--meeting", "2024-02")
    _cli(capsys, "tasks", "done", "--data", dataset, "--id", "2", "--note", "已巡查", "--on", "2024-03-10")
    out = tmp_path / "deck.pptx"
    summary = _cli(capsys, "report", "--data", dataset, "--month", "2024-03", "--out", str(out))
    assert summary["followups"] == {"open": 0, "done": 1, "overdue": 1}
    from pptx import Presentation

    deck = Presentation(str(out))
    slide = deck.slides[1]
    texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
    assert texts[0] == "督办事项落实情况"
    table = next(s.table for s in slide.shapes if s.has_table)
    cells = [[table.cell(i, j).text for j in range(len(table.columns))] for i in range(len(table.rows))]
    assert cells[1][:6] == ["1", "C3 逐件销号", "住建", "—", "2024-02", "已超期"]
    assert cells[2][:6] == ["2", "东街巡查", "城管", "—", "2024-03", "已办结"] and cells[2][6] == "2024-03-10 已巡查"


def test_targets_checked_on_the_page_in_the_quarters_last_month(dataset, capsys, tmp_path, monkeypatch):
    store = open_store(dataset)
    store.set_target(new_target(quarter="2024Q1", kind="unit", subject="城管", measure="overdue", maximum=0))
    _cli(capsys, "targets", "set", "--data", dataset, "--quarter", "2024Q1", "--street", "东街", "--measure",
         "closure_rate", "--min", "0.5")
    check = _cli(capsys, "targets", "check", "--data", dataset, "--quarter", "2024Q1", "--out",
                 str(tmp_path / "check.csv"))
    assert (check["targets"], check["met"], check["not_met"], check["final"]) == (2, 1, 1, False)
    # as of 2024-03-20: 城管 has C6 overdue (1 > 0); 东街's Q1 cases C1 C2 C5 C7 C9, closed C1 C2 C7 -> 0.6 ≥ 0.5
    csv = (tmp_path / "check.csv").read_text(encoding="utf-8").splitlines()
    assert csv[0] == "unit,street,measure,bound,threshold,value,met,cases,end,final,note"
    assert csv[1:] == ["城管,,overdue,max,0.0,1.0,False,4,2024-03-20,False,",
                       ",东街,closure_rate,min,0.5,0.6,True,5,2024-03-20,False,"]
    at = _page()
    assert "2024Q1 季度考核（预安销号）" in [h.value for h in at.subheader]
    score = _table_with(at, "达标/目标数")
    assert score[["对象", "名称", "达标/目标数", "未达标"]].values.tolist() == [["责任单位", "城管", "0/1", "1"],
                                                                           ["街道", "东街", "1/1", "0"]]
    b = meeting_brief(meeting_dataset(), followups=[], targets=store.list_targets())
    assert loop.targets_caption(b, "zh") in [c.value.replace("\\", "") for c in at.caption]


def test_staff_set_a_target_on_the_page(dataset):
    at = _page()
    at.text_input(key="tg_subject").set_value("西街")
    at.selectbox(key="tg_kind__zh").set_value("street")
    at.selectbox(key="tg_measure__zh").set_value("committees")
    at.number_input(key="tg_value").set_value(2.0)
    next(b for b in at.button if b.label == "保存目标").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "目标已保存。" in [s.value for s in at.success]
    [target] = open_store(dataset).list_targets()
    assert (target.quarter, target.kind, target.subject, target.measure, target.threshold) == (
        "2024Q1", "street", "西街", "committees", 2.0)
    # March is the quarter's last month: checked at once (西街's committees by 03-20: none; E3 formed 03-25)
    score = _table_with(at, "达标/目标数")
    assert score[["名称", "达标/目标数", "未达标"]].values.tolist() == [["西街", "0/1", "1"]]
    assert [e.action for e in AuditLog().entries()] == ["target_set"]
    # a share measure with a count is refused with its message, nothing stored
    at.selectbox(key="tg_measure__zh").set_value("coverage")
    at.number_input(key="tg_value").set_value(5.0)
    next(b for b in at.button if b.label == "保存目标").click().run()
    assert [e.value for e in at.error] == [problem_text(Problem("targets", "", "", code="data.target_share", params={
        "measure": "coverage", "value": "5"}), lang="zh")]
    assert f"{t('code.measure.coverage', lang='zh')}（coverage）是比例，但目标值为 5" in at.error[0].value  # as the page names it
    assert len(open_store(dataset).list_targets()) == 1


def test_each_district_of_a_city_keeps_its_own_follow_ups_and_targets(store_url, monkeypatch, capsys):
    from tests.storefixtures import small_city

    open_store(store_url).import_dataset(small_city(), source="city.gpkg")
    monkeypatch.setenv("GRIDATLAS_DATA", store_url)
    added = _cli(capsys, "tasks", "add", "--data", store_url, "--district", "西区", "--title", "丙街占道清理",
                 "--unit", "区城管局", "--due", "2024-04")
    assert (added["followup"]["id"], added["followup"]["district"]) == (1, "西区")
    _cli(capsys, "targets", "set", "--data", store_url, "--district", "西区", "--quarter", "2024Q1", "--unit",
         "区城管局", "--measure", "overdue", "--max", "5")

    at = _page(district_choice="东区")  # 东区's meeting: nothing of 西区's
    assert t("loop.followups.none", lang="zh") in [m.value for m in at.markdown]
    _record(at, title="甲街路灯维修", unit="区城管局", street="甲街", due="2024-04")
    assert "已登记督办事项 2。" in [s.value for s in at.success]  # ids are the city's: 1 is 西区's
    assert _table_with(at, "督办事项")[["编号", "督办事项", "街道"]].values.tolist() == [["2", "甲街路灯维修", "甲街"]]

    assert at.selectbox(key="fu_pick").value == 2
    # a session that turns to 西区 with 东区's 2 still chosen in the close box: 西区's own open one is offered
    at = _page(district_choice="西区", fu_pick=2)
    assert at.selectbox(key="fu_pick").value == 1
    assert at.selectbox(key="fu_pick").placeholder == "请选择督办事项"
    at = _page(district_choice="西区")
    assert _table_with(at, "督办事项")[["编号", "督办事项", "责任单位"]].values.tolist() == [
        ["1", "丙街占道清理", "区城管局"]]
    english = [m.value for m in _page(lang="en", district_choice="西区").markdown]
    assert md("Follow-ups: 1 (0 done, 1 open, 0 overdue; as of 2024-04-30).") in english, english
    east = _cli(capsys, "tasks", "list", "--data", store_url, "--district", "东区")
    assert [(f["id"], f["title"], f["district"]) for f in east["followups"]] == [(2, "甲街路灯维修", "东区")]
    assert _cli(capsys, "tasks", "list", "--data", store_url)["followups"] == []  # the city's own: none
    store = open_store(store_url)
    assert [(x.subject, x.threshold, x.district) for x in store.list_targets(district="西区")] == [
        ("区城管局", 5.0, "西区")]
    assert store.list_targets(district="东区") == [] and store.list_targets() == []
    # 东区 cannot close 西区's follow-up by its number
    assert main(["tasks", "done", "--data", store_url, "--district", "东区", "--id", "1", "--note", "办了"]) != 0
    assert "没有编号为 1 的督办事项" in capsys.readouterr().err  # the CLI speaks zh by default
    assert [f.done_on for f in store.list_followups(district="西区")] == [None]
    logged = [(e.action, e.target) for e in AuditLog().entries() if e.action == "followup_add"]
    assert len(logged) == 2
