"""The GeoPackage store's follow-ups and targets (`geo.followups`): two attributes tables in one file.

The workspace keeps them in the dataset's ``scenarios.gpkg`` (beside its versions, shared by them); the demo
GeoPackage carries its own, taken in with the file. Tables ``followups`` and ``targets`` are GeoPackage
attributes tables (listed in ``gpkg_contents``) when the file is a GeoPackage. Each change is one SQLite
transaction and keeps the file's modification time (as the scenarios table does).

Both tables carry ``district`` ('' for the whole dataset's, else the city district a record belongs to). A file
written before they had it is brought up to date by its next change: ``followups`` gains the column, ``targets``
is rebuilt with its key (district, quarter, kind, subject, measure), rows kept, all the dataset's; until then
its rows read as the dataset's.
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
                '"done_on" TEXT, "note" TEXT, "district" TEXT NOT NULL DEFAULT \'\')'),
    TARGETS: (f'CREATE TABLE IF NOT EXISTS "{TARGETS}" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
              '"quarter" TEXT NOT NULL, "kind" TEXT NOT NULL, "subject" TEXT NOT NULL, "measure" TEXT NOT NULL, '
              '"threshold" REAL NOT NULL, "set_at" TEXT NOT NULL, "author" TEXT NOT NULL DEFAULT \'\', '
              '"district" TEXT NOT NULL DEFAULT \'\', UNIQUE ("district", "quarter", "kind", "subject", "measure"))'),
}
_FU_COLS = "fid, title, unit, street, due, meeting, recorded_at, author, done_on, note"
_T_COLS = "quarter, kind, subject, measure, threshold, set_at, author"
_T_KEY = "district = ? AND quarter = ? AND kind = ? AND subject = ? AND measure = ?"


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


def _columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in con.execute(f'PRAGMA table_info("{table}")')}


def _district_col(con: sqlite3.Connection, table: str) -> str:
    """What to select as a row's district: the column, or '' in a table written before it had one."""
    return 'COALESCE("district", \'\')' if "district" in _columns(con, table) else "''"


def _ensure(con: sqlite3.Connection, table: str, ddl: str) -> None:
    if _has(con, table):
        if "district" not in _columns(con, table):  # written before districts kept their own: the dataset's
            if table == FOLLOWUPS:
                con.execute(f'ALTER TABLE "{FOLLOWUPS}" ADD COLUMN "district" TEXT NOT NULL DEFAULT \'\'')
            else:  # its key gains the district: SQLite cannot change a constraint, so the table is rebuilt
                con.execute(f'ALTER TABLE "{TARGETS}" RENAME TO "{TARGETS}__old"')
                con.execute(ddl)
                con.execute(f'INSERT INTO "{TARGETS}" (fid, {_T_COLS}, district) '
                            f'SELECT fid, {_T_COLS}, \'\' FROM "{TARGETS}__old"')
                con.execute(f'DROP TABLE "{TARGETS}__old"')
        return
    con.execute(ddl)
    if _has(con, "gpkg_contents"):
        stamp = datetime.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S.000Z")
        con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, "
                    "last_change, srs_id) VALUES (?, 'attributes', ?, '', ?, 0)", (table, table, stamp))


def _followup(r: tuple) -> FollowUp:
    return FollowUp(id=int(r[0]), title=r[1], unit=r[2], street=r[3] or None, due=r[4], meeting=r[5],
                    recorded_at=r[6], author=r[7] or "", done_on=r[8] or None, note=r[9] or None,
                    district=r[10] or None)


def list_followups(path: Path, *, district: str | None = None, all_districts: bool = False) -> list[FollowUp]:
    """The follow-ups of ``district`` (None: the dataset's own), by id; ``all_districts``: every one of the file
    (carrying a table over). None when the file or table is absent."""
    if not path.exists():
        return []
    with _connect(path, write=False) as con:
        if not _has(con, FOLLOWUPS):
            return []
        d = _district_col(con, FOLLOWUPS)
        rows = con.execute(f'SELECT {_FU_COLS}, {d} FROM "{FOLLOWUPS}" WHERE ? OR {d} = ? ORDER BY fid',
                           (all_districts, district or "")).fetchall()
    return [_followup(r) for r in rows]


