"""Sign-in, roles and the audit trail on the Streamlit side.

- `gate` (called by app.py before anything else): with no users in the
  workspace and no single sign-on configured, the app runs open and says so in
  the sidebar; otherwise a session without a valid sign-in sees only the
  sign-in form, on whichever page it asked for, and no data.
- The signed-in `Session` lives in this browser session's state only; it is
  checked against the workspace's users table at every rerun, so a removed
  user, a changed password (`geo.users`) or a changed role applies at once.
- `allowed(role)` hides a control; `require(role, action=...)` is called in the
  action's handler and refuses (message, audit entry ``denied``, stop) if the
  session's role is below ``role`` — whatever the browser sent.
- `audit(...)` records who (the signed-in user), what and from where (the
  client address from `st.context`).
- `download_button` is the one download button: it records each download and
  serves only what the caller built (personal data masked by the caller,
  spreadsheet cells made formula-safe here). Given a callable (`table_files`
  gives two), the file is written only when the button is clicked (Streamlit's
  deferred download, on a thread of its own outside the page's run), not on
  every run that shows the button; the download is then recorded when its file
  is made, for the viewer the button was drawn for, after checking that this
  viewer may still download (signed in, not removed or signed out everywhere).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from geo.audit import AuditLog
from geo.errors import GridAtlasError, SettingsError
from geo.personal import UNMASKED_FROM_ROLE
from geo.safe_text import safe_frame
from geo.sso import SsoConfig, role_for_identity, sso_config
from geo.users import AccessDenied, Session, SignInError, UserStore, role_at_least
from i18n import error_text, t

LOG = logging.getLogger("gridatlas.auth")
SESSION_KEY = "auth_session"
NOTICE_KEY = "auth_notice"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# the actions `require` guards (each has a label ``code.action.<name>``)
GUARDED_ACTIONS: tuple[str, ...] = ("siting_run", "scenario_save", "scenario_delete", "import", "restore", "users",
                                    "audit", "download", "followup_add", "followup_done", "target_set")


@dataclass(frozen=True)
class Viewer:
    """Who uses this session: a signed-in user, or everyone when the app runs open (no users)."""

    name: str | None
    role: str | None
    open_mode: bool = False

    @property
    def label(self) -> str:
        return self.name or ""


def users() -> UserStore:
    return UserStore()


def audit_log() -> AuditLog:
    return AuditLog()


def _sso() -> SsoConfig | None:
    try:
        return sso_config()
    except SettingsError as err:
        st.error(error_text(err))
        return None


_OPEN_KEY = "auth_open_this_run"


def is_open(*, fresh: bool = False) -> bool:
    """True when no user exists and no single sign-on is configured: everyone may do everything.

    Read from the workspace (and secrets.toml) by `gate` at the start of every run and by `require` before every
    guarded action (``fresh``); what else asks during the run (controls shown, masks, the sidebar) reuses that
    answer instead of opening the users database again (several times a run, under thirty sessions).
    """
    if not fresh:
        got = st.session_state.get(_OPEN_KEY)
        if got is not None:
            return bool(got)
    value = not users().has_users() and _sso() is None
    st.session_state[_OPEN_KEY] = value
    return value


def remote_address() -> str:
    """The client's address as this server saw it (and a proxy's X-Forwarded-For, when there is one)."""
    try:
        ip = st.context.ip_address or "127.0.0.1"
        fwd = st.context.headers.get("X-Forwarded-For")
    except Exception:  # outside a browser session (AppTest, bare mode)
        return "local"
    return f"{ip} (X-Forwarded-For {fwd})" if fwd else ip


def current() -> Viewer:
    """The viewer of this rerun (signed out: name and role None)."""
    if is_open():
        return Viewer(name=None, role="admin", open_mode=True)
    session: Session | None = st.session_state.get(SESSION_KEY)
    if session is None:
        return Viewer(name=None, role=None)
    return Viewer(name=session.name, role=session.role)


def allowed(needed: str) -> bool:
    """May this session's role do what ``needed`` may? (Used to hide controls; handlers call `require`.)"""
    return role_at_least(current().role, needed)


def can_see_personal() -> bool:
    """Unmasked phones and names only for ``staff`` and above, signed in (the open demo masks them too)."""
    v = current()
    return not v.open_mode and role_at_least(v.role, UNMASKED_FROM_ROLE)


def audit(action: str, *, target: str = "", detail: str = "", ok: bool = True, user: str | None = None,
          role: str | None = None) -> None:
    v = current()
    audit_log().record(action, user=v.label if user is None else user, role=(v.role or "") if role is None else role,
                       target=target, detail=detail, remote=remote_address(), ok=ok)


