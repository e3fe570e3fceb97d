"""Spreadsheets are written when a download button is clicked, not on every run that shows it (`ui.auth`):
the files are the bytes the eager buttons sent, a run that only shows the buttons saves no workbook, and the
click records the download (or refuses a viewer who may no longer download) in the audit log."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.audit import AuditLog
from geo.errors import GridAtlasError
from geo.safe_text import safe_frame
from geo.users import AccessDenied, UserStore
from ui import auth

PW = "pass word 1"


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "网格": ["G-001", "G-002", "G-003"],
        "事项": ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "路灯不亮"],
        "逾期天数": [3, 12, 40],
        "上报日期": pd.to_datetime(["2026-11-01", "2026-11-15", "2026-10-20"]),
        "份额": [0.25, 0.5, 1.0],
    })


def _eager_files(df: pd.DataFrame) -> tuple[bytes, bytes]:
    """What `ui.auth.table_files` wrote on every run before (its code then, unchanged)."""
    safe = safe_frame(df)
    csv = safe.to_csv(index=False).encode("utf-8-sig")
    buf = io.BytesIO()
    safe.to_excel(buf, index=False, engine="openpyxl")
    return csv, buf.getvalue()


_STAMP = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def _members(xlsx: bytes) -> dict[str, bytes]:
    """The workbook's parts, with the two time stamps openpyxl writes (created, modified: the clock's) cut out."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        return {n: _STAMP.sub(b"", z.read(n)) for n in z.namelist()}


@pytest.fixture
def saves(monkeypatch) -> list[str]:
    """Every workbook openpyxl saves (pandas' ``to_excel`` ends in ``Workbook.save``)."""
    seen: list[str] = []
    real = openpyxl.Workbook.save

    def counted(self, filename):
        seen.append(type(filename).__name__)
        return real(self, filename)

    monkeypatch.setattr(openpyxl.Workbook, "save", counted)
    return seen


def test_the_files_are_the_bytes_the_eager_buttons_sent(saves):
    auth.table_file.clear()
    df = _table()
    csv, xlsx = auth.table_files(df)
    assert saves == []  # nothing written yet
    eager_csv, eager_xlsx = _eager_files(df)
    assert len(saves) == 1
    assert csv() == eager_csv
    got = xlsx()
    assert len(saves) == 2  # written when asked for
    assert list(_members(got)) == list(_members(eager_xlsx)) and _members(got) == _members(eager_xlsx)
    cells = [c.value for row in openpyxl.load_workbook(io.BytesIO(got)).active.iter_rows(min_row=2) for c in row]
    assert "'=HYPERLINK(\"http://x\")" in cells and "路灯不亮" in cells  # formula-safe text, as before
    assert xlsx() == got and len(saves) == 2  # the same table again: kept, not written again


def _page():
    """A page showing an overdue list's downloads (what pages/cases.py and pages/coverage.py draw)."""
    import pandas as pd
    import streamlit as st

    from ui import auth
    from ui.coverage import table_downloads

    class Seen:  # a container that also keeps what each button was given
        def download_button(self, label, data, **kwargs):
            st.session_state.setdefault("given", []).append((label, data, kwargs))
            return st.download_button(label, data, **kwargs)

    df = pd.DataFrame({"网格": ["G-001", "G-002"], "事项": ["=1+1", "路灯"], "逾期天数": [3, 12]})
    table_downloads(df, file_stem="逾期清零", key="overdue")
    csv, xlsx = auth.table_files(df)
    auth.download_button(Seen(), "下载 Excel", xlsx, file_name="逾期清零.xlsx", mime=auth.XLSX_MIME, key="seen")


