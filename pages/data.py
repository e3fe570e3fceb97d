"""数据管理 Data: import a layer as a new version (upload, mapping, report, preview, save), versions, templates."""

from __future__ import annotations

import streamlit as st

from i18n import t
from ui import auth
from ui.admin import audit_section, users_section
from ui.context import get_context
from ui.data_page import open_page_store, render_import, render_templates, render_versions
from ui.section import section
from ui.writer_notice import gpkg_notice

ctx = get_context()
st.title(t("data.title"))
st.caption(t("data.intro"))
flash = st.session_state.pop("data_flash", None)
if flash:
    st.success(flash)
for note in st.session_state.pop("data_flash_warnings", None) or ():  # e.g. estates outside every grid
    st.warning(note)

store, reason = open_page_store(ctx)
if store is None:
    st.warning(t("data.no_store", reason=reason))
else:
    with section("data.writer"):  # the QGIS copy of a large version that could not be written, and its retry
        gpkg_notice(store, lang=ctx.lang)

# import and restore need the staff role; users and the audit log the admin role (ui.auth checks again on click)
viewer = auth.current()
can_import = auth.allowed("staff")
names = ([t("data.import.header")] if can_import else []) + [t("data.versions.header"), t("data.templates.header")]
names += [t("admin.users.title"), t("admin.audit.title")] if auth.allowed("admin") else []
tabs = list(st.tabs(names))
if can_import:
    with tabs.pop(0), section("data.import"):
        render_import(ctx, store, user=viewer.name)
else:
    st.caption(t("auth.role_note.staff"))
with tabs.pop(0), section("data.versions"):
    if store is not None:
        render_versions(ctx, store, user=viewer.name, can_restore=can_import)
with tabs.pop(0), section("data.templates"):
    render_templates(ctx.lang)
if tabs:
    with tabs.pop(0), section("data.users"):
        users_section()
    with tabs.pop(0), section("data.audit"):
        audit_section()
