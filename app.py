"""GridAtlas (网格服务覆盖分析): Streamlit entry point.

Page config, the shared sidebar (dataset, street, language, basemap), then the
navigation. Only pages that work are listed.
"""

from __future__ import annotations

import streamlit as st

from ui.i18n import t
from ui.sidebar import render_sidebar

st.set_page_config(page_title="GridAtlas 网格服务覆盖分析", page_icon="🗺️", layout="wide")

# (file, title key, icon, url path); the first is the default page.
PAGES: list[tuple[str, str, str, str]] = [
    ("pages/overview.py", "nav.overview", ":material/map:", "overview"),
    ("pages/coverage.py", "nav.coverage", ":material/radar:", "coverage"),
    ("pages/siting.py", "nav.siting", ":material/add_location_alt:", "siting"),
    ("pages/cases.py", "nav.cases", ":material/local_fire_department:", "cases"),
    ("pages/data.py", "nav.data", ":material/upload_file:", "data"),
]


def main() -> None:
    ctx = render_sidebar()
    pages = [st.Page(path, title=t(title), icon=icon, url_path=url, default=(i == 0))
             for i, (path, title, icon, url) in enumerate(PAGES)]
    nav = st.navigation(pages)
    if ctx is None:
        st.stop()
    nav.run()


main()
