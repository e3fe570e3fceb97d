"""The meeting's follow-ups (督办事项) and quarterly targets (预安): what they are and how they are checked.

Contract
--------
Both belong to the dataset, not to one version (as scenarios do): restoring data never loses a decision
or a target. They are store methods only (`geo.storage.DatasetStore`: ``list_followups``, ``add_followup``,
``close_followup``, ``list_targets``, ``set_target``, ``delete_target``), on both backends; the workspace
keeps them in two tables of the dataset's ``scenarios.gpkg`` (`geo._gpkg_meeting`), PostGIS in
``gridatlas.followups`` and ``gridatlas.targets``. Who changed what is in the audit log, written by the
caller (the page, the CLI), as for scenarios.

In a city dataset each district keeps its own, as its scenarios are kept: every store method takes
``district=NAME`` (None: the whole dataset's — a district dataset's, or a city's own), lists only that
district's, and refuses to close or delete another district's (``data.followup_missing``,
``data.target_missing``). Ids stay unique in the dataset; a target's quarter, subject and measure are unique
within its district (two districts may each set one for a unit of the same name). Records kept before
districts had their own are the whole dataset's.

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
import unicodedata
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
    district: str | None = None  # a city's district it belongs to (None: the whole dataset's), set by the store

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
    district: str | None = None  # a city's district it belongs to (None: the whole dataset's), set by the store

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
TEMPLATE_MEASURES: tuple[str, ...] = ("办结率", "季末逾期未办结", "超时办结", "业委会已成立", "老人覆盖率")  # as written
TEMPLATE_COLUMNS: dict[str, tuple[str, ...]] = {  # the template's headers (Chinese first), then English ones
    "quarter": ("季度", "quarter"), "unit": ("责任单位", "unit"), "street": ("街道", "street"),
    "measure": ("指标", "考核指标", "measure"), "threshold": ("目标值", "目标", "threshold"),
}
TEMPLATE_LAYER = "target_template"  # the layer its problems name: 预安表 / Targets template, with the sheet


@dataclass(frozen=True)
class TemplateTargets:
    """What a filled template holds: its ``targets``, and the rows ``skipped`` because their 目标值 is blank
    (sheet row, subject kind, subject; kind and subject ``""`` when the row names none): no target there."""

    targets: tuple[Target, ...]
    skipped: tuple[tuple[int, str, str], ...] = ()

    @property
    def blank_subjects(self) -> tuple[tuple[str, str], ...]:
        """(kind, name) of the units and streets that have skipped rows and no target: left blank, in file order."""
        filled = {(x.kind, x.subject) for x in self.targets}
        return tuple(dict.fromkeys((k, s) for _, k, s in self.skipped if s and (k, s) not in filled))

    @property
    def other_skipped(self) -> int:
        """Skipped rows of units and streets that do have a target in the file (a measure left without one)."""
        blank = set(self.blank_subjects)
        return sum(1 for _, k, s in self.skipped if (k, s) not in blank)


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _threshold(value: object) -> float | None:
    """The cell as a number (``90%`` and ``０.９`` too; a percentage as a share), or None when it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value == value else None
    text = unicodedata.normalize("NFKC", _cell_text(value)).replace(" ", "")
    percent = text.endswith("%")
    try:
        number = float(text.rstrip("%"))
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return number / 100.0 if percent else number


def _file_name(path) -> str:
    name = getattr(path, "name", None) or str(path)
    return str(name).replace("\\", "/").rsplit("/", 1)[-1]


