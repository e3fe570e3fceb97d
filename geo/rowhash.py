"""Per-row hashes of a layer, computed on its Arrow columns, and the rows an import adds, changes and removes.

A row's hash covers every column by name (a column that is there but empty everywhere counts as absent) and
the geometry's WKB, the same whichever order the columns come in. Text and WKB are hashed from the Arrow
buffers with numpy (a polynomial over the bytes, modulo 2^64, then mixed), numbers, times and flags from
their values; nothing runs a Python loop over the rows, and long columns go in slices so that the work
memory stays a few tens of MB. Hashes are 64-bit: two different rows share one with a chance of about
2^-64, which `layer_changes` accepts for "changed" (ids are compared exactly).

The GeoPackage workspace keeps a layer's hashes beside the version it was written into
(``hashes/<layer>.<HASHES_NAME>.npy``), so the next import of that layer hashes only the file being imported.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HASHES_NAME = "row_hashes_v1"
"""The name of a stored layer's kept hashes; a new hashing rule needs a new name."""

_P = 0x100000001B3  # odd, so invertible modulo 2^64
_P_INV = pow(_P, -1, 1 << 64)
_NULL = np.uint64(0x9E3779B97F4A7C15)
_MUL = np.uint64(1_000_003)
_SLICE_BYTES = 1 << 20  # bytes of text hashed at once (its uint64 work arrays: 8 MB each)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit reaches every output bit (uint64 arrays wrap, as meant)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


_TABLES: dict[int, np.ndarray] = {}


def _powers(base: int, n: int) -> np.ndarray:
    """base^0 … base^(n-1) modulo 2^64 (kept and grown, since every slice needs them)."""
    have = _TABLES.get(base)
    if have is None or len(have) < n:
        size = max(n, _SLICE_BYTES + 1)
        out = np.empty(size, dtype=np.uint64)
        out.fill(np.uint64(base))
        out[0] = 1
        np.cumprod(out, out=out)
        _TABLES[base] = have = out
    return have[:n]


def _bytes_slice(arr: pa.Array) -> np.ndarray:
    """Hashes of one slice of a large_binary array (nulls not yet marked)."""
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=n + 1, offset=arr.offset * 8)
    lo, hi = int(offsets[0]), int(offsets[-1])
    data = arr.buffers()[2]
    m = hi - lo
    lengths = np.diff(offsets).astype(np.uint64)
    if m == 0:
        return _mix(lengths * np.uint64(0xD6E8FEB86659FD93) + np.uint64(1))
    b = np.frombuffer(data, dtype=np.uint8, count=m, offset=lo).astype(np.uint64) + np.uint64(1)
    # sum of b[k] * P^(m-1-k) over a row's bytes, then shifted by P^-(m-end) to the row's own end
    b *= _powers(_P, m)[::-1]
    cum = np.zeros(m + 1, dtype=np.uint64)
    np.cumsum(b, out=cum[1:])
    ends = (offsets[1:] - lo).astype(np.int64)
    starts = (offsets[:-1] - lo).astype(np.int64)
    poly = (cum[ends] - cum[starts]) * _powers(_P_INV, m + 1)[m - ends]
    return _mix(poly ^ (lengths * np.uint64(0xD6E8FEB86659FD93) + np.uint64(1)))


def _bytes_hashes(arr: pa.Array) -> np.ndarray:
    n = len(arr)
    if n > 20_000 and len(pc.unique(arr.slice(0, 10_000))) < 1_000:  # few distinct values: hash each once
        coded = pc.dictionary_encode(arr)
        if len(coded.dictionary) < n // 8:
            return _bytes_hashes(coded.dictionary)[coded.indices.fill_null(0).to_numpy()]
    arr = arr.cast(pa.large_binary())
    out = np.empty(n, dtype=np.uint64)
    if n == 0:
        return out
    sizes = np.diff(np.frombuffer(arr.buffers()[1], dtype=np.int64, count=n + 1, offset=arr.offset * 8))
    per_row = max(1.0, float(sizes.mean()) if n else 1.0)
    step = max(1024, int(_SLICE_BYTES / per_row))
    for start in range(0, n, step):
        out[start:start + step] = _bytes_slice(arr.slice(start, step))
    return out


