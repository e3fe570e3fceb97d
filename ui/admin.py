"""Administrators' sections of the 数据管理 page: users (add, role, password, unlock, remove) and the audit log.

Each section checks the role itself (`ui.auth.require("admin")`) before it
changes anything, and records every change in the audit log. With no users the
app is open, and the users section offers to add the first administrator.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.audit import ACTIONS
from geo.errors import GridAtlasError
from geo.users import ROLES
from i18n import current_lang, error_text, t
from ui import auth, widgets
from ui.section import table as show_table


def _role_label(role: str) -> str:
    return t(f"code.role.{role}")


def users_section() -> None:
    """The users table and the forms that change it (admins only; everyone while the app is open)."""
    st.subheader(t("admin.users.title"))
    store = auth.users()
    people = store.list()
    if not people:
        st.info(t("admin.users.none"))
    else:
        st.dataframe(pd.DataFrame({
            t("admin.col.name"): [u.name for u in people],
            t("admin.col.role"): [_role_label(u.role) for u in people],
            t("admin.col.email"): [u.email or "" for u in people],
            t("admin.col.created"): [u.created_at.replace("T", " ")[:16] for u in people],
            t("admin.col.password_changed"): [u.password_changed_at.replace("T", " ")[:16] for u in people],
            t("admin.col.locked"): [(u.locked_until or "").replace("T", " ")[:16] if u.locked() else ""
                                    for u in people],
        }), hide_index=True, width="stretch")

    with st.form("admin_add_user", clear_on_submit=True):
        st.markdown(f"**{t('admin.users.add')}**")
        c = st.columns([2, 1.4, 2, 2, 2])
        name = c[0].text_input(t("auth.name"), key="admin_new_name")
        with c[1]:
            role = widgets.selectbox(t("admin.users.role"), ROLES, default=ROLES[len(ROLES) - 1 if not people else 0],
                                     format_func=_role_label, key="admin_new_role", lang=current_lang())
        email = c[2].text_input(t("admin.users.email"), key="admin_new_email")
        pw1 = c[3].text_input(t("auth.password"), type="password", key="admin_new_pw1")
        pw2 = c[4].text_input(t("admin.users.password2"), type="password", key="admin_new_pw2")
        add = st.form_submit_button(t("admin.users.add"))
    if add:
        auth.require("admin", action="users", target=name)
        if pw1 != pw2:
            st.error(t("admin.users.mismatch"))
        else:
            _apply(lambda: store.add(name, pw1, role, email=email or None), "user_add", name.strip(),
                   f"role {role}", t("admin.users.added", name=name.strip(), role=_role_label(role)))

    if not people:
        return
    st.markdown(f"**{t('admin.users.change')}**")
    c = st.columns([2, 1.4, 1, 2, 1, 1, 1.3])
    who = c[0].selectbox(t("admin.users.pick"), [u.name for u in people], key="admin_pick")
    current = next(u for u in people if u.name == who)
    with c[1]:
        new_role = widgets.selectbox(t("admin.users.role"), ROLES, default=current.role, format_func=_role_label,
                                     key=f"admin_role_{who}", lang=current_lang())
    if c[2].button(t("admin.users.set_role"), key="admin_set_role"):
        auth.require("admin", action="users", target=who)
        _apply(lambda: store.set_role(who, new_role), "user_role", who, f"{current.role} -> {new_role}",
               t("admin.users.role_set", name=who, role=_role_label(new_role)))
    new_pw = c[3].text_input(t("admin.users.new_password"), type="password", key="admin_reset_pw")
    if c[4].button(t("admin.users.set_password"), key="admin_set_pw"):
        auth.require("admin", action="users", target=who)
        _apply(lambda: store.set_password(who, new_pw), "user_password", who, "",
               t("admin.users.password_set", name=who))
    if c[5].button(t("admin.users.unlock"), key="admin_unlock", disabled=not current.locked()):
        auth.require("admin", action="users", target=who)
        _apply(lambda: store.unlock(who), "user_unlock", who, "", t("admin.users.unlocked", name=who))
    confirm = c[6].checkbox(t("admin.users.confirm_remove"), key=f"admin_confirm_{who}")
    if c[6].button(t("admin.users.remove"), key="admin_remove", disabled=not confirm):
        auth.require("admin", action="users", target=who)
        _apply(lambda: store.remove(who), "user_remove", who, f"role {current.role}",
               t("admin.users.removed", name=who))


def _apply(change, action: str, target: str, detail: str, done: str) -> None:
    """Do one user change, record it, and show the result (or the reason it was refused)."""
    try:
        change()
    except GridAtlasError as err:
        st.error(error_text(err))
        return
    auth.audit(action, target=target, detail=detail)
    st.session_state["data_flash"] = done  # the 数据管理 page shows it after the rerun
    st.rerun()


def audit_section(*, limit: int = 500) -> None:
    """The latest audit entries, filtered by user or action, and the whole log as CSV (admins only)."""
    auth.require("admin", action="audit")
    st.subheader(t("admin.audit.title"))
    log = auth.audit_log()
    everything = log.entries()
    if not everything:
        st.caption(t("admin.audit.none"))
        return
    c1, c2 = st.columns(2)
    people = sorted({e.user for e in everything})
    with c1:
        who = widgets.selectbox(t("admin.audit.filter_user"), ["", *people], key="audit_user", lang=current_lang(),
                                format_func=lambda u: u or t("admin.audit.all"))
    with c2:
        what = widgets.selectbox(t("admin.audit.filter_action"), ["", *ACTIONS], key="audit_action", lang=current_lang(),
                                 format_func=lambda a: t(f"code.audit.{a}") if a else t("admin.audit.all"))
    shown = [e for e in everything if (not who or e.user == who) and (not what or e.action == what)][:limit]
    st.caption(t("admin.audit.shown", n=len(shown), total=len(everything)))
    show_table(pd.DataFrame({
        t("admin.col.at"): [e.at.replace("T", " ")[:19] for e in shown],
        t("admin.col.name"): [e.user for e in shown],
        t("admin.col.role"): [_role_label(e.role) if e.role in ROLES else e.role for e in shown],
        t("admin.col.action"): [t(f"code.audit.{e.action}") for e in shown],
        t("admin.col.target"): [e.target for e in shown],
        t("admin.col.detail"): [e.detail for e in shown],
        t("admin.col.remote"): [e.remote for e in shown],
        t("admin.col.ok"): [e.ok for e in shown],
    }), hide_index=True, width="stretch")  # a filter that matches nothing says so in words
    headers = {c: t(f"admin.col.{'name' if c == 'user' else c}") for c in ("at", "user", "role", "action", "target",
                                                                         "detail", "remote", "ok")}
    auth.download_button(st, t("admin.audit.export"), lambda: log.export_csv(headers=headers),  # the whole log, on a click
                         file_name=f"{t('admin.audit.file')}.csv", mime="text/csv", key="audit_csv")
