"""One string table for every label: zh-CN first, English second.

Each file in ``i18n/strings/`` defines ``STRINGS = {"area.key": ("中文", "English")}``;
they are merged here into `TABLE` (a key defined twice is an error). Pages, reports and
the CLI call ``t("area.key", n=3)``.

This package sits below ``ui/``, ``reports/`` and the CLI and imports none of them (nor
Streamlit). Whose language ``t`` uses when none is passed is asked of the function given to
`set_language_source`: ``ui`` installs one that reads the browser session's choice (the
sidebar keeps it in the session state under ``lang``); without one, ``zh``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import i18n.strings

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_KEY = "lang"


def _load_table() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(i18n.strings.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"i18n.strings.{info.name}")
        for key, pair in getattr(module, "STRINGS", {}).items():
            if key in table:
                raise ValueError(f"string key {key!r} is defined twice (i18n/strings/{info.name}.py)")
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(s, str) and s for s in pair)):
                raise ValueError(f"string key {key!r} needs a (中文, English) pair of non-empty strings")
            table[key] = pair
    return table


TABLE: dict[str, tuple[str, str]] = _load_table()


_language_source: Callable[[], str | None] | None = None


def set_language_source(source: Callable[[], str | None] | None) -> None:
    """Install the function that tells the current language (``None`` from it: the default)."""
    global _language_source
    _language_source = source


def current_lang() -> str:
    """The current language: what the installed source says (``zh`` unless switched); ``zh`` without one."""
    lang = None
    if _language_source is not None:
        try:
            lang = _language_source()
        except Exception:
            lang = None
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, /, *, lang: str | None = None, **fmt: object) -> str:
    """The label for ``key`` in the current language, formatted with ``fmt``."""
    pair = TABLE.get(key)
    if pair is None:
        raise KeyError(f"no string {key!r} in i18n/strings/")
    text = pair[LANGS.index(lang or current_lang())]
    return text.format(**fmt) if fmt else text


def label_of(kind: str, code: str, *, lang: str | None = None) -> str:
    """Display label of an enumerated code, e.g. ``label_of("facility", "day_care")``."""
    key = f"code.{kind}.{code}"
    return t(key, lang=lang) if key in TABLE else str(code)


def _labelled(params: dict, lang: str | None) -> dict:
    """``params`` with ``<name>_label`` beside each param whose value has a label ``code.<name>.<value>``, so an
    error that carries a code (``measure="closure_rate"``) names it as the pages do (``{measure_label}``: 办结率)."""
    out = dict(params)
    for name, value in params.items():
        key = f"code.{name}.{value}"
        if isinstance(value, str) and f"{name}_label" not in out and key in TABLE:
            out[f"{name}_label"] = t(key, lang=lang)
    return out


def _fmt(key: str, lang: str | None, params: dict) -> str | None:
    pair = TABLE.get(key)
    if pair is None:
        return None
    text = pair[LANGS.index(lang or current_lang())]
    try:
        return text.format(**_labelled(params, lang))
    except (KeyError, IndexError, ValueError):
        return None


def error_text(err: Exception, *, lang: str | None = None) -> str:
    """What an error says to the user, in their language: ``err.<code>`` formatted with its params.

    Errors without a code, or whose code has no table entry, fall back to their English message.
    """
    code = getattr(err, "code", None)
    params = dict(getattr(err, "params", {}) or {})
    text = _fmt(f"err.{code}", lang, params) if code else None
    return text if text is not None else str(getattr(err, "message", None) or err)


@dataclass(frozen=True)
class ProblemParts:
    """A problem split for a table: layer, rows, column (the file's header and the schema name), value, what, fix."""

    layer: str
    rows: str
    column: str
    value: str
    what: str
    fix: str


def problem_parts(problem, *, lang: str | None = None) -> ProblemParts:
    """One validation problem's parts in the user's language (``err.<code>``/``fix.<code>``, else English)."""
    lang = lang or current_lang()
    params = {"layer": problem.layer, "row": problem.row, "column": problem.column, "value": problem.value,
              "source_column": problem.source_column, **dict(problem.params)}
    what = _fmt(f"err.{problem.code}", lang, params) or problem.message
    fix = _fmt(f"fix.{problem.code}", lang, params) or problem.fix
    if problem.row is not None:
        rows = str(problem.row)
    else:
        rows = str(params.get("rows") or "")
    col = problem.column or ""
    if problem.source_column and problem.source_column != problem.column:
        col = f"{problem.source_column} ({problem.column})"
    return ProblemParts(label_of("layer", problem.layer, lang=lang), rows, col, problem.value or "", what, fix)


def problem_text(problem, *, lang: str | None = None) -> str:
    """One validation problem as a line: where (layer, row, column), what is wrong, how to fix it."""
    lang = lang or current_lang()
    parts = problem_parts(problem, lang=lang)
    sheet = problem.params.get("sheet")  # a sheet people fill (the targets template): the file and its sheet
    where = [t("problem.sheet", lang=lang, layer=parts.layer, sheet=sheet) if sheet
             else t("problem.layer", lang=lang, layer=parts.layer)]
    if problem.row is not None:
        where.append(t("problem.row", lang=lang, row=problem.row))
    elif problem.params.get("rows"):
        where.append(t("problem.rows", lang=lang, rows=problem.params["rows"], count=problem.params.get("count", "?")))
    if parts.column:
        where.append(t("problem.column", lang=lang, column=parts.column))
    sep = "，" if lang == "zh" else ", "
    return f"{sep.join(where)}: {parts.what} — {parts.fix}"