def test_a_run_that_shows_the_buttons_writes_no_spreadsheet(home, saves):
    auth.table_file.clear()
    at = AppTest.from_function(_page, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("download_button")) == 3
    at.run()  # and a rerun (another street, another period: the page runs again)
    assert not at.exception
    assert saves == []
    (label, data, kwargs), *_ = at.session_state["given"]
    assert callable(data) and kwargs["on_click"] == "ignore"  # a click asks for the file only, no page rerun
    assert AuditLog().entries(action="download") == []  # shown, not downloaded: nothing recorded
    body = data()  # the click (Streamlit calls it on a thread of its own)
    assert body[:2] == b"PK" and len(saves) == 1
    entries = AuditLog().entries(action="download")
    assert [(e.target, e.user, e.role, e.ok) for e in entries] == [("逾期清零.xlsx", "", "admin", True)]


def _signed_in(home, name: str) -> auth._DeferredFile:
    users = UserStore(home)
    session = users.authenticate(name, PW)
    viewer = auth.Viewer(name=session.name, role=session.role)
    xlsx = auth.table_files(_table())[1]
    return auth._DeferredFile(xlsx, "逾期清零.xlsx", viewer, session, "10.0.0.7")


@pytest.fixture
def users_home(home):
    store = UserStore(home)
    store.add("ling", PW, "leader")
    store.add("guan", PW, "admin")
    return home


def test_the_click_records_the_download_for_the_viewer_it_was_drawn_for(users_home):
    click = _signed_in(users_home, "ling")
    body = click()
    assert body == auth.table_file(_table(), "xlsx")
    [entry] = AuditLog().entries(action="download")
    assert (entry.user, entry.role, entry.target, entry.remote, entry.ok) == ("ling", "leader", "逾期清零.xlsx",
                                                                            "10.0.0.7", True)


def test_a_removed_user_gets_no_file(users_home):
    click = _signed_in(users_home, "ling")
    UserStore(users_home).remove("ling")
    with pytest.raises(AccessDenied, match=r"^逾期清零\.xlsx: download needs sign-in$") as err:
        click()
    assert err.value.code == "auth.denied"
    assert AuditLog().entries(action="download") == []
    [denied] = AuditLog().entries(action="denied")
    assert (denied.user, denied.target, denied.detail, denied.ok) == ("ling", "逾期清零.xlsx",
                                                                      "download needs sign-in", False)


def test_a_button_drawn_while_the_app_was_open_serves_nothing_once_users_exist(home):
    click = auth._DeferredFile(auth.table_files(_table())[0], "t.csv", auth.Viewer(None, "admin", open_mode=True),
                               None, "local")
    assert click()[:3] == b"\xef\xbb\xbf"  # open: served (UTF-8 with BOM)
    UserStore(home).add("guan", PW, "admin")
    with pytest.raises(AccessDenied, match=r"^t\.csv: download needs sign-in$"):
        click()


def test_a_failed_record_still_serves_the_file_and_says_so_in_the_log(home, monkeypatch, caplog):
    def broken(self, *a, **k):
        raise GridAtlasError("audit log full", code="storage.not_writable", params={"path": "x", "reason": "full"})

    monkeypatch.setattr(AuditLog, "record", broken)
    click = auth._DeferredFile(auth.table_files(_table())[0], "t.csv", auth.Viewer(None, "admin", open_mode=True),
                               None, "local")
    assert click() == _eager_files(_table())[0]
    assert [r.getMessage() for r in caplog.records if r.name == "gridatlas.auth"] == [
        "download of t.csv not recorded in the audit log: audit log full"]


def _templates_page():
    from ui.data_page import render_templates

    render_templates("zh")


def test_the_data_pages_templates_are_written_when_clicked_not_on_every_run(home, saves, monkeypatch):
    import ui.data_page
    from geo.schema import LAYER_NAMES

    made: list[tuple[str, str]] = []
    real = ui.data_page.template_bytes

    def counted(layer: str, fmt: str) -> bytes:
        made.append((layer, fmt))
        return real(layer, fmt)

    monkeypatch.setattr(ui.data_page, "template_bytes", counted)
    at = AppTest.from_function(_templates_page, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    buttons = at.get("download_button")
    assert len(buttons) == 2 * len(LAYER_NAMES)
    assert all(b.proto.HasField("deferred_file_id") and not b.proto.url for b in buttons)  # asked for on a click
    assert made == [] and saves == []