def require(needed: str, *, action: str, target: str = "") -> Viewer:
    """Refuse the action unless this session's role is ``needed`` or above (checked now, on the server).

    A refusal is recorded (``denied``), shown, and ends this rerun.
    """
    is_open(fresh=True)
    _refresh()
    v = current()
    if role_at_least(v.role, needed):
        return v
    audit("denied", target=target, detail=f"{action} needs {needed}", ok=False)
    role = t(f"code.role.{v.role}") if v.role else t("auth.sidebar.signed_out")
    st.error(t("auth.denied", role=role, action=t(f"code.action.{action}"), needed=t(f"code.role.{needed}")))
    st.stop()
    raise AccessDenied(f"{action} needs {needed}")  # not reached: st.stop() ends the rerun


# --- signing in and out ------------------------------------------------------------------------

def _end_session(notice: str) -> None:
    keep = {k: st.session_state[k] for k in ("lang",) if k in st.session_state}
    st.session_state.clear()
    st.session_state.update(keep)
    st.session_state[NOTICE_KEY] = notice


def _refresh() -> None:
    """Re-read this session's user from the workspace; end the session if the user is gone or signed out."""
    session: Session | None = st.session_state.get(SESSION_KEY)
    if session is None or session.via == "oidc":
        return
    try:
        fresh = users().check_session(session)
    except AccessDenied:
        _end_session("auth.session_ended")
        return
    if fresh != session:
        st.session_state[SESSION_KEY] = fresh


def sign_out() -> None:
    v = current()
    audit("sign_out", user=v.label)
    session: Session | None = st.session_state.get(SESSION_KEY)
    _end_session("auth.signed_out")
    if session is not None and session.via == "oidc":
        st.logout()


def _sso_session(cfg: SsoConfig) -> Session | None:
    """A session for the identity st.login established, if GridAtlas knows it (else a message)."""
    if not st.user.is_logged_in:
        return None
    identity = st.user.to_dict()
    found = role_for_identity(identity, cfg, users())
    if found is None:
        email = str(identity.get("email", ""))
        audit("sign_in_failed", user=email, role="", detail="single sign-on identity not registered", ok=False)
        st.warning(t("auth.sso_unknown", email=email))
        st.button(t("auth.sso_sign_out"), on_click=st.logout)
        return None
    name, role = found
    return Session(name=name, role=role, epoch=-1, via="oidc")


def sign_in_page() -> None:
    """The only thing a signed-out session sees, whichever page it asked for."""
    st.title(t("auth.title"))
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(t(notice))
    st.caption(t("auth.intro"))
    cfg = _sso()
    if cfg is not None:
        session = _sso_session(cfg)
        if session is not None:
            st.session_state[SESSION_KEY] = session
            audit("sign_in", detail="single sign-on")
            st.rerun()
        for provider in cfg.providers:
            label = t("auth.sso", provider=provider)
            if st.button(label, key=f"sso_{provider}"):
                st.login(provider)
    with st.form("sign_in", clear_on_submit=False):
        name = st.text_input(t("auth.name"), key="sign_in_name")
        password = st.text_input(t("auth.password"), type="password", key="sign_in_password")
        submitted = st.form_submit_button(t("auth.submit"), type="primary")
    if submitted:
        try:
            session = users().authenticate(name, password)
        except SignInError as err:
            audit("sign_in_failed", user=name.strip(), role="", detail=err.code, ok=False)
            st.error(error_text(err))
            return
        st.session_state[SESSION_KEY] = session
        st.session_state.pop("sign_in_password", None)
        audit("sign_in", detail="password")
        st.rerun()


def gate() -> Viewer | None:
    """The viewer when this session may see pages; None when it must sign in first (app.py then shows only that)."""
    if is_open(fresh=True):
        return current()
    _refresh()
    v = current()
    return v if v.role is not None else None


def sidebar_status(viewer: Viewer | None) -> None:
    """Who is signed in (and a sign-out button), that the app is open, or that sign-in is needed."""
    if viewer is None:
        st.caption(t("auth.sidebar.signed_out"))
    elif viewer.open_mode:
        st.warning(t("auth.sidebar.open"))
    else:
        st.caption(t("auth.sidebar.user", name=viewer.name, role=t(f"code.role.{viewer.role}")))
        st.button(t("auth.sign_out"), key="sign_out", on_click=sign_out)


# --- downloads ------------------------------------------------------------------------------

