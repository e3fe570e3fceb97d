"""Static tables whose short cells stay on one line, in both languages.

`st.table` lays a table out with the browser's automatic column widths: a
column may shrink to its narrowest possible content, and Chinese text may
break between any two characters, so in a narrow table (the meeting's estates
plan beside its chart, or any table whose English headers are long) a street
name such as 清水塘 came out one character per line.

`table` draws the same frame as `ui.section.table(static=True)` (the same
note instead of an empty table), with two rules carried by the table itself
(a pandas Styler's table styles, scoped to that table by Streamlit):

- a column whose every cell is short (at most `SHORT_WIDTH` display columns,
  a Chinese character counting two: names of streets, units, grids, dates,
  numbers, states) never wraps;
- headers break only at spaces or punctuation (``word-break: keep-all``), never
  inside a Chinese word.

Longer cells (a follow-up's title, a note) still wrap as Chinese text does.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from ui.section import table as section_table

SHORT_WIDTH = 16  # display columns: 8 Chinese characters, or 16 Latin ones


def display_width(text: object) -> int:
    """Columns ``text`` takes in a monospace sense: East Asian wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in str(text))


def short_columns(frame: pd.DataFrame) -> list[int]:
    """Positions of the columns whose every cell is at most `SHORT_WIDTH` columns wide."""
    return [i for i in range(frame.shape[1])
            if all(display_width(v) <= SHORT_WIDTH for v in frame.iloc[:, i].tolist())]


def fitted(frame: pd.DataFrame) -> Styler:
    """``frame`` as a Styler whose short columns do not wrap and whose headers wrap only between words."""
    styles: list[dict[str, str]] = [{"selector": "th p", "props": "word-break: keep-all"}]
    short = short_columns(frame)
    if short:
        styles.append({"selector": ", ".join(f"td.col{i} p" for i in short), "props": "white-space: nowrap"})
    return frame.style.set_table_styles(styles)


def table(frame: pd.DataFrame | None, *, empty: str = "empty.rows", static: bool = False, where: Any = None,
          **kwargs: Any) -> None:
    """`ui.section.table`, with a static table's short columns kept on one line (see the module docstring)."""
    if not static or frame is None or len(frame) == 0:
        section_table(frame, empty=empty, static=static, where=where, **kwargs)
        return
    (where or st).table(fitted(frame), **kwargs)
