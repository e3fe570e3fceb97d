"""The 调度会 page's tables in a real browser, in both languages: names, dates and numbers stay on one line.

In English the estates plan table (beside its chart, in two fifths of the page) once broke 清水塘 into one
character per line; the follow-ups table broke street names and months (2019-/05). Each cell of those short
columns must render as one line: its height at most one and a half times its line height.
"""

from __future__ import annotations

import pytest

from analysis.meeting import meeting_brief
from geo.dataset import DEMO_PATH, read_dataset
from reports import content
from tests.e2e.conftest import assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.e2e

CELLS_JS = """box => [...box.querySelectorAll('[data-testid="stTable"] tbody tr')].map(tr =>
    [...tr.querySelectorAll('td')].map(td => {
        const p = td.querySelector('p');
        return [p.innerText, p.getBoundingClientRect().height, parseFloat(getComputedStyle(p).lineHeight)];
    }))"""


def _cells(page, key: str) -> list[list[tuple[str, float, float]]]:
    box = page.locator(f".st-key-{key}")
    box.scroll_into_view_if_needed()
    return box.evaluate(CELLS_JS)


def _one_line(cell: tuple[str, float, float]) -> bool:
    _, height, line = cell
    return height <= 1.5 * line


def _switch(page, label: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_short_columns_of_the_meeting_tables_stay_on_one_line(app_url, offline_page, lang):
    page = offline_page
    brief = meeting_brief(read_dataset(DEMO_PATH))
    page.goto(f"{app_url}/meeting")
    wait_for_app(page)
    page.wait_for_selector("h1:has-text('石峰区 2019-06 月调度会')", timeout=120_000)
    if lang == "en":
        _switch(page, "English")
        page.wait_for_selector("h1:has-text('scheduling meeting, 2019-06')", timeout=120_000)
    page.wait_for_selector(".st-key-meeting-estates [data-testid='stTable']", timeout=120_000)
    assert_no_exception(page)

    # the estates plan: every street (and the district's row) on one line, the figures too
    plan = content.plan_table(brief, lang)
    rows = _cells(page, "meeting-estates")
    assert [[c[0] for c in r] for r in rows] == [list(r) for r in plan.rows]
    wrapped = [c for r in rows for c in r if not _one_line(c)]
    assert wrapped == [], f"cells on more than one line: {wrapped}"

    # the follow-ups: number, unit, street, month and state on one line; the title and the note may wrap
    rows = _cells(page, "meeting-followups")
    assert len(rows) == 4  # the demo's follow-ups
    for row in rows:
        for i in (0, 2, 3, 4):
            assert _one_line(row[i]), (lang, row[i])
    streets = [r[3][0] for r in rows]
    assert "清水塘" in streets and "铜塘湾" in streets

    # the street league: street names on one line
    rows = _cells(page, "meeting-streets")
    assert len(rows) == 5 and all(_one_line(r[2]) for r in rows)
    screenshot(page, f"meeting_tables_{lang}")
