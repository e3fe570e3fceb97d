"""The meeting's equity slide as text (`analysis.equity` on the meeting's coverage question): per street and for
the district, the aged 60+ beyond 300 m of an operating day-care station, the Gini and Palma of the stations'
2SFCA access, and the worst-off grids. One section, ``equity``, whose needs are ``meeting.equity``
(`analysis.needs`). The people counted are the brief's demand (`analysis.meeting`: the aged 60+ or 80+, today or
in a plan year), named in the headers and lines when not today's aged 60+."""

from __future__ import annotations

import math

from analysis.equity import DISTRICT_ROW, EquityResult, equity_by_grid
from analysis.meeting import COVERAGE_RADIUS_M, COVERAGE_TYPE, MeetingBrief, month_stations
from analysis.projection import with_demand
from geo.dataset import Dataset
from i18n import t
from reports.content import TextTable, counted, fmt_count, fmt_share, in_sentence

SECTION = "equity"
WORST_SHOWN = 5


def meeting_equity(ds: Dataset, brief: MeetingBrief | None = None) -> EquityResult | None:
    """Equity of the meeting's coverage question (operating day-care stations, 300 m straight line), counting the
    brief's demand (without a brief, today's aged 60+) and the stations its coverage figure counts (with opening
    dates, those operating at the month's end: `analysis.meeting.month_stations`); None without a day-care
    station."""
    if ds.facilities is None:
        return None
    if brief is not None:
        ds = with_demand(ds, year=brief.demand_year, weight=brief.demand_weight, survival=brief.survival)
        ds = ds.with_layer("facilities", month_stations(ds, brief.month_end))
    if not (ds.facilities["type"].astype(str) == COVERAGE_TYPE).any():
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
    who = counted(brief, lang)
    headers = tuple(who if (c == "elderly" and who is not None) else t(f"equity.col.{c}", lang=lang)
                    for c in ("street", "elderly", "beyond", "beyond_share", "gini", "palma"))
    body = tuple((street_label(str(r.street), lang), fmt_count(r.elderly), fmt_count(r.beyond),
                  fmt_share(r.beyond_share), fmt_ratio(r.gini), fmt_ratio(r.palma)) for r in rows.itertuples())
    return TextTable(headers, body, (False, True, True, True, True, True),
                     tuple(str(r) == DISTRICT_ROW for r in rows["street"]))


def worst_lines(result: EquityResult, brief: MeetingBrief, lang: str, *, top: int = WORST_SHOWN) -> list[str]:
    """The worst-off grids of the scope, one line each: grid, street, aged 60+, access, beyond-reach share."""
    worst = result.worst
    if brief.street is not None:
        worst = worst[worst["street"] == brief.street]
    who = counted(brief, lang)
    key, extra = ("equity.worst_line", {}) if who is None else ("meeting_plan.equity.worst_line",
                                                                 {"who": in_sentence(who)})
    return [t(key, lang=lang, grid=r.grid_id, street=r.street, elderly=fmt_count(r.elderly),
              access=f"{r.access:.1f}", share=fmt_share(r.beyond_share), **extra) for r in worst.head(top).itertuples()]


def definition_lines(lang: str, brief: MeetingBrief | None = None) -> list[str]:
    """What the figures mean, in one or two lines under the table (naming the people counted, with a brief whose
    demand is not today's aged 60+)."""
    who = counted(brief, lang) if brief is not None else None
    if who is not None:
        return [t("meeting_plan.equity.definition", lang=lang, radius=f"{COVERAGE_RADIUS_M:.0f}", who=who)]
    return [t("equity.definition", lang=lang, radius=f"{COVERAGE_RADIUS_M:.0f}")]
