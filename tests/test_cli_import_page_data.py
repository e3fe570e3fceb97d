"""A CLI import (and restore) ends with the new version's page data built (`analysis.pagedata`): the case table,
coverage inputs, the overview's figures, sparkline figures and street table, the queen weights — kept beside the
version under the names the pages read, equal to the analyses' own answers and to what an import made on the
数据管理 page keeps (`ui.progress.prepare_version`), and read back by the pages without building anything."""

from __future__ import annotations

import dataclasses
import json
import pickle

import numpy as np
import pandas as pd
import pyogrio
import pytest
import streamlit as st

from analysis import pagedata
from analysis.cases import CaseFilter, case_kpis, case_table_from_dataset
from analysis.coverage import compute_coverage, district_totals, prepare_inputs
from analysis.hotspots import queen_weights
from analysis.meeting import trend_of
from analysis.summary import district_summary, street_table
from cli import main
from geo.workspace import open_store

SPEC = "shifeng_demo"
# the demo's five streets, each with its overview figures and sparkline figures (trend) kept too
STREETS = ("井龙", "响石岭", "清水塘", "田心", "铜塘湾")
KEPT = {"case_table.v1", "coverage_inputs.v1", "overview_streets.v1", "queen_weights.v1",
        pagedata.figures_name(None), pagedata.trend_name(None), *(pagedata.figures_name(s) for s in STREETS),
        *(pagedata.trend_name(s) for s in STREETS)}
LABELS = ["case_table", "coverage_inputs", "figures:", "trend:", "streets", "queen_weights",
          *(f"{what}:{s}" for s in STREETS for what in ("figures", "trend"))]
# the CLI also keeps the overview's sparklines picture in the default language (the page builds it with its map)
CLI_KEPT = {*KEPT, pagedata.trend_png_name(None, "zh")}
CLI_LABELS = [*LABELS, "trend_png:"]


def _cases_file(tmp_path) -> str:
    """The demo's cases without its last 1,000 (a new version whose figures differ from the demo's)."""
    cases = open_store(SPEC).load().cases
    path = tmp_path / "cases.gpkg"
    pyogrio.write_dataframe(cases.iloc[:-1000], path, layer="cases")
    return str(path)


def _kept(store) -> dict[str, object]:
    folder = store.derived().folder
    return {n: pickle.loads((folder / f"{n}.pkl").read_bytes()) for n in store.derived().names()}


def _assert_case_tables_equal(a, b) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name


