"""The GeoPackage store's scenarios table (`geo.workspace`): a non-spatial ``scenarios`` table in one file.

The workspace keeps it in ``scenarios.gpkg`` beside a dataset's versions, so saving a scenario never
changes a version. The table is a GeoPackage attributes table (listed in ``gpkg_contents``), so GIS tools
see it. ``district`` is '' for the whole dataset's scenarios, else the district of a city they belong to;
a name is unique within its district. Saving or deleting changes only this table, in one SQLite
transaction, and keeps the file's modification time.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from geo.scenarios import (
    TABLE,
    Scenario,
    check_scenario_name,
    scenario_exists,
    scenario_missing,
    scenario_table_error,
)

_CREATE = (f'CREATE TABLE "{TABLE}" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "name" TEXT NOT NULL, '
           '"kind" TEXT, "saved_at" TEXT, "params" TEXT, "result" TEXT, "district" TEXT NOT NULL DEFAULT \'\')')


@contextmanager
def _connect(path: Path, *, write: bool) -> Iterator[sqlite3.Connection]:
    stat = path.stat()
    try:
        con = sqlite3.connect(path, timeout=30)
    except sqlite3.Error as exc:
        raise scenario_table_error(path.name, str(exc)) from exc
    try:
        if write:
            con.execute("BEGIN IMMEDIATE")
        yield con
        if write:
            con.commit()
    except sqlite3.DatabaseError as exc:
        con.rollback()
        raise scenario_table_error(path.name, str(exc)) from exc
    finally:
        con.close()
        if write:
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _columns(con: sqlite3.Connection) -> set[str] | None:
    if con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (TABLE,)).fetchone() is None:
        return None
    return {str(r[1]) for r in con.execute(f'PRAGMA table_info("{TABLE}")').fetchall()}


def _ensure_table(con: sqlite3.Connection) -> None:
    cols = _columns(con)
    if cols is None:
        con.execute(_CREATE)
        stamp = datetime.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S.000Z")
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, "
                    "srs_id) VALUES (?, 'attributes', ?, '', ?, 0)", (TABLE, TABLE, stamp))
    elif "district" not in cols:  # a table written before scenarios had districts: all the dataset's
        con.execute(f'ALTER TABLE "{TABLE}" ADD COLUMN "district" TEXT NOT NULL DEFAULT \'\'')


def list_in(path: Path, *, kind: str | None = None, district: str | None = None,
            all_districts: bool = False) -> list[Scenario]:
    """Saved scenarios of ``district`` ('' or None: the dataset's), of one ``kind`` if given, oldest first.

    ``all_districts``: every scenario of the file, whatever its district (carrying a file's table over).
    """
    if not path.exists():
        return []
    with _connect(path, write=False) as con:
        cols = _columns(con)
        if cols is None:
            return []
        dcol = '"district"' if "district" in cols else "''"
        rows = con.execute(f'SELECT name, kind, params, result, saved_at, {dcol} FROM "{TABLE}" ORDER BY fid'
                           ).fetchall()
    want = district or ""
    out = []
    for name, k, params, result, saved_at, d in rows:
        if (kind is not None and k != kind) or (not all_districts and (d or "") != want):
            continue
        out.append(Scenario(name=str(name), kind=str(k or ""), params=json.loads(params or "{}"),
                            result=json.loads(result or "{}"), saved_at=str(saved_at or ""),
                            district=(d or None)))
    return out


def save_in(path: Path, scenario: Scenario, *, overwrite: bool = False, district: str | None = None) -> Scenario:
    """Store a scenario in ``district`` ('' or None: the dataset's); returns it with its name cleaned, ``saved_at``
    set. A scenario of the same name there is replaced when ``overwrite``, else `DataError`."""
    name = check_scenario_name(scenario.name)
    saved = Scenario(name=name, kind=scenario.kind, params=dict(scenario.params), result=dict(scenario.result),
                     saved_at=datetime.now().astimezone().isoformat(timespec="seconds"), district=district or None)
    params = json.dumps(saved.params, ensure_ascii=False, allow_nan=False)
    result = json.dumps(saved.result, ensure_ascii=False, allow_nan=False)
    d = district or ""
    with _connect(path, write=True) as con:
        _ensure_table(con)
        exists = con.execute(f'SELECT 1 FROM "{TABLE}" WHERE name=? AND district=?', (name, d)).fetchone()
        if exists is not None and not overwrite:
            raise scenario_exists(name)
        con.execute(f'DELETE FROM "{TABLE}" WHERE name=? AND district=?', (name, d))
        con.execute(f'INSERT INTO "{TABLE}" (name, kind, saved_at, params, result, district) '
                    'VALUES (?, ?, ?, ?, ?, ?)', (name, saved.kind, saved.saved_at, params, result, d))
    return saved


def delete_in(path: Path, name: str, *, district: str | None = None) -> None:
    """Remove the scenario called ``name`` of ``district``; `DataError` when there is none."""
    if not path.exists():
        raise scenario_missing(name)
    with _connect(path, write=True) as con:
        cols = _columns(con)
        gone = cols is not None and con.execute(
            f'DELETE FROM "{TABLE}" WHERE name=? AND ' + ('district=?' if "district" in cols else "?=''"),
            (name, district or "")).rowcount > 0
        if not gone:
            raise scenario_missing(name)
