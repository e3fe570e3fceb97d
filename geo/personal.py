"""Personal data in the layers, and the one way it is masked for roles below ``staff``.

Contract
--------
- `PERSONAL_COLUMNS` names the columns that identify a person: a reporter's
  phone (``reporter_phone`` in the schema; any column whose name contains
  ``phone`` or ``电话``) and a reporter's name (``reporter_name``, ``reporter``).
- `mask_phone`: ``13812345678`` -> ``138****5678`` (first three and last four
  digits kept; fewer than 7 digits are hidden entirely; missing -> ``""``).
- `mask_name`: the family name kept, the rest starred (``张三丰`` -> ``张**``).
- `mask_personal(df)` returns a copy with every personal column masked; pages,
  downloads and reports call it unless the viewer's role is ``staff`` or above
  (`geo.users.role_at_least(role, "staff")`). It never mutates its input.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

UNMASKED_FROM_ROLE = "staff"
_DIGITS = re.compile(r"\D")
_NAME_COLUMNS = ("reporter_name", "reporter", "上报人")


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def mask_phone(phone: object) -> str:
    """A phone number with its middle digits hidden: ``13812345678`` -> ``138****5678``."""
    if _missing(phone):
        return ""
    digits = _DIGITS.sub("", str(phone))
    if not digits:
        return ""
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: object) -> str:
    """A person's name with all but its first character starred: ``张三丰`` -> ``张**``."""
    if _missing(name):
        return ""
    text = str(name).strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else ""


def personal_kind(column: str) -> str | None:
    """``"phone"``, ``"name"`` or None: what kind of personal data a column holds, by its name."""
    low = str(column).lower()
    if "phone" in low or "电话" in low or low in ("mobile", "手机", "手机号"):
        return "phone"
    if low in _NAME_COLUMNS:
        return "name"
    return None


def personal_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if personal_kind(c) is not None]


PERSONAL_COLUMNS: tuple[str, ...] = ("reporter_phone", "reporter_name")


def mask_personal(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every personal column masked (phones ``138****5678``, names ``张**``)."""
    cols = personal_columns(df)
    if not cols:
        return df
    out = df.copy()
    for c in cols:
        fn = mask_phone if personal_kind(c) == "phone" else mask_name
        out[c] = pd.array([fn(v) for v in out[c]], dtype="string")
    return out