def add_followup(path: Path, fu: FollowUp, *, user: str | None = None, keep_id: bool = False) -> FollowUp:
    """Store a (checked) follow-up in its ``district``; the store gives its id (``keep_id``: the one it has,
    carrying a table over)."""
    recorded = fu.recorded_at or _now()
    author = fu.author or user or ""
    with _connect(path, write=True) as con:
        cur = con.execute(f'INSERT INTO "{FOLLOWUPS}" ({_FU_COLS}, district) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                          (fu.id if keep_id and fu.id else None, fu.title, fu.unit, fu.street, fu.due, fu.meeting,
                           recorded, author, fu.done_on, fu.note, fu.district or ""))
        fid = int(cur.lastrowid)
    return FollowUp(**{**fu.__dict__, "id": fid, "recorded_at": recorded, "author": author,
                       "district": fu.district or None})


def close_followup(path: Path, fid: int, *, note: str, done_on: str, district: str | None = None) -> FollowUp:
    """Close follow-up ``fid`` of ``district`` (`geo.followups.check_done`); `DataError` when it has none of that
    id, or it is done."""
    with _connect(path, write=True) as con:
        row = con.execute(f'SELECT {_FU_COLS}, district FROM "{FOLLOWUPS}" WHERE fid = ? AND district = ?',
                          (int(fid), district or "")).fetchone()
        if row is None:
            raise followup_missing(fid)
        done = check_done(_followup(row), note=note, done_on=done_on)
        con.execute(f'UPDATE "{FOLLOWUPS}" SET done_on = ?, note = ? WHERE fid = ?', (done.done_on, done.note, fid))
    return done


def _target(r: tuple) -> Target:
    return Target(quarter=r[0], kind=r[1], subject=r[2], measure=r[3], threshold=float(r[4]), set_at=r[5],
                  author=r[6] or "", district=r[7] or None)


def list_targets(path: Path, quarter: str | None = None, *, district: str | None = None,
                 all_districts: bool = False) -> list[Target]:
    """The targets of ``district`` (None: the dataset's own; ``all_districts``: every one of the file), of one
    quarter if given, by quarter then as set."""
    if not path.exists():
        return []
    with _connect(path, write=False) as con:
        if not _has(con, TARGETS):
            return []
        d = _district_col(con, TARGETS)
        rows = con.execute(f'SELECT {_T_COLS}, {d} FROM "{TARGETS}" WHERE (? IS NULL OR quarter = ?) '
                           f'AND (? OR {d} = ?) ORDER BY quarter, fid',
                           (quarter, quarter, all_districts, district or "")).fetchall()
    return [_target(r) for r in rows]


def set_target(path: Path, target: Target, *, user: str | None = None) -> Target:
    """Store a (checked) target in its ``district``, replacing the one of the same quarter, subject and measure
    there."""
    t = Target(**{**target.__dict__, "set_at": target.set_at or _now(), "author": target.author or user or "",
                  "district": target.district or None})
    with _connect(path, write=True) as con:
        con.execute(f'DELETE FROM "{TARGETS}" WHERE {_T_KEY}', (t.district or "", *t.key))
        con.execute(f'INSERT INTO "{TARGETS}" ({_T_COLS}, district) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                    (*t.key, t.threshold, t.set_at, t.author, t.district or ""))
    return t


def delete_target(path: Path, key: tuple[str, str, str, str], *, district: str | None = None) -> None:
    with _connect(path, write=True) as con:
        if not con.execute(f'DELETE FROM "{TARGETS}" WHERE {_T_KEY}', (district or "", *key)).rowcount:
            raise target_missing(key)


def clear(path: Path) -> None:
    """Empty both tables (the demo generator writes its own records into a file it regenerates)."""
    with _connect(path, write=True) as con:
        con.execute(f'DELETE FROM "{FOLLOWUPS}"')
        con.execute(f'DELETE FROM "{TARGETS}"')


def carry(source: Path, dest: Path) -> None:
    """The follow-ups and targets a GeoPackage holds, copied into ``dest`` (taking a file in); ids kept."""
    try:
        followups = list_followups(source, all_districts=True)
        targets = list_targets(source, all_districts=True)
    except DataError:
        return
    for fu in followups:
        add_followup(dest, fu, keep_id=True)
    for t in targets:
        set_target(dest, t)
