"""The meeting's equity slide as text (`analysis.equity` on the meeting's coverage question): per street and for
the district, the aged 60+ beyond 300 m of an operating day-care station, the Gini and Palma of the stations'
2SFCA access, and the worst-off grids. One section, ``equity``, whose needs are ``meeting.equity``
(`analysis.needs`)."""

from __future__ import annotations

import math

from analysis.equity import DISTRICT_ROW, EquityResult, equity_by_grid
from analysis.meeting import COVERAGE_RADIUS_M, COVERAGE_TYPE, MeetingBrief
from geo.dataset import Dataset
from i18n import t
from reports.content import TextTable, fmt_count, fmt_share

SECTION = "equity"
WORST_SHOWN = 5


def meeting_equity(ds: Dataset) -> EquityResult | None:
    """Equity of the meeting's coverage question (operating day-care stations, 300 m straight line, aged 60+);
    None without a day-care station."""
    if ds.facilities is None or not (ds.facilities["type"].astype(str) == COVERAGE_TYPE).any():
        return None
    return equity_by_grid(ds, facility_types=(COVERAGE_TYPE,), radius_m=COVERAGE_RADIUS_M)


def fmt_ratio(v: float | None) -> str:
    """Gini or Palma as text: two decimals, ∞ when the worst-served hold nothing, — when unknown."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return "∞" if v == math.inf else f"{v:.2f}"


def street_label(street: str, lang: str) -> str:
    return t("equity.district", lang=lang) if street == DISTRICT_ROW else street


def equity_table(result: EquityResult, brief: MeetingBrief, lang: str) -> TextTable:
    """Street rows (the brief's street only, when it has one) and the district row."""
    rows = result.streets
    if brief.street is not None:
        rows = rows[rows["street"].isin([brief.street, DISTRICT_ROW])]
    headers = tuple(t(f"equity.col.{c}", lang=lang) for c in ("street", "elderly", "beyond", "beyond_share", "gini",
                                                                "palma"))
    body = tuple((street_label(str(r.street), lang), fmt_count(r.elderly), fmt_count(r.beyond),
                  fmt_share(r.beyond_share), fmt_ratio(r.gini), fmt_ratio(r.palma)) for r in rows.itertuples())
    return TextTable(headers, body, (False, True, True, True, True, True),
                     tuple(str(r) == DISTRICT_ROW for r in rows["street"]))


def worst_lines(result: EquityResult, brief: MeetingBrief, lang: str, *, top: int = WORST_SHOWN) -> list[str]:
    """The worst-off grids of the scope, one line each: grid, street, aged 60+, access, beyond-reach share."""
    worst = result.worst
    if brief.street is not None:
        worst = worst[worst["street"] == brief.street]
    return [t("equity.worst_line", lang=lang, grid=r.grid_id, street=r.street, elderly=fmt_count(r.elderly),
              access=f"{r.access:.1f}", share=fmt_share(r.beyond_share)) for r in worst.head(top).itertuples()]


def definition_lines(lang: str) -> list[str]:
    """What the figures mean, in one or two lines under the table."""
    return [t("equity.definition", lang=lang, radius=f"{COVERAGE_RADIUS_M:.0f}")]
