"""用户与审计 Users and audit log (administrators): who may use the app, and what was done."""

from __future__ import annotations

import streamlit as st

from ui import auth
from ui.admin import admin_sections
from ui.i18n import t

auth.require("admin", action="users")
st.title(t("admin.title"))
admin_sections()
