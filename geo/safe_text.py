"""Text that leaves the app in files: spreadsheet cells that can never run as formulas.

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel, WPS and LibreOffice as a formula (CSV injection).
`spreadsheet_safe` puts an apostrophe before such text, which spreadsheets
show as the text itself; numbers are left alone. Every CSV and XLSX the app
writes passes its text columns through `safe_frame`.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """``value`` unchanged unless it is text a spreadsheet would run; then the text behind an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and headers) are `spreadsheet_safe`; numbers and dates unchanged."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(spreadsheet_safe, na_action="ignore")
    out.columns = [spreadsheet_safe(c) if isinstance(c, str) else c for c in out.columns]
    return out
