"""Choice widgets that keep their choice when the language changes.

Streamlit matches a radio's or multiselect's state by its *displayed* labels,
so after the language switch the translated labels no longer match and the
widget shows nothing selected (or the old language's labels). These wrappers
key the widget by language and carry the chosen codes over in a
language-neutral entry of the session state under ``key``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st


def _widget_key(key: str, lang: str) -> str:
    return f"{key}__{lang}"


def radio(label: str, options: Sequence[Any], *, key: str, lang: str, format_func: Callable[[Any], str] = str,
          on_change: Callable[[], None] | None = None, **kwargs: Any) -> Any:
    """`st.radio` whose choice (an option, not its label) survives a language switch; kept in ``st.session_state[key]``."""
    options = list(options)
    wkey = _widget_key(key, lang)
    if wkey not in st.session_state:
        kept = st.session_state.get(key)
        st.session_state[wkey] = kept if kept in options else options[0]

    def _changed() -> None:
        st.session_state[key] = st.session_state[wkey]
        if on_change is not None:
            on_change()

    value = st.radio(label, options, key=wkey, format_func=format_func, on_change=_changed, **kwargs)
    st.session_state[key] = value
    return value


def multiselect(label: str, options: Sequence[Any], *, key: str, lang: str, default: Sequence[Any] = (),
                format_func: Callable[[Any], str] = str, **kwargs: Any) -> list[Any]:
    """`st.multiselect` whose choices survive a language switch; kept in ``st.session_state[key]``."""
    options = list(options)
    wkey = _widget_key(key, lang)
    if wkey not in st.session_state:
        kept = st.session_state.get(key, list(default))
        st.session_state[wkey] = [v for v in kept if v in options]
    value = st.multiselect(label, options, key=wkey, format_func=format_func, **kwargs)
    st.session_state[key] = list(value)
    return list(value)
