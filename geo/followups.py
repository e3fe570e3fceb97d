"""The meeting's follow-ups (督办事项) and quarterly targets (预安): what they are and how they are checked.

Contract
--------
Both belong to the dataset, not to one version (as scenarios do): restoring data never loses a decision
or a target. They are store methods only (`geo.storage.DatasetStore`: ``list_followups``, ``add_followup``,
``close_followup``, ``list_targets``, ``set_target``, ``delete_target``), on both backends; the workspace
keeps them in two tables of the dataset's ``scenarios.gpkg`` (`geo._gpkg_meeting`), PostGIS in
``gridatlas.followups`` and ``gridatlas.targets``. Who changed what is in the audit log, written by the
caller (the page, the CLI), as for scenarios.

- A `FollowUp`: ``title`` (what was decided), responsible ``unit``, ``street`` (optional), ``due`` month
  (``YYYY-MM``), the ``meeting`` month it was decided at (``YYYY-MM``), ``id`` (1, 2, … per dataset, given
  by the store), who recorded it and when; once done, ``done_on`` (a day) and a ``note``. A follow-up is
  closed once; it is never deleted.
- Its *state* at a day D (`followup_state`): ``done`` when ``done_on`` ≤ D; else ``overdue`` when D is after
  the last day of the ``due`` month; else ``open``.
- A `Target`: a ``quarter`` (``YYYYQn``), a subject (``kind`` ``unit`` or ``street`` and its name), a
  ``measure`` of `MEASURES` and a ``threshold``: the measure's value must be at least (``min``) or at
  most (``max``) it, in the measure's own direction (`MEASURES`). Shares are 0..1, counts whole numbers ≥ 0.
  The estates and coverage measures are a street's (`STREET_ONLY`). One target per quarter, subject and
  measure: setting it again replaces it.

Every refusal is a `DataError` with a code (``data.followup_*``, ``data.target_*``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from geo.calendar import parse_quarter, quarter_text
from geo.errors import DataError, Problem

MEASURES: dict[str, str] = {
    "closure_rate": "min",  # of the cases reported in the quarter, the share closed by its end
    "overdue": "max",  # cases overdue at the quarter's end
    "closed_late": "max",  # of the cases reported in the quarter, closed after their deadline by its end
    "committees": "min",  # campaign estates with an owners' committee by the quarter's end
    "coverage": "min",  # share of the aged 60+ within 300 m of an operating day-care station at the quarter's end
}
SHARE_MEASURES: tuple[str, ...] = ("closure_rate", "coverage")
STREET_ONLY: tuple[str, ...] = ("committees", "coverage")
SUBJECT_KINDS: tuple[str, ...] = ("unit", "street")
STATES: tuple[str, ...] = ("open", "done", "overdue")
MAX_TEXT_CHARS = 200
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def _problem(message: str, fix: str, code: str, *, layer: str = "followups", **params: object) -> DataError:
    return DataError([Problem(layer, message, fix, code=code, params=params)])


def check_month(text: str, what: str) -> str:
    """``YYYY-MM`` normalised, or `DataError` ``data.followup_month``."""
    m = _MONTH.match(str(text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise _problem(f"{what} {text!r} is not a month in the form YYYY-MM",
                       "give a month such as 2019-06", "data.followup_month", what=what, value=str(text))
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def _text(value: str | None, what: str, *, required: bool, layer: str = "followups") -> str | None:
    clean = " ".join(str(value or "").split())
    if not clean:
        if required:
            raise _problem(f"the {what} is empty", f"give the {what}", "data.followup_empty", layer=layer, what=what)
        return None
    if len(clean) > MAX_TEXT_CHARS:
        raise _problem(f"the {what} has {len(clean)} characters", f"use at most {MAX_TEXT_CHARS}",
                       "data.followup_too_long", layer=layer, what=what, n=len(clean), max=MAX_TEXT_CHARS)
    return clean


@dataclass(frozen=True)
class FollowUp:
    """One decision to follow up (see the module's Contract); ``id`` 0 until stored."""

    title: str
    unit: str
    due: str
    meeting: str
    street: str | None = None
    id: int = 0
    recorded_at: str = ""
    author: str = ""
    done_on: str | None = None
    note: str | None = None

    def state(self, day: dt.date) -> str:
        return followup_state(self, day)


def new_followup(*, title: str, unit: str, due: str, meeting: str, street: str | None = None) -> FollowUp:
    """A follow-up checked and normalised (texts stripped, months as ``YYYY-MM``), or `DataError`."""
    return FollowUp(title=_text(title, "title", required=True), unit=_text(unit, "unit", required=True),
                    due=check_month(due, "due"), meeting=check_month(meeting, "meeting"),
                    street=_text(street, "street", required=False))


def check_done(fu: FollowUp, *, note: str, done_on: dt.date | str) -> FollowUp:
    """``fu`` closed on ``done_on`` with ``note``; `DataError` when it is already done or the note is empty."""
    if fu.done_on is not None:
        raise _problem(f"follow-up {fu.id} was already closed on {fu.done_on}",
                       "a follow-up is closed once; record a new one for new work", "data.followup_done_already",
                       id=fu.id, done_on=fu.done_on)
    text = _text(note, "note", required=True)
    return replace(fu, done_on=parse_day(done_on).isoformat(), note=text)


def parse_day(value: dt.date | str) -> dt.date:
    """A day ``YYYY-MM-DD`` (or a date), or `DataError` ``data.followup_day``."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise _problem(f"the day {value!r} is not a date YYYY-MM-DD", "give a day such as 2019-07-03",
                       "data.followup_day", value=str(value)) from None


def followup_missing(fid: int) -> DataError:
    return _problem(f"there is no follow-up {fid}", "list them with `tasks list`",
                    "data.followup_missing", id=fid)


def month_last_day(month: str) -> dt.date:
    y, m = (int(p) for p in month.split("-"))
    nxt = dt.date(y + 1, 1, 1) if m == 12 else dt.date(y, m + 1, 1)
    return nxt - dt.timedelta(days=1)


def followup_state(fu: FollowUp, day: dt.date) -> str:
    """``done`` / ``overdue`` / ``open`` at the end of ``day`` (the module's Contract)."""
    if fu.done_on is not None and dt.date.fromisoformat(fu.done_on) <= day:
        return "done"
    return "overdue" if day > month_last_day(fu.due) else "open"


@dataclass(frozen=True)
class Target:
    """One quarterly target (see the module's Contract)."""

    quarter: str
    kind: str
    subject: str
    measure: str
    threshold: float
    set_at: str = ""
    author: str = ""

    @property
    def bound(self) -> str:
        return MEASURES[self.measure]

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.quarter, self.kind, self.subject, self.measure


def new_target(*, quarter: str, kind: str, subject: str, measure: str, minimum: float | None = None,
               maximum: float | None = None) -> Target:
    """A target checked: a quarter ``YYYYQn``, a known measure with its own bound (``minimum`` for ≥ measures,
    ``maximum`` for ≤ ones), a share in 0..1 or a whole count ≥ 0, a street for street-only measures."""
    problems: list[Problem] = []

    def bad(message: str, fix: str, code: str, **params: object) -> None:
        problems.append(Problem("targets", message, fix, code=code, params=params))

    try:
        q = quarter_text(*parse_quarter(quarter))
    except Exception:
        q = ""
        bad(f"the quarter {quarter!r} is not in the form YYYYQn", "give a quarter such as 2019Q2",
            "data.target_quarter", value=str(quarter))
    if kind not in SUBJECT_KINDS:
        bad(f"the subject kind {kind!r} is neither unit nor street", "give a unit or a street",
            "data.target_kind", value=str(kind))
    name = " ".join(str(subject or "").split())
    if not name:
        bad("the unit or street is empty", "name the unit or the street", "data.target_subject")
    threshold: float | None = None
    if measure not in MEASURES:
        bad(f"the measure {measure!r} is not one of {', '.join(MEASURES)}", f"choose one of {', '.join(MEASURES)}",
            "data.target_measure", value=str(measure), choices=", ".join(MEASURES))
    else:
        want = MEASURES[measure]
        given = {"min": minimum, "max": maximum}
        if given[want] is None or given["max" if want == "min" else "min"] is not None:
            bad(f"{measure} takes a {want}imum (the target is {'≥' if want == 'min' else '≤'} it)",
                f"give --{want} only", "data.target_bound", measure=measure, bound=want)
        else:
            threshold = float(given[want])
            if measure in SHARE_MEASURES and not 0.0 <= threshold <= 1.0:
                bad(f"{measure} is a share but the threshold is {threshold:g}", "give a share from 0 to 1 (0.9 = 90%)",
                    "data.target_share", measure=measure, value=f"{threshold:g}")
            elif measure not in SHARE_MEASURES and (threshold < 0 or threshold != int(threshold)):
                bad(f"{measure} is a count but the threshold is {threshold:g}", "give a whole number, 0 or more",
                    "data.target_count", measure=measure, value=f"{threshold:g}")
        if measure in STREET_ONLY and kind == "unit":
            bad(f"{measure} is counted per street, not per responsible unit", "set it on a street",
                "data.target_street_only", measure=measure)
    if problems:
        raise DataError(problems)
    return Target(quarter=q, kind=kind, subject=name, measure=measure, threshold=float(threshold))


def target_missing(key: tuple[str, str, str, str]) -> DataError:
    quarter, kind, subject, measure = key
    return _problem(f"there is no {measure} target for {kind} {subject!r} in {quarter}",
                    "list them with `targets check`", "data.target_missing", layer="targets", quarter=quarter, subject=subject,
                    measure=measure)


# --- the units' XLSX template (预安表) ---------------------------------------------------------------------------

MEASURE_ALIASES: dict[str, str] = {
    "办结率": "closure_rate", "按期办结率": "closure_rate", "季末逾期未办结": "overdue", "逾期未办结": "overdue",
    "逾期": "overdue", "超时办结": "closed_late", "超期办结": "closed_late", "业委会已成立": "committees",
    "业委会成立数": "committees", "业委会": "committees", "老人覆盖率": "coverage", "覆盖率": "coverage",
    **{m: m for m in MEASURES},
}
TEMPLATE_COLUMNS: dict[str, tuple[str, ...]] = {  # the template's headers (Chinese first), then English ones
    "quarter": ("季度", "quarter"), "unit": ("责任单位", "unit"), "street": ("街道", "street"),
    "measure": ("指标", "考核指标", "measure"), "threshold": ("目标值", "目标", "threshold"),
}


def _template_column(frame, key: str) -> str | None:
    for name in TEMPLATE_COLUMNS[key]:
        if name in frame.columns:
            return name
    return None


def _threshold(value: object) -> float | None:
    text = str(value).strip() if value is not None else ""
    if text in ("", "nan", "None"):
        return None
    percent = text.endswith("%")
    try:
        number = float(text.rstrip("%").strip())
    except ValueError:
        return None
    return number / 100.0 if percent else number


def read_target_template(path, *, quarter: str | None = None) -> list[Target]:
    """The targets of a filled template (first sheet; headers 季度, 责任单位 or 街道, 指标, 目标值), each row checked
    by `new_target` (the measure's own bound: 目标值 is the minimum of a ≥ measure, the maximum of a ≤ one; shares
    as 0.9 or 90%); ``quarter`` for rows without one. Every problem of every row in one `DataError`."""
    import pandas as pd

    frame = pd.read_excel(path, sheet_name=0, dtype=object)
    frame.columns = [str(c).strip() for c in frame.columns]
    cols = {k: _template_column(frame, k) for k in TEMPLATE_COLUMNS}
    absent = [TEMPLATE_COLUMNS[k][0] for k in ("measure", "threshold") if cols[k] is None]
    if cols["unit"] is None and cols["street"] is None:
        absent.append("责任单位/街道")
    if absent:
        raise DataError([Problem("targets", f"the template has no column {', '.join(absent)}",
                                 "use the template's headers: 季度, 责任单位 or 街道, 指标, 目标值",
                                 code="data.target_template", params={"columns": "、".join(absent)})])
    problems: list[Problem] = []
    out: list[Target] = []
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        cells = dict(zip(frame.columns, row, strict=True))

        def cell(key: str, cells=cells) -> str:
            name = cols[key]
            value = cells.get(name) if name else None
            return "" if value is None or str(value).strip() in ("", "nan") else str(value).strip()

        if not any(cell(k) for k in TEMPLATE_COLUMNS):
            continue  # an empty row
        unit, street = cell("unit"), cell("street")
        kind, subject = ("street", street) if street and not unit else ("unit", unit)
        measure = MEASURE_ALIASES.get(cell("measure"), cell("measure"))
        value = _threshold(cell("threshold"))
        bound = MEASURES.get(measure, "min")
        try:
            out.append(new_target(quarter=cell("quarter") or (quarter or ""), kind=kind, subject=subject,
                                  measure=measure, minimum=value if bound == "min" else None,
                                  maximum=value if bound == "max" else None))
        except DataError as err:
            problems += [replace(p, row=i) for p in err.problems]
    if problems:
        raise DataError(problems)
    return out


def write_target_template(path, *, quarter: str, units: list[str], streets: list[str]) -> None:
    """An empty template for ``quarter``: one row per unit and ≤ measure, per street and ≥ measure, 目标值 blank."""
    import pandas as pd

    rows = [{"季度": quarter, "责任单位": u, "街道": "", "指标": zh, "目标值": ""}
            for u in units for zh in ("办结率", "季末逾期未办结", "超时办结")]
    rows += [{"季度": quarter, "责任单位": "", "街道": s, "指标": zh, "目标值": ""}
             for s in streets for zh in ("业委会已成立", "老人覆盖率")]
    pd.DataFrame(rows, columns=["季度", "责任单位", "街道", "指标", "目标值"]).to_excel(path, index=False)
