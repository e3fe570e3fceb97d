"""A dataset in PostgreSQL/PostGIS: versions, atomic switch, restore, scenarios, counts in SQL.

Contract: `open_store(url)` gives a `PostgisStore`, a `geo.storage.DatasetStore`
like the GeoPackage workspace's (see that module's Contract: versions,
``import_layer`` replace/upsert, ``import_dataset``, ``restore``, ``load``,
``token``, ``derived``, scenarios, ``case_counts()`` in SQL). ``postgresql://user@host:port/db?dataset=NAME``
names the dataset (default ``default``); one database holds any number of
datasets. The checksum of a version is the SHA-256 of its layers' columns and
row counts, recorded when written and checked (row counts recounted) by
``load``: PostgreSQL guards the bytes itself, the check catches tables changed
behind GridAtlas's back.

Layout in the database:

- schema ``gridatlas``: ``versions`` (one row per version: dataset, number,
  schema, status, author, note, rows per layer, column types), ``current``
  (dataset → current version; one row, updated in the switch transaction),
  ``scenarios`` (per dataset and district, unique name), ``followups`` and ``targets``
  (the meeting's, per dataset and district: `geo.followups`). Who changed what is in the app's
  one audit log (`geo.audit`), written by whoever asks for the change (the
  pages, the CLI), as for the GeoPackage workspace; a version also keeps its
  author. (Databases written by earlier releases keep a ``gridatlas.audit``
  table, append-only; nothing writes or reads it any more.)
- one schema per version, ``ga_v<id>``, holding the layers as tables with a
  ``geom geometry(…, 4326)`` column and a GiST index, ``meta`` as key/value.
  ``cases`` carries its ``grid_id`` (assigned at import when missing) and a
  ``week`` column (Monday-based week number, `geo.calendar.week_index`),
  indexed with ``grid_id``, so the heavy counts run in SQL.

Writing a version: the version number is reserved (status ``loading``) in a
short transaction, the layers are copied into its own schema with ``COPY``,
indexed and analysed, and only then one transaction marks it ``ready`` and
points ``current`` at it (row lock on ``current``, so two imports finishing
together switch one after the other: the later one is current, both are
listed). A failed import drops its schema and leaves ``current`` unchanged;
a reader always sees one complete version. Old schemas are kept (restore
copies one forward as a new version) and dropped only by `drop_version`.

Connections come from a small pool per URL (psycopg_pool), never one
connection shared between sessions.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import pickle
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import case_counts as counting
from geo import derive
from geo.audit import AuditLog
from geo.crs import WGS84
from geo.dataset import Dataset
from geo.errors import StorageError
from geo.followups import FollowUp, Target, check_done, followup_missing, target_missing
from geo.progress import ProgressFn, progress_or_silent
from geo.ref import DatasetRef
from geo.scenarios import Scenario, check_scenario_name, scenario_exists, scenario_missing
from geo.schema import LAYER_NAMES, LAYERS
from geo.store_base import (
    ImportMode,
    VersionInfo,
    check_derived_name,
    check_import,
    check_required_layers,
    district_missing,
    district_part,
)
from geo.values import parse_datetimes

SCHEMA = "gridatlas"
POOL_MAX = 8
_DATASET_RE = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]{1,60}$")
_pools: dict[str, Any] = {}
# the grids' district names of a ready version, by (server, catalogue id, schema) (`PostgisStore.district_names`)
_DISTRICT_NAMES: dict[tuple[str, int, str], tuple[str, ...]] = {}
_pools_lock = threading.Lock()

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.versions (
    id bigserial PRIMARY KEY,
    dataset text NOT NULL,
    schema_name text,
    status text NOT NULL DEFAULT 'loading',
    created_at timestamptz NOT NULL DEFAULT now(),
    ready_at timestamptz,
    author text NOT NULL DEFAULT '',
    note text NOT NULL DEFAULT '',
    kind text NOT NULL DEFAULT 'replace',
    layer text,
    rows_added bigint NOT NULL DEFAULT 0,
    rows_changed bigint NOT NULL DEFAULT 0,
    rows_removed bigint NOT NULL DEFAULT 0,
    checksum text NOT NULL DEFAULT '',
    restored_from bigint,
    rows jsonb NOT NULL DEFAULT '{{}}',
    columns jsonb NOT NULL DEFAULT '{{}}'
);
ALTER TABLE {SCHEMA}.versions ADD COLUMN IF NOT EXISTS number bigint;
UPDATE {SCHEMA}.versions SET number = id WHERE number IS NULL AND status <> 'failed';  -- a failed write gave its number back
CREATE UNIQUE INDEX IF NOT EXISTS versions_dataset_number ON {SCHEMA}.versions (dataset, number);
CREATE TABLE IF NOT EXISTS {SCHEMA}.derived (
    version_id bigint NOT NULL REFERENCES {SCHEMA}.versions(id),
    name text NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (version_id, name)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.current (
    dataset text PRIMARY KEY,
    version_id bigint NOT NULL REFERENCES {SCHEMA}.versions(id)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.scenarios (
    id bigserial PRIMARY KEY,
    dataset text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL DEFAULT '',
    saved_at timestamptz NOT NULL DEFAULT now(),
    author text NOT NULL DEFAULT '',
    params jsonb NOT NULL DEFAULT '{{}}',
    result jsonb NOT NULL DEFAULT '{{}}',
    UNIQUE (dataset, name)
);
ALTER TABLE {SCHEMA}.scenarios ADD COLUMN IF NOT EXISTS district text NOT NULL DEFAULT '';
ALTER TABLE {SCHEMA}.scenarios DROP CONSTRAINT IF EXISTS scenarios_dataset_name_key;
CREATE UNIQUE INDEX IF NOT EXISTS scenarios_dataset_district_name ON {SCHEMA}.scenarios (dataset, district, name);
CREATE TABLE IF NOT EXISTS {SCHEMA}.followups (
    dataset text NOT NULL,
    id bigint NOT NULL,
    title text NOT NULL,
    unit text NOT NULL,
    street text,
    due text NOT NULL,
    meeting text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    author text NOT NULL DEFAULT '',
    done_on date,
    note text,
    PRIMARY KEY (dataset, id)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.targets (
    seq bigserial PRIMARY KEY,
    dataset text NOT NULL,
    quarter text NOT NULL,
    kind text NOT NULL,
    subject text NOT NULL,
    measure text NOT NULL,
    threshold double precision NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now(),
    author text NOT NULL DEFAULT '',
    UNIQUE (dataset, quarter, kind, subject, measure)
);
ALTER TABLE {SCHEMA}.followups ADD COLUMN IF NOT EXISTS district text NOT NULL DEFAULT '';
ALTER TABLE {SCHEMA}.targets ADD COLUMN IF NOT EXISTS district text NOT NULL DEFAULT '';
ALTER TABLE {SCHEMA}.targets DROP CONSTRAINT IF EXISTS targets_dataset_quarter_kind_subject_measure_key;
CREATE UNIQUE INDEX IF NOT EXISTS targets_dataset_district_key
    ON {SCHEMA}.targets (dataset, district, quarter, kind, subject, measure);
"""


