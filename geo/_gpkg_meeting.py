"""The GeoPackage store's follow-ups and targets (`geo.followups`): two attributes tables in one file.

The workspace keeps them in the dataset's ``scenarios.gpkg`` (beside its versions, shared by them); the demo
GeoPackage carries its own, taken in with the file. Tables ``followups`` and ``targets`` are GeoPackage
attributes tables (listed in ``gpkg_contents``) when the file is a GeoPackage. Each change is one SQLite
transaction and keeps the file's modification time (as the scenarios table does).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from geo.errors import DataError, Problem
from geo.followups import FollowUp, Target, check_done, followup_missing, target_missing

FOLLOWUPS = "followups"
TARGETS = "targets"
_CREATE = {
    FOLLOWUPS: (f'CREATE TABLE IF NOT EXISTS "{FOLLOWUPS}" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
                '"title" TEXT NOT NULL, "unit" TEXT NOT NULL, "street" TEXT, "due" TEXT NOT NULL, '
                '"meeting" TEXT NOT NULL, "recorded_at" TEXT NOT NULL, "author" TEXT NOT NULL DEFAULT \'\', '
                '"done_on" TEXT, "note" TEXT)'),
    TARGETS: (f'CREATE TABLE IF NOT EXISTS "{TARGETS}" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
              '"quarter" TEXT NOT NULL, "kind" TEXT NOT NULL, "subject" TEXT NOT NULL, "measure" TEXT NOT NULL, '
              '"threshold" REAL NOT NULL, "set_at" TEXT NOT NULL, "author" TEXT NOT NULL DEFAULT \'\', '
              'UNIQUE ("quarter", "kind", "subject", "measure"))'),
}
_FU_COLS = "fid, title, unit, street, due, meeting, recorded_at, author, done_on, note"
_T_COLS = "quarter, kind, subject, measure, threshold, set_at, author"


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _table_error(path: Path, reason: str) -> DataError:
    return DataError([Problem(FOLLOWUPS, f"the follow-ups and targets in {path.name} cannot be read: {reason}",
                              "restore the file from a backup", code="data.followup_table", params={
                                  "name": path.name, "reason": reason})])


@contextmanager
def _connect(path: Path, *, write: bool) -> Iterator[sqlite3.Connection]:
    stat = path.stat()
    con = sqlite3.connect(path, timeout=30)
    try:
        if write:
            con.execute("BEGIN IMMEDIATE")
            for table, ddl in _CREATE.items():
                _ensure(con, table, ddl)
        yield con
        if write:
            con.commit()
    except sqlite3.DatabaseError as exc:
        con.rollback()
        raise _table_error(path, str(exc)) from exc
    finally:
        con.close()
        if write:
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _has(con: sqlite3.Connection, table: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None


def _ensure(con: sqlite3.Connection, table: str, ddl: str) -> None:
    if _has(con, table):
        return
    con.execute(ddl)
    if _has(con, "gpkg_contents"):
        stamp = datetime.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S.000Z")
        con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, "
                    "last_change, srs_id) VALUES (?, 'attributes', ?, '', ?, 0)", (table, table, stamp))


def _followup(r: tuple) -> FollowUp:
    return FollowUp(id=int(r[0]), title=r[1], unit=r[2], street=r[3] or None, due=r[4], meeting=r[5],
                    recorded_at=r[6], author=r[7] or "", done_on=r[8] or None, note=r[9] or None)


def list_followups(path: Path) -> list[FollowUp]:
    """Every follow-up of the file, by id (none when the file or table is absent)."""
    if not path.exists():
        return []
    with _connect(path, write=False) as con:
        if not _has(con, FOLLOWUPS):
            return []
        return [_followup(r) for r in con.execute(f'SELECT {_FU_COLS} FROM "{FOLLOWUPS}" ORDER BY fid')]


def add_followup(path: Path, fu: FollowUp, *, user: str | None = None, keep_id: bool = False) -> FollowUp:
    """Store a (checked) follow-up; the store gives its id (``keep_id``: the one it has, carrying a table over)."""
    recorded = fu.recorded_at or _now()
    author = fu.author or user or ""
    with _connect(path, write=True) as con:
        cur = con.execute(f'INSERT INTO "{FOLLOWUPS}" ({_FU_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                          (fu.id if keep_id and fu.id else None, fu.title, fu.unit, fu.street, fu.due, fu.meeting,
                           recorded, author, fu.done_on, fu.note))
        fid = int(cur.lastrowid)
    return FollowUp(**{**fu.__dict__, "id": fid, "recorded_at": recorded, "author": author})


def close_followup(path: Path, fid: int, *, note: str, done_on: str) -> FollowUp:
    """Close follow-up ``fid`` (`geo.followups.check_done`); `DataError` when there is none or it is done."""
    with _connect(path, write=True) as con:
        row = con.execute(f'SELECT {_FU_COLS} FROM "{FOLLOWUPS}" WHERE fid = ?', (int(fid),)).fetchone()
        if row is None:
            raise followup_missing(fid)
        done = check_done(_followup(row), note=note, done_on=done_on)
        con.execute(f'UPDATE "{FOLLOWUPS}" SET done_on = ?, note = ? WHERE fid = ?', (done.done_on, done.note, fid))
    return done


def _target(r: tuple) -> Target:
    return Target(quarter=r[0], kind=r[1], subject=r[2], measure=r[3], threshold=float(r[4]), set_at=r[5],
                  author=r[6] or "")


def list_targets(path: Path, quarter: str | None = None) -> list[Target]:
    """The targets (of one quarter if given), by quarter then as set."""
    if not path.exists():
        return []
    with _connect(path, write=False) as con:
        if not _has(con, TARGETS):
            return []
        rows = con.execute(f'SELECT {_T_COLS} FROM "{TARGETS}" WHERE (? IS NULL OR quarter = ?) '
                           'ORDER BY quarter, fid', (quarter, quarter)).fetchall()
    return [_target(r) for r in rows]


def set_target(path: Path, target: Target, *, user: str | None = None) -> Target:
    """Store a (checked) target, replacing the one of the same quarter, subject and measure."""
    t = Target(**{**target.__dict__, "set_at": target.set_at or _now(), "author": target.author or user or ""})
    with _connect(path, write=True) as con:
        con.execute(f'DELETE FROM "{TARGETS}" WHERE quarter = ? AND kind = ? AND subject = ? AND measure = ?', t.key)
        con.execute(f'INSERT INTO "{TARGETS}" ({_T_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)',
                    (*t.key, t.threshold, t.set_at, t.author))
    return t


def delete_target(path: Path, key: tuple[str, str, str, str]) -> None:
    with _connect(path, write=True) as con:
        if not con.execute(f'DELETE FROM "{TARGETS}" WHERE quarter = ? AND kind = ? AND subject = ? AND measure = ?',
                           key).rowcount:
            raise target_missing(key)


def clear(path: Path) -> None:
    """Empty both tables (the demo generator writes its own records into a file it regenerates)."""
    with _connect(path, write=True) as con:
        con.execute(f'DELETE FROM "{FOLLOWUPS}"')
        con.execute(f'DELETE FROM "{TARGETS}"')


def carry(source: Path, dest: Path) -> None:
    """The follow-ups and targets a GeoPackage holds, copied into ``dest`` (taking a file in); ids kept."""
    try:
        followups, targets = list_followups(source), list_targets(source)
    except DataError:
        return
    for fu in followups:
        add_followup(dest, fu, keep_id=True)
    for t in targets:
        set_target(dest, t)
