"""GridAtlas (网格服务覆盖分析): Streamlit entry point.

Page config, the sign-in gate, the shared sidebar (dataset, street, language,
basemap), then the navigation. Only pages that work are listed; within a page,
only the controls the signed-in role may use are shown. A session that must sign in first gets the sign-in
form under every page's address, and nothing else (no dataset is even loaded).
"""

from __future__ import annotations

import streamlit as st
from streamlit import config as st_config

from geo import settings
from geo.errors import SettingsError
from i18n import error_text, t
from ui import auth
from ui.serve import own_navigation
from ui.sidebar import render_language, render_sidebar, show_load_error

st.set_page_config(page_title="GridAtlas 网格服务覆盖分析", page_icon="🗺️", layout="wide")
# Served other than by `python -m ui.serve` (which says so before the first visit), the first run after a start
# takes pages/ for Streamlit's old folder convention and gives the sidebar's widgets ids of another page: run again.
# (Not under AppTest: it starts every run that way, so its ids never change, and it reads the setting itself.)
if not st_config.get_option("global.appTest") and own_navigation():
    st.rerun()

# (file, title key, icon, url path); the first is the default page.
PAGES: list[tuple[str, str, str, str]] = [
    ("pages/overview.py", "nav.overview", ":material/map:", "overview"),
    ("pages/coverage.py", "nav.coverage", ":material/radar:", "coverage"),
    ("pages/siting.py", "nav.siting", ":material/add_location_alt:", "siting"),
    ("pages/cases.py", "nav.cases", ":material/local_fire_department:", "cases"),
    ("pages/estates.py", "nav.estates", ":material/apartment:", "estates"),
    ("pages/meeting.py", "nav.meeting", ":material/co_present:", "meeting"),
    ("pages/data.py", "nav.data", ":material/upload_file:", "data"),
]


def check_settings() -> None:
    """Stop with a clear page (both languages: the switch is not drawn yet) when a setting is invalid."""
    try:
        settings.check_all()
    except SettingsError as err:
        st.title(t("settings.invalid.title", lang="zh") + " · " + t("settings.invalid.title", lang="en"))
        st.error(error_text(err, lang="zh"))
        st.error(error_text(err, lang="en"))
        st.caption(t("settings.invalid.help", lang="zh"))
        st.caption(t("settings.invalid.help", lang="en"))
        st.stop()


def main() -> None:
    check_settings()
    viewer = auth.gate()
    if viewer is None:
        with st.sidebar:
            render_language()
            auth.sidebar_status(None)
        # every address answers with the sign-in form, so a bookmarked page asks for sign-in, then opens
        urls = [p[3] for p in PAGES]
        gate = [st.Page(auth.sign_in_page, title=t("auth.title"), url_path=url, default=(i == 0))
                for i, url in enumerate(urls)]
        st.navigation(gate, position="hidden").run()
        st.stop()
    ctx = render_sidebar()
    with st.sidebar:
        auth.sidebar_status(viewer)
    pages = [st.Page(path, title=t(title), icon=icon, url_path=url, default=(i == 0))
             for i, (path, title, icon, url) in enumerate(PAGES)]
    nav = st.navigation(pages)
    if ctx is None:
        show_load_error()
        st.stop()
    nav.run()


main()
