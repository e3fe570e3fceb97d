"""Streamlit-side pieces shared by the pages: context, cached data, maps, charts.

Importing ``ui`` tells the string table (`i18n`) to take its language from the browser
session's choice, so reports built inside a page speak the page's language.
"""

import i18n


def _session_lang() -> str | None:
    import streamlit as st

    return st.session_state.get(i18n.LANG_KEY)


i18n.set_language_source(_session_lang)
