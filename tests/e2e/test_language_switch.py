"""Choices with translated labels survive a language switch there and back (cases page, siting form, sidebar).

Streamlit matches a widget's state by its displayed label; before `ui.widgets`
covered these widgets, switching 中文 -> English -> 中文 left radios blank,
selectboxes showing the old language's label, the siting form running a
different question than it showed, and the cases page failing on a street
named '全部街道'.
"""

import re

import pytest

from tests.e2e.conftest import assert_no_exception, choose_option, screenshot, wait_for_app


def _switch(page, label: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)


def _checked(page, option: str) -> bool:
    box = page.locator('[data-testid="stRadio"] label').filter(has_text=re.compile(f"^{re.escape(option)}$")).first
    return box.locator("input").is_checked()


def _select(page, label: str, option: str, *, scope: str = "body") -> None:
    box = page.locator(scope).locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    choose_option(page, box, option)
    wait_for_app(page)


def _selectbox_text(page, label: str) -> str:
    """What the selectbox shows (the label of its choice; empty when nothing is chosen)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    return box.locator("input").first.input_value()


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


@pytest.mark.e2e
def test_cases_page_keeps_its_choices_across_languages(offline_page, app_url):
    page = offline_page
    page.goto(f"{app_url}/cases")
    wait_for_app(page)
    page.locator('[data-testid="stMetric"]').filter(has_text="逾期未办结").wait_for(timeout=90_000)
    main = page.locator('[data-testid="stMain"]')
    for option in ("每千人事件数", "月", "责任单位"):
        main.get_by_text(option, exact=True).click()
        wait_for_app(page)
    _select(page, "上报时间段", "最近90天")
    status = page.locator('[data-testid="stMultiSelect"]').filter(has_text="办理状态")
    status.locator("input").first.click()
    page.get_by_role("option", name="未办结", exact=True).wait_for(timeout=30_000)  # the list is open
    options = page.get_by_role("option")
    assert "Select all" not in [options.nth(i).inner_text() for i in range(options.count())]
    page.get_by_role("option", name="未办结", exact=True).click()
    wait_for_app(page)
    page.keyboard.press("Escape")
    wait_for_app(page)
    before = _metric(page, "事件数")

    _switch(page, "English")
    assert_no_exception(page)
    assert _checked(page, "Cases per 1,000 residents") and _checked(page, "Month")
    assert _checked(page, "Responsible units")
    assert _selectbox_text(page, "Reported between") == "Last 90 days"
    assert _selectbox_text(page, "Street") == "All streets"
    assert "Open" in page.locator('[data-testid="stMultiSelect"]').filter(has_text="Status").inner_text()
    assert _metric(page, "Cases") == before
    screenshot(page, "language_switch_cases_en")

    _switch(page, "中文")
    assert_no_exception(page)
    assert _checked(page, "每千人事件数") and _checked(page, "月") and _checked(page, "责任单位")
    assert _selectbox_text(page, "街道") == "全部街道"
    assert _metric(page, "事件数") == before


@pytest.mark.e2e
def test_siting_form_runs_what_it_shows_after_a_switch(offline_page, app_url):
    page = offline_page
    page.goto(f"{app_url}/siting")
    wait_for_app(page)
    form = page.locator('[data-testid="stForm"]').first  # the coverage objective's form (distance's is below)
    form.wait_for(timeout=90_000)
    form.get_by_text("贪心", exact=True).click()
    form.get_by_text("步行距离", exact=True).click()
    _select(page, "设施类型", "老年食堂", scope='[data-testid="stForm"]')
    page.get_by_role("button", name="开始选址").click()
    wait_for_app(page)
    page.locator('[data-testid="stMetric"]').filter(has_text="现有覆盖率").wait_for(timeout=90_000)
    before = _metric(page, "现有覆盖率")

    _switch(page, "English")
    assert_no_exception(page)
    assert _selectbox_text(page, "Facility type") == "Elderly canteen"
    assert _checked(page, "Greedy") and _checked(page, "Walking")
    page.get_by_role("button", name="Find sites").click()
    wait_for_app(page)
    assert_no_exception(page)
    assert _metric(page, "Covered now") == before
    assert page.locator('[data-testid="stMetric"]').filter(has_text="Gap to optimum").count() == 1
    screenshot(page, "language_switch_siting_en")


def _form_selectbox_text(page, label: str) -> str:
    """What a selectbox inside a form shows (not the sidebar's of the same label)."""
    box = page.locator('[data-testid="stForm"] [data-testid="stSelectbox"]').filter(has_text=label).first
    return box.locator("input").first.input_value()


@pytest.mark.e2e
def test_the_meetings_follow_up_and_target_forms_show_their_choices_in_the_language_shown(offline_page, app_url):
    page = offline_page
    page.goto(f"{app_url}/meeting")
    wait_for_app(page)
    page.locator('[data-testid="stForm"]').first.wait_for(timeout=120_000)
    assert _form_selectbox_text(page, "街道") == "（不限街道）"
    _switch(page, "English")
    assert_no_exception(page)
    page.locator('[data-testid="stForm"]').first.wait_for(timeout=120_000)
    # before: the follow-up form's street kept the Chinese label of its empty choice after the switch
    assert _form_selectbox_text(page, "Street") == "(no street)"
    _switch(page, "中文")
    assert _form_selectbox_text(page, "街道") == "（不限街道）"
