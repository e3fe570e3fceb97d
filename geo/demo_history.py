"""The demo's history for the meeting's loop: facilities' opening dates, a few follow-ups, one quarter of targets.

Everything here comes from a random stream of its own (``default_rng([seed, HISTORY_STREAM])``) or is fixed
text, so the demo's other layers and columns stay exactly as they were (`geo.demo`).

- ``opened_on``: operating day-care stations, about 60 % opened from 2018-01-01 to two weeks before the
  as-of day (the district's station programme), the rest in 2012-2017; the other operating facilities in
  2005-2017; planned ones have none. With an as-of day less than a year after 2018-01-01 (the Wuchang
  scale's 2016-12-31) the programme is the 18 months before those two weeks and the older dates end where
  it begins, so no station opens after the as-of day. No station of the demo has closed (no ``closed_on`` column), so the
  as-of month's coverage is the one every page already shows.
- Follow-ups (督办): decisions of the meetings about the three months before the as-of month and the
  as-of month, some done, one overdue; targets (预安): the quarter that ends on the as-of day (the demo's
  as-of day is a quarter's last day), per responsible unit and per street, some met and some not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.followups import FollowUp, Target, new_followup, new_target

HISTORY_STREAM = 10
DAY_CARE_NEW_SHARE = 0.6
PROGRAMME_START = pd.Timestamp("2018-01-01")


def facility_dates(rng: np.random.Generator, facilities: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """One column, ``opened_on`` (datetime64, NaT for planned facilities), aligned with ``facilities``."""
    n = len(facilities)
    end = pd.Timestamp(as_of) - pd.Timedelta(days=14)
    programme = PROGRAMME_START
    dc_span, other_span = 6 * 365, 13 * 365  # the older stations: 2012-2017, the other facilities 2005-2017
    if (end - programme).days < 365:  # an earlier as-of day (Wuchang's 2016): the programme ran its last 18 months
        programme = end - pd.DateOffset(months=18)
        dc_span = max((programme - pd.Timestamp("2012-01-01")).days, 1)
        other_span = max((programme - pd.Timestamp("2005-01-01")).days, 1)
    day_care = (facilities["type"] == "day_care").to_numpy(dtype=bool)
    planned = (facilities["status"].astype("string").fillna("operating") == "planned").to_numpy(dtype=bool) \
        if "status" in facilities.columns else np.zeros(n, dtype=bool)
    new = rng.random(n) < DAY_CARE_NEW_SHARE
    recent = programme + pd.to_timedelta(rng.integers(0, max((end - programme).days, 1), n), unit="D")
    older_dc = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, dc_span, n), unit="D")
    older = pd.Timestamp("2005-01-01") + pd.to_timedelta(rng.integers(0, other_span, n), unit="D")
    opened = np.where(day_care, np.where(new, recent.to_numpy(), older_dc.to_numpy()), older.to_numpy())
    opened = pd.Series(pd.to_datetime(opened).normalize(), index=facilities.index)
    opened[planned] = pd.NaT
    return pd.DataFrame({"opened_on": opened.astype("datetime64[ms]")}, index=facilities.index)


def next_month(month: str) -> str:
    return (pd.Period(month, "M") + 1).strftime("%Y-%m")


def _months_before(as_of: pd.Timestamp, k: int) -> str:
    return (as_of.to_period("M") - k).strftime("%Y-%m")


def meeting_records(streets: list[str], as_of: str) -> tuple[list[FollowUp], list[Target]]:
    """The demo's follow-ups (closed ones with their day and note) and the targets of the as-of quarter."""
    day = pd.Timestamp(as_of)
    m = [_months_before(day, k) for k in (3, 2, 1, 0)]  # three months before the as-of month, then it
    s = sorted(streets) + [None] * 5
    items = [
        (dict(title="清理背街小巷占道经营，建立长效巡查", unit="城管", due=m[1], meeting=m[0], street=s[0]),
         (f"{m[1]}-20", "已建立每日巡查台账，占道经营点位清零")),
        (dict(title="老旧小区路灯维修，夜间照明全覆盖", unit="住建", due=m[2], meeting=m[1], street=s[1]),
         (f"{m[2]}-25", "维修路灯 46 盏，已验收")),
        (dict(title="逾期未办结事件逐件销号", unit="城管", due=m[2], meeting=m[1], street=None), None),
        (dict(title="无物业小区业委会组建攻坚", unit="街道办", due=m[3], meeting=m[2], street=s[2]),
         (f"{m[3]}-18", "新成立业委会 5 个")),
        (dict(title="餐饮油烟投诉集中整治", unit="环保", due=_months_before(day, -1), meeting=m[2], street=s[3]), None),
        (dict(title="日间照料中心选址报批", unit="民政", due=_months_before(day, -2), meeting=m[3], street=s[4]), None),
    ]
    followups = []
    for i, (fields, done) in enumerate(items, start=1):
        fu = new_followup(**fields)
        recorded = f"{next_month(fu.meeting)}-05T10:00:00+08:00"  # the meeting is held early the next month
        fu = FollowUp(**{**fu.__dict__, "id": i, "recorded_at": recorded, "author": "网格办"})
        if done is not None:
            fu = FollowUp(**{**fu.__dict__, "done_on": done[0], "note": done[1]})
        followups.append(fu)
    quarter = f"{day.year}Q{(day.month - 1) // 3 + 1}"
    targets = [new_target(quarter=quarter, kind="unit", subject=u, measure="closure_rate", minimum=0.9)
               for u in ("城管", "住建", "街道办", "环保")]
    targets += [new_target(quarter=quarter, kind="unit", subject=u, measure="overdue", maximum=10)
                for u in ("城管", "住建", "街道办", "环保")]
    targets += [new_target(quarter=quarter, kind="street", subject=st, measure="committees", minimum=20)
                for st in sorted(streets)]
    targets += [new_target(quarter=quarter, kind="street", subject=st, measure="coverage", minimum=0.1)
                for st in sorted(streets)]
    stamp = f"{day.year}-{3 * ((day.month - 1) // 3) + 1:02d}-08T09:00:00+08:00"
    targets = [Target(**{**t.__dict__, "set_at": stamp, "author": "网格办"}) for t in targets]
    return followups, targets


def write_meeting_records(path, ds) -> None:
    """The demo's follow-ups and targets (`meeting_records`) into the GeoPackage ``path`` (`geo._gpkg_meeting`)."""
    from geo import _gpkg_meeting

    followups, targets = meeting_records(list(ds.streets), dict(ds.meta)["as_of"])
    _gpkg_meeting.clear(path)  # a file regenerated in place carries its old tables over (geo.dataset)
    for fu in followups:
        _gpkg_meeting.add_followup(path, fu, keep_id=True)
    for t in targets:
        _gpkg_meeting.set_target(path, t)