def _split(url: str) -> tuple[str, str]:
    """(connection URL without ``dataset=``, dataset name)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    dataset = (query.pop("dataset", ["default"]) or ["default"])[0]
    if not _DATASET_RE.match(dataset):
        raise StorageError(f"dataset name {dataset!r} in the URL is not allowed: use up to 60 letters, digits, "
                           "_ or -", code="storage.bad_dataset_name", params={"name": dataset})
    conn = urlunsplit((parts.scheme if parts.scheme != "postgres" else "postgresql", parts.netloc, parts.path,
                       urlencode({k: v[0] for k, v in query.items()}), ""))
    return conn, dataset


def _pool(conninfo: str):
    import psycopg
    from psycopg_pool import ConnectionPool

    with _pools_lock:
        pool = _pools.get(conninfo)
        if pool is None:
            try:  # one direct connection first, so a wrong address is an error now, not a pool timeout later
                psycopg.connect(conninfo, connect_timeout=10).close()
            except psycopg.Error as exc:
                safe = re.sub(r"//[^@/]*@", "//…@", conninfo)
                reason = re.sub(r"//[^@/]*@", "//…@", str(exc)).strip()
                raise StorageError(f"cannot connect to the PostgreSQL server at {safe} ({reason})",
                                   code="storage.db_unreachable", params={"url": safe, "reason": reason}) from exc
            pool = ConnectionPool(conninfo, min_size=0, max_size=POOL_MAX, open=True, timeout=60)
            _pools[conninfo] = pool
        return pool


def close_pools() -> None:
    """Close every pooled connection (tests, shutdown)."""
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


def _info(row: tuple) -> VersionInfo:
    (vid, created, kind, source, layer, added, changed, removed, user, checksum, restored, rows) = row
    return VersionInfo(id=int(vid), created_at=pd.Timestamp(created).isoformat(), kind=kind, source=source,
                       layer=layer, rows_added=int(added), rows_changed=int(changed), rows_removed=int(removed),
                       user=user or None, checksum=checksum, restored_from=None if restored is None else int(restored),
                       layers=tuple((str(k), int(v)) for k, v in dict(rows).items()))


def _checksum(columns: Mapping[str, Mapping[str, str]], rows: Mapping[str, int]) -> str:
    doc = json.dumps({"columns": {n: list(c.items()) for n, c in sorted(columns.items())},
                      "rows": dict(sorted(rows.items()))}, ensure_ascii=False, sort_keys=False)
    return hashlib.sha256(doc.encode()).hexdigest()


class _Derived:
    """`geo.storage.DerivedCache` in the ``gridatlas.derived`` table (pickled values per version)."""

    def __init__(self, store: PostgisStore, version_id: int):
        self._store = store
        self._vid = version_id

    def get(self, name: str, build: Callable[[], Any]) -> Any:
        check_derived_name(name)
        with self._store._conn() as con:
            row = con.execute(f"SELECT value FROM {SCHEMA}.derived WHERE version_id = %s AND name = %s",
                              (self._vid, name)).fetchone()
        if row is not None:
            return pickle.loads(row[0])
        value = build()
        with self._store._conn() as con:
            con.execute(f"INSERT INTO {SCHEMA}.derived (version_id, name, value) VALUES (%s, %s, %s) "
                        f"ON CONFLICT DO NOTHING", (self._vid, name, pickle.dumps(value, protocol=5)))
        return value

    def names(self) -> list[str]:
        with self._store._conn() as con:
            rows = con.execute(f"SELECT name FROM {SCHEMA}.derived WHERE version_id = %s ORDER BY name",
                               (self._vid,)).fetchall()
        return [r[0] for r in rows]


# --- column types ------------------------------------------------------------------------------

def _pg_type(series: pd.Series) -> str:
    dt = series.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "boolean"
    if pd.api.types.is_integer_dtype(dt):
        return "bigint"
    if pd.api.types.is_float_dtype(dt):
        return "double precision"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "timestamptz" if getattr(dt, "tz", None) is not None else "timestamp"
    return "text"


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _table_columns(gdf: pd.DataFrame) -> dict[str, str]:
    return {str(c): _pg_type(gdf[c]) for c in gdf.columns if c != getattr(gdf, "_geometry_column_name", None)
            and not isinstance(gdf[c].dtype, gpd.array.GeometryDtype)}


def _week_of(reported: pd.Series) -> pd.Series:
    """Monday-based week number (`geo.calendar.week_index`) of each report; <NA> without a date."""
    return counting.week_number(parse_datetimes(reported)[0])


def _copy_frame(cur, table: str, gdf: pd.DataFrame, columns: dict[str, str], *, geometry: bool,
                extra: Mapping[str, pd.Series] | None = None) -> None:
    """COPY the frame's rows into ``table`` (text format, geometry as hex EWKB); ``extra``: more columns."""
    out = pd.DataFrame({c: gdf[c] for c in columns})
    for c, t in columns.items():
        if t.startswith("timestamp"):
            out[c] = parse_datetimes(out[c])[0].dt.strftime("%Y-%m-%d %H:%M:%S.%f").where(out[c].notna(), None)
        elif t == "boolean":
            out[c] = out[c].map({True: "t", False: "f"})
    names = list(columns)
    for c, values in (extra or {}).items():
        out[c] = values.to_numpy()
        names.append(c)
    if geometry:
        geoms = np.asarray(gdf.geometry.values, dtype=object)
        out["geom"] = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
        names.append("geom")
    buf = io.StringIO()
    out.to_csv(buf, index=False, header=False, na_rep="\\N", sep="\t", quoting=csv.QUOTE_NONE,
               escapechar=None, lineterminator="\n")
    cols = ", ".join(_ident(c) for c in names)
    with cur.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT text)") as copy:
        copy.write(buf.getvalue())


def _clean_text(series: pd.Series) -> pd.Series:
    """Text for COPY's text format: backslash, tab, CR and newline escaped (``\\\\``, ``\\t``, ``\\r``,
    ``\\n``), so every value comes back as it was imported."""
    s = series.astype("string")
    return s.str.replace("\\", "\\\\", regex=False).str.replace("\t", "\\t", regex=False) \
        .str.replace("\r", "\\r", regex=False).str.replace("\n", "\\n", regex=False)


def _all_added(con, schema: str, columns: dict) -> tuple[int, int, int]:
    """Every row of a version made from scratch counts as added."""
    total = sum(int(con.execute(f"SELECT count(*) FROM {_ident(schema)}.{_ident(n)}").fetchone()[0])
                for n in columns)
    return total, 0, 0