def _sheet_rows(path) -> tuple[str, list[tuple[int, tuple]]]:
    """The first sheet's title and its rows with their sheet row numbers (1 = the sheet's first row)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, data_only=True)
        sheet = book.worksheets[0]
        return sheet.title, [(i, row) for i, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    except Exception as err:  # not a workbook, a damaged one, a CSV renamed .xlsx: all the clerk's to fix
        raise DataError([Problem(
            TEMPLATE_LAYER, f"{_file_name(path)!r} cannot be read as an Excel workbook ({type(err).__name__}: {err})",
            "fill in the targets template and save it as .xlsx", code="data.target_file_unreadable",
            params={"name": _file_name(path)})]) from None


def read_target_template(path, *, quarter: str | None = None,
                         streets: list[str] | tuple[str, ...] | None = None) -> TemplateTargets:
    """The targets of a filled template (first sheet; its first non-empty row the headers 季度, 责任单位 or 街道, 指标,
    目标值), each row checked by `new_target`'s rules (目标值 is the minimum of a ≥ measure, the maximum of a ≤
    one; shares as 0.9 or 90%); ``quarter`` for rows without one; with ``streets``, a street not among them is
    refused too. A row whose 目标值 is blank sets no target and is skipped (`TemplateTargets.skipped`), so a
    downloaded template needs no row deleted. Every problem of every row in one `DataError`, in the file's
    terms: layer ``target_template`` with the sheet's name (``params["sheet"]``), ``row`` the sheet's own row
    number (the header is row 1 in the template, its first data row 2), ``column`` the file's header, the measure
    by its code (shown by its label, ``{measure_label}``), the fix in words (``{target_entry_label}``)."""
    sheet, rows = _sheet_rows(path)
    start = next((i for i, (_, row) in enumerate(rows) if any(_cell_text(v) for v in row)), None)
    header_row = rows[start][0] if start is not None else 1
    headers = [_cell_text(v) for v in rows[start][1]] if start is not None else []
    lowered = [h.lower() for h in headers]
    index: dict[str, int | None] = {}
    for key, names in TEMPLATE_COLUMNS.items():
        index[key] = next((lowered.index(n.lower()) for n in names if n.lower() in lowered), None)
    cols = {k: headers[i] if i is not None else TEMPLATE_COLUMNS[k][0] for k, i in index.items()}
    absent = [TEMPLATE_COLUMNS[k][0] for k in ("measure", "threshold") if index[k] is None]
    if index["unit"] is None and index["street"] is None:
        absent.append("责任单位/街道")
    if absent:
        raise DataError([Problem(TEMPLATE_LAYER, f"the header row has no column {', '.join(absent)}",
                                 "use the template's headers: 季度, 责任单位 or 街道, 指标, 目标值", row=header_row,
                                 code="data.target_template", params={"columns": "、".join(absent), "sheet": sheet})])
    names = {"unit_col": cols["unit"], "street_col": cols["street"], "measure_col": cols["measure"],
             "value_col": cols["threshold"], "sheet": sheet}
    choices = "、".join(TEMPLATE_MEASURES)
    problems: list[Problem] = []
    out: list[Target] = []
    skipped: list[tuple[int, str, str]] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for r, row in rows[start + 1:]:
        def raw(key: str, row=row) -> object:
            i = index[key]
            return row[i] if i is not None and i < len(row) else None

        text = {k: _cell_text(raw(k)) for k in TEMPLATE_COLUMNS}
        if not any(text.values()):
            continue  # an empty row
        unit, street = text["unit"], text["street"]
        kind, subject = ("street", street) if street and not unit else ("unit", unit)
        if not text["threshold"]:  # no target for this unit and measure: skipped, not refused
            skipped.append((r, kind if subject else "", subject))
            continue
        measure = MEASURE_ALIASES.get(text["measure"], MEASURE_ALIASES.get(text["measure"].lower(), ""))
        entry = measure or "unknown"
        value = _threshold(raw("threshold"))
        if unit and street:
            problems.append(Problem(
                TEMPLATE_LAYER, f"the row names both a unit ({unit}) and a street ({street})",
                "fill one of them: a unit's measure under 责任单位, a street's under 街道", row=r, column=cols["unit"],
                code="data.target_file_two_subjects", params={"unit": unit, "street": street, **names}))
        if value is None:
            problems.append(Problem(
                TEMPLATE_LAYER, f"the target value {text['threshold']!r} is not a number", f"write a number ({entry})",
                row=r, column=cols["threshold"], value=text["threshold"], code="data.target_file_not_number",
                params={"value": text["threshold"], "target_entry": entry, **names}))
        if street and not unit and streets is not None and street not in streets:
            problems.append(Problem(
                TEMPLATE_LAYER, f"the street {street!r} is not in this dataset", "write one of the dataset's streets",
                row=r, column=cols["street"], value=street, code="data.target_file_street_unknown",
                params={"value": street, "streets": "、".join(streets), **names}))
        bound = MEASURES.get(measure, "min")
        try:
            target = new_target(quarter=text["quarter"] or (quarter or ""), kind=kind, subject=subject,
                                measure=measure or text["measure"],
                                minimum=(0.0 if value is None else value) if bound == "min" else None,
                                maximum=(0.0 if value is None else value) if bound == "max" else None)
        except DataError as err:
            for p in err.problems:
                problems += _file_problems(p, r, text, measure, entry, cols, names, choices,
                                           number_given=value is not None)
            continue
        if target.key in seen:
            problems.append(Problem(
                TEMPLATE_LAYER, f"repeats row {seen[target.key]}: {subject}'s {measure} is given twice",
                "give each measure once per unit or street", row=r, column=cols["measure"], value=text["measure"],
                code="data.target_file_duplicate",
                params={"first": seen[target.key], "subject": subject, "measure": measure, **names}))
            continue
        seen[target.key] = r
        if not problems:
            out.append(target)
    if problems:
        raise DataError(problems)
    if not out:
        raise DataError([Problem(TEMPLATE_LAYER, "no target value is filled in",
                                 "fill in 目标值 for the units that have targets; rows left blank are skipped",
                                 column=cols["threshold"], code="data.target_file_empty", params=names)])
    return TemplateTargets(tuple(out), tuple(skipped))


def _file_problems(p: Problem, r: int, text: dict[str, str], measure: str, entry: str, cols: dict[str, str],
                   names: dict[str, str], choices: str, *, number_given: bool) -> list[Problem]:
    """`new_target`'s problem ``p`` with a template row said in the file's terms (sheet row, header, labels)."""
    if p.code == "data.target_quarter":
        if not text["quarter"] and not p.params.get("value"):
            return [Problem(TEMPLATE_LAYER, "the quarter is empty", "write a quarter such as 2019Q2", row=r,
                            column=cols["quarter"], code="data.target_file_quarter_blank", params=dict(names))]
        return [Problem(TEMPLATE_LAYER, f"the quarter {text['quarter']!r} is not in the form YYYYQn",
                        "write a quarter such as 2019Q2", row=r, column=cols["quarter"], value=text["quarter"],
                        code="data.target_file_quarter", params={"value": text["quarter"], **names})]
    if p.code == "data.target_subject":
        return [Problem(TEMPLATE_LAYER, "a target value is given but both the unit and the street are empty",
                        "name the unit or the street; for no target, clear the target value", row=r,
                        column=cols["unit"], code="data.target_file_subject", params=dict(names))]
    if p.code == "data.target_measure":
        if not text["measure"]:
            return [Problem(TEMPLATE_LAYER, "a target value is given but the measure is empty",
                            f"write one of {choices}; for no target, clear the target value", row=r,
                            column=cols["measure"], code="data.target_file_measure_blank",
                            params={"choices": choices, **names})]
        return [Problem(TEMPLATE_LAYER, f"{text['measure']!r} is not one of the template's measures",
                        f"write one of {choices}", row=r, column=cols["measure"], value=text["measure"],
                        code="data.target_file_measure", params={"value": text["measure"], "choices": choices, **names})]
    if p.code == "data.target_share":
        return [Problem(TEMPLATE_LAYER, f"{measure} is a share but the target value is {text['threshold']}",
                        f"write a share ({entry})", row=r, column=cols["threshold"], value=text["threshold"],
                        code="data.target_file_share",
                        params={"value": text["threshold"], "measure": measure, "target_entry": entry, **names})
                ] if number_given else []
    if p.code == "data.target_count":
        return [Problem(TEMPLATE_LAYER, f"{measure} is a count but the target value is {text['threshold']}",
                        f"write a whole number ({entry})", row=r, column=cols["threshold"], value=text["threshold"],
                        code="data.target_file_count",
                        params={"value": text["threshold"], "measure": measure, "target_entry": entry, **names})
                ] if number_given else []
    if p.code == "data.target_street_only":
        return [Problem(TEMPLATE_LAYER, f"{measure} is judged per street, not for the unit {text['unit']!r}",
                        "put the street's name under 街道 and leave 责任单位 empty", row=r, column=cols["unit"],
                        value=text["unit"], code="data.target_file_street_only",
                        params={"measure": measure, "unit": text["unit"], **names})]
    return [replace(p, layer=TEMPLATE_LAYER, row=r, params={**p.params, **names})]


def write_target_template(path, *, quarter: str, units: list[str], streets: list[str]) -> None:
    """An empty template for ``quarter``: one row per unit and ≤ measure, per street and ≥ measure, 目标值 blank."""
    import pandas as pd

    rows = [{"季度": quarter, "责任单位": u, "街道": "", "指标": zh, "目标值": ""}
            for u in units for zh in ("办结率", "季末逾期未办结", "超时办结")]
    rows += [{"季度": quarter, "责任单位": "", "街道": s, "指标": zh, "目标值": ""}
             for s in streets for zh in ("业委会已成立", "老人覆盖率")]
    pd.DataFrame(rows, columns=["季度", "责任单位", "街道", "指标", "目标值"]).to_excel(path, index=False)
