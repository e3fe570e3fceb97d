"""An import made on the 数据管理 page ends with the new version's page data built (`ui.progress.prepare_version`):
the case table, the overview's figures, street table and map are kept beside the version, equal to what the
pages build themselves, and the stages are reported in order, the derive stage last and finished."""

from __future__ import annotations

import pickle

import pandas as pd
import streamlit as st

from analysis import pagedata
from analysis.cases import CaseFilter, case_kpis, case_table_from_dataset
from analysis.summary import district_summary, street_table
from geo.storage import open_store
from ui.context import PageContext


def _ctx(spec: str, store) -> PageContext:
    return PageContext(ds=store.load(), path=spec, token=store.token, street=None, lang="zh", tiles=None,
                       tiles_attr="", tiles_datum="wgs84")


def _kept(store, prefix: str):
    folder = store.derived().folder
    return [pickle.loads((folder / f"{n}.pkl").read_bytes()) for n in store.derived().names() if n.startswith(prefix)]


def test_an_import_builds_the_pages_data_of_the_new_version(home):
    from ui.progress import prepare_version

    st.cache_resource.clear()
    spec = "shifeng_demo"
    store = open_store(spec)
    ctx = _ctx(spec, store)
    cases = store.load().cases
    closed = cases.assign(status="closed")
    heard: list[tuple[str, float]] = []
    record = lambda stage, done: heard.append((stage, done))  # noqa: E731
    info = store.import_layer("cases", closed, source="closed.csv", progress=record)
    assert store.derived().names() == []  # nothing built yet for the new version
    built = prepare_version(ctx, record)
    assert built[0] == "case_table" and "figures:" in built and "map:" in built and "streets" in built
    stages = [s for s, _ in heard]
    assert stages[:3] == ["assign", "compare", "write"] and set(stages[3:]) == {"derive"}
    done = [d for s, d in heard if s == "derive"]
    assert done == sorted(done) and done[-1] == 1.0

    names = store.derived().names()
    assert store.current().id == info.id
    assert "case_table.v1" in names and "overview_streets.v1" in names
    assert any(n.startswith("overview_map.v1.") for n in names)
    ds = store.load()
    # what was kept is the analyses' own answer for the new version (every case closed now)
    # the whole district's figures, and every street's (each its own: its grids)
    figs = _kept(store, pagedata.figures_name(None))
    assert len(figs) == 1 and figs[0].summary == district_summary(ds, street=None)
    streets = sorted(set(ds.grids["street"]))
    assert sorted(n for n in names if n.startswith("overview_figures.v1.")) == \
        sorted(pagedata.figures_name(s) for s in (None, *streets))
    for street in streets:
        [kept] = _kept(store, pagedata.figures_name(street))
        assert kept.summary.grids == int((ds.grids["street"] == street).sum())
    row = case_kpis(case_table_from_dataset(ds), CaseFilter()).iloc[0]
    assert figs[0].cases == {"open": int(row["open"]), "overdue": int(row["overdue"])} and row["open"] == 0
    pd.testing.assert_frame_equal(_kept(store, "overview_streets.v1")[0], street_table(ds))
    kept_table = _kept(store, "case_table.v1")[0]
    assert len(kept_table.grid) == len(ds.cases)