def _dataset_diff(con, new_schema: str, new_cols: Mapping[str, Mapping[str, str]], old_schema: str,
                  old_cols: Mapping[str, Mapping[str, str]]) -> tuple[int, int, int]:
    """Rows of a whole version against another, over every layer: by id, or by content for layers without one."""
    total = [0, 0, 0]
    for name in dict.fromkeys([*old_cols, *new_cols]):
        new, old = f"{_ident(new_schema)}.{_ident(name)}", f"{_ident(old_schema)}.{_ident(name)}"
        if name not in new_cols or name not in old_cols:
            n = con.execute(f"SELECT count(*) FROM {new if name in new_cols else old}").fetchone()[0]
            part = (int(n), 0, 0) if name in new_cols else (0, 0, int(n))
        elif LAYERS[name].id_column:
            part = _diff(con, new, old, LAYERS[name].id_column, [c for c in new_cols[name] if c in old_cols[name]])
        else:
            sel = ", ".join([*(_ident(c) for c in new_cols[name] if c in old_cols[name]), "ST_AsEWKB(geom)"])
            added, gone = (con.execute(f"SELECT count(*) FROM (SELECT {sel} FROM {a} EXCEPT ALL SELECT {sel} "
                                       f"FROM {b}) d").fetchone()[0] for a, b in ((new, old), (old, new)))
            part = (int(added), 0, int(gone))
        total = [t + p for t, p in zip(total, part, strict=True)]
    return total[0], total[1], total[2]


def _diff(con, new: str, old: str, id_col: str, cols: list[str], *, removed: bool = True) -> tuple[int, int, int]:
    """Rows of ``new`` against ``old`` by id: (added, changed — same id, other values or shape, removed)."""
    idc = _ident(id_col)
    added = con.execute(f"SELECT count(*) FROM {new} n WHERE NOT EXISTS (SELECT 1 FROM {old} o WHERE o.{idc} = n.{idc})"
                        ).fetchone()[0]
    left = ", ".join([*(f"n.{_ident(c)}" for c in cols), "ST_AsEWKB(n.geom)"])
    right = ", ".join([*(f"o.{_ident(c)}" for c in cols), "ST_AsEWKB(o.geom)"])
    changed = con.execute(f"SELECT count(*) FROM {new} n JOIN {old} o ON o.{idc} = n.{idc} "
                          f"WHERE ({left}) IS DISTINCT FROM ({right})").fetchone()[0]
    gone = con.execute(f"SELECT count(*) FROM {old} o WHERE NOT EXISTS (SELECT 1 FROM {new} n WHERE n.{idc} = o.{idc})"
                       ).fetchone()[0] if removed else 0
    return int(added), int(changed), int(gone)


# --- the store ---------------------------------------------------------------------------------

