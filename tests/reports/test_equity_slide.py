"""The deck's equity slide: the figures of `analysis.equity` on the meeting's question, in both languages."""

import io

import pytest
from pptx import Presentation

from analysis.equity import DISTRICT_ROW, equity_by_grid
from analysis.meeting import meeting_brief
from geo.dataset import DEMO_PATH, read_dataset
from i18n import t
from reports.pptx import build_pptx


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO_PATH)


def _slide(deck: bytes, title: str):
    prs = Presentation(io.BytesIO(deck))
    found = [s for s in prs.slides if any(sh.has_text_frame and sh.text_frame.text == title for sh in s.shapes)]
    assert len(found) == 1
    return found[0]


def _table(slide) -> list[list[str]]:
    (table,) = [sh.table for sh in slide.shapes if sh.has_table]
    return [[c.text for c in row.cells] for row in table.rows]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_equity_slide_shows_each_street_and_the_district(demo, lang):
    deck = build_pptx(demo, meeting_brief(demo), lang=lang)
    rows = _table(_slide(deck, t("meeting.sec.equity", lang=lang)))
    want = equity_by_grid(demo, facility_types=("day_care",), radius_m=300).streets
    assert rows[0] == [t(f"equity.col.{c}", lang=lang) for c in ("street", "elderly", "beyond", "beyond_share",
                                                                  "gini", "palma")]
    assert [r[0] for r in rows[1:]] == [*want["street"][:-1], t("equity.district", lang=lang)]
    district = want.set_index("street").loc[DISTRICT_ROW]
    assert rows[-1][1:] == [f"{int(district['elderly']):,}", f"{round(district['beyond']):,}",
                            f"{100 * district['beyond_share']:.1f}%", f"{district['gini']:.2f}", "∞"]
    assert rows[-1][1] == "45,200"


def test_one_street_shows_its_row_and_the_district(demo):
    deck = build_pptx(demo, meeting_brief(demo, street="田心"), lang="zh")
    slide = _slide(deck, t("meeting.sec.equity", lang="zh"))
    assert [r[0] for r in _table(slide)[1:]] == ["田心", "全区"]
    text = "\n".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    worst = equity_by_grid(demo, radius_m=300).worst
    assert worst[worst["street"] == "田心"]["grid_id"].iloc[0] in text
