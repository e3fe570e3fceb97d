"""The follow-ups (督办) a month's meeting lists, each with its state.

Contract
--------
- The meeting about month M lists the follow-ups decided at its own meeting (``meeting`` = M,
  ``decided_here``) and those carried from earlier meetings (``meeting`` < M) that were not already done
  before M began (done earlier: reported done at an earlier meeting).
- The *state day* of the material about M (`state_day`) is when the meeting about M is held: within the
  month after M, so its last day, or today while that day is still ahead. Each follow-up's state
  (`geo.followups.followup_state`: open / done / overdue) is judged at the end of that day; a follow-up
  closed after it is still open in that material.
- Order: overdue first, then open, then done; within each, by due month, then id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from analysis.cases import resolve_as_of
from geo.dataset import Dataset
from geo.errors import AnalysisError
from geo.followups import FollowUp, followup_state, month_last_day

FOLLOWUP_COLUMNS: tuple[str, ...] = ("id", "title", "unit", "street", "due", "meeting", "state", "done_on", "note",
                                     "decided_here")
_STATE_ORDER = {"overdue": 0, "open": 1, "done": 2}


def next_month(month: str) -> str:
    y, m = (int(p) for p in month.split("-"))
    return f"{y + 1:04d}-01" if m == 12 else f"{y:04d}-{m + 1:02d}"


def state_day(month: str, *, today: dt.date | None = None) -> dt.date:
    """The day the follow-ups of the material about ``month`` are judged at (the Contract)."""
    today = today or dt.date.today()
    return min(today, month_last_day(next_month(month)))


def followups_for_month(followups: Sequence[FollowUp], month: str, *, day: dt.date) -> pd.DataFrame:
    """The follow-ups the meeting about ``month`` lists, with their state at ``day`` (`FOLLOWUP_COLUMNS`)."""
    start = dt.date.fromisoformat(f"{month}-01")
    rows = []
    for fu in followups:
        if fu.meeting > month:
            continue
        if fu.meeting < month and fu.done_on is not None and dt.date.fromisoformat(fu.done_on) < start:
            continue
        state = followup_state(fu, day)
        rows.append({"id": fu.id, "title": fu.title, "unit": fu.unit, "street": fu.street, "due": fu.due,
                     "meeting": fu.meeting, "state": state, "done_on": fu.done_on if state == "done" else None,
                     "note": fu.note if state == "done" else None, "decided_here": fu.meeting == month})
    frame = pd.DataFrame(rows, columns=list(FOLLOWUP_COLUMNS))
    if len(frame):
        frame = frame.assign(_o=frame["state"].map(_STATE_ORDER)).sort_values(
            ["_o", "due", "id"], kind="mergesort").drop(columns="_o").reset_index(drop=True)
    return frame.astype({"id": "int64", "decided_here": "bool"})


def state_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many of the listed follow-ups are open, done and overdue."""
    return {s: int((frame["state"] == s).sum()) for s in ("open", "done", "overdue")}


def check_street(ds: Dataset, street: str | None) -> str | None:
    """``street`` when the dataset has it (None passes); else `AnalysisError` ``analysis.street_unknown``."""
    if street is None or not str(street).strip():
        return None
    street = str(street).strip()
    streets = ds.streets
    if street not in streets:
        raise AnalysisError(f"street {street!r} does not exist; the dataset's streets are {', '.join(streets)}",
                            code="analysis.street_unknown", params={"street": street, "streets": "、".join(streets)})
    return street


def default_day(ds: Dataset, *, today: dt.date | None = None) -> dt.date:
    """The day a follow-up is closed on and the list is judged at unless one is given: the `state_day` of the
    data's latest month (today, while the data is current)."""
    as_of = resolve_as_of(ds.meta_dict, ds.lazy_layer("cases")).date()  # the month analysis.meeting defaults to
    return state_day(f"{as_of.year:04d}-{as_of.month:02d}", today=today)