class PostgisStore:
    """One dataset in one PostGIS database (see the module docstring)."""

    kind = "postgis"

    def __init__(self, url: str):
        self.conninfo, self.dataset = _split(DatasetRef.parse(url).spec)
        self._spec = f"{self.conninfo}{'&' if '?' in self.conninfo else '?'}dataset={self.dataset}"
        self._pool = _pool(self.conninfo)
        with self._conn() as con:
            con.execute("SELECT pg_advisory_xact_lock(727274)")  # one creator of the catalogue at a time
            try:
                con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except Exception as exc:
                raise StorageError(f"the database has no PostGIS extension and it cannot be created ({exc})",
                                   code="storage.postgis_missing", params={"reason": str(exc)}) from exc
            con.execute(_DDL)

    # connections
    @contextmanager
    def _conn(self) -> Iterator[Any]:
        with self._pool.connection() as con:
            yield con

    # identity
    @property
    def name(self) -> str:
        return self.dataset

    @property
    def spec(self) -> str:
        return self._spec

    @property
    def location(self) -> str:
        safe = re.sub(r"//[^@/]*@", "//…@", self.conninfo)
        if not self.exists():
            return f"{safe} (dataset {self.dataset}: no version yet)"
        return f"{safe} schema {self._version(None)[2]}"

    @property
    def token(self) -> str:
        """Changes whenever the current version changes (cache key for the app)."""
        with self._conn() as con:
            row = con.execute(f"SELECT v.number FROM {SCHEMA}.current c JOIN {SCHEMA}.versions v "
                              f"ON v.id = c.version_id WHERE c.dataset = %s", (self.dataset,)).fetchone()
        return f"pg:{self.conninfo}:{self.dataset}:{row[0] if row else 0}"

    # reading the catalogue
    _COLS = ("v.number, v.created_at, v.kind, v.note, v.layer, v.rows_added, v.rows_changed, v.rows_removed, v.author, "
             "v.checksum, v.restored_from, v.rows")

    def versions(self) -> list[VersionInfo]:
        """Ready versions, oldest first."""
        with self._conn() as con:
            rows = con.execute(f"SELECT {self._COLS} FROM {SCHEMA}.versions v WHERE v.dataset = %s "
                               f"AND v.status = 'ready' ORDER BY v.number", (self.dataset,)).fetchall()
        return [_info(r) for r in rows]

    def exists(self) -> bool:
        with self._conn() as con:
            return con.execute(f"SELECT 1 FROM {SCHEMA}.current WHERE dataset = %s",
                               (self.dataset,)).fetchone() is not None

    def current(self) -> VersionInfo:
        with self._conn() as con:
            row = con.execute(f"SELECT {self._COLS} FROM {SCHEMA}.current c JOIN {SCHEMA}.versions v "
                              f"ON v.id = c.version_id WHERE c.dataset = %s", (self.dataset,)).fetchone()
        if row is None:
            raise self._no_version()
        return _info(row)

    def _no_version(self) -> StorageError:
        return StorageError(f"dataset {self.dataset} has no version yet: import one first",
                            code="storage.dataset_missing", params={"dataset": self.dataset, "name": self.dataset})

    def derived(self, version: int | None = None) -> _Derived:
        vid, _, _, _ = self._version(version)
        return _Derived(self, vid)

    def _version(self, version: int | None) -> tuple[int, int, str, dict]:
        """(catalogue id, version number, schema, columns per layer) of ``version`` (a number; None: current)."""
        with self._conn() as con:
            if version is None:
                row = con.execute(f"SELECT v.id, v.number, v.schema_name, v.columns FROM {SCHEMA}.current c JOIN "
                                  f"{SCHEMA}.versions v ON v.id = c.version_id WHERE c.dataset = %s",
                                  (self.dataset,)).fetchone()
                if row is None:
                    raise self._no_version()
            else:
                row = con.execute(f"SELECT id, number, schema_name, columns FROM {SCHEMA}.versions WHERE "
                                  f"number = %s AND dataset = %s AND status = 'ready'",
                                  (version, self.dataset)).fetchone()
                if row is None:
                    last = con.execute(f"SELECT max(number) FROM {SCHEMA}.versions WHERE dataset = %s AND "
                                       f"status = 'ready'", (self.dataset,)).fetchone()[0]
                    raise StorageError(f"dataset {self.dataset} has no version {version} (versions 1–{last or 0})",
                                       code="storage.version_missing",
                                       params={"dataset": self.dataset, "name": self.dataset, "version": version,
                                               "last": last or 0})
        # jsonb does not keep key order: columns are stored as [name, type] pairs per layer
        return int(row[0]), int(row[1]), row[2], {layer: dict(pairs) for layer, pairs in dict(row[3]).items()}

    # loading
    def load(self, version: int | None = None, *, layers: Iterable[str] | None = None,
             district: str | None = None) -> Dataset:
        """The dataset of ``version`` (default: current); ``layers``: which optional layers to read
        (e.g. everything but cases; grids and facilities are always read).

        ``district``: that district as a dataset of its own (`geo.storage.district_part`): the grids of that
        district and the cases in them selected in SQL.
        """
        vid, number, schema, columns = self._version(version)
        self._check(vid, number, schema, columns)
        layers = None if layers is None else tuple(layers)
        if district is not None:
            self._check_district(district, version)
        wanted = [n for n in LAYER_NAMES if n in columns and (layers is None or n in layers
                                                              or n in ("grids", "facilities"))]
        out: dict[str, gpd.GeoDataFrame | None] = {}
        with self._conn() as con:
            for name in wanted:
                where, params = "", ()
                if district is not None and name == "grids" and "district" in columns["grids"]:
                    where, params = " WHERE district = %s", (district,)
                elif district is not None and name == "cases" and "district" in columns.get("grids", {}):
                    where = (f" WHERE grid_id IN (SELECT grid_id FROM {_ident(schema)}.grids WHERE district = %s)")
                    params = (district,)
                out[name] = self._read_table(con, schema, name, columns[name], where, params)
            meta = dict(con.execute(f"SELECT key, value FROM {_ident(schema)}.meta").fetchall())
        check_required_layers(out)
        ds = Dataset(**out, name=meta.get("name", self.dataset), meta=tuple(sorted(meta.items())))
        ds = ds if district is None else district_part(ds, district)
        # a version stored before geo.derive's rules gets their columns here, kept beside it (docs/storage.md)
        return derive.on_open(ds, cache=lambda: _Derived(self, vid), made_on=lambda: self._created_at(vid),
                              latest_report=lambda: self._latest_report(schema, columns),
                              full=None if layers is None and district is None
                              else lambda: self._read_layers(schema, columns, ("grids", "facilities", "estates")))

    def _created_at(self, vid: int) -> pd.Timestamp:
        with self._conn() as con:
            return pd.Timestamp(con.execute(f"SELECT created_at FROM {SCHEMA}.versions WHERE id = %s",
                                            (vid,)).fetchone()[0])

    def _latest_report(self, schema: str, columns: dict[str, dict[str, str]], con=None):
        """The latest ``reported_at`` of the version's cases (None without cases)."""
        if "reported_at" not in columns.get("cases", {}):
            return None
        sql = f"SELECT max(reported_at) FROM {_ident(schema)}.cases"
        if con is not None:
            return con.execute(sql).fetchone()[0]
        with self._conn() as c:
            return c.execute(sql).fetchone()[0]

    def _read_layers(self, schema: str, columns: dict[str, dict[str, str]], names: tuple[str, ...], con=None
                     ) -> Dataset:
        """The layers ``names`` (those the version has) and the meta of a version, as stored (nothing derived)."""
        with contextlib.ExitStack() as stack:
            c = con if con is not None else stack.enter_context(self._conn())
            out = {n: self._read_table(c, schema, n, columns[n], "", ()) for n in names if n in columns}
            meta = dict(c.execute(f"SELECT key, value FROM {_ident(schema)}.meta").fetchall()) \
                if con is None else {}
        return Dataset(**out, name=meta.get("name", self.dataset), meta=tuple(sorted(meta.items())))

    def _derive_into(self, con, schema: str, columns: dict[str, dict[str, str]], meta: Mapping[str, str],
                     imported: dict[str, list[gpd.GeoDataFrame]]) -> dict[str, str]:
        """`geo.derive` on a version being written: estates the rules change are written again; its meta."""
        estates = self._read_table(con, schema, "estates", columns["estates"], "", ()) if "estates" in columns \
            else None
        grids = self._read_table(con, schema, "grids", columns["grids"], "", ()) if derive.needs_grids(estates) \
            else None
        latest = self._latest_report(schema, columns, con) if derive.wants_latest_report(meta) else None
        got = derive.derive_version(grids=grids, estates=estates, meta=meta, latest_report=latest,
                                    made_on=pd.Timestamp.now(),
                                    imported={n: pd.concat(parts) for n, parts in imported.items() if parts})
        if got.estates_changed:
            con.execute(f"DROP TABLE {_ident(schema)}.estates")
            del columns["estates"]
            self._append(con, schema, "estates", got.estates, columns)
            con.commit()
        return got.meta

    def _check(self, vid: int, number: int, schema: str, columns: dict[str, dict[str, str]]) -> None:
        """Recount the version's rows and compare the checksum recorded when it was written."""
        with self._conn() as con:
            recorded = con.execute(f"SELECT checksum FROM {SCHEMA}.versions WHERE id = %s", (vid,)).fetchone()[0]
            try:
                rows = {n: int(con.execute(f"SELECT count(*) FROM {_ident(schema)}.{_ident(n)}").fetchone()[0])
                        for n in columns}
            except Exception as exc:
                rows = {"missing": -1}
                con.rollback()
                reason = str(exc)
            else:
                reason = "row counts differ"
        if _checksum(columns, rows) != recorded:
            raise StorageError(f"version {number} of {self.dataset!r} was changed outside GridAtlas ({reason}); "
                               "restore another version", code="storage.checksum_failed",
                               params={"dataset": self.dataset, "name": self.dataset, "version": number})

    def _read_table(self, con, schema: str, name: str, columns: dict[str, str], where: str, params: tuple
                    ) -> gpd.GeoDataFrame:
        cols = ", ".join(_ident(c) for c in columns)
        sel = f"SELECT {cols + ', ' if cols else ''}encode(ST_AsBinary(geom), 'hex') AS geom " \
              f"FROM {_ident(schema)}.{_ident(name)}{where} ORDER BY fid"
        buf = io.BytesIO()
        if params:
            import psycopg

            with psycopg.ClientCursor(con) as client:
                sel = client.mogrify(sel, params)
        with con.cursor() as cur:
            query = sel
            with cur.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                for data in copy:
                    buf.write(data)
        buf.seek(0)
        # integers and booleans as the nullable dtypes that validation gives them (`geo.schema.validate_layer`)
        dtypes = {c: ("string" if t in ("text", "boolean") else "Int64" if t == "bigint"
                      else "float64" if t == "double precision" else "string") for c, t in columns.items()}
        df = pd.read_csv(buf, dtype=dtypes, keep_default_na=False, na_values={c: [""] for c in columns})
        for c, t in columns.items():
            if t.startswith("timestamp"):  # each row by the one grammar: PostgreSQL drops a zero fraction
                df[c] = parse_datetimes(df[c])[0]
            elif t == "boolean":
                df[c] = df[c].map({"t": True, "f": False}).astype("boolean")
        geoms = shapely.from_wkb(df.pop("geom").to_numpy(dtype=object))
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84)

    # writing
    def import_dataset(self, ds: Dataset, *, source: str = "", user: str | None = None) -> VersionInfo:
        """Every present layer of ``ds`` (with its meta) as a new version, made current atomically."""
        layers = {n: ds.layer(n) for n in ds.present_layers()}
        meta = {"name": ds.name, **ds.meta_dict}

        def fill(sink: Callable[[str, gpd.GeoDataFrame], None]) -> None:
            for name, gdf in layers.items():
                sink(name, gdf)

        return self._write_version(fill, meta, user=user, source=source or "import",
                                   kind="replace" if self.exists() else "create", row_counts=self._against_current())

    def _against_current(self) -> Callable[[Any, str, dict], tuple[int, int, int]]:
        """Row counts of a new whole version: against the current version (every row added when there is none)."""
        if not self.exists():
            return _all_added
        _, _, schema, columns = self._version(None)
        return lambda con, new_schema, new_cols: _dataset_diff(con, new_schema, new_cols, schema, columns)

    def import_layer(self, layer: str, gdf: gpd.GeoDataFrame, *, mode: ImportMode = "replace", source: str = "",
                     user: str | None = None, progress: ProgressFn | None = None) -> VersionInfo:
        """A new version: the current one with ``layer`` replaced (or upserted by id) from ``gdf``.

        Other layers are copied in SQL; with ``mode="upsert"`` the rows of
        ``gdf`` replace those with the same id and the rest are kept. ``progress`` hears the stage
        ``write`` (the comparison runs in SQL within it; `geo.progress`).
        """
        check_import(layer, mode, columns=gdf.columns)
        progress_or_silent(progress)("write", 0.0)
        if not self.exists():
            if layer != "grids":
                raise self._no_version()
            return self._write_version(lambda sink: sink(layer, gdf), {"name": self.dataset}, user=user,
                                       source=source or f"import {layer}", kind="create", layer=layer,
                                       row_counts=_all_added)
        _, _, base_schema, base_cols = self._version(None)
        id_col = LAYERS[layer].id_column
        has_base = layer in base_cols
        base = f"{_ident(base_schema)}.{_ident(layer)}"

        if mode == "upsert" and has_base:
            keep = dict(base_cols)

            def fill(sink: Callable[..., None]) -> None:
                sink(layer, gdf, table="_incoming")

            def counts(con, schema: str, columns: dict) -> tuple[int, int, int]:
                return self._merge_incoming(con, schema, layer, id_col, columns[layer], base,
                                            compare=[c for c in columns[layer] if c in base_cols[layer]])
        else:
            keep = {n: c for n, c in base_cols.items() if n != layer}

            def fill(sink: Callable[..., None]) -> None:
                sink(layer, gdf)

            def counts(con, schema: str, columns: dict) -> tuple[int, int, int]:
                if not has_base or not id_col:
                    n = con.execute(f"SELECT count(*) FROM {_ident(schema)}.{_ident(layer)}").fetchone()[0]
                    return int(n), 0, 0
                return _diff(con, f"{_ident(schema)}.{_ident(layer)}", base, id_col,
                             [c for c in columns[layer] if c in base_cols[layer]])
        return self._write_version(fill, self._meta(base_schema), user=user, source=source or f"import {layer}",
                                   kind=mode, layer=layer, copy_from=(base_schema, keep), row_counts=counts)

    def _merge_incoming(self, con, schema: str, layer: str, id_col: str, cols: dict[str, str], base: str, *,
                        compare: list[str]) -> tuple[int, int, int]:
        """Upsert the staged rows into the layer in place: same id → row replaced where it stands (columns the
        rows lack become empty, as in the GeoPackage workspace); new ids appended. ``compare``: the columns
        the base version has, for counting changed rows."""
        s = _ident(schema)
        table, staged = f"{s}.{_ident(layer)}", f"{s}._incoming"
        added, changed, _ = _diff(con, staged, base, id_col, compare, removed=False)
        names = [*cols, "geom"]
        sets = ", ".join(_ident(c) for c in names)
        src = ", ".join(f"i.{_ident(c)}" for c in names)
        idc = _ident(id_col)
        con.execute(f"UPDATE {table} t SET ({sets}) = ({src}) FROM {staged} i WHERE t.{idc} = i.{idc}")
        con.execute(f"INSERT INTO {table} ({sets}) SELECT {src} FROM {staged} i WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {table} t WHERE t.{idc} = i.{idc}) ORDER BY i.fid")
        con.execute(f"DROP TABLE {staged}")
        return added, changed, 0

    def restore(self, version_id: int, *, user: str | None = None) -> VersionInfo:
        """A new version with the layers of ``version_id``, made current (history is never rewritten)."""
        vid, number, schema, columns = self._version(version_id)
        self._check(vid, number, schema, columns)
        return self._write_version(lambda sink: None, self._meta(schema), user=user,
                                   source=f"restore of version {number}", kind="restore",
                                   copy_from=(schema, columns), restored_from=number,
                                   row_counts=self._against_current())

    def import_generated(self, generate: Callable[..., dict], *, user: str | None = None, source: str = "",
                         **kw: Any) -> tuple[VersionInfo, dict]:
        """Stream a generator's layers (``generate(sink, **kw)``, e.g. `geo.demo_city.generate`) into a version."""
        result: dict = {}
        meta_box: dict[str, str] = {}

        def fill(sink: Callable[[str, gpd.GeoDataFrame], None]) -> None:
            def inner(layer: str, gdf: gpd.GeoDataFrame) -> None:
                if layer == "meta":
                    meta_box.update(dict(zip(gdf["key"], gdf["value"], strict=True)))
                else:
                    sink(layer, gdf)
            result.update(generate(inner, **kw))

        v = self._write_version(fill, meta_box, user=user, source=source or "generated",
                                kind="replace" if self.exists() else "create", row_counts=_all_added)
        return v, result

    def _meta(self, schema: str) -> dict[str, str]:
        with self._conn() as con:
            return dict(con.execute(f"SELECT key, value FROM {_ident(schema)}.meta").fetchall())

    def _write_version(self, fill: Callable[[Callable[[str, gpd.GeoDataFrame], None]], None],
                       meta: Mapping[str, str], *, user: str | None, source: str, kind: str,
                       layer: str | None = None, copy_from: tuple[str, dict] | None = None,
                       restored_from: int | None = None,
                       row_counts: Callable[[Any, str, dict], tuple[int, int, int]] | None = None) -> VersionInfo:
        with self._conn() as con:  # the next number of this dataset, reserved (one writer at a time reserves)
            con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{SCHEMA}.versions:{self.dataset}",))
            vid, number = con.execute(
                f"INSERT INTO {SCHEMA}.versions (dataset, number, author, note, kind, layer, rows_added, rows_changed, "
                f"rows_removed, restored_from) VALUES (%s, (SELECT coalesce(max(number), 0) + 1 FROM {SCHEMA}.versions "
                f"WHERE dataset = %s), %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id, number",
                (self.dataset, self.dataset, user or "", source, kind, layer, 0, 0, 0, restored_from)).fetchone()
            vid, number = int(vid), int(number)
            con.commit()
        schema = f"ga_v{vid}"
        columns: dict[str, dict[str, str]] = {}
        rows: dict[str, int] = {}
        try:
            with self._conn() as con:
                con.execute(f"CREATE SCHEMA {_ident(schema)}")
                if copy_from is not None:
                    src, cols = copy_from
                    for name, c in cols.items():
                        t = f"{_ident(schema)}.{_ident(name)}"
                        con.execute(f"CREATE TABLE {t} AS SELECT * FROM {_ident(src)}.{_ident(name)}")
                        seq = f"{_ident(schema)}.{_ident(name + '_fid_seq')}"
                        con.execute(f"CREATE SEQUENCE {seq} OWNED BY {t}.fid")
                        con.execute(f"SELECT setval('{seq}', coalesce((SELECT max(fid) FROM {t}), 0) + 1, false)")
                        con.execute(f"ALTER TABLE {t} ALTER COLUMN fid SET DEFAULT nextval('{seq}')")
                        columns[name] = dict(c)
                con.commit()

                imported: dict[str, list[gpd.GeoDataFrame]] = {}

                def sink(layer: str, gdf: gpd.GeoDataFrame, table: str | None = None) -> None:
                    self._append(con, schema, layer, gdf, columns, table=table)
                    con.commit()
                    if layer == "estates":
                        imported.setdefault(layer, []).append(gdf)
                    staged.append(table is not None)

                staged: list[bool] = []
                fill(sink)
                derive_now = kind != "restore" and "grids" in columns
                if derive_now and not any(staged):  # before counting, as the workspace counts the stored rows
                    meta = self._derive_into(con, schema, columns, meta, imported if copy_from else {})
                counts = row_counts(con, schema, columns) if row_counts else (0, 0, 0)
                if derive_now and any(staged):  # upserted rows are merged by the counting step
                    meta = self._derive_into(con, schema, columns, meta, imported)
                if "cases" in columns and "grids" in columns:
                    self._assign_missing_grids(con, schema)
                    columns["cases"].setdefault("grid_id", "text")
                con.execute(f"CREATE TABLE {_ident(schema)}.meta (key text PRIMARY KEY, value text)")
                with con.cursor() as cur:
                    cur.executemany(f"INSERT INTO {_ident(schema)}.meta VALUES (%s, %s)",
                                    [(str(k), str(v)) for k, v in meta.items()])
                for name in columns:
                    self._index(con, schema, name)
                    rows[name] = int(con.execute(f"SELECT count(*) FROM {_ident(schema)}.{_ident(name)}"
                                                 ).fetchone()[0])
                con.commit()
                # the switch: one transaction, current row locked
                with con.transaction():
                    con.execute(f"INSERT INTO {SCHEMA}.current (dataset, version_id) VALUES (%s, %s) "
                                f"ON CONFLICT (dataset) DO NOTHING", (self.dataset, vid))
                    con.execute(f"SELECT version_id FROM {SCHEMA}.current WHERE dataset = %s FOR UPDATE",
                                (self.dataset,))
                    con.execute(f"UPDATE {SCHEMA}.versions SET status = 'ready', ready_at = clock_timestamp(), "
                                f"schema_name = %s, rows = %s, columns = %s, checksum = %s, rows_added = %s, "
                                f"rows_changed = %s, rows_removed = %s WHERE id = %s",
                                (schema, json.dumps(rows), json.dumps({n: list(c.items()) for n, c in columns.items()}),
                                 _checksum(columns, rows), *counts, vid))
                    con.execute(f"UPDATE {SCHEMA}.current SET version_id = %s WHERE dataset = %s",
                                (vid, self.dataset))
        except BaseException as exc:
            self._discard(vid, schema)
            if isinstance(exc, StorageError):
                raise
            if isinstance(exc, Exception) and type(exc).__module__.startswith("psycopg"):
                full = getattr(exc, "sqlstate", None) == "53100"  # disk_full
                raise StorageError(f"version {number} of dataset {self.dataset} could not be written ({exc}); "
                                   "the current version is unchanged",
                                   code="storage.disk_full" if full else "storage.write_failed",
                                   params={"dataset": self.dataset, "name": self.dataset, "version": number,
                                           "path": self.location, "reason": str(exc)}) from exc
            raise
        return next(v for v in self.versions() if v.id == number)

    def _append(self, con, schema: str, layer: str, gdf: gpd.GeoDataFrame, columns: dict[str, dict[str, str]],
                *, table: str | None = None) -> None:
        """COPY ``gdf`` into the layer's table (created by the first part), or into a staging ``table``."""
        check_import(layer)
        gdf = gdf.to_crs(WGS84) if gdf.crs is not None and not gdf.crs.equals(WGS84) else gdf
        gdf = gdf.copy()
        cols = _table_columns(gdf)
        for c, t in cols.items():
            if t == "text":
                gdf[c] = _clean_text(gdf[c])
        staging = table is not None
        table = f"{_ident(schema)}.{_ident(table or layer)}"
        if layer in columns and staging:  # rows to upsert: the layer gains the columns only they have
            for c, t in cols.items():
                if c not in columns[layer]:
                    con.execute(f"ALTER TABLE {_ident(schema)}.{_ident(layer)} ADD COLUMN {_ident(c)} {t}")
                    columns[layer][c] = t
        elif layer in columns:  # a further part of a layer written in chunks
            if list(columns[layer]) != list(cols):
                raise StorageError(f"layer {layer} came in parts with different columns", code="storage.parts_differ",
                                   params={"layer": layer})
        else:
            defs = ", ".join(f"{_ident(c)} {t}" for c, t in cols.items())
            con.execute(f"DROP TABLE IF EXISTS {table}")
            week = ", week integer" if layer == "cases" and "reported_at" in cols else ""
            con.execute(f"CREATE TABLE {table} (fid bigserial, {defs + ', ' if defs else ''}"
                        f"geom geometry(Geometry, 4326){week})")
            columns[layer] = cols
        if staging and not con.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]:
            con.execute(f"CREATE TABLE {table} (LIKE {_ident(schema)}.{_ident(layer)} INCLUDING DEFAULTS)")
        # cases carry their week number (not a layer column: the counts in SQL group by it)
        extra = {"week": _week_of(gdf["reported_at"])} if layer == "cases" and "reported_at" in cols else None
        with con.cursor() as cur:
            _copy_frame(cur, table, gdf, cols, geometry=True, extra=extra)

    def _assign_missing_grids(self, con, schema: str) -> None:
        """Give each case without a grid_id the grid containing it (first grid in layer order), in SQL."""
        s = _ident(schema)
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'cases'",
            (schema,)).fetchall()]
        if "grid_id" not in cols:
            con.execute(f"ALTER TABLE {s}.cases ADD COLUMN grid_id text")
        con.execute(f"CREATE INDEX IF NOT EXISTS grids_geom_gist ON {s}.grids USING gist (geom)")
        con.execute(f"ANALYZE {s}.grids")
        con.execute(f"UPDATE {s}.cases c SET grid_id = (SELECT g.grid_id FROM {s}.grids g "
                    f"WHERE ST_Intersects(g.geom, c.geom) ORDER BY g.fid LIMIT 1) WHERE c.grid_id IS NULL")
        con.commit()

    def _index(self, con, schema: str, name: str) -> None:
        s, t = _ident(schema), _ident(name)
        con.execute(f"CREATE INDEX IF NOT EXISTS {_ident(name + '_geom_gist')} ON {s}.{t} USING gist (geom)")
        if name == "cases":
            cols = {r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (schema, name)).fetchall()}
            if "week" not in cols and "reported_at" in cols:
                con.execute(f"ALTER TABLE {s}.cases ADD COLUMN week integer")
                con.execute(f"UPDATE {s}.cases SET week = {counting.sql_week('reported_at')}")
            con.execute(f"CREATE INDEX IF NOT EXISTS cases_grid_week ON {s}.cases (grid_id, week)")
        if name == "grids":
            con.execute(f"CREATE INDEX IF NOT EXISTS grids_grid_id ON {s}.grids (grid_id)")
        con.execute(f"ANALYZE {s}.{t}")

    def _discard(self, vid: int, schema: str) -> None:
        with self._conn() as con:
            con.execute(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE")
            # its number goes back: the next version takes it, as in the GeoPackage workspace
            con.execute(f"UPDATE {SCHEMA}.versions SET status = 'failed', number = NULL WHERE id = %s", (vid,))
            con.commit()

    def drop_version(self, version: int, *, user: str | None = None) -> None:
        """Drop an old version's tables (not the current one); its row stays as 'dropped'.

        Only an operator calls this (neither the app nor the CLI does), so it records itself in the audit log
        (`geo.audit`, action ``version_drop``) with ``user``."""
        vid, number, schema, _ = self._version(version)
        if self.current().id == number:
            raise StorageError(f"version {number} is current and cannot be dropped; restore another first",
                               code="storage.drop_current", params={"version": number})
        with self._conn() as con, con.transaction():
            con.execute(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE")
            con.execute(f"UPDATE {SCHEMA}.versions SET status = 'dropped' WHERE id = %s", (vid,))
        AuditLog().record("version_drop", user=user or "", target=f"{self.name}/{number}", detail=schema)

    # scenarios

    def save_scenario(self, scenario: Scenario, *, overwrite: bool = False, district: str | None = None,
                      user: str | None = None) -> Scenario:
        """Store a scenario for the dataset (all versions) or one district; a name taken there is a `DataError`
        unless ``overwrite``."""
        name = check_scenario_name(scenario.name)
        if district is not None:
            self._check_district(district)
        params = json.dumps(dict(scenario.params), ensure_ascii=False, allow_nan=False)
        result = json.dumps(dict(scenario.result), ensure_ascii=False, allow_nan=False)
        d = district or ""
        with self._conn() as con, con.transaction():
            if overwrite:  # replaced = saved anew: listed last, as in the GeoPackage table
                con.execute(f"DELETE FROM {SCHEMA}.scenarios WHERE dataset = %s AND district = %s AND name = %s",
                            (self.dataset, d, name))
            row = con.execute(f"INSERT INTO {SCHEMA}.scenarios (dataset, district, name, kind, author, params, "
                              f"result) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (dataset, district, name) "
                              f"DO NOTHING RETURNING saved_at",
                              (self.dataset, d, name, scenario.kind, user or "", params, result)).fetchone()
            if row is None:
                raise scenario_exists(name)
        return Scenario(name=name, kind=scenario.kind, params=dict(scenario.params), result=dict(scenario.result),
                        saved_at=pd.Timestamp(row[0]).isoformat(timespec="seconds"), district=district or None)

    def list_scenarios(self, *, kind: str | None = None, district: str | None = None) -> list[Scenario]:
        if district is not None:
            self._check_district(district)
        with self._conn() as con:
            rows = con.execute(f"SELECT name, kind, params, result, saved_at FROM {SCHEMA}.scenarios "
                               f"WHERE dataset = %s AND district = %s AND (%s::text IS NULL OR kind = %s) ORDER BY id",
                               (self.dataset, district or "", kind, kind)).fetchall()
        return [Scenario(name=r[0], kind=r[1], params=r[2], result=r[3],
                         saved_at=pd.Timestamp(r[4]).isoformat(timespec="seconds"), district=district or None)
                for r in rows]

    def delete_scenario(self, name: str, *, district: str | None = None, user: str | None = None) -> None:
        with self._conn() as con, con.transaction():
            if not con.execute(f"DELETE FROM {SCHEMA}.scenarios WHERE dataset = %s AND district = %s AND name = %s",
                               (self.dataset, district or "", name)).rowcount:
                raise scenario_missing(name)

    # the meeting's follow-ups and quarterly targets (geo.followups)

    _FU = "id, title, unit, street, due, meeting, recorded_at, author, done_on, note, district"
    _T = "quarter, kind, subject, measure, threshold, set_at, author, district"
    _T_KEY = "dataset = %s AND district = %s AND quarter = %s AND kind = %s AND subject = %s AND measure = %s"

    @staticmethod
    def _followup(r: tuple) -> FollowUp:
        return FollowUp(id=int(r[0]), title=r[1], unit=r[2], street=r[3] or None, due=r[4], meeting=r[5],
                        recorded_at=pd.Timestamp(r[6]).isoformat(timespec="seconds"), author=r[7] or "",
                        done_on=r[8].isoformat() if r[8] is not None else None, note=r[9], district=r[10] or None)

    @staticmethod
    def _target(r: tuple) -> Target:
        return Target(quarter=r[0], kind=r[1], subject=r[2], measure=r[3], threshold=float(r[4]),
                      set_at=pd.Timestamp(r[5]).isoformat(timespec="seconds"), author=r[6], district=r[7] or None)

    def _meeting_district(self, district: str | None) -> str | None:
        """``district`` checked against the current version's districts (None: the dataset's own records)."""
        if district is not None:
            self._check_district(district)
        return district

    def list_followups(self, *, district: str | None = None) -> list[FollowUp]:
        district = self._meeting_district(district)
        with self._conn() as con:
            rows = con.execute(f"SELECT {self._FU} FROM {SCHEMA}.followups WHERE dataset = %s AND district = %s "
                               f"ORDER BY id", (self.dataset, district or "")).fetchall()
        return [self._followup(r) for r in rows]

    def add_followup(self, followup: FollowUp, *, user: str | None = None, district: str | None = None) -> FollowUp:
        """Store a checked follow-up in ``district``; its id is the dataset's next (1, 2, …)."""
        district = self._meeting_district(district)
        with self._conn() as con, con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"followups:{self.dataset}",))
            row = con.execute(
                f"INSERT INTO {SCHEMA}.followups (dataset, id, title, unit, street, due, meeting, author, done_on, "
                f"note, district) SELECT %s, COALESCE(max(id), 0) + 1, %s, %s, %s, %s, %s, %s, %s, %s, %s "
                f"FROM {SCHEMA}.followups WHERE dataset = %s RETURNING {self._FU}",
                (self.dataset, followup.title, followup.unit, followup.street, followup.due, followup.meeting,
                 followup.author or user or "", followup.done_on, followup.note, district or "",
                 self.dataset)).fetchone()
        return self._followup(row)

    def close_followup(self, followup_id: int, *, note: str, done_on: str, user: str | None = None,
                       district: str | None = None) -> FollowUp:
        with self._conn() as con, con.transaction():
            row = con.execute(f"SELECT {self._FU} FROM {SCHEMA}.followups WHERE dataset = %s AND id = %s "
                              f"AND district = %s FOR UPDATE", (self.dataset, int(followup_id), district or "")
                              ).fetchone()
            if row is None:
                raise followup_missing(followup_id)
            done = check_done(self._followup(row), note=note, done_on=done_on)
            con.execute(f"UPDATE {SCHEMA}.followups SET done_on = %s, note = %s WHERE dataset = %s AND id = %s",
                        (done.done_on, done.note, self.dataset, int(followup_id)))
        return done

    def list_targets(self, quarter: str | None = None, *, district: str | None = None) -> list[Target]:
        district = self._meeting_district(district)
        with self._conn() as con:
            rows = con.execute(f"SELECT {self._T} FROM {SCHEMA}.targets WHERE dataset = %s AND district = %s "
                               f"AND (%s::text IS NULL OR quarter = %s) ORDER BY quarter, seq",
                               (self.dataset, district or "", quarter, quarter)).fetchall()
        return [self._target(r) for r in rows]

    def set_target(self, target: Target, *, user: str | None = None, district: str | None = None) -> Target:
        """Store a checked target in ``district``, replacing the one of the same quarter, subject and measure there
        (listed last)."""
        district = self._meeting_district(district)
        with self._conn() as con, con.transaction():
            con.execute(f"DELETE FROM {SCHEMA}.targets WHERE {self._T_KEY}", (self.dataset, district or "", *target.key))
            row = con.execute(f"INSERT INTO {SCHEMA}.targets (dataset, district, quarter, kind, subject, measure, "
                              f"threshold, author) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {self._T}",
                              (self.dataset, district or "", *target.key, target.threshold,
                               target.author or user or "")).fetchone()
        return self._target(row)

    def delete_target(self, key: tuple[str, str, str, str], *, user: str | None = None,
                      district: str | None = None) -> None:
        with self._conn() as con, con.transaction():
            if not con.execute(f"DELETE FROM {SCHEMA}.targets WHERE {self._T_KEY}",
                               (self.dataset, district or "", *key)).rowcount:
                raise target_missing(key)

    def district_names(self, version: int | None = None) -> tuple[str, ...]:
        """The grids' ``district`` values of a version (default: current), in layer order (() without the column);
        counted once per version (its tables never change once ready), not on every page run that checks a
        district."""
        vid, _, schema, columns = self._version(version)
        key = (self.conninfo, vid, schema)
        names = _DISTRICT_NAMES.get(key)
        if names is None:
            names = ()
            if "district" in columns.get("grids", {}):
                with self._conn() as con:
                    rows = con.execute(f"SELECT district FROM {_ident(schema)}.grids WHERE district IS NOT NULL "
                                       f"GROUP BY district ORDER BY min(fid)").fetchall()
                names = tuple(str(r[0]) for r in rows)
            if len(_DISTRICT_NAMES) > 64:  # a few datasets' versions: older entries are let go
                _DISTRICT_NAMES.clear()
            _DISTRICT_NAMES[key] = names
        return names

    def _check_district(self, district: str, version: int | None = None) -> None:
        have = self.district_names(version)
        if district not in have:
            raise district_missing(district, have)

    # counts in SQL
    def case_counts(self, by: Iterable[str] = ("grid_id", "week"), *, version: int | None = None,
                    since: str | None = None, until: str | None = None, categories: Iterable[str] = (),
                    as_of: str | None = None, district: str | None = None) -> pd.DataFrame:
        """`geo.case_counts` in SQL: the rules' expressions come from that module; the stored ``week`` column
        (written at import with `geo.case_counts.week_number`) is grouped on."""
        by = counting.check_by(by)
        _, _, schema, columns = self._version(version)
        if district is not None:
            self._check_district(district, version)
        s = _ident(schema)
        cols = columns.get("cases")
        if cols is None:
            return counting.empty(by)
        gcols = columns.get("grids", {})
        keys = {"grid_id": "c.grid_id", "week": "c.week", "category": "c.category",
                "responsible_unit": "c.responsible_unit" if "responsible_unit" in cols else "NULL::text",
                "district": "g.district" if "district" in gcols else "NULL::text",
                "street": "g.street"}
        join = f" JOIN {s}.grids g ON g.grid_id = c.grid_id" if {"district", "street"} & set(by) else ""
        where, params = ["TRUE"], {}
        if "grid_id" in by:
            where.append("c.grid_id IS NOT NULL")
        if "week" in by:
            where.append("c.week IS NOT NULL")
        if district is not None:
            where.append(f"c.grid_id IN (SELECT grid_id FROM {s}.grids WHERE district = %(district)s)")
            params["district"] = district
        if since:
            where.append("c.reported_at >= %(since)s::date")
            params["since"] = since
        if until:
            where.append("c.reported_at < %(until)s::date + 1")
            params["until"] = until
        categories = tuple(categories)
        if categories:
            where.append("c.category = ANY(%(categories)s)")
            params["categories"] = list(categories)
        if as_of is None:
            with self._conn() as con:
                latest = con.execute(f"SELECT max(reported_at) FROM {s}.cases").fetchone()[0]
            end_day = counting.default_as_of(self._meta(schema), latest)
        else:
            end_day = pd.Timestamp(as_of)
        figures = dict.fromkeys(counting.COUNTS, "0")
        if end_day is not None:  # each figure's rule from geo.calendar, at the end of the as-of day
            rule = counting.sql_rule("c", "%(end)s", cols)
            where.append(rule.known)  # a case reported after the day is not counted yet
            figures["cases"] = "count(*)"
            for name, cond in (("open", rule.open), ("overdue", rule.overdue), ("closed_late", rule.closed_late)):
                figures[name] = f"count(*) FILTER (WHERE {cond})"
            params["end"] = counting.day_end(end_day).to_pydatetime()
        group = ", ".join(keys[b] for b in by)
        sql = (f"SELECT {group}, {', '.join(f'{v} AS {k}' for k, v in figures.items())} "
               f"FROM {s}.cases c{join} WHERE {' AND '.join(where)} GROUP BY {group}")
        with self._conn() as con:
            rows = con.execute(sql, params).fetchall()
        return counting.finish(pd.DataFrame(rows, columns=[*by, *counting.COUNTS]), by)


def open_store(ref: DatasetRef | str) -> PostgisStore:
    """The store behind a ``postgresql://`` URL (``?dataset=NAME`` to pick a dataset)."""
    ref = DatasetRef.parse(ref)
    if not ref.is_postgis:
        raise StorageError(f"{ref.spec!r} is not a postgresql:// URL", code="storage.not_postgres",
                           params={"spec": ref.spec})
    return PostgisStore(ref.spec)


def import_generated(url: str, generate: Callable[..., dict], **kw: Any) -> dict:
    """`cli.py demo --scale wuhan --out postgresql://…`: the generated city as a new current version."""
    store = open_store(url)
    version, result = store.import_generated(generate, user="cli", source="cli.py demo --scale wuhan", **kw)
    return {**result, "out": store.spec, "version": version.id, "rows": dict(version.layers)}