def _values(arr: pa.Array) -> np.ndarray:
    """The uint64 image of one column's values (nulls not yet marked)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return _values(arr.cast(t.value_type))
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) or \
            pa.types.is_large_binary(t):
        return _bytes_hashes(arr)
    if pa.types.is_timestamp(t):
        ns = arr.cast(pa.timestamp("ns", tz=t.tz)).cast(pa.int64()).fill_null(0)
        return _mix(ns.to_numpy().view(np.uint64))
    if pa.types.is_date(t):
        days = arr.cast(pa.date32()).cast(pa.int32()).cast(pa.int64()).fill_null(0)
        return _mix(days.to_numpy().view(np.uint64))
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return _mix(arr.cast(pa.int64()).fill_null(0).to_numpy().view(np.uint64))
    if pa.types.is_floating(t):
        x = arr.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False) + 0.0  # -0.0 as 0.0
        return _mix(x.view(np.uint64))
    return _bytes_hashes(pc.cast(arr, pa.large_string()))


def column_hashes(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """One uint64 per value; a null has its own fixed hash."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    out = _values(arr)
    if arr.null_count:
        out = np.where(arr.is_null().to_numpy(zero_copy_only=False), _NULL, out)
    return out


def _name_hash(name: str) -> np.uint64:
    return np.uint64(_bytes_hashes(pa.array([name], type=pa.large_string()))[0])


def _fold(names: list[str], column) -> np.ndarray | None:
    """Row hashes from ``column(name)`` for each name, sorted (a column empty everywhere is skipped)."""
    h = None
    for name in sorted(names):
        col = column(name)
        if col.null_count == len(col) and name != "geometry":
            continue
        part = column_hashes(col) ^ _name_hash(name)
        h = part if h is None else (h * _MUL) ^ part
        del col
    return h


def table_hashes(table: pa.Table) -> np.ndarray:
    """One uint64 per row over every column of an Arrow table (geometry as WKB)."""
    h = _fold(table.column_names, table.column)
    return np.zeros(table.num_rows, dtype=np.uint64) if h is None else h


def file_hashes(path) -> np.ndarray:
    """`table_hashes` of a stored (Geo)Parquet layer, read one column at a time (memory: one column)."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    h = _fold(list(f.schema_arrow.names), lambda name: pq.read_table(path, columns=[name]).column(0))
    return np.zeros(f.metadata.num_rows, dtype=np.uint64) if h is None else h


def _frame_column(gdf, name: str) -> pa.Array:
    import geopandas as gpd
    import shapely

    if isinstance(gdf, gpd.GeoDataFrame) and name == gdf.geometry.name:
        return pa.array(shapely.to_wkb(np.asarray(gdf.geometry.values, dtype=object)), type=pa.binary())
    return pa.Array.from_pandas(gdf[name])


def frame_hashes(gdf) -> np.ndarray:
    """`table_hashes` of a (Geo)DataFrame as its GeoParquet file would hold it (one column converted at a time)."""
    h = _fold([str(c) for c in gdf.columns], lambda name: _frame_column(gdf, name))
    return np.zeros(len(gdf), dtype=np.uint64) if h is None else h


def _text_ids(ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    return ids if pa.types.is_large_string(ids.type) else pc.cast(ids, pa.large_string())


def layer_changes(old_hashes: np.ndarray | None, new_hashes: np.ndarray, *, old_ids=None, new_ids=None
                  ) -> tuple[int, int, int]:
    """(added, changed, removed) rows: matched by id when both sides have ids (compared as text), else by
    content (a multiset of row hashes: a changed row is one removed and one added)."""
    if old_hashes is None or len(old_hashes) == 0:
        return len(new_hashes), 0, 0
    if old_ids is None or new_ids is None:
        before, nb = np.unique(old_hashes, return_counts=True)
        after, na = np.unique(new_hashes, return_counts=True)
        pos = np.searchsorted(before, after)
        pos_c = np.minimum(pos, len(before) - 1)
        found = before[pos_c] == after
        common = np.where(found, np.minimum(na, nb[pos_c]), 0)
        kept = int(common.sum())
        return len(new_hashes) - kept, 0, len(old_hashes) - kept
    old_ids, new_ids = _text_ids(old_ids), _text_ids(new_ids)
    where = pc.index_in(new_ids, value_set=old_ids).to_numpy(zero_copy_only=False)
    matched = ~np.isnan(where) if where.dtype.kind == "f" else np.ones(len(where), dtype=bool)
    at = where[matched].astype(np.int64)
    added = int((~matched).sum())
    kept = np.zeros(len(old_hashes), dtype=bool)  # the old rows some new row matched (a mask, not a sort)
    kept[at] = True
    removed = int(len(old_hashes) - np.count_nonzero(kept))
    changed = int((old_hashes[at] != new_hashes[matched]).sum())
    return added, changed, removed
