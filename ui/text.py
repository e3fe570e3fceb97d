"""Data text made safe for `st.markdown` (a light module: the overview's first run imports it, not the meeting's)."""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$])")


def md(text: str) -> str:
    """Data text made safe for st.markdown: markdown characters escaped, HTML entities escaped."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))
