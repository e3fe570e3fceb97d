"""The audit log: append-only, who/what/where, CSV with BOM and no formulas."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, datetime

import pytest

from geo.audit import AuditLog
from geo.errors import StorageError


def test_record_and_read_back_newest_first(tmp_path):
    log = AuditLog(tmp_path)
    log.record("sign_in", user="wang", role="planner", remote="10.0.0.7", at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    log.record("scenario_save", user="wang", role="planner", target="方案A", remote="10.0.0.7")
    log.record("sign_in_failed", user="li", detail="wrong password", remote="10.0.0.8", ok=False)
    got = log.entries()
    assert [(e.action, e.user, e.ok) for e in got] == [("sign_in_failed", "li", False),
                                                       ("scenario_save", "wang", True), ("sign_in", "wang", True)]
    assert got[2].at == "2026-03-01T09:00:00+00:00" and got[1].target == "方案A" and got[0].remote == "10.0.0.8"
    assert [e.action for e in log.entries(user="wang")] == ["scenario_save", "sign_in"]
    assert [e.user for e in log.entries(action="sign_in")] == ["wang"]


def test_append_only(tmp_path):
    log = AuditLog(tmp_path)
    log.record("import", user="zhang", target="wuchang")
    with sqlite3.connect(log.path) as con:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE audit SET user = 'someone else'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM audit")
    assert [e.user for e in log.entries()] == ["zhang"]


def test_unknown_action_refused(tmp_path):
    with pytest.raises(ValueError, match="`action` was 'dance' but is expected"):
        AuditLog(tmp_path).record("dance")


def test_export_csv_bom_and_no_formulas(tmp_path):
    log = AuditLog(tmp_path)
    log.record("download", user="=HYPERLINK(\"http://x\")", target="+cmd|' /C calc'!A0", detail="@SUM(1)")
    log.record("sign_in", user="王", target="-2+3")
    data = log.export_csv(headers={"user": "用户"})
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["at", "用户", "role", "action", "target", "detail", "remote", "ok"]
    assert rows[1][1:6] == ["'=HYPERLINK(\"http://x\")", "", "download", "'+cmd|' /C calc'!A0", "'@SUM(1)"]
    assert rows[2][1] == "王" and rows[2][4] == "'-2+3" and rows[2][7] == "1"


def test_unwritable_workspace_is_a_storage_error(tmp_path):
    home = tmp_path / "file-not-folder"
    home.write_text("x")
    with pytest.raises(StorageError, match="the audit log .* cannot be opened") as info:
        AuditLog(home).record("sign_in", user="wang")
    assert info.value.code == "storage.audit_failed"
