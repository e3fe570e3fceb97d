"""Page sections that fail alone, say what they need, and never show an empty table.

- `section` wraps one part of a page. An unexpected exception inside it shows
  one short message in the page's language with an error id, is logged with
  its traceback under that id (logger ``gridatlas.section``), and the rest of
  the page still renders. Streamlit's own control flow (``st.stop``, reruns,
  page switches) passes through. With ``GRIDATLAS_STRICT`` on (the test suite
  and its browser servers set it) the exception is raised instead, so no
  failure hides behind the message.
- `needs` shows the one line `analysis.needs` gives for a section that lacks a
  layer or column, and tells the caller whether to draw the section.
- `table` draws a frame with `st.dataframe` (or `st.table`), or, when it has
  no rows, our own note instead: Streamlit's "empty" is English, on every page.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import streamlit as st

from analysis.needs import Missing, missing
from geo import settings
from geo.dataset import Dataset
from i18n import t
from reports.content import needs_line

LOG = logging.getLogger("gridatlas.section")
ERROR_ID_BYTES = 4  # 8 hex digits: short enough to read out on the phone


def new_error_id() -> str:
    return secrets.token_hex(ERROR_ID_BYTES)


@contextmanager
def section(name: str) -> Iterator[None]:
    """Run one page section; contain an unexpected exception (see the module docstring) unless strict."""
    try:
        yield
    except Exception as exc:  # Streamlit's stop/rerun are BaseExceptions and pass through untouched
        if settings.strict():
            raise
        error_id = new_error_id()
        LOG.error("page section %s failed [error id %s]", name, error_id, exc_info=exc)
        st.error(t("section.failed", error_id=error_id), icon=":material/error:")


def needs_text(ds: Dataset, key: str, *, lang: str | None = None) -> str | None:
    """The line saying what ``key`` (a section of `analysis.needs.NEEDS`) lacks in ``ds``; None when complete."""
    m = missing(ds, key)
    return None if m is None else needs_line(m, lang or _lang())


def needs(ds: Dataset, key: str, *, where: Any = None) -> bool:
    """True when ``ds`` has what section ``key`` needs; else show its one line (in ``where``) and answer False."""
    m: Missing | None = missing(ds, key)
    if m is None:
        return True
    (where or st).info(needs_line(m, _lang()), icon=":material/info:")
    return False


def table(frame: pd.DataFrame, *, empty: str = "empty.rows", static: bool = False, where: Any = None,
          **kwargs: Any) -> None:
    """``frame`` as `st.dataframe` (``static``: `st.table`), or the note ``empty`` (a string key) without rows."""
    target = where or st
    if frame is None or len(frame) == 0:
        target.caption(t(empty))
        return
    if static:
        target.table(frame, **kwargs)
    else:
        target.dataframe(frame, **kwargs)


def _lang() -> str:
    from i18n import current_lang

    return current_lang()
