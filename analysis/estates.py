"""Self-governance of estates (小区自治): stages, progress against the plan, the property-company league.

The campaign: every estate on the district's list (in Shifeng the 182
unmanaged estates of 2019) goes through four steps, in order, to a target date
planned backwards from the deadline (倒排工期、挂图作战).

Contract
--------
Every function here is pure (no Streamlit), never mutates its inputs, and
raises `AnalysisError` (codes ``analysis.estates_*``) for what it cannot do.

* **Stages** (`STAGES`, ordered): ``none`` 未启动 < ``committee_formed``
  业委会已成立 < ``rules_adopted`` 规约已通过 < ``managed`` 已引入物业或自管 <
  ``fees_started`` 已启动收费. An estate that reached a stage has reached every
  earlier one.
* **Campaign estates**: the rows whose ``governance_stage`` is filled in; a
  layer without that column (or with it empty throughout) takes the estates
  whose ``management`` is ``unmanaged``. Other estates are not counted. The
  rule is written once, `geo.derive.campaign_mask`, which also fills in the
  stage of the listed estates at import (from their dates at ``as_of``).
* **When a stage was reached** (`reached_dates`): the stage's date column
  (``committee_formed_on``, ``rules_adopted_on``, ``managed_on``,
  ``fees_started_on``); a missing date is taken from the earliest later stage
  (reaching a later stage means the earlier ones were done by then).
* **Stage of an estate** (`stage_on`): with ``as_of=None`` the current stage
  is the later of the ``governance_stage`` column and the last dated stage;
  with a date, the last stage reached on or before that day (end of day).
* **Plan** (`plan_progress`): milestones at the end of each calendar month
  from the month of ``start`` up to ``target``, the last one on ``target``
  itself (M milestones; a target on a month end ends its month). For each
  stage, with N campaign estates and B that had reached the stage before
  ``start``, the milestone of month i (1..M) is ``B + ceil((N - B) * i / M)``:
  a straight line from B to N, rounded up to whole estates. A milestone is due
  at its month end; on a day ``as_of`` the plan asks for the last milestone
  due on or before it (B before the first month end).
* **Progress** (`street_progress`): per street (and the district, street
  `DISTRICT`) and stage: ``total`` N, ``base`` B, ``planned`` (due milestone),
  ``actual`` (reached by ``as_of``), ``shortfall = max(planned - actual, 0)``,
  ``behind = actual < planned``, ``months_left`` (milestones after ``as_of``),
  ``required_per_month = (N - actual) / months_left`` (the pace needed from
  now to finish on time; NaN when no month is left), ``actual_per_month =
  (actual - B) / months_elapsed`` (the pace so far; NaN before the first
  month end).
* **League** (`company_league`): property companies ranked by the mean
  satisfaction (0-100) of the estates they run; companies with fewer than
  ``min_estates`` scored estates are left out; the best ``n`` are the red
  list (红榜), the worst ``n`` the black list (黑榜), never overlapping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.assign import assign_grid_ids
from geo.derive import campaign_mask
from geo.errors import AnalysisError
from geo.schema import GOVERNANCE_STAGES, SELF_GOV_MODELS, STAGE_DATE_COLUMNS

STAGES: tuple[str, ...] = tuple(GOVERNANCE_STAGES)
STAGE_LABELS: dict[str, str] = dict(GOVERNANCE_STAGES)
MODELS: tuple[str, ...] = tuple(SELF_GOV_MODELS)
MODEL_LABELS: dict[str, str] = dict(SELF_GOV_MODELS)
DISTRICT = "全区"  # the street value of district-wide rows

__all__ = [
    "DISTRICT", "MODELS", "MODEL_LABELS", "STAGES", "STAGE_LABELS",
    "behind_streets", "campaign_estates", "company_league", "estates_at_stage", "month_ends",
    "plan_dates", "plan_progress", "reached_dates", "stage_counts", "stage_on", "street_progress",
]


def _stage_index(stage: str) -> int:
    if stage not in STAGES:
        raise AnalysisError(f"`stage` was {stage!r} but is expected to be one of {STAGES}",
                            code="analysis.estates_unknown_stage", params={"stage": stage, "choices": STAGES})
    return STAGES.index(stage)


def _day_end(day: object) -> pd.Timestamp:
    """The first instant after ``day`` (dates are compared at the end of the day)."""
    return pd.Timestamp(day).normalize() + pd.Timedelta(days=1)


def plan_dates(meta: Mapping[str, str]) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """The plan's ``(start, target, as_of)`` from a dataset's ``meta``.

    Keys: ``estates_target`` (required), ``estates_plan_start`` (default: 1
    January of the target's year) and ``as_of`` (default: today).
    """
    if not meta.get("estates_target"):
        raise AnalysisError("the dataset has no target date for the estates campaign (meta estates_target)",
                            code="analysis.estates_no_target")
    out = []
    for key, default in (("estates_plan_start", None), ("estates_target", None), ("as_of", None)):
        text = meta.get(key) or default
        if text is None:
            out.append(None)
            continue
        try:
            out.append(pd.Timestamp(str(text)).normalize())
        except (ValueError, TypeError) as exc:
            raise AnalysisError(f"meta {key} {text!r} is not a date", code="analysis.estates_bad_date",
                                params={"key": key, "value": text}) from exc
    start, target, as_of = out
    start = start if start is not None else pd.Timestamp(year=target.year, month=1, day=1)
    as_of = as_of if as_of is not None else pd.Timestamp.today().normalize()
    return start, target, as_of


def campaign_estates(estates: pd.DataFrame) -> pd.DataFrame:
    """The estates on the campaign's list (see the Contract), in their original order."""
    if estates is None or len(estates) == 0:
        raise AnalysisError("there is no estates layer", code="analysis.estates_missing")
    out = estates[campaign_mask(estates).to_numpy(dtype=bool)]
    if len(out) == 0:
        raise AnalysisError("no estate is on the self-governance list (no governance_stage and none unmanaged)",
                            code="analysis.estates_none_in_campaign")
    return out


def reached_dates(estates: pd.DataFrame) -> pd.DataFrame:
    """When each estate reached each stage after ``none`` (NaT: not yet, or not recorded).

    Columns ``committee_formed`` .. ``fees_started``; a missing date takes the
    earliest date of a later stage.
    """
    out = pd.DataFrame(index=estates.index)
    for stage, col in STAGE_DATE_COLUMNS.items():
        out[stage] = pd.to_datetime(estates[col]) if col in estates.columns else pd.NaT
    out = out.astype("datetime64[ns]")
    # backward cumulative minimum: reaching a later stage implies the earlier ones by then
    later = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    for stage in reversed(list(STAGE_DATE_COLUMNS)):
        col = out[stage]
        later = col.where(later.isna() | (col.notna() & (col <= later)), later)
        out[stage] = later
    return out


def stage_on(estates: pd.DataFrame, as_of: object = None) -> pd.Series:
    """The stage code of each estate now (``as_of=None``) or at the end of day ``as_of``."""
    dates = reached_dates(estates)
    idx = np.zeros(len(estates), dtype=np.int64)
    cutoff = None if as_of is None else _day_end(as_of)
    for k, stage in enumerate(STAGE_DATE_COLUMNS, start=1):
        reached = dates[stage].notna() if cutoff is None else (dates[stage] < cutoff)
        idx = np.where(reached.to_numpy(), k, idx)
    if as_of is None and "governance_stage" in estates.columns:
        col = estates["governance_stage"].map({s: i for i, s in enumerate(STAGES)})
        idx = np.maximum(idx, col.fillna(0).astype(int).to_numpy())
    return pd.Series(np.array(STAGES, dtype=object)[idx], index=estates.index, name="stage")


def _reached_since(estates: pd.DataFrame, stage: pd.Series) -> pd.Series:
    dates = reached_dates(estates)
    out = pd.Series(pd.NaT, index=estates.index, dtype="datetime64[ns]")
    for s in STAGE_DATE_COLUMNS:
        out = out.where(stage != s, dates[s])
    return out


def _streets(frame: pd.DataFrame) -> pd.Series:
    if "street" not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    return frame["street"].astype(object).where(frame["street"].notna(), "")


def stage_counts(estates: pd.DataFrame, *, by: str | None = "street", as_of: object = None) -> pd.DataFrame:
    """Campaign estates at each stage, per ``by`` (a column such as street or community) or district-wide.

    Columns: ``by`` (or ``street`` = `DISTRICT` when ``by=None``), one count
    per stage in `STAGES` order, ``total``, ``reached_<stage>`` (at that stage
    or beyond) for each stage after ``none``, and ``done_share`` (share at
    ``fees_started``). One row per group, sorted by the group's name, then a
    district row (`DISTRICT`) when grouped.
    """
    camp = campaign_estates(estates)
    stage = stage_on(camp, as_of)
    key = "street" if by is None else by
    if by is not None and by not in camp.columns:
        raise AnalysisError(f"`by` was {by!r} but the estates layer has no such column",
                            code="analysis.estates_unknown_column", params={"column": by})
    groups = pd.Series(DISTRICT, index=camp.index) if by is None else camp[by].astype(object).fillna("")
    table = pd.crosstab(groups, pd.Categorical(stage, categories=list(STAGES))).reindex(columns=list(STAGES),
                                                                                      fill_value=0)
    table.columns = list(STAGES)
    table = table.sort_index()
    if by is not None:
        table.loc[DISTRICT] = table.sum()
    table = table.astype(np.int64)
    table["total"] = table[list(STAGES)].sum(axis=1)
    for k, s in enumerate(STAGES[1:], start=1):
        table[f"reached_{s}"] = table[list(STAGES[k:])].sum(axis=1)
    table["done_share"] = table["fees_started"] / table["total"]
    table.index.name = key
    table.columns.name = None
    return table.reset_index()


def month_ends(start: object, target: object) -> pd.DatetimeIndex:
    """The milestone days: the last day of every month from ``start``'s month, up to and ending on ``target``."""
    s, t = pd.Timestamp(start).normalize(), pd.Timestamp(target).normalize()
    if t < s:
        raise AnalysisError(f"the target date {t.date()} is before the plan start {s.date()}",
                            code="analysis.estates_target_before_start",
                            params={"start": str(s.date()), "target": str(t.date())})
    ends = pd.date_range(s.to_period("M").to_timestamp(), t, freq="ME").normalize()
    return ends[ends < t].append(pd.DatetimeIndex([t]))


def _counts_by_street(camp: pd.DataFrame, dates: pd.DataFrame, cutoffs: Sequence[pd.Timestamp],
                      street: str | None) -> dict[str, pd.DataFrame]:
    """{street or DISTRICT: frame[stage x cutoff] of estates that reached the stage before each cutoff}."""
    streets = _streets(camp)
    names = [street] if street is not None else [*sorted(streets.unique()), DISTRICT]
    out: dict[str, pd.DataFrame] = {}
    cut = np.array(cutoffs, dtype="datetime64[ns]")
    for name in names:
        mask = np.ones(len(camp), dtype=bool) if name == DISTRICT else (streets == name).to_numpy()
        rows = {}
        for stage in STAGE_DATE_COLUMNS:
            d = dates[stage].to_numpy()[mask]
            d = d[~np.isnat(d)]
            rows[stage] = np.searchsorted(np.sort(d), cut, side="left")  # reached strictly before the cutoff
        out[name] = pd.DataFrame(rows, index=pd.DatetimeIndex(cutoffs)).T
        out[name].attrs["total"] = int(mask.sum())
    return out


def _check_street(camp: pd.DataFrame, street: str | None) -> None:
    if street is not None and street not in set(_streets(camp)):
        raise AnalysisError(f"no estate of the campaign is in street {street!r}",
                            code="analysis.estates_unknown_street", params={"street": street})


def plan_progress(estates: pd.DataFrame, *, start: object, target: object, as_of: object,
                  street: str | None = None) -> pd.DataFrame:
    """Month by month, the planned and actual number of campaign estates that reached each stage.

    One row per (street, stage, month end) for every street and the district
    (`DISTRICT`), or for ``street`` only. Columns: ``street``, ``stage``,
    ``month`` (the month's last day), ``total`` (N), ``base`` (B),
    ``planned`` (the milestone, see the Contract), ``actual`` (reached by the
    end of that month; NaN for month ends after ``as_of``; at ``as_of``'s own
    month the count at ``as_of``), ``remaining_planned = N - planned`` and
    ``remaining_actual = N - actual`` (the burn-down).
    """
    camp = campaign_estates(estates)
    _check_street(camp, street)
    ends = month_ends(start, target)
    start_ts, as_of_ts = pd.Timestamp(start).normalize(), pd.Timestamp(as_of).normalize()
    cut = [start_ts, *[_day_end(e) for e in ends], _day_end(as_of_ts)]
    counts = _counts_by_street(camp, reached_dates(camp), cut, street)
    m = len(ends)
    rows = []
    for name, table in counts.items():
        total = table.attrs["total"]
        for stage in STAGE_DATE_COLUMNS:
            vals = table.loc[stage].to_numpy()
            base = int(vals[0])
            at_as_of = int(vals[-1])
            for i, end in enumerate(ends, start=1):
                planned = base + math.ceil((total - base) * i / m)
                if end <= as_of_ts:
                    actual = float(vals[i])
                elif end.to_period("M") == as_of_ts.to_period("M"):
                    actual = float(at_as_of)
                else:
                    actual = np.nan
                rows.append((name, stage, end, total, base, planned, actual))
    out = pd.DataFrame(rows, columns=["street", "stage", "month", "total", "base", "planned", "actual"])
    out["remaining_planned"] = out["total"] - out["planned"]
    out["remaining_actual"] = out["total"] - out["actual"]
    return out


def street_progress(estates: pd.DataFrame, *, start: object, target: object, as_of: object,
                    stage: str | None = None, street: str | None = None) -> pd.DataFrame:
    """Where each street stands against the plan on ``as_of`` (columns in the Contract).

    One row per (street, stage) — every street then the district (`DISTRICT`),
    or ``street`` only; ``stage`` keeps one stage. Columns: ``street``,
    ``stage``, ``total``, ``base``, ``planned``, ``actual``, ``shortfall``,
    ``behind``, ``months_elapsed``, ``months_left``, ``required_per_month``,
    ``actual_per_month``.
    """
    if stage is not None and _stage_index(stage) == 0:
        raise AnalysisError("the plan counts estates that reached a stage; `none` is where they start",
                            code="analysis.estates_unknown_stage", params={"stage": stage, "choices": STAGES[1:]})
    camp = campaign_estates(estates)
    _check_street(camp, street)
    ends = month_ends(start, target)
    start_ts, as_of_ts = pd.Timestamp(start).normalize(), pd.Timestamp(as_of).normalize()
    due = int((ends <= as_of_ts).sum())
    m = len(ends)
    counts = _counts_by_street(camp, reached_dates(camp), [start_ts, _day_end(as_of_ts)], street)
    rows = []
    for name, table in counts.items():
        total = table.attrs["total"]
        for s in STAGE_DATE_COLUMNS if stage is None else (stage,):
            base, actual = (int(v) for v in table.loc[s].to_numpy())
            planned = base + math.ceil((total - base) * due / m) if due else base
            left = m - due
            rows.append({
                "street": name, "stage": s, "total": total, "base": base, "planned": planned, "actual": actual,
                "shortfall": max(planned - actual, 0), "behind": actual < planned,
                "months_elapsed": due, "months_left": left,
                "required_per_month": (total - actual) / left if left else np.nan,
                "actual_per_month": (actual - base) / due if due else np.nan,
            })
    return pd.DataFrame(rows)


def behind_streets(estates: pd.DataFrame, *, start: object, target: object, as_of: object,
                   stage: str = "fees_started") -> pd.DataFrame:
    """The streets behind the plan for ``stage`` on ``as_of``, largest shortfall first (no district row)."""
    prog = street_progress(estates, start=start, target=target, as_of=as_of, stage=stage)
    out = prog[(prog["street"] != DISTRICT) & prog["behind"]]
    return out.sort_values(["shortfall", "street"], ascending=[False, True], kind="stable").reset_index(drop=True)


def estates_at_stage(estates: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | None, stage: str | None = None, *,
                     as_of: object = None, street: str | None = None, days_to: object = None) -> pd.DataFrame:
    """The campaign estates at ``stage`` (all when None), with the grid they lie in and its grid worker.

    Columns: ``estate_id``, ``name``, ``street``, ``community``,
    ``households``, ``stage``, ``since`` (the day the stage was reached; NaT
    for ``none`` or undated), ``days_at_stage`` (to ``days_to`` when given,
    else to ``as_of``, else to the latest recorded date), ``self_gov_model``,
    ``grid_id``, ``grid_name``, ``grid_worker`` (the grid holding the
    estate's representative point). Longest at their stage first.
    """
    if stage is not None:
        _stage_index(stage)
    camp = campaign_estates(estates)
    now = stage_on(camp, as_of)
    since = _reached_since(camp, now)
    out = pd.DataFrame({c: camp[c] if c in camp.columns else pd.NA
                        for c in ("estate_id", "name", "street", "community", "households")}, index=camp.index)
    out["stage"] = now
    out["since"] = since
    if days_to is not None or as_of is not None:
        ref = pd.Timestamp(days_to if days_to is not None else as_of).normalize()
    else:
        dated = reached_dates(camp).stack()
        ref = dated.max() if len(dated) else pd.NaT
    out["days_at_stage"] = (ref - since).dt.days.astype("Int64")
    out["self_gov_model"] = camp["self_gov_model"] if "self_gov_model" in camp.columns else pd.NA
    keep = np.ones(len(out), dtype=bool)
    if stage is not None:
        keep &= (out["stage"] == stage).to_numpy()
    if street is not None:
        keep &= (_streets(camp) == street).to_numpy()
    out = out[keep]
    sel = camp[keep]
    if grids is not None and len(sel) and isinstance(sel, gpd.GeoDataFrame):
        pts = gpd.GeoDataFrame(geometry=sel.geometry.representative_point(), crs=sel.crs)
        out["grid_id"] = assign_grid_ids(pts, grids).to_numpy()
        info = grids.set_index("grid_id")
        for c in ("grid_name", "grid_worker"):
            out[c] = out["grid_id"].map(info[c]) if c in info.columns else pd.NA
    else:
        out["grid_id"] = pd.NA
        out["grid_name"] = pd.NA
        out["grid_worker"] = pd.NA
    order = np.lexsort((out["estate_id"].astype(str).to_numpy(),
                        -out["days_at_stage"].fillna(-1).astype("int64").to_numpy(),
                        out["stage"].map(STAGES.index).to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def company_league(estates: pd.DataFrame, *, min_estates: int = 2, n: int = 3) -> pd.DataFrame:
    """Property companies by the mean satisfaction of their estates: the red list and the black list.

    Every estate with both ``property_company`` and ``satisfaction`` counts
    (campaign or not). Columns: ``property_company``, ``estates``,
    ``households``, ``mean_satisfaction``, ``min_satisfaction``, ``rank``
    (1 = most satisfied; ties share the better rank), ``list`` (``red``,
    ``black`` or ``""``). Companies with fewer than ``min_estates`` scored
    estates are left out. Sorted by rank, then name.
    """
    if min_estates < 1:
        raise AnalysisError(f"`min_estates` was {min_estates} but must be at least 1",
                            code="analysis.estates_min_estates", params={"value": min_estates})
    if n < 0:
        raise AnalysisError(f"`n` was {n} but must be zero or more", code="analysis.estates_league_size",
                            params={"value": n})
    cols = ["property_company", "estates", "households", "mean_satisfaction", "min_satisfaction", "rank", "list"]
    if estates is None or not {"property_company", "satisfaction"} <= set(estates.columns):
        return pd.DataFrame(columns=cols)
    scored = estates[estates["property_company"].notna() & estates["satisfaction"].notna()]
    hh = scored["households"] if "households" in scored.columns else pd.Series(0, index=scored.index)
    g = pd.DataFrame({"company": scored["property_company"].astype(str),
                      "sat": scored["satisfaction"].astype("float64"),
                      "hh": hh.fillna(0).astype("int64")}).groupby("company", sort=True)
    table = pd.DataFrame({"estates": g.size(), "households": g["hh"].sum(),
                          "mean_satisfaction": g["sat"].mean(), "min_satisfaction": g["sat"].min()})
    table = table[table["estates"] >= min_estates]
    table.index.name = "property_company"
    table = table.reset_index()
    table["rank"] = table["mean_satisfaction"].rank(method="min", ascending=False).astype("int64")
    table = table.sort_values(["rank", "property_company"], kind="stable").reset_index(drop=True)
    k = min(n, len(table) // 2)
    lst = np.full(len(table), "", dtype=object)
    lst[:k] = "red"
    if k:
        lst[len(table) - k:] = "black"
    table["list"] = lst
    return table[cols]
