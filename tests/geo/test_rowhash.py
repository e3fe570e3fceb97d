"""Per-row hashes in Arrow (geo.rowhash) and the import's counts of added, changed and removed rows, against a
brute-force comparison of the rows' values in a Python loop; the hashes a version keeps equal those of its
file; the CSV read in columns by pyarrow equals pandas' reading."""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from shapely.geometry import Point

from geo import rowhash
from geo.readers import _read_csv_arrow, read_layer
from geo.workspace import open_store
from tests.storefixtures import small_dataset


def _cases(n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    cats = np.array(["道路破损", "街面秩序", "垃圾", "噪音"])
    return gpd.GeoDataFrame({
        "case_id": [f"C{i:05d}" for i in range(n)],
        "category": pd.array(cats[rng.integers(0, 4, n)], dtype="string"),
        "reported_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        "count": pd.array(rng.integers(0, 5, n), dtype="Int64"),
        "note": pd.array([None if i % 7 == 0 else f"备注{i % 13}" for i in range(n)], dtype="string"),
    }, geometry=[Point(114.3 + x, 30.5 + y) for x, y in rng.random((n, 2)) / 100], crs="EPSG:4326")


def _edit(old: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:
    """Some rows changed (in each kind of column, a value to empty and back), some removed, some added,
    the order shuffled."""
    rng = np.random.default_rng(seed)
    new = old.copy()
    n = len(new)
    pick = lambda k: rng.choice(n, k, replace=False)  # noqa: E731
    new.loc[pick(9), "category"] = "噪音"  # some already were: unchanged rows then
    new.loc[pick(5), "reported_at"] = new["reported_at"].iloc[0] + pd.Timedelta(seconds=1)
    new.loc[pick(4), "count"] = pd.NA
    new.loc[pick(4), "note"] = "新备注"
    moved = pick(3)
    new.loc[moved, "geometry"] = [Point(115.0, 31.0 + i / 1000) for i in range(len(moved))]
    new = new.drop(index=pick(6)).reset_index(drop=True)
    extra = _cases(8, seed + 100)
    extra["case_id"] = [f"N{i}" for i in range(8)]
    new = pd.concat([new, extra], ignore_index=True)
    return gpd.GeoDataFrame(new.sample(frac=1, random_state=seed).reset_index(drop=True), crs="EPSG:4326")


def _row_values(frame: gpd.GeoDataFrame, i: int) -> tuple:
    out = []
    for c in sorted(frame.columns):
        v = frame[c].iloc[i]
        if c == "geometry":
            out.append(("geometry", v.wkb))
        elif frame[c].isna().all():
            continue
        else:
            out.append((c, None if pd.isna(v) else (v.value if isinstance(v, pd.Timestamp) else str(v))))
    return tuple(out)


def _brute_force(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, id_col: str | None) -> tuple[int, int, int]:
    if id_col is None:
        before = Counter(_row_values(old, i) for i in range(len(old)))
        after = Counter(_row_values(new, i) for i in range(len(new)))
        return sum((after - before).values()), 0, sum((before - after).values())
    old_rows = {old[id_col].iloc[i]: _row_values(old, i) for i in range(len(old))}
    new_rows = {new[id_col].iloc[i]: _row_values(new, i) for i in range(len(new))}
    added = sum(1 for k in new_rows if k not in old_rows)
    removed = sum(1 for k in old_rows if k not in new_rows)
    changed = sum(1 for k, v in new_rows.items() if k in old_rows and old_rows[k] != v)
    return added, changed, removed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_equal_a_brute_force_comparison(seed):
    old = _cases(400, seed)
    new = _edit(old, seed)
    want = _brute_force(old, new, "case_id")
    assert want[0] == 8 and want[2] == 6 and want[1] > 0  # the edit did what it says
    got = rowhash.layer_changes(rowhash.frame_hashes(old), rowhash.frame_hashes(new),
                                old_ids=pa.array(old["case_id"]), new_ids=pa.array(new["case_id"]))
    assert got == want
    # without ids: by content, a changed row is one removed and one added
    want_content = _brute_force(old, new, None)
    assert rowhash.layer_changes(rowhash.frame_hashes(old), rowhash.frame_hashes(new)) == want_content
    assert want_content[0] == want[0] + want[1]


def test_hashes_ignore_column_order_and_empty_columns_but_see_every_value():
    a = _cases(50, 7)
    h = rowhash.frame_hashes(a)
    assert len(np.unique(h)) == 50
    assert (rowhash.frame_hashes(a[a.columns[::-1]]) == h).all()
    assert (rowhash.frame_hashes(a.assign(empty=pd.array([None] * 50, dtype="string"))) == h).all()
    # an empty text and a missing one differ; so do the same text in two columns swapped
    t = pa.table({"x": pa.array(["", None, "ab", "ab"]), "y": pa.array(["ab", "ab", "", None])})
    assert len(set(rowhash.table_hashes(t).tolist())) == 4
    # text hashed in slices and through a dictionary gives the hash of each value alone
    many = pa.array(["甲", "乙", None, "丙丁"] * 30_000, type=pa.large_string())
    alone = rowhash.column_hashes(pa.array(["甲", "乙", None, "丙丁"]))
    assert (rowhash.column_hashes(many) == np.tile(alone, 30_000)).all()
    long = pa.array([f"{i}-" * (i % 50) for i in range(5_000)], type=pa.large_string())
    each = np.array([rowhash.column_hashes(long.slice(i, 1))[0] for i in range(0, 5_000, 97)])
    assert (rowhash.column_hashes(long)[::97] == each).all()


def test_an_import_counts_by_the_kept_hashes_and_they_equal_the_file(home, tmp_path):
    store = open_store("哈希")
    store.import_dataset(small_dataset(), source="src.gpkg")
    old = _cases(300, 11)
    old["grid_id"] = "G1"
    first = store.import_layer("cases", old, source="a.csv")
    assert (first.rows_added, first.rows_changed, first.rows_removed) == (300, 0, 0)
    vdir = store.history / f"v{first.id:04d}"
    layer = vdir / "layers" / "cases.parquet"
    kept = np.load(vdir / "hashes" / f"cases.{rowhash.HASHES_NAME}.npy")
    assert (kept == rowhash.file_hashes(layer)).all() and store.derived(first.id).names() == []
    assert (kept == rowhash.table_hashes(pq.read_table(layer))).all()
    again = store.import_layer("cases", old.sample(frac=1, random_state=1), source="a.csv")
    assert (again.rows_added, again.rows_changed, again.rows_removed) == (0, 0, 0)
    new = _edit(old, 12).assign(grid_id="G1")
    stored = store.load().cases
    want = _brute_force(stored, new[stored.columns], "case_id")
    third = store.import_layer("cases", new, source="b.csv")
    assert (third.rows_added, third.rows_changed, third.rows_removed) == want
    # a version without kept hashes (written before them) is hashed from its file: same counts
    (store.history / f"v{third.id:04d}" / "hashes" / f"cases.{rowhash.HASHES_NAME}.npy").unlink()
    fourth = store.import_layer("cases", old.assign(grid_id="G1"), source="a.csv")
    want_back = _brute_force(store.load(third.id).cases, store.load(fourth.id).cases, "case_id")
    assert (fourth.rows_added, fourth.rows_changed, fourth.rows_removed) == want_back


def test_import_reports_its_stages_in_order(home, tmp_path):
    store = open_store("进度")
    store.import_dataset(small_dataset(), source="src.gpkg")
    csv = tmp_path / "cases.csv"
    csv.write_text("case_id,category,reported_at,status,经度,纬度\n"
                   "C1,道路破损,2024-05-01 09:30,open,113.15,27.87\n"
                   "C2,垃圾,2024-05-02,closed,113.16,27.86\n", encoding="utf-8")
    heard: list[tuple[str, float]] = []
    record = lambda stage, done: heard.append((stage, done))  # noqa: E731
    read = read_layer(csv, "cases", progress=record)
    store.import_layer("cases", read.gdf, source=csv.name, progress=record)
    assert [s for s, _ in heard] == ["read", "validate", "assign", "compare", "write"]
    # another layer has no grids to assign
    heard.clear()
    store.import_layer("facilities", store.load().facilities, source="f.gpkg", progress=record)
    assert [s for s, _ in heard] == ["compare", "write"]


def test_csv_read_in_columns_equals_pandas(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffid, name ,note,x\n1,  甲,,113.1\n2,\"乙\n丙\", 有 空格 ,\n3,丁,\"\",113.3\n".encode())
    got = _read_csv_arrow(path, ",")
    want = pd.read_csv(path, dtype=str, skipinitialspace=True, encoding="utf-8-sig", keep_default_na=False,
                       na_values=[""])
    pd.testing.assert_frame_equal(got, want)
