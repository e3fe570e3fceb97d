"""A small table drawn as HTML, for the overview's first screen.

`st.dataframe` brings the browser its data-grid and Arrow code (about 1.2 MB of script) the first time a page
shows one. On the overview, the page every visit opens first, that work shares the browser's one main thread with
the map's frame and held the map back by about 0.8 s (bench/RESULTS.md, "First visit after an import or a
restart"). A table of a few dozen rows that nobody edits needs none of it: `html_table` writes it as a plain HTML
table — every value escaped, numbers right-aligned and formatted here — that the page's own markdown draws.

A column is `Col(name, label, kind)`: ``kind`` is "text", "int" (thousands separated), "float0" (no decimals) or
"percent" (a share 0–1 shown as 12.3%). Missing values show as "–".
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import streamlit as st

from i18n import t

Kind = Literal["text", "int", "float0", "percent"]
MISSING = "–"

STYLE = (
    "<style>.ga-table-wrap{overflow-x:auto;margin:0 0 1rem 0}"
    ".ga-table{border-collapse:collapse;width:100%;font-size:0.875rem}"
    ".ga-table th,.ga-table td{padding:0.25rem 0.6rem;border-bottom:1px solid rgba(49,51,63,0.1);"
    "white-space:nowrap}"
    ".ga-table th{font-weight:600;text-align:left;color:rgba(49,51,63,0.7);border-bottom:1px solid "
    "rgba(49,51,63,0.25)}"
    ".ga-table td.n,.ga-table th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".ga-table tbody tr:hover{background:rgba(49,51,63,0.04)}</style>"
)


@dataclass(frozen=True)
class Col:
    name: str
    label: str
    kind: Kind = "text"


def cell(value: object, kind: Kind) -> str:
    """One value as the table shows it (not yet escaped)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return MISSING
    if kind == "text":
        return str(value)
    x = float(value)  # type: ignore[arg-type]
    if kind == "int":
        return f"{round(x):,}"
    if kind == "float0":
        return f"{x:,.0f}"
    if kind == "percent":
        return f"{x * 100:.1f}%"
    raise ValueError(f"unknown column kind {kind!r}")


def table_html(frame: pd.DataFrame, columns: Sequence[Col], *, css_class: str = "ga-table") -> str:
    """``frame``'s ``columns`` as an HTML table (header from the labels), every text escaped."""
    numeric = {c.name: c.kind != "text" for c in columns}
    head = "".join(f'<th class="n">{html.escape(c.label)}</th>' if numeric[c.name] else
                   f"<th>{html.escape(c.label)}</th>" for c in columns)
    rows = []
    for values in zip(*(frame[c.name].tolist() for c in columns), strict=True):
        tds = "".join(f'<td class="n">{html.escape(cell(v, c.kind))}</td>' if numeric[c.name] else
                      f"<td>{html.escape(cell(v, c.kind))}</td>" for v, c in zip(values, columns, strict=True))
        rows.append(f"<tr>{tds}</tr>")
    return (f'<div class="ga-table-wrap"><table class="{css_class}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def html_table(frame: pd.DataFrame | None, columns: Sequence[Col], *, empty: str = "empty.rows") -> None:
    """Draw ``frame`` as `table_html`, or the note ``empty`` (a string key) when it has no rows."""
    if frame is None or len(frame) == 0:
        st.caption(t(empty))
        return
    st.markdown(STYLE + table_html(frame, columns), unsafe_allow_html=True)
