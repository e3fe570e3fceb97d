"""One string table for every label: zh-CN first, English second.

Each file in ``ui/strings/`` defines ``STRINGS = {"area.key": ("中文", "English")}``;
they are merged here into `TABLE` (a key defined twice is an error). Pages call
``t("area.key", n=3)``; the language is chosen in the sidebar and kept in the
session state under ``lang``.
"""

from __future__ import annotations

import importlib
import pkgutil

import ui.strings

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_KEY = "lang"


def _load_table() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(ui.strings.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"ui.strings.{info.name}")
        for key, pair in getattr(module, "STRINGS", {}).items():
            if key in table:
                raise ValueError(f"string key {key!r} is defined twice (ui/strings/{info.name}.py)")
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(s, str) and s for s in pair)):
                raise ValueError(f"string key {key!r} needs a (中文, English) pair of non-empty strings")
            table[key] = pair
    return table


TABLE: dict[str, tuple[str, str]] = _load_table()


def current_lang() -> str:
    """The session's language (``zh`` unless switched); ``zh`` outside Streamlit."""
    try:
        import streamlit as st

        lang = st.session_state.get(LANG_KEY, DEFAULT_LANG)
    except Exception:
        lang = DEFAULT_LANG
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, /, *, lang: str | None = None, **fmt: object) -> str:
    """The label for ``key`` in the current language, formatted with ``fmt``."""
    pair = TABLE.get(key)
    if pair is None:
        raise KeyError(f"no string {key!r} in ui/strings/")
    text = pair[LANGS.index(lang or current_lang())]
    return text.format(**fmt) if fmt else text


def label_of(kind: str, code: str, *, lang: str | None = None) -> str:
    """Display label of an enumerated code, e.g. ``label_of("facility", "day_care")``."""
    key = f"code.{kind}.{code}"
    return t(key, lang=lang) if key in TABLE else str(code)
