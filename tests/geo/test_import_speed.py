"""The fast paths of a large import give what the plain pandas expressions give: lon/lat cast by Arrow equal
``pd.to_numeric(errors="coerce")`` (and a column Arrow refuses goes to pandas), text columns kept as read equal
the stripped-and-emptied column, the Arrow table an import hashes and writes equals ``to_parquet``'s file, and a
GeoPackage taken in keeps its layers' row hashes (equal to its files')."""

from __future__ import annotations

import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from shapely.geometry import Point

from geo import rowhash
from geo.dataset import DEMO_PATH
from geo.schema import _degrees, _text_column
from geo.values import as_text
from geo.workspace import layer_table, open_store

TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # what the CSV reader gives


def _old_text(series: pd.Series) -> pd.Series:
    """The text rule as written before the fast path."""
    present = series.notna() & (series.astype("string").str.strip() != "")
    return as_text(series).str.strip().where(present, pd.NA)


@pytest.mark.parametrize("cells", [
    ["114.2913838", "30.5", "1e3", "-0.0", "113", None, "nan"],  # every cell a number (or empty): Arrow
    ["114.29", " 30.5", "30.5 ", "abc", "", None, "0x10", "１２"],  # Arrow refuses these: pandas reads them
])
def test_degrees_equal_to_numeric(cells):
    series = pd.Series(cells, dtype=TEXT, index=range(10, 10 + len(cells)))
    got = _degrees(series)
    want = pd.to_numeric(series, errors="coerce")
    assert got.dtype == np.float64 and list(got.index) == list(want.index)
    assert np.array_equal(got.to_numpy(), want.to_numpy(dtype=float), equal_nan=True)
    assert np.array_equal(got.to_numpy().view(np.int64)[~np.isnan(got.to_numpy())],
                          want.to_numpy(dtype=float).view(np.int64)[~np.isnan(got.to_numpy())])


def test_degrees_of_a_million_exported_values_bit_for_bit():
    rng = np.random.default_rng(5)
    values = [f"{v:.7f}" for v in 114 + rng.random(200_000)] + [repr(float(v)) for v in rng.random(200_000) * 90]
    series = pd.Series(values, dtype=TEXT)
    exact = np.array([float(v) for v in values])  # Python's float(): correctly rounded
    assert (_degrees(series).to_numpy().view(np.int64) == exact.view(np.int64)).all()


@pytest.mark.parametrize("cells", [
    ["甲", "乙", None, "丙丁", "a b"],  # nothing to strip, no empty cell: kept as read
    ["甲 ", "\u3000乙", None, "", "  ", "丙"],  # spaces (also the ideographic one) and empty cells
    [None, None],
])
def test_text_columns_equal_the_plain_rule(cells):
    series = pd.Series(cells, dtype=TEXT)
    got, want = _text_column(series), _old_text(series)
    assert got.dtype == want.dtype
    pd.testing.assert_series_equal(got, want)


def test_text_column_kept_as_read_shares_its_arrow_data():
    series = pd.Series(["甲", "乙", None] * 1000, dtype=TEXT)
    got = _text_column(series)
    src = series.array._pa_array.chunks[0].buffers()[2]
    out = got.array._pa_array.chunks[0].buffers()[2]
    assert out.address == src.address  # not copied


def test_layer_table_is_what_to_parquet_writes(tmp_path):
    n = 500
    gdf = gpd.GeoDataFrame({
        "case_id": pd.array([f"C{i}" for i in range(n)], dtype="string"),
        "reported_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="min"),
        "count": pd.array([None if i % 5 == 0 else i for i in range(n)], dtype="Int64"),
    }, geometry=[Point(114 + i / 1e4, 30.5) for i in range(n)], crs="EPSG:4326")
    gdf.to_parquet(tmp_path / "a.parquet", index=False, compression="zstd", write_covering_bbox=False)
    pq.write_table(layer_table(gdf), tmp_path / "b.parquet", compression="zstd")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert (rowhash.table_hashes(layer_table(gdf)) == rowhash.frame_hashes(gdf)).all()


def test_a_taken_in_gpkg_keeps_its_row_hashes(home, tmp_path):
    path = tmp_path / "d.gpkg"
    shutil.copy(DEMO_PATH, path)
    store = open_store(str(path))
    assert store.current().kind == "adopt"
    vdir = store.history / "v0001"
    for layer in vdir.joinpath("layers").glob("*.parquet"):
        kept = np.load(vdir / "hashes" / f"{layer.stem}.{rowhash.HASHES_NAME}.npy")
        assert kept.dtype == np.uint64 and (kept == rowhash.file_hashes(layer)).all(), layer.stem
        assert (kept == rowhash.table_hashes(pq.read_table(layer))).all()
    # the next import counts against them: nothing changed when the same cases come again
    cases = store.load().cases
    info = store.import_layer("cases", cases, source="same.csv")
    assert (info.rows_added, info.rows_changed, info.rows_removed) == (0, 0, 0)
    info = store.import_layer("cases", cases.iloc[3:].assign(status=lambda f: f["status"].where(
        f.index != 10, "closed" if f.loc[10, "status"] == "open" else "open")), source="edit.csv")
    assert (info.rows_added, info.rows_changed, info.rows_removed) == (0, 1, 3)
    assert pa.types.is_uint64(pa.from_numpy_dtype(kept.dtype))


def test_choices_mapped_once_per_value_equal_the_row_by_row_mapping():
    from geo.schema import LAYERS, _choice_map, _map_choices

    cells = [" 已办结", "open", None, "CLOSED", "xx", "处理中", "未结 ", "", "open"] * 50
    for dtype in (TEXT, "string", object):
        values = pd.Series(cells, dtype=dtype, index=range(3, 3 + len(cells)))
        for layer, column in (("cases", "status"), ("facilities", "type"), ("estates", "management")):
            col = LAYERS[layer].column(column)
            mapping = _choice_map(col)
            text = values.astype("string").str.strip()
            want = text.map(mapping).fillna(text.str.lower().map(mapping)).astype("string")
            pd.testing.assert_series_equal(_map_choices(values, col), want)