def _pixels(png: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _assert_same(kept: dict, other: dict) -> None:
    """Page data kept by two imports of the same file: equal item by item."""
    for street in (None, *STREETS):
        assert kept[pagedata.figures_name(street)] == other[pagedata.figures_name(street)]
        pd.testing.assert_frame_equal(kept[pagedata.trend_name(street)], other[pagedata.trend_name(street)])
    pd.testing.assert_frame_equal(kept["overview_streets.v1"], other["overview_streets.v1"])
    _assert_case_tables_equal(kept["case_table.v1"], other["case_table.v1"])


def test_a_cli_import_keeps_the_page_data_of_the_new_version(home, tmp_path, capsys):
    src = _cases_file(tmp_path)
    assert main(["import", "--data", SPEC, "--layer", "cases", src]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["page_data"] == CLI_LABELS
    store = open_store(SPEC)
    assert store.current().id == out["version"]["id"] == 2
    kept = _kept(store)
    assert set(kept) == CLI_KEPT

    # each item is the analyses' own answer for the new version, computed here without any cache
    ds = store.load()
    assert len(ds.cases) == 12_000 - 1000
    table = case_table_from_dataset(ds)
    _assert_case_tables_equal(kept["case_table.v1"], table)
    figs = kept[pagedata.figures_name(None)]
    assert figs.summary == district_summary(ds, street=None)
    totals = district_totals(compute_coverage(prepare_inputs(ds), facility_types=("day_care",), radius_m=300.0,
                                              distance="euclidean", weight="elderly").grids)
    assert figs.day_care.covered_share == pytest.approx(totals.covered_share, abs=1e-12)
    assert figs.day_care.uncovered == pytest.approx(totals.uncovered, abs=1e-9)
    row = case_kpis(table, CaseFilter()).iloc[0]
    assert figs.cases == {"open": int(row["open"]), "overdue": int(row["overdue"])}
    # the open count by hand: open cases reported by the data's day (none reported later in the demo)
    assert figs.cases["open"] == int((ds.cases["status"] == "open").sum())
    pd.testing.assert_frame_equal(kept["overview_streets.v1"], street_table(ds))
    pd.testing.assert_frame_equal(kept[pagedata.trend_name(None)], trend_of(ds, street=None, table=table))
    w, want = kept["queen_weights.v1"], queen_weights(ds.grids)
    assert w.grid_ids == want.grid_ids and (w.adjacency != want.adjacency).nnz == 0
    assert len(kept["coverage_inputs.v1"].grids) == len(ds.grids)

    # each street's figures: its own summary, its grids' day-care answer, its cases counted by hand
    assert sorted(set(ds.grids["street"])) == sorted(STREETS)
    by_grid = compute_coverage(prepare_inputs(ds), facility_types=("day_care",), radius_m=300.0,
                               distance="euclidean", weight="elderly").grids
    cases = ds.cases.assign(street=ds.cases["grid_id"].map(ds.grids.set_index("grid_id")["street"]))
    for street in STREETS:
        figs = kept[pagedata.figures_name(street)]
        assert figs.summary == district_summary(ds, street=street) and figs.summary.street == street
        part = by_grid[by_grid["street"] == street]
        uncovered = float((part["elderly"] - part["covered_elderly"]).sum())
        assert figs.day_care.uncovered == pytest.approx(uncovered, abs=1e-6)
        assert figs.day_care.covered_share == pytest.approx(1 - uncovered / part["elderly"].sum(), abs=1e-12)
        assert figs.cases["open"] == int(((cases["street"] == street) & (cases["status"] == "open")).sum())
        # and its sparkline figures: the meeting's own trend of the street
        pd.testing.assert_frame_equal(kept[pagedata.trend_name(street)], trend_of(ds, street=street, table=table))


def test_the_page_data_of_a_cli_import_equals_that_of_an_import_on_the_page(home, tmp_path, monkeypatch, capsys):
    from ui.context import PageContext
    from ui.progress import prepare_version

    src = _cases_file(tmp_path)
    assert main(["import", "--data", SPEC, "--layer", "cases", src]) == 0
    capsys.readouterr()
    by_cli = _kept(open_store(SPEC))

    # the same file imported as the 数据管理 page imports it, into a workspace of its own
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home2"))
    st.cache_resource.clear()
    store = open_store(SPEC)
    ctx = PageContext(ds=store.load(), path=SPEC, token=store.token, street=None, lang="zh", tiles=None,
                      tiles_attr="", tiles_datum="wgs84")
    from geo.readers import read_layer

    store.import_layer("cases", read_layer(src, "cases").gdf, source="cases.gpkg")
    built = prepare_version(ctx)
    assert built == [*LABELS, "map:", "trend_png:"]
    by_page = _kept(store)
    assert KEPT <= set(by_page)
    assert any(n.startswith("overview_map.v1.") for n in by_page)
    assert any(n.startswith("overview_trend_png.v1.") for n in by_page)
    _assert_same(by_cli, by_page)
    # the CLI's picture is the page's own, pixel for pixel
    name = pagedata.trend_png_name(None, "zh")
    assert _pixels(by_cli[name]).shape[0] > 100
    np.testing.assert_array_equal(_pixels(by_cli[name]), _pixels(by_page[name]))


def test_a_restore_keeps_the_page_data_of_the_restored_version(home, tmp_path, capsys):
    src = _cases_file(tmp_path)
    assert main(["import", "--data", SPEC, "--layer", "cases", src]) == 0
    assert main(["restore", "--data", SPEC, "--version", "1"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["version"]["id"] == 3 and "figures:" in out["page_data"]
    store = open_store(SPEC)
    kept = _kept(store)
    assert set(kept) == CLI_KEPT
    ds = store.load()
    assert len(ds.cases) == 12_000
    row = case_kpis(case_table_from_dataset(ds), CaseFilter()).iloc[0]
    assert kept[pagedata.figures_name(None)].cases == {"open": int(row["open"]), "overdue": int(row["overdue"])}


def test_the_pages_read_a_cli_imports_page_data_back_without_building_it(home, tmp_path, monkeypatch, capsys):
    import analysis.cases
    import analysis.coverage
    import analysis.hotspots
    import ui.overview
    from ui.cases import case_table, grid_weights
    from ui.context import PageContext
    from ui.coverage import coverage_inputs
    from ui.overview import figures, streets_at_a_glance, strip_png

    src = _cases_file(tmp_path)
    assert main(["import", "--data", SPEC, "--layer", "cases", src]) == 0
    capsys.readouterr()
    kept = _kept(open_store(SPEC))

    def refuse(*_a, **_k):
        raise AssertionError("built again instead of read back")

    for module, name in ((analysis.cases, "case_table_from_dataset"), (analysis.coverage, "prepare_inputs"),
                         (analysis.hotspots, "queen_weights"), (pagedata, "build_figures"),
                         (pagedata, "build_trend"), (pagedata, "build_trends"), (ui.overview, "build_figures"),
                         (ui.overview, "street_table"),
                         (pagedata, "street_table")):
        monkeypatch.setattr(module, name, refuse)
    st.cache_resource.clear()
    store = open_store(SPEC)
    ctx = PageContext(ds=store.load(), path=SPEC, token=store.token, street=None, lang="zh", tiles=None,
                      tiles_attr="", tiles_datum="wgs84")
    assert figures(ctx) == kept[pagedata.figures_name(None)]
    pd.testing.assert_frame_equal(streets_at_a_glance(ctx), kept["overview_streets.v1"])
    assert case_table(ctx).n_cases == 11_000
    assert (grid_weights(ctx).adjacency != kept["queen_weights.v1"].adjacency).nnz == 0
    assert len(coverage_inputs(SPEC, store.token).grids) == 232
    # the sparklines' picture is drawn from the kept figures (not kept by the CLI: it is the page's own picture)
    assert strip_png(ctx)[:8] == b"\x89PNG\r\n\x1a\n"
    # each street's sparklines too, as the server's warm-up draws them (`ui.serve.warm_streets`), from its kept trend
    for street in STREETS:
        assert strip_png(dataclasses.replace(ctx, street=street))[:8] == b"\x89PNG\r\n\x1a\n"


def test_both_stores_keep_a_cli_imports_page_data(store_url, tmp_path, capsys):
    from geo.dataset import DEMO_PATH, read_dataset
    from geo.storage import open_store as open_any

    demo = read_dataset(DEMO_PATH)
    store = open_any(store_url)
    store.import_dataset(demo, source="demo")
    src = tmp_path / "cases.gpkg"
    pyogrio.write_dataframe(demo.cases.iloc[:-1000], src, layer="cases")
    assert main(["import", "--data", store_url, "--layer", "cases", str(src)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["page_data"] == CLI_LABELS

    def refuse():
        raise AssertionError(f"{name} was not kept")

    store = open_any(store_url)
    kept = {}
    for name in sorted(KEPT):
        kept[name] = store.derived().get(name, refuse)
    ds = store.load()
    table = case_table_from_dataset(ds)
    _assert_case_tables_equal(kept["case_table.v1"], table)
    row = case_kpis(table, CaseFilter()).iloc[0]
    figs = kept[pagedata.figures_name(None)]
    assert figs.summary == district_summary(ds, street=None) and len(ds.cases) == 11_000
    assert figs.cases == {"open": int(row["open"]), "overdue": int(row["overdue"])}
    pd.testing.assert_frame_equal(kept[pagedata.trend_name(None)], trend_of(ds, street=None, table=table))


def test_the_sparklines_picture_is_drawn_from_the_kept_trend_without_reading_the_version(home, tmp_path, monkeypatch,
                                                                                        capsys):
    """`reports.loop.keep_strip` after an import: the trend is kept, so another language's picture is drawn from it
    and the version is not read again; without a kept trend the version is read and the trend kept too."""
    from reports.loop import keep_strip, strip_png

    assert main(["import", "--data", SPEC, "--layer", "cases", _cases_file(tmp_path)]) == 0
    capsys.readouterr()
    store = open_store(SPEC)
    loaded = []
    real_load = type(store).load
    monkeypatch.setattr(type(store), "load", lambda self, *a, **k: loaded.append(1) or real_load(self, *a, **k))
    assert keep_strip(store, "en") == ["trend_png:"]
    assert loaded == []
    kept = _kept(store)
    trend = kept[pagedata.trend_name(None)]
    np.testing.assert_array_equal(_pixels(kept[pagedata.trend_png_name(None, "en")]),
                                  _pixels(strip_png(trend, lang="en")))
    (store.derived().folder / f"{pagedata.trend_name(None)}.pkl").unlink()
    (store.derived().folder / f"{pagedata.trend_png_name(None, 'zh')}.pkl").unlink()
    assert keep_strip(store, "zh") == ["trend_png:"]
    assert loaded == [1]
    again = _kept(store)
    pd.testing.assert_frame_equal(again[pagedata.trend_name(None)], trend)
    np.testing.assert_array_equal(_pixels(again[pagedata.trend_png_name(None, "zh")]),
                                  _pixels(kept[pagedata.trend_png_name(None, "zh")]))
