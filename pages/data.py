"""数据管理 Data: import a layer as a new version (upload, mapping, report, preview, save), versions, templates."""

from __future__ import annotations

import streamlit as st

from ui.context import get_context
from ui.data_page import open_page_store, render_import, render_templates, render_versions
from ui.i18n import t

ctx = get_context()
st.title(t("data.title"))
st.caption(t("data.intro"))
flash = st.session_state.pop("data_flash", None)
if flash:
    st.success(flash)

store, reason = open_page_store(ctx)
if store is None:
    st.warning(t("data.no_store", reason=reason))

tab_import, tab_versions, tab_templates = st.tabs(
    [t("data.import.header"), t("data.versions.header"), t("data.templates.header")])
with tab_import:
    render_import(ctx, store)
with tab_versions:
    if store is not None:
        render_versions(ctx, store)
with tab_templates:
    render_templates(ctx.lang)
