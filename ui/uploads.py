"""File uploaders that speak the page's language.

Streamlit (1.67) writes its uploader's own words in English and offers no
hook to translate them: the button ("Upload"), the line beside it ("200MB per
file • XLSX") and the overlay while a file is dragged over ("Drag and drop a
file here"). `file_uploader` draws `st.file_uploader` and, just before it, a
style sheet (`uploader_css`; a style-only `st.html` takes no room on the page)
that puts the string table's texts (`upload.*`) in their place:

- every rule is scoped to this one uploader by its key's class
  (``.st-key-<key>``, which Streamlit gives a keyed widget), so each uploader
  names its own limit and file types;
- each replacement hides the built-in text and shows ours as the ``::after``
  content of the *same* element, found by Streamlit's stable ``data-testid``
  (``stFileUploaderDropzoneInstructions``, the button's
  ``stMarkdownContainer``). If a later Streamlit renames or drops one of
  those, both halves of that rule stop matching together and Streamlit's own
  English shows again: the uploader degrades to Streamlit's text, never to
  an empty button or line.

The overlay shown while a file is dragged over keeps Streamlit's words: it has
no test id of its own, and a rule keyed by the page's structure could hide the
list of chosen files instead.

`tests/e2e/test_uploads_browser.py` reads the shown texts in both languages
and checks that degradation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import streamlit as st
from streamlit import config as st_config

from i18n import t

_KEY_CLASS = re.compile(r"[^A-Za-z0-9_-]")


def key_class(key: str) -> str:
    """The class Streamlit gives the element of a widget with this key (``st-key-`` + the key, other characters as -)."""
    return "st-key-" + _KEY_CLASS.sub("-", key)


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string (quotes, backslashes, angle brackets and line breaks escaped)."""
    out = []
    for ch in text:
        if ch in '"\\<>' or ch == "\n":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def limit_mb(max_upload_size: int | None = None) -> int:
    """The largest upload in MB: the widget's own limit, else the server's ``server.maxUploadSize``."""
    return int(max_upload_size if max_upload_size is not None else st_config.get_option("server.maxUploadSize"))


def instructions(types: Sequence[str] | None, mb: int, *, lang: str | None = None) -> str:
    """The line beside the button: drag and drop, the limit, the file types (upper case, as Streamlit writes them)."""
    names = ", ".join(dict.fromkeys(s.lstrip(".").upper() for s in (types or ())))
    if not names:
        return t("upload.instructions.any", lang=lang, mb=mb)
    return t("upload.instructions", lang=lang, mb=mb, types=names)


def uploader_css(key: str, *, types: Sequence[str] | None, mb: int, lang: str | None = None) -> str:
    """The style sheet that shows our texts in the uploader with this key (see the module docstring)."""
    scope = f".{key_class(key)} [data-testid=\"stFileUploaderDropzone\"]"
    swaps = (
        (f"{scope} [data-testid=\"stFileUploaderDropzoneInstructions\"]", instructions(types, mb, lang=lang),
         "font-size: 0.875rem; opacity: 0.6;"),
        (f"{scope} button [data-testid=\"stMarkdownContainer\"]", t("upload.button", lang=lang), ""),
    )
    rules = []
    for where, text, extra in swaps:
        rules.append(f"{where} > * {{display: none;}}")
        rules.append(f"{where}::after {{content: {css_string(text)}; {extra}}}")
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def file_uploader(label: str, *, key: str, type: Sequence[str] | None = None, where: Any = None,
                  max_upload_size: int | None = None, lang: str | None = None, **kwargs: Any) -> Any:
    """`st.file_uploader` (in ``where``, default the page) with its built-in texts in the page's language."""
    target = where or st
    target.html(uploader_css(key, types=type, mb=limit_mb(max_upload_size), lang=lang))
    if max_upload_size is not None:
        kwargs["max_upload_size"] = max_upload_size
    return target.file_uploader(label, type=list(type) if type is not None else None, key=key, **kwargs)
