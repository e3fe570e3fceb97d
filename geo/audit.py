"""The audit log: who did what, when and from where, append-only in the workspace.

Contract
--------
- One SQLite file, ``GRIDATLAS_HOME/audit.sqlite``, table ``audit``; triggers
  refuse every UPDATE and DELETE, so entries are only ever added.
- An entry: ``at`` (UTC, ISO 8601), ``user`` (name, or ``""`` when nobody is
  signed in), ``role``, ``action`` (one of `ACTIONS`), ``target`` (what was
  acted on: a dataset, a scenario, a user, a file), ``detail`` (a short text),
  ``remote`` (the client's address as the server saw it, or ``cli``) and
  ``ok`` (False for failures and refusals).
- `record` raises `StorageError` when the entry cannot be written (a full
  disk): an action that must be audited is then not reported as done.
- `export_csv` gives the entries as CSV in UTF-8 with BOM (Excel opens it),
  every text cell that a spreadsheet would read as a formula made inert.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from geo import settings
from geo.errors import StorageError, bad_choice
from geo.safe_text import spreadsheet_safe

DB_NAME = "audit.sqlite"
ACTIONS: tuple[str, ...] = (
    "sign_in", "sign_in_failed", "sign_out", "import", "restore", "scenario_save", "scenario_delete",
    "user_add", "user_remove", "user_role", "user_password", "user_unlock", "download", "denied", "version_drop",
    "followup_add", "followup_done", "target_set", "target_delete",
)
COLUMNS: tuple[str, ...] = ("at", "user", "role", "action", "target", "detail", "remote", "ok")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    remote TEXT NOT NULL,
    ok INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


@dataclass(frozen=True)
class Entry:
    at: str
    user: str
    role: str
    action: str
    target: str
    detail: str
    remote: str
    ok: bool


class AuditLog:
    """The audit log of one workspace."""

    def __init__(self, home: str | Path | None = None):
        self.home = Path(home) if home is not None else settings.home()
        self.path = self.home / DB_NAME

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30)
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"the audit log {self.path} cannot be opened ({exc})", code="storage.audit_failed",
                               params={"path": str(self.path), "reason": str(exc)}) from exc
        try:
            yield con
        finally:
            con.close()

    def record(self, action: str, *, user: str = "", role: str = "", target: str = "", detail: str = "",
               remote: str = "", ok: bool = True, at: datetime | None = None) -> Entry:
        """Append one entry; `StorageError` if it cannot be written."""
        if action not in ACTIONS:
            raise bad_choice("action", action, tuple(ACTIONS))
        entry = Entry(at=(at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
                      user=str(user or ""), role=str(role or ""), action=action, target=str(target or ""),
                      detail=str(detail or ""), remote=str(remote or ""), ok=bool(ok))
        with self._db() as con:
            try:
                with con:
                    con.execute("INSERT INTO audit (at, user, role, action, target, detail, remote, ok) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                (entry.at, entry.user, entry.role, entry.action, entry.target, entry.detail,
                                 entry.remote, int(entry.ok)))
            except sqlite3.Error as exc:
                raise StorageError(f"the audit log {self.path} cannot be written ({exc})",
                                   code="storage.audit_failed",
                                   params={"path": str(self.path), "reason": str(exc)}) from exc
        return entry

    def entries(self, *, user: str | None = None, action: str | None = None, limit: int | None = None) -> list[Entry]:
        """Entries, newest first, optionally of one user or one action."""
        if not self.path.exists():
            return []
        sql, args = "SELECT at, user, role, action, target, detail, remote, ok FROM audit", []
        where = []
        if user is not None:
            where.append("user = ?")
            args.append(user)
        if action is not None:
            where.append("action = ?")
            args.append(action)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._db() as con:
            rows = con.execute(sql, args).fetchall()
        return [Entry(*r[:7], ok=bool(r[7])) for r in rows]

    def export_csv(self, *, headers: dict[str, str] | None = None) -> bytes:
        """Every entry, oldest first, as CSV in UTF-8 with BOM; ``headers`` relabels the columns."""
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow([(headers or {}).get(c, c) for c in COLUMNS])
        for e in reversed(self.entries()):
            w.writerow([spreadsheet_safe(getattr(e, c)) if c != "ok" else int(e.ok) for c in COLUMNS])
        return out.getvalue().encode("utf-8-sig")
