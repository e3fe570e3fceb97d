"""The monthly scheduling meeting (月调度会): one month's figures, league tables and problems.

Contract (the 调度会 page, the PPTX/PDF/XLSX reports and ``cli.py report`` all
render the one `MeetingBrief` this module returns, so they show the same numbers):

- **Scope**: the district, or one street (``street``). **Month**: ``YYYY-MM``,
  by default the month of the dataset's ``meta.as_of``. The month *ends* at the
  end of its last day, or of the as-of day when the month is the as-of month
  (nothing is known after it). Months after the as-of month, and months before
  the first case (or, without cases, any month but the as-of one), are refused.
  The *previous month* is the calendar month before, ended at its last day.
- **Key figures**, each for the month and the previous month (``delta`` = this
  minus previous):

  - ``coverage``: share of the aged 60+ within 300 m (straight line) of an
    operating day-care station, `analysis.coverage.compute_coverage`'s own
    figure (the overview's). With facilities' ``opened_on``/``closed_on``
    (`analysis.history`) it counts the stations operating at each month's
    end, so it has a previous month's value; without them ``previous`` is None.
  - ``open`` / ``overdue``: cases open / overdue at the month's end, over every
    case reported up to then (`analysis.cases.case_kpis` as of the month end);
  - ``closure_rate``: of the cases reported in the month, the share closed by
    its end (`case_kpis` with the month as the period);
  - ``committees``: the self-governance campaign's estates
    (`analysis.estates.campaign_estates`: those with a ``governance_stage``,
    else the unmanaged ones) that had formed an owners' committee (reached
    stage ``committee_formed`` or beyond) by the month's end.
- **League tables** (streets: every street of the district, the chosen one
  flagged; units: the cases of the scope). Per row: ``cases`` reported in the
  month, ``closed`` of them by its end, ``closure_rate``, ``closed_late``
  (of them, closed after their deadline), ``open`` and ``overdue`` at the
  month's end (all cases). ``rank`` orders as the cases page's unit league
  (`analysis.cases.unit_league`): most overdue first, then most closed late,
  then lowest closure rate, then name — rank 1 is the one most in need of
  attention. ``previous_rank`` is the rank in the previous month's table and
  ``rank_change = previous_rank − rank`` (positive: moved up, towards more
  attention; <NA>: not ranked last month).
- **Hot spots**: Gi* (`analysis.hotspots.hot_spots`, binary queen weights,
  FDR bins) of the cases reported in the month and in the previous month; a
  grid is *newly hot* when its bin is ≥ 1 this month and ≤ 0 last month.
  Bins come from the analytical z-scores, so no permutations are drawn.
- **Estates**: the campaign's estates per street by the stage reached at the
  month's end (`analysis.estates.stage_counts`), and, with a target date in
  ``meta``, each street's standing against the plan on that day
  (`analysis.estates.street_progress`). A street is *behind* when it is behind
  the plan for any stage; the problems list names, per street, the stage with
  the largest shortfall.
- **Problems** (`MeetingItem`): streets behind the estates plan, the units
  with the most overdue cases (up to `TOP_UNITS`, overdue > 0), the newly hot
  grids (up to `TOP_GRIDS`, highest z first).
- **Needs**: what a section lacks (`analysis.needs`, the ``meeting.*``
  keys of `MEETING_SECTIONS`) is listed in ``needs``; the section is left out
  (figures None, tables empty) and everything else computed: no ``deadline``
  makes ``overdue`` and the league's ``overdue``/``closed_late`` unknown (NaN,
  not 0); no ``closed_at`` leaves the previous month's case figures and the
  rank changes unknown; no ``responsible_unit`` empties the unit league; no
  stage date removes ``committees`` and the estates sections; estates without
  ``street`` are counted in one `analysis.estates.DISTRICT` row.
- **Gaps**: `analysis.coverage.gap_list` of the scope (most uncovered aged 60+
  first). **Overdue list**: `analysis.cases.overdue_list` at the month's end,
  longest overdue first; phones masked unless ``mask_personal=False``.
- **Demand** (``year``, ``weight``, ``survival``; default today's aged 60+): the people the current month's
  coverage figure, its change since last month, the gaps and the street league's covered share count —
  `analysis.projection.with_demand` (the aged 60+ or 80+, today or projected to a plan year). The change
  since last month counts the same demand at both month ends (so it shows the stations that opened or
  closed). The trend (the 12 month ends) stays on today's aged 60+. The brief records the demand
  (``demand_year``, ``demand_weight``, ``survival``); the material labels what it counts from it. No age
  bands, or a plan year outside the range: the coded errors of `analysis.projection`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis import estates as estates_analysis
from analysis import history
from analysis.cases import CaseFilter, CaseTable, case_kpis, case_table_from_dataset, overdue_list, resolve_as_of
from analysis.coverage import CoverageResult, compute_coverage, district_totals, gap_list, street_totals
from analysis.followups import followups_for_month, state_day
from analysis.hotspots import MIN_GRIDS, GridWeights, hot_spots, queen_weights
from analysis.needs import NEEDS, Missing, missing
from analysis.projection import SurvivalTable, default_survival, with_demand
from analysis.targets import check_targets, scorecard
from geo.calendar import is_quarter_end_month, quarter_text
from geo.dataset import Dataset, LazyLayer
from geo.errors import AnalysisError
from geo.followups import FollowUp, Target
from geo.personal import mask_personal as mask_fields

COVERAGE_TYPE = "day_care"
COVERAGE_RADIUS_M = 300.0
TOP_UNITS = 3
TOP_GRIDS = 5
FIGURE_KEYS: tuple[str, ...] = ("coverage", "open", "overdue", "closure_rate", "committees")
LEAGUE_COLUMNS = ("rank", "previous_rank", "rank_change", "cases", "closed", "closure_rate", "closed_late",
                  "open", "overdue")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# the meeting's sections with declared needs (`analysis.needs`), in the order the material shows them
MEETING_SECTIONS: tuple[str, ...] = tuple(k for k in NEEDS if k.startswith("meeting."))


@dataclass(frozen=True)
class KeyFigure:
    """One large figure: its value at the month's end and at the previous month's (None: not known).

    ``kind`` is ``share`` (0..1) or ``count``.
    """

    key: str
    value: float | None
    previous: float | None
    kind: str

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        if isinstance(self.value, float) and np.isnan(self.value):
            return None
        if isinstance(self.previous, float) and np.isnan(self.previous):
            return None
        return self.value - self.previous


@dataclass(frozen=True)
class MeetingItem:
    """One of this month's problems: ``kind`` (``street_behind``, ``unit_overdue``, ``grid_new_hot``),
    the ``subject`` (street, unit or grid id) and the figures its sentence needs (``params``)."""

    kind: str
    subject: str
    params: tuple[tuple[str, Any], ...]

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass(frozen=True, eq=False)
class MeetingBrief:
    """Everything the meeting shows, for one scope and month (see the module docstring).

    Frames: ``street_league`` (``street, selected`` + `LEAGUE_COLUMNS` +
    ``covered_share`` of the aged 60+), ``unit_league`` (``unit`` +
    `LEAGUE_COLUMNS`), ``overdue`` (`analysis.cases.overdue_list` columns),
    ``coverage_grids`` (the coverage grid table of the scope), ``gaps``
    (`analysis.coverage.gap_list`), ``hot`` (per grid of the scope: ``grid_id,
    street, cases, gi_z, gi_bin, previous_cases, previous_bin, newly_hot``;
    None when Gi* cannot run, ``notes`` says why), ``estates_by_stage`` and
    ``estates_plan`` (None without estates data for them). ``trend``: the five figures at each of the
    last 12 month ends (`analysis.history.figure_trend`). ``followups``: the follow-ups this meeting lists
    (`analysis.followups.followups_for_month`, judged at ``followups_day``; None when none were passed).
    In a quarter's last month, ``quarter`` (``YYYYQn``), ``targets`` (`analysis.targets.check_targets`) and
    ``scorecard`` (the 考核 table); None otherwise or without targets for that quarter. ``history_needs``:
    what coverage history lacks (facilities' ``opened_on``, `analysis.needs` ``history.coverage``).
    ``demand_year`` (None: today's data), ``demand_weight`` (``elderly`` or ``elderly_80``) and ``survival`` (the
    survival table of a plan year, else None): the demand the coverage figure and gaps count. ``notes`` are
    (code, params) pairs for the reader; ``needs`` what each section lacks
    (`analysis.needs.missing` of `MEETING_SECTIONS`): a section that lacks
    something is left out (its figures None, its tables empty), the others whole.
    """

    district: str
    street: str | None
    month: str
    previous_month: str
    month_start: dt.date
    month_end: dt.date
    previous_end: dt.date
    as_of: dt.date
    synthetic: bool
    figures: tuple[KeyFigure, ...]
    street_league: pd.DataFrame
    unit_league: pd.DataFrame
    overdue: pd.DataFrame
    coverage_grids: pd.DataFrame
    gaps: pd.DataFrame
    hot: pd.DataFrame | None
    estates_by_stage: pd.DataFrame | None
    estates_plan: pd.DataFrame | None
    problems: tuple[MeetingItem, ...]
    notes: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]
    n_cases_month: int
    needs: tuple[Missing, ...] = ()
    trend: pd.DataFrame | None = None
    followups: pd.DataFrame | None = None
    followups_day: dt.date | None = None
    quarter: str | None = None
    targets: pd.DataFrame | None = None
    scorecard: pd.DataFrame | None = None
    history_needs: Missing | None = None
    demand_year: int | None = None
    demand_weight: str = "elderly"
    survival: SurvivalTable | None = None

    @property
    def demand_is_today(self) -> bool:
        """Whether the brief counts today's aged 60+ (the default demand)."""
        return self.demand_year is None and self.demand_weight == "elderly"

    def lacks(self, section: str) -> bool:
        """Whether ``section`` (a ``meeting.*`` key of `analysis.needs.NEEDS`) lacks data it needs."""
        return any(m.section == section for m in self.needs)

    def figure(self, key: str) -> KeyFigure:
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(key)

    @property
    def scope(self) -> str:
        return self.street or self.district


# --- months ---------------------------------------------------------------------

def parse_month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` as (year, month), or `AnalysisError` (code ``analysis.month_invalid``)."""
    m = _MONTH.match(str(text).strip()) if text is not None else None
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise AnalysisError(f"month {text!r} is not a month in the form YYYY-MM (for example 2019-06)",
                            code="analysis.month_invalid", params={"month": str(text)})
    return int(m.group(1)), int(m.group(2))


def _month_text(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _previous(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _last_day(year: int, month: int) -> dt.date:
    nxt = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return nxt - dt.timedelta(days=1)


def available_months(ds: Dataset) -> list[str]:
    """The months a meeting can be held on, newest first: from the first case's month to the as-of month."""
    cases = ds.lazy_layer("cases")  # a million cases are not read for one column
    as_of = resolve_as_of(ds.meta_dict, cases).date()
    last = (as_of.year, as_of.month)
    if ds.rows("cases") == 0:
        return [_month_text(*last)]
    reported = cases.column("reported_at") if isinstance(cases, LazyLayer) else cases.get("reported_at")
    first_ts = pd.to_datetime(reported, errors="coerce").min() if reported is not None else pd.NaT
    first = (first_ts.year, first_ts.month) if not pd.isna(first_ts) else last
    out = []
    y, m = last
    while (y, m) >= first:
        out.append(_month_text(y, m))
        y, m = _previous(y, m)
    return out


def default_month(ds: Dataset) -> str:
    """The month of ``meta.as_of`` (else of the latest case)."""
    as_of = resolve_as_of(ds.meta_dict, ds.lazy_layer("cases")).date()
    return _month_text(as_of.year, as_of.month)


# --- pieces ---------------------------------------------------------------------

def _rank(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Order as `analysis.cases.unit_league`: overdue desc, closed late desc, closure rate asc, name."""
    out = frame.sort_values(["overdue", "closed_late", "closure_rate", name],
                            ascending=[False, False, True, True], kind="mergesort", na_position="last")
    out = out.reset_index(drop=True)
    out.insert(1, "rank", np.arange(1, len(out) + 1, dtype="int64"))
    return out


def _league(table: CaseTable, by: str, base: CaseFilter, start: dt.date, end: dt.date) -> pd.DataFrame:
    """One month's league by street or unit (see the module docstring), ranked, without rank changes."""
    stock = case_kpis(table, base, by=by, as_of=end)
    month = case_kpis(table, CaseFilter(since=start, until=end, streets=base.streets), by=by, as_of=end)
    frame = pd.DataFrame({
        by: stock[by].to_numpy(),
        "cases": month["cases"].to_numpy(), "closed": month["closed"].to_numpy(),
        "closure_rate": month["closure_rate"].to_numpy(), "closed_late": month["closed_late"].to_numpy(),
        "open": stock["open"].to_numpy(), "overdue": stock["overdue"].to_numpy(),
    })
    frame = frame[(frame["cases"] > 0) | (frame["open"] > 0)] if by == "unit" else frame
    name = "unit" if by == "unit" else "street"
    return _rank(frame.rename(columns={by: name}), name)


def _with_changes(now: pd.DataFrame, before: pd.DataFrame, name: str) -> pd.DataFrame:
    prev = before.set_index(name)["rank"]
    out = now.copy()
    previous = out[name].map(prev)
    out.insert(2, "previous_rank", pd.array(previous, dtype="Int64"))
    out.insert(3, "rank_change", out["previous_rank"] - out["rank"])
    return out


def _campaign(ds: Dataset, street: str | None) -> pd.DataFrame | None:
    """The campaign's estates (`analysis.estates.campaign_estates`) of the scope; None when there are none."""
    e = ds.estates
    if e is None or len(e) == 0:
        return None
    try:
        camp = estates_analysis.campaign_estates(e)
    except AnalysisError:
        return None
    if street is not None:
        camp = camp[camp["street"] == street] if "street" in camp.columns else camp.iloc[0:0]
    return camp if len(camp) else None


def campaign_of(ds: Dataset, street: str | None = None) -> pd.DataFrame | None:
    """The campaign's estates of the district or ``street`` as the meeting counts its committees (None: none, or
    no stage dates or, for a street, no estate street column: the figure is unknown)."""
    if missing(ds, "meeting.committees") is not None:
        return None
    if street is not None and missing(ds, "meeting.estates_by_street") is not None:
        return None
    return _campaign(ds, street)


def _trend_args(ds: Dataset, table: CaseTable | None) -> dict[str, Any]:
    """What `trend_of` and `trends_of` give `analysis.history`: the data's month, its cases, whether overdue counts."""
    as_of = resolve_as_of(ds.meta_dict, ds.lazy_layer("cases")).date()
    has_cases = ds.rows("cases") > 0
    return {"year": as_of.year, "month": as_of.month, "as_of": as_of, "table": table if has_cases else None,
            "has_deadline": has_cases and missing(ds, "meeting.overdue") is None}


def trend_of(ds: Dataset, *, street: str | None = None, table: CaseTable | None = None) -> pd.DataFrame:
    """The five figures at the last 12 month ends up to the data's month (`analysis.history.figure_trend` with
    the meeting's definitions): the overview's sparklines, without building the whole brief."""
    return history.figure_trend(ds, street=street, campaign=campaign_of(ds, street), **_trend_args(ds, table))


def trends_of(ds: Dataset, *, streets: Sequence[str] | None = None,
              table: CaseTable | None = None) -> dict[str | None, pd.DataFrame]:
    """`trend_of` of the whole district (key None) and of each of ``streets`` (default: every street of ``ds``),
    worked out in one pass over the cases (`analysis.history.figure_trends`); frame for frame what `trend_of`
    gives street by street. A street `trend_of` refuses (not a street of the cases' table) is left out."""
    return history.figure_trends(ds, streets=tuple(ds.streets if streets is None else streets),
                                 campaign=campaign_of(ds),
                                 campaign_by_street=missing(ds, "meeting.estates_by_street") is None,
                                 **_trend_args(ds, table))


def _committees(camp: pd.DataFrame | None, day: dt.date) -> int | None:
    """Campaign estates whose owners' committee was formed by the end of ``day`` (the stage or beyond)."""
    if camp is None:
        return None
    counts = estates_analysis.stage_counts(camp, by=None, as_of=pd.Timestamp(day))
    return int(counts["reached_committee_formed"].iloc[0])


def _estates_sections(ds: Dataset, camp: pd.DataFrame | None, end: dt.date, *, by_street: bool = True
                      ) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[MeetingItem], list[tuple[str, dict]]]:
    """Campaign estates by stage per street at the month's end, the plan per street and stage, the streets behind.

    The plan needs ``meta.estates_target`` (`analysis.estates.plan_dates`); without it only the stages are shown.
    Without ``by_street`` (estates without a street) one district row (`analysis.estates.DISTRICT`) stands
    for them all, and no street is named behind.
    """
    if camp is None:
        return None, None, [], []
    if not by_street:
        camp = camp.assign(street=estates_analysis.DISTRICT)
    counts = estates_analysis.stage_counts(camp, by="street", as_of=pd.Timestamp(end))
    if by_street:
        counts = counts[counts["street"] != estates_analysis.DISTRICT]
    else:
        counts = counts.drop_duplicates("street")
    by_stage = counts[["street", "total", *estates_analysis.STAGES]].rename(columns={"total": "estates"})
    by_stage = by_stage.reset_index(drop=True)
    try:
        start, target, _ = estates_analysis.plan_dates(ds.meta_dict)
    except AnalysisError:
        return by_stage, None, [], [("meeting.note.no_plan", {})]
    plan = estates_analysis.street_progress(camp, start=start, target=target, as_of=pd.Timestamp(end))
    if not by_street:
        plan = plan.drop_duplicates(["street", "stage"])
    behind = plan[(plan["street"] != estates_analysis.DISTRICT) & plan["behind"]]
    worst = behind.sort_values(["shortfall"], ascending=[False], kind="mergesort").drop_duplicates("street")
    worst = worst.sort_values(["shortfall", "street"], ascending=[False, True], kind="mergesort")
    items = [MeetingItem("street_behind", str(r.street),
                         (("stage", str(r.stage)), ("actual", int(r.actual)), ("planned", int(r.planned)),
                          ("shortfall", int(r.shortfall)), ("total", int(r.total))))
             for r in worst.itertuples()]
    return by_stage, plan.reset_index(drop=True), items, []


def _hot(table: CaseTable, weights: GridWeights, street: str | None, start: dt.date, end: dt.date,
         prev_start: dt.date, prev_end: dt.date) -> tuple[pd.DataFrame | None, tuple[str, dict] | None]:
    streets = (street,) if street else ()
    n_grids = int(np.sum(np.asarray(table.grid_street) == table.streets.index(street))) if street \
        else table.n_grids
    if n_grids < MIN_GRIDS:
        return None, ("meeting.note.few_grids", {"n": n_grids, "min": MIN_GRIDS})
    results = []
    for since, until in ((start, end), (prev_start, prev_end)):
        try:
            results.append(hot_spots(table, weights, CaseFilter(since=since, until=until, streets=streets),
                                     permutations=0).frame)
        except AnalysisError:  # no cases in that month: nothing is hot
            results.append(None)
    now, before = results
    if now is None:
        return None, ("meeting.note.no_cases_month", {})
    keep = now["gi_z"].notna().to_numpy()
    prev_bin = before["gi_bin"].to_numpy() if before is not None else np.zeros(len(now), dtype="int64")
    prev_cases = before["cases"].to_numpy() if before is not None else np.zeros(len(now), dtype="int64")
    out = pd.DataFrame({
        "grid_id": now["grid_id"].to_numpy(), "street": now["street"].to_numpy(),
        "cases": now["cases"].to_numpy(), "gi_z": now["gi_z"].to_numpy(), "gi_bin": now["gi_bin"].to_numpy(),
        "previous_cases": prev_cases, "previous_bin": prev_bin,
    })[keep].reset_index(drop=True)
    out["newly_hot"] = (out["gi_bin"] >= 1) & (out["previous_bin"] <= 0)
    return out, None


# --- the brief ---------------------------------------------------------------------

def month_stations(ds: Dataset, end: dt.date) -> gpd.GeoDataFrame:
    """The facilities the meeting counts for a month ending on ``end``: with opening/closing dates, those operating
    at the end of that day (`analysis.history.operating_mask`); without, the layer as it is. The coverage figure,
    the gaps and the equity of a month all count these (one rule)."""
    if not history.has_facility_dates(ds):
        return ds.facilities
    return ds.facilities[history.operating_mask(ds.facilities, end)]


def meeting_brief(
    ds: Dataset,
    *,
    street: str | None = None,
    month: str | None = None,
    table: CaseTable | None = None,
    weights: GridWeights | None = None,
    coverage: CoverageResult | None = None,
    mask_personal: bool = True,
    followups: Sequence[FollowUp] | None = None,
    targets: Sequence[Target] | None = None,
    today: dt.date | None = None,
    year: int | None = None,
    weight: str = "elderly",
    survival: SurvivalTable | None = None,
) -> MeetingBrief:
    """The meeting's figures for the district (or ``street``) and ``month`` (default: the as-of month).

    ``table``/``weights``/``coverage`` may be passed when cached (the case
    table of ``ds``, its queen weights, the 300 m day-care coverage);
    otherwise they are built here (with facilities' opening dates, ``coverage`` is worked out again for the
    stations operating at the month's end). ``followups`` and ``targets``: the dataset's
    (`geo.storage.DatasetStore.list_followups` / ``list_targets``); ``today`` the day the follow-ups'
    state day is capped at (`analysis.followups.state_day`). ``year``/``weight``/``survival``: the demand (the
    module docstring; a ``coverage`` passed must count that demand). Raises `AnalysisError` with code
    ``analysis.street_unknown``, ``analysis.month_invalid`` or
    ``analysis.month_out_of_range``, and `analysis.projection`'s codes for a demand the data cannot give.
    """
    plan_year = year  # ``year`` below is the meeting month's year
    streets = ds.streets
    if street is not None and street not in streets:
        raise AnalysisError(f"street {street!r} does not exist; the dataset's streets are {', '.join(streets)}",
                            code="analysis.street_unknown", params={"street": street, "streets": "、".join(streets)})
    month = month or default_month(ds)
    year, mon = parse_month(month)
    months = available_months(ds)
    if _month_text(year, mon) not in months:
        raise AnalysisError(f"month {month} is outside the data: choose a month from {months[-1]} to {months[0]}",
                            code="analysis.month_out_of_range",
                            params={"month": month, "first": months[-1], "last": months[0]})
    # the people the current month's coverage counts (ds itself for today's aged 60+)
    counted = with_demand(ds, year=plan_year, weight=weight, survival=survival)
    as_of = resolve_as_of(ds.meta_dict, ds.lazy_layer("cases")).date()
    start = dt.date(year, mon, 1)
    end = min(_last_day(year, mon), as_of)
    py, pm = _previous(year, mon)
    prev_start, prev_end = dt.date(py, pm, 1), _last_day(py, pm)
    notes: list[tuple[str, dict]] = []
    needs = tuple(m for section in MEETING_SECTIONS if (m := missing(ds, section)) is not None)
    lacks = {m.section for m in needs}
    if "meeting.estates" in lacks:  # no estates section at all: its by-street line would be a second line
        needs = tuple(m for m in needs if m.section != "meeting.estates_by_street")

    dated = history.has_facility_dates(ds)
    history_needs = None if dated else missing(ds, "history.coverage")
    if dated:  # the stations operating at the month's end (a station opened since does not count yet)
        at_end = month_stations(ds, end)
        cov = _day_care_coverage(counted.with_layer("facilities", at_end)) if len(at_end) else None
    else:
        cov = coverage if coverage is not None else _day_care_coverage(counted)
    cov_grids = cov.grids if cov is not None else pd.DataFrame()
    if cov is None:
        notes.append(("meeting.note.no_day_care", {}))
    scope_grids = cov_grids[cov_grids["street"] == street] if (street and cov is not None) else cov_grids
    coverage_share = district_totals(scope_grids).covered_share if cov is not None else None

    by_street = "meeting.estates_by_street" not in lacks
    # no stage dates: nobody can tell who had formed a committee by a day, so no figure, no stage table
    camp = None if "meeting.estates" in lacks else _campaign(ds, street if by_street else None)
    if street is not None and not by_street:
        camp = None  # one street, estates without streets: none of them is known to be in it
        if "meeting.committees" not in lacks:  # so the street's committees figure is unknown too: say why
            needs = (*needs, Missing("meeting.committees", "estates", "street"))
    committees_now = _committees(camp, end)
    committees_before = _committees(camp, prev_end)
    by_stage, plan, estate_items, estate_notes = _estates_sections(ds, camp, end, by_street=by_street)
    notes.extend(estate_notes)

    has_cases = ds.rows("cases") > 0
    flt = CaseFilter(streets=(street,) if street else ())
    if has_cases:
        table = table if table is not None else case_table_from_dataset(ds)
        weights = weights if weights is not None else queen_weights(ds.grids)
        now = case_kpis(table, flt, as_of=end).iloc[0]
        before = case_kpis(table, flt, as_of=prev_end).iloc[0]
        m_now = case_kpis(table, CaseFilter(since=start, until=end, streets=flt.streets), as_of=end).iloc[0]
        m_before = case_kpis(table, CaseFilter(since=prev_start, until=prev_end, streets=flt.streets),
                             as_of=prev_end).iloc[0]
        has_deadline = "meeting.overdue" not in lacks  # without deadlines nothing is overdue or late: unknown
        # without closing times a case closed today would count as closed at last month's end too
        has_history = "meeting.changes" not in lacks
        case_figures = [
            KeyFigure("open", int(now["open"]), int(before["open"]) if has_history else None, "count"),
            KeyFigure("overdue", int(now["overdue"]) if has_deadline else None,
                      int(before["overdue"]) if has_deadline and has_history else None, "count"),
            KeyFigure("closure_rate", _float(m_now["closure_rate"]),
                      _float(m_before["closure_rate"]) if has_history else None, "share"),
        ]
        n_month = int(m_now["cases"])
        all_streets = CaseFilter()
        street_league = _with_changes(_league(table, "street", all_streets, start, end),
                                      _league(table, "street", all_streets, prev_start, prev_end), "street")
        if "meeting.units" in lacks:
            unit_league = pd.DataFrame(columns=["unit", *LEAGUE_COLUMNS])
        else:
            unit_league = _with_changes(_league(table, "unit", flt, start, end),
                                        _league(table, "unit", flt, prev_start, prev_end), "unit")
        for frame in (street_league, unit_league):
            if not has_deadline:
                frame[["overdue", "closed_late"]] = np.nan
            if not has_history:
                frame[["previous_rank", "rank_change"]] = pd.NA
        # only the overdue rows are read; personal fields masked, phone numbers too unless asked otherwise
        unmasked = overdue_list(ds.lazy_layer("cases"), table, flt, as_of=end, mask=False)
        overdue = mask_fields(unmasked)
        if not mask_personal and len(overdue):
            overdue["reporter_phone"] = unmasked["reporter_phone"]
        hot, note = _hot(table, weights, street, start, end, prev_start, prev_end)
        if note:
            notes.append(note)
    else:
        case_figures = [KeyFigure(k, None, None, "share" if k == "closure_rate" else "count")
                        for k in ("open", "overdue", "closure_rate")]
        n_month = 0
        street_league = pd.DataFrame(columns=["street", *LEAGUE_COLUMNS])
        unit_league = pd.DataFrame(columns=["unit", *LEAGUE_COLUMNS])
        overdue = pd.DataFrame()
        hot = None
        notes.append(("meeting.note.no_cases", {}))

    if cov is not None and len(street_league):
        shares = street_totals(cov_grids).set_index("street")["covered_share"]
        street_league["covered_share"] = street_league["street"].map(shares).astype("float64")
    street_league.insert(1, "selected", street_league["street"] == street if street else False)

    inputs = history.coverage_inputs(ds) if dated else None  # today's aged 60+: the trend
    counted_inputs = inputs if counted is ds or not dated else history.coverage_inputs(counted)
    coverage_before = history.coverage_at(counted_inputs, prev_end, street=street) if counted_inputs is not None \
        else None
    if dated and coverage_share is None and inputs is not None:
        coverage_share = 0.0  # no day-care station operating yet at the month's end
    trend = history.figure_trend(ds, year=year, month=mon, as_of=as_of, street=street, table=table if has_cases
                                 else None, inputs=inputs, with_coverage=dated, campaign=camp,
                                 has_deadline=has_cases and "meeting.overdue" not in lacks)
    fu_day = state_day(_month_text(year, mon), today=today)
    fu_frame = followups_for_month(followups, _month_text(year, mon), day=fu_day) if followups is not None \
        else None
    quarter = check = card = None
    if is_quarter_end_month(year, mon) and targets:
        q = quarter_text(year, (mon - 1) // 3 + 1)
        if any(t.quarter == q for t in targets):
            quarter = q
            check = check_targets(ds, targets, q, table=table if has_cases else None)
            card = scorecard(check)

    figures = (
        KeyFigure("coverage", coverage_share, coverage_before, "share"),
        *case_figures,
        KeyFigure("committees", committees_now, committees_before, "count"),
    )
    problems = [*estate_items, *_unit_items(unit_league), *_grid_items(hot)]
    meta = ds.meta_dict
    return MeetingBrief(
        district=meta.get("district") or ds.name, street=street, month=_month_text(year, mon),
        previous_month=_month_text(py, pm), month_start=start, month_end=end, previous_end=prev_end, as_of=as_of,
        synthetic=str(meta.get("synthetic", "")).lower() == "true", figures=figures,
        street_league=street_league, unit_league=unit_league, overdue=overdue,
        coverage_grids=scope_grids.reset_index(drop=True),
        gaps=gap_list(scope_grids) if cov is not None else pd.DataFrame(),
        hot=hot, estates_by_stage=by_stage, estates_plan=plan, problems=tuple(problems),
        notes=tuple((code, tuple(params.items())) for code, params in notes), n_cases_month=n_month,
        needs=needs, trend=trend, followups=fu_frame, followups_day=fu_day, quarter=quarter, targets=check,
        scorecard=card, history_needs=history_needs, demand_year=None if plan_year is None else int(plan_year),
        demand_weight=weight,
        survival=(survival or default_survival()) if plan_year is not None else None,
    )


def _float(value: object) -> float | None:
    v = float(value)
    return None if np.isnan(v) else v


def _day_care_coverage(ds: Dataset) -> CoverageResult | None:
    """The overview's coverage figure: operating day-care stations, 300 m straight line, aged 60+."""
    if ds.facilities is None or not (ds.facilities["type"] == COVERAGE_TYPE).any():
        return None
    return compute_coverage(ds, facility_types=(COVERAGE_TYPE,), radius_m=COVERAGE_RADIUS_M, distance="euclidean",
                            weight="elderly", include_planned=False)


def _unit_items(league: pd.DataFrame) -> list[MeetingItem]:
    top = league[league["overdue"].astype("float64") > 0].sort_values(["overdue", "unit"], ascending=[False, True],
                                                    kind="mergesort").head(TOP_UNITS)
    return [MeetingItem("unit_overdue", str(r.unit), (("overdue", int(r.overdue)), ("open", int(r.open))))
            for r in top.itertuples()]


def _grid_items(hot: pd.DataFrame | None) -> list[MeetingItem]:
    if hot is None:
        return []
    new = hot[hot["newly_hot"]].sort_values(["gi_z", "grid_id"], ascending=[False, True]).head(TOP_GRIDS)
    return [MeetingItem("grid_new_hot", str(r.grid_id),
                        (("street", str(r.street)), ("cases", int(r.cases)), ("previous_cases", int(r.previous_cases)),
                         ("gi_z", round(float(r.gi_z), 2))))
            for r in new.itertuples()]
