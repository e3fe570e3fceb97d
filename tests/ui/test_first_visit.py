"""A server start prepares the page data its first visitor asks for (`ui.serve.warm`, `ui.progress.prepare_version`):
a visit that arrives while the warm-up is still building gets the same page as a later one, and no item is built
twice (each is computed once under its cache key's lock, whoever asks first)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import streamlit as st
from streamlit.testing.v1 import AppTest

from analysis.cases import CaseFilter, case_kpis, case_table_from_dataset
from geo.workspace import open_store
from i18n import t
from tests.e2e.conftest import ROOT

APP = str(ROOT / "app.py")
SPEC = "shifeng_demo"


def _page() -> dict[str, tuple[str, str]]:
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: (m.value, m.delta) for m in at.metric}
    assert len(metrics) == 7
    return metrics


def test_a_visit_during_the_warm_up_shares_every_build_and_gets_the_same_page(home, monkeypatch):
    import analysis.cases
    import ui.layers
    import ui.overview
    from analysis import pagedata
    from ui import serve

    monkeypatch.setenv("GRIDATLAS_DATA", SPEC)
    store = open_store(SPEC)
    store.import_layer("cases", store.load().cases.iloc[:-500], source="cut.gpkg")  # a version with nothing kept
    assert store.derived().names() == []
    st.cache_resource.clear()
    st.cache_data.clear()

    builds: Counter[str] = Counter()
    by_thread: dict[str, set[str]] = {}
    started = threading.Event()
    lock = threading.Lock()

    def counted(what: str, fn):
        def wrapper(*args, **kwargs):
            with lock:
                builds[what] += 1
                by_thread.setdefault(threading.current_thread().name, set()).add(what)
            started.set()
            time.sleep(0.4)  # slow enough that the visit asks while the warm-up is still building
            return fn(*args, **kwargs)
        return wrapper

    for module, name, what in ((analysis.cases, "case_table_from_dataset", "case_table"),
                               (pagedata, "build_figures", "figures"), (pagedata, "build_trend", "trend"),
                               (pagedata, "street_table", "streets"), (ui.overview, "street_table", "streets"),
                               (ui.overview, "_draw_strip", "trend_png"),
                               (ui.layers, "build_district_map", "map")):
        monkeypatch.setattr(module, name, counted(what, getattr(module, name)))

    took: dict[str, float] = {}
    warm_up = threading.Thread(target=lambda: took.update(serve.warm()), name="gridatlas-warm-up")
    warm_up.start()
    assert started.wait(120) and warm_up.is_alive()  # the warm-up is building (six items at 0.4 s or more each)
    during = _page()  # the first visit, while the warm-up still works
    warm_up.join(240)
    assert not warm_up.is_alive() and "page data" in took
    # every item built once; the warm-up built what the first visit needs besides the map (left to the page)
    assert builds == {"case_table": 1, "figures": 1, "trend": 1, "streets": 1, "trend_png": 1, "map": 1}
    assert by_thread["gridatlas-warm-up"] >= {"case_table"} and "map" not in by_thread["gridatlas-warm-up"]

    # the same page afterwards, from memory and (caches dropped, as after a restart) from the version's folder
    assert _page() == during
    st.cache_resource.clear()
    assert _page() == during
    assert builds["figures"] == builds["case_table"] == builds["map"] == 1  # read back, not built again

    # and its figures are the analyses' own
    ds = open_store(SPEC).load()
    row = case_kpis(case_table_from_dataset(ds), CaseFilter()).iloc[0]
    assert during[t("overview.kpi.open_cases", lang="zh")][0] == f"{int(row['open']):,}"
