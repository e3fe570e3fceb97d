"""Choice widgets that keep their choice when the language changes.

Streamlit matches a radio's, selectbox's or multiselect's state by its
*displayed* labels, so after the language switch the translated labels no
longer match: the widget shows nothing selected, or the old language's label,
or hands back that label instead of an option. These wrappers key the widget by
language and carry the chosen options over in a language-neutral entry of the
session state under ``key``.

They work inside `st.form` too (no callback is attached unless ``on_change``
is given); there the carried-over choice is the last one submitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st


def _widget_key(key: str, lang: str) -> str:
    return f"{key}__{lang}"


def _prime(key: str, lang: str, options: list[Any], default: Any) -> str:
    """Give the language's widget the kept choice (or ``default``) unless it already holds a valid one."""
    wkey = _widget_key(key, lang)
    if wkey not in st.session_state or st.session_state[wkey] not in options:
        kept = st.session_state[key] if key in st.session_state else default
        st.session_state[wkey] = kept if kept in options else default
    return wkey


def _callback(key: str, wkey: str, on_change: Callable[[], None] | None) -> Callable[[], None] | None:
    if on_change is None:
        return None  # forms allow no callbacks; the value is carried over after the widget runs

    def _changed() -> None:
        st.session_state[key] = st.session_state[wkey]
        on_change()

    return _changed


def set_choice(key: str, value: Any, *, lang: str) -> None:
    """Choose ``value`` in the widget ``key`` before it is drawn in this run (e.g. after a map click)."""
    st.session_state[key] = value
    st.session_state[_widget_key(key, lang)] = value


def radio(label: str, options: Sequence[Any], *, key: str, lang: str, format_func: Callable[[Any], str] = str,
          on_change: Callable[[], None] | None = None, default: Any = None, **kwargs: Any) -> Any:
    """`st.radio` whose choice (an option, not its label) survives a language switch; kept in ``st.session_state[key]``."""
    options = list(options)
    wkey = _prime(key, lang, options, options[0] if default is None else default)
    value = st.radio(label, options, key=wkey, format_func=format_func, on_change=_callback(key, wkey, on_change),
                     **kwargs)
    st.session_state[key] = value
    return value


def selectbox(label: str, options: Sequence[Any], *, key: str, lang: str, format_func: Callable[[Any], str] = str,
              default: Any = None, **kwargs: Any) -> Any:
    """`st.selectbox` whose choice survives a language switch; kept in ``st.session_state[key]``.

    ``default`` is the option chosen first (the first option when None).
    """
    options = list(options)
    wkey = _prime(key, lang, options, options[0] if default is None else default)
    value = st.selectbox(label, options, key=wkey, format_func=format_func, **kwargs)
    st.session_state[key] = value
    return value


def multiselect(label: str, options: Sequence[Any], *, key: str, lang: str, default: Sequence[Any] = (),
                format_func: Callable[[Any], str] = str, **kwargs: Any) -> list[Any]:
    """`st.multiselect` whose choices survive a language switch; kept in ``st.session_state[key]``.

    Streamlit's own "Select all" entry (an English label) is left out.
    """
    options = list(options)
    wkey = _widget_key(key, lang)
    if wkey not in st.session_state or any(v not in options for v in st.session_state[wkey]):
        kept = st.session_state[key] if key in st.session_state else list(default)
        st.session_state[wkey] = [v for v in kept if v in options]
    kwargs.setdefault("select_all", False)
    value = st.multiselect(label, options, key=wkey, format_func=format_func, **kwargs)
    st.session_state[key] = list(value)
    return list(value)
