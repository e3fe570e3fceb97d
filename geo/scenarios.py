"""Named scenarios of a dataset, kept in a GeoPackage table (a non-spatial ``scenarios`` table).

Where the table lives: for a dataset kept by the workspace (a dataset name, the
bundled demo, any GeoPackage with versions) in ``scenarios.gpkg`` beside its
versions, so saving a scenario never changes a version (and never writes into
``data/``); for a plain GeoPackage without versions, in that file itself. The
public functions take the dataset (its name or path) and find the table; the
``*_in`` functions work on one GeoPackage file.

A scenario is what a planner wants to show again: its parameters and its
result, both JSON objects, under a unique name. The table is a GeoPackage
attributes table (listed in ``gpkg_contents``), so GIS tools see it and
`geo.dataset.write_dataset` carries it over when it rewrites the file.

Saving or deleting changes only this table, in one SQLite transaction: every
layer stays as it was, and the file keeps its modification time, so caches
keyed on it (the app's loaded layers) stay valid.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from geo.errors import DataError, Problem

TABLE = "scenarios"
MAX_NAME_CHARS = 80
_CREATE = (f'CREATE TABLE "{TABLE}" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "name" TEXT NOT NULL, '
           '"kind" TEXT, "saved_at" TEXT, "params" TEXT, "result" TEXT)')


@dataclass(frozen=True)
class Scenario:
    """One saved scenario: ``kind`` says which analysis made it (e.g. "siting")."""

    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    saved_at: str = ""


def _problem(message: str, fix: str, code: str, **params: object) -> DataError:
    return DataError([Problem(TABLE, message, fix, code=code, params=params)])


def scenario_exists(name: str) -> DataError:
    """The error for saving under a name that is taken (without overwrite), in every backend."""
    return _problem(f"a scenario named {name!r} already exists", "choose another name or replace it",
                    "data.scenario_exists", name=name)


def scenario_missing(name: str) -> DataError:
    """The error for a scenario name that is not saved, in every backend."""
    return _problem(f"there is no scenario named {name!r}", "pick one of the saved scenarios", "data.scenario_missing",
                    name=name)


def _check_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    if str(path).startswith("postgresql://"):
        raise _problem("scenarios are kept in GeoPackage datasets only", "open the dataset as a .gpkg file",
                       "data.scenario_store_unsupported")
    if not p.exists():
        raise _problem(f"file {p} does not exist", "give the path of the dataset GeoPackage (.gpkg)",
                       "data.file_missing", name=str(p))
    return p


def check_name(name: str) -> str:
    """A scenario name, stripped; `DataError` when empty or too long."""
    clean = str(name).strip()
    if not clean:
        raise _problem("the scenario name is empty", "give the scenario a name", "data.scenario_name_empty")
    if len(clean) > MAX_NAME_CHARS:
        raise _problem(f"the scenario name has {len(clean)} characters", f"use at most {MAX_NAME_CHARS}",
                       "data.scenario_name_long", n=len(clean), max=MAX_NAME_CHARS)
    return clean


@contextmanager
def _connect(path: Path, *, write: bool) -> Iterator[sqlite3.Connection]:
    stat = path.stat()
    try:
        con = sqlite3.connect(path, timeout=30)
    except sqlite3.Error as exc:
        raise _problem(f"{path.name} cannot be opened ({exc})", "check that the file is a GeoPackage",
                       "data.not_a_geopackage", name=path.name, reason=str(exc)) from exc
    try:
        if write:
            con.execute("BEGIN IMMEDIATE")
        yield con
        if write:
            con.commit()
    except sqlite3.DatabaseError as exc:
        con.rollback()
        raise _problem(f"{path.name} is not a usable GeoPackage ({exc})", "check that the file is a GeoPackage",
                       "data.not_a_geopackage", name=path.name, reason=str(exc)) from exc
    finally:
        con.close()
        if write:
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _has_table(con: sqlite3.Connection) -> bool:
    row = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (TABLE,)).fetchone()
    return row is not None


def _ensure_table(con: sqlite3.Connection) -> None:
    if _has_table(con):
        return
    con.execute(_CREATE)
    stamp = datetime.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
                "VALUES (?, 'attributes', ?, '', ?, 0)", (TABLE, TABLE, stamp))


def list_scenarios_in(path: str | os.PathLike, *, kind: str | None = None) -> list[Scenario]:
    """Saved scenarios (of one ``kind`` if given), oldest first; empty when none were saved."""
    p = _check_path(path)
    with _connect(p, write=False) as con:
        if not _has_table(con):
            return []
        rows = con.execute(f'SELECT name, kind, params, result, saved_at FROM "{TABLE}" ORDER BY fid').fetchall()
    out = []
    for name, k, params, result, saved_at in rows:
        if kind is not None and k != kind:
            continue
        out.append(Scenario(name=str(name), kind=str(k or ""), params=json.loads(params or "{}"),
                            result=json.loads(result or "{}"), saved_at=str(saved_at or "")))
    return out


def get_scenario(path: str | os.PathLike, name: str) -> Scenario:
    """The scenario called ``name``; `DataError` when there is none."""
    for s in list_scenarios(path):
        if s.name == name:
            return s
    raise scenario_missing(name)


def save_scenario_in(path: str | os.PathLike, scenario: Scenario, *, overwrite: bool = False) -> Scenario:
    """Store a scenario; returns it with its name cleaned and ``saved_at`` set.

    A scenario of the same name is replaced when ``overwrite``; otherwise that
    is a `DataError`.
    """
    p = _check_path(path)
    name = check_name(scenario.name)
    saved = Scenario(name=name, kind=scenario.kind, params=dict(scenario.params), result=dict(scenario.result),
                     saved_at=datetime.now().astimezone().isoformat(timespec="seconds"))
    params = json.dumps(saved.params, ensure_ascii=False, allow_nan=False)
    result = json.dumps(saved.result, ensure_ascii=False, allow_nan=False)
    with _connect(p, write=True) as con:
        _ensure_table(con)
        exists = con.execute(f'SELECT 1 FROM "{TABLE}" WHERE name=?', (name,)).fetchone() is not None
        if exists and not overwrite:
            raise scenario_exists(name)
        con.execute(f'DELETE FROM "{TABLE}" WHERE name=?', (name,))
        con.execute(f'INSERT INTO "{TABLE}" (name, kind, saved_at, params, result) VALUES (?, ?, ?, ?, ?)',
                    (name, saved.kind, saved.saved_at, params, result))
    return saved


def delete_scenario_in(path: str | os.PathLike, name: str) -> None:
    """Remove the scenario called ``name``; `DataError` when there is none."""
    p = _check_path(path)
    with _connect(p, write=True) as con:
        gone = _has_table(con) and con.execute(f'DELETE FROM "{TABLE}" WHERE name=?', (name,)).rowcount > 0
        if not gone:
            raise scenario_missing(name)


# --- by dataset: the workspace's scenarios file, or the plain GeoPackage's own table -------------------------------

def _file_of(dataset: str | os.PathLike, *, create: bool) -> Path | None:
    from geo.workspace import scenarios_file_for  # the workspace imports this module

    return scenarios_file_for(dataset, create=create)


def _database(dataset: str | os.PathLike):
    """The PostGIS store when ``dataset`` is a ``postgresql://`` URL (its scenarios live in the database), else None."""
    from geo.postgis import is_postgres_url, open_store

    return open_store(str(dataset)) if is_postgres_url(str(dataset)) else None