def download_button(container, label: str, data: bytes | Callable[[], bytes], *, file_name: str, mime: str, key: str,
                    **kwargs) -> None:
    """A download button whose use is recorded in the audit log (who, which file).

    ``data`` bytes are sent with the page and the click is recorded (`audit_download`, on the rerun the click
    causes). A callable ``data`` is called only when the button is clicked (`deferred_file`): nothing is written
    while the page runs, and the click causes no rerun.
    """
    if callable(data):
        container.download_button(label, deferred_file(data, file_name=file_name), file_name=file_name, mime=mime,
                                  key=key, on_click="ignore", **kwargs)
        return
    container.download_button(label, data, file_name=file_name, mime=mime, key=key,
                              on_click=audit_download, args=(file_name,), **kwargs)


def audit_download(file_name: str) -> None:
    try:
        audit("download", target=file_name)
    except GridAtlasError as err:  # the file is already on its way; say the record failed
        st.toast(error_text(err))


def deferred_file(make: Callable[[], bytes], *, file_name: str) -> Callable[[], bytes]:
    """What a deferred download button calls on a click: ``make()``'s file, recorded in the audit log.

    Drawn in the page's run, called later outside it (Streamlit runs it on a thread of its own, where neither the
    session's state nor its client are at hand): who is looking and from where are taken now. On the click, a
    viewer who may no longer download (removed, signed out everywhere, or the app no longer open) gets no file:
    the refusal is recorded (``denied``) and Streamlit shows the button's error.
    """
    viewer = current()
    return _DeferredFile(make, file_name, viewer, st.session_state.get(SESSION_KEY), remote_address())


@dataclass(frozen=True, eq=False)
class _DeferredFile:
    make: Callable[[], bytes] = field(repr=False)
    file_name: str
    viewer: Viewer
    session: Session | None
    remote: str

    def _record(self, action: str, *, detail: str = "", ok: bool = True) -> None:
        audit_log().record(action, user=self.viewer.label, role=self.viewer.role or "", target=self.file_name,
                           detail=detail, remote=self.remote, ok=ok)

    def _may_download(self) -> bool:
        if self.viewer.open_mode:
            return not users().has_users()
        if self.session is None or self.viewer.role is None:
            return False
        if self.session.via == "oidc":  # its identity is the provider's (as at every rerun, `_refresh`)
            return True
        try:
            users().check_session(self.session)
        except AccessDenied:
            return False
        return True

    def __call__(self) -> bytes:
        if not self._may_download():
            self._record("denied", detail="download needs sign-in", ok=False)
            raise AccessDenied(f"{self.file_name}: download needs sign-in")
        data = self.make()
        try:
            self._record("download")
        except GridAtlasError as err:  # as `audit_download`: the file goes; the failed record is logged
            LOG.error("download of %s not recorded in the audit log: %s", self.file_name, err)
        return data


def download_error_text(err: BaseException | None, *, lang: str | None = None) -> str:
    """What a deferred download's button says when its file could not be made (Streamlit's own answer is one
    English sentence for every cause). ``err``: what making it raised — Streamlit wraps the button's exception
    (its ``__cause__``); None or Streamlit's own error without a cause: the server no longer has that button
    (the page was left, or its session ended, before the click)."""
    if err is None or (err.__cause__ is None and type(err).__name__ == "MediaFileStorageError"):
        return t("download.expired", lang=lang)
    cause = err.__cause__ or err
    if isinstance(cause, AccessDenied):
        return t("download.refused", lang=lang)
    if isinstance(cause, GridAtlasError):
        return t("download.failed", lang=lang, reason=error_text(cause, lang=lang))
    return t("download.failed", lang=lang, reason=t("download.internal", lang=lang))


@dataclass(frozen=True, eq=False)
class TableFile:
    """One file of a table, written when called (a download's click): ``fmt`` ``csv`` (UTF-8 with BOM) or
    ``xlsx``, every text cell formula-safe. Equal tables give equal files, written once (`table_file`)."""

    frame: pd.DataFrame = field(repr=False)
    fmt: str

    def __call__(self) -> bytes:
        return table_file(self.frame, self.fmt)


def table_files(df: pd.DataFrame) -> tuple[TableFile, TableFile]:
    """The CSV and XLSX files of ``df`` for `download_button`: nothing is written until a button is clicked."""
    return TableFile(df, "csv"), TableFile(df, "xlsx")


@st.cache_data(show_spinner=False, max_entries=64)
def table_file(df: pd.DataFrame, fmt: str) -> bytes:
    """The ``fmt`` file (``csv``: UTF-8 with BOM; ``xlsx``) of ``df`` with every text cell formula-safe.

    Kept per table content and format: another session downloading the same table does not write it again.
    """
    safe = safe_frame(df)
    if fmt == "csv":
        return safe.to_csv(index=False).encode("utf-8-sig")
    buf = io.BytesIO()
    safe.to_excel(buf, index=False, engine="openpyxl")
    return buf.getvalue()
