"""The 调度会 page for a plan year and the aged 80+ in a real browser, offline, on the demo, in both languages.

The figures shown are the brief's for that demand (`analysis.meeting.meeting_brief`, checked against a direct
coverage computation in tests/reports/test_meeting_plan.py); the labels name the people counted.
"""

from __future__ import annotations

import pytest

from analysis.meeting import meeting_brief
from geo.dataset import DEMO_PATH, read_dataset
from i18n import t
from reports import content
from tests.e2e.conftest import SCREENS, assert_no_exception, screenshot, wait_for_app
from ui.meeting import card_label

pytestmark = pytest.mark.e2e


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _plan(page, lang: str, year: int, weight: str) -> None:
    """Open the plan expander, type the year, choose the people counted."""
    box = page.locator('[data-testid="stExpander"]').filter(has_text=t("planning.controls.title", lang=lang)).first
    if not box.locator('[data-testid="stNumberInput"]').first.is_visible():
        box.locator("summary").first.click()
    field = box.locator('[data-testid="stNumberInput"] input').first
    field.fill(str(year))
    field.press("Enter")
    wait_for_app(page)
    box.locator('[data-testid="stRadio"] label').filter(has_text=t(f"planning.weight.{weight}", lang=lang)).first \
        .click()
    wait_for_app(page)


def _switch(page, label: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)


def _sections(page, name: str) -> None:
    """Screenshots of the sections a plan year changes (the page scrolls inside Streamlit's own container)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for key in ("figures", "trend", "streets", "gaps", "equity"):
        box = page.locator(f".st-key-meeting-{key}")
        box.scroll_into_view_if_needed()
        box.screenshot(path=str(SCREENS / f"{name}_{key}.png"))


def _check(page, brief, lang: str) -> None:
    who = content.counted(brief, lang)
    for card in content.cards(brief, lang):
        assert _metric(page, card_label(card, lang)) == card.value, card.label  # the page's label of the card
    assert content.coverage_label(brief, lang) == t("meeting_plan.fig.coverage", lang=lang, who=who)
    assert content.coverage_card_label(brief, lang) == t("meeting_plan.card.coverage_year", lang=lang, band="80+",
                                                         year=2030)
    for section in ("gaps", "equity"):
        page.wait_for_selector(f"h3:has-text('{content.section_title(section, lang, brief)}')", timeout=60_000)
    text = page.inner_text("body")
    assert t("meeting_plan.trend", lang=lang) in text
    assert_no_exception(page)


def test_meeting_page_for_2030_and_the_80_plus(app_url, offline_page):
    page = offline_page
    ds = read_dataset(DEMO_PATH)
    page.goto(f"{app_url}/meeting")
    wait_for_app(page)
    page.wait_for_selector("h1:has-text('石峰区 2019-06 月调度会')", timeout=120_000)
    _plan(page, "zh", 2030, "elderly_80")
    brief = meeting_brief(ds, year=2030, weight="elderly_80")
    _check(page, brief, "zh")
    screenshot(page, "meeting_plan_2030_80_zh")
    _sections(page, "meeting_plan_2030_80_zh")
    _switch(page, "English")  # the choice survives the language switch
    page.wait_for_selector("h1:has-text('石峰区 scheduling meeting, 2019-06')", timeout=120_000)
    _check(page, brief, "en")
    screenshot(page, "meeting_plan_2030_80_en")
    _sections(page, "meeting_plan_2030_80_en")
    assert not page.traffic.blocked, page.traffic.blocked
    assert not page.js_errors, page.js_errors