def list_scenarios(dataset: str | os.PathLike, *, kind: str | None = None) -> list[Scenario]:
    """Saved scenarios of a dataset (of one ``kind`` if given), oldest first; empty when none were saved."""
    if (db := _database(dataset)) is not None:
        return db.list_scenarios(kind=kind)
    path = _file_of(dataset, create=False)
    if path is None:
        return list_scenarios_in(dataset, kind=kind)
    return list_scenarios_in(path, kind=kind) if path.exists() else []


def save_scenario(dataset: str | os.PathLike, scenario: Scenario, *, overwrite: bool = False) -> Scenario:
    """Store a scenario; returns it with its name cleaned and ``saved_at`` set.

    A scenario of the same name is replaced when ``overwrite``; otherwise that
    is a `DataError`.
    """
    check_name(scenario.name)
    if (db := _database(dataset)) is not None:
        return db.save_scenario(scenario, overwrite=overwrite)
    path = _file_of(dataset, create=True)
    return save_scenario_in(dataset if path is None else path, scenario, overwrite=overwrite)


def delete_scenario(dataset: str | os.PathLike, name: str) -> None:
    """Remove the scenario called ``name``; `DataError` when there is none."""
    if (db := _database(dataset)) is not None:
        return db.delete_scenario(name)
    path = _file_of(dataset, create=False)
    if path is not None and not path.exists():
        raise scenario_missing(name)
    delete_scenario_in(dataset if path is None else path, name)
