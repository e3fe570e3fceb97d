"""After the server's warm-up has made the default overview ready, it builds what the first visitor of every street
would otherwise build (`ui.serve.warm_streets`, `ui.progress.street_steps`): the overview's, the coverage page's and
the cases page's page data with their default choices, through the pages' own caches — so a visit of any street
then computes nothing. A street whose build fails is logged and the others are built all the same."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from dataclasses import replace

import pandas as pd
import pytest
import streamlit as st
from streamlit.runtime.caching import cache_utils
from streamlit.testing.v1 import AppTest

from analysis import pagedata
from analysis.cases import CaseFilter
from geo.errors import AnalysisError
from geo.workspace import open_store
from i18n import t
from tests.e2e.conftest import ROOT
from ui.data import version_committed

APP = str(ROOT / "app.py")
SPEC = "shifeng_demo"


@pytest.fixture
def demo(home, monkeypatch):
    """The demo as the configured dataset, in a version of its own with nothing kept beside it, caches empty."""
    monkeypatch.setenv("GRIDATLAS_DATA", SPEC)
    store = open_store(SPEC)
    store.import_layer("cases", store.load().cases.iloc[:-500], source="cut.gpkg")
    assert store.derived().names() == []
    version_committed()  # as the pages do after an import: the new version is seen at once
    st.cache_resource.clear()
    st.cache_data.clear()
    return store


def _streets(store) -> list[str]:
    """The demo's streets, listed from its grids here (not from `Dataset.streets`)."""
    return sorted({str(s) for s in store.load().grids["street"] if isinstance(s, str) and s})


class Misses:
    """Counts Streamlit's cache misses by cached function, while active: ``names`` those that computed (or waited
    for) a value, ``refused`` those that raised `AnalysisError` (Streamlit keeps no exception: a question the data
    cannot answer, such as hot spots of a street with fewer than 30 grids, is refused again on every run)."""

    def __init__(self, monkeypatch):
        self.names: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._lock = threading.Lock()
        orig = cache_utils.CachedFunc._handle_cache_miss
        misses = self

        def counted(self, cache, value_key, func_args, func_kwargs):
            name = getattr(self._info, "display_name", "?")
            try:
                value = orig(self, cache, value_key, func_args, func_kwargs)
            except AnalysisError:
                with misses._lock:
                    misses.refused[name] += 1
                raise
            with misses._lock:
                misses.names[name] += 1
            return value

        monkeypatch.setattr(cache_utils.CachedFunc, "_handle_cache_miss", counted)


def _warm(store, **kw):
    """The server's warm-up as `ui.serve` runs it: the default overview, then every street (no pauses here)."""
    from ui import serve
    from ui.progress import default_context, prepare_version

    ctx = default_context()
    assert ctx is not None and ctx.path == store.spec and ctx.street is None
    prepare_version(ctx, maps=True, overview_only=True)
    return ctx, serve.warm_streets(ctx, maps=True, pause_s=0.0, wait_s=0.0, **kw)


def _page_calls(ctx, street: str | None) -> None:
    """What the three pages ask their caches for, for ``street`` with their default choices, written out here:
    the overview (figures, sparklines, map), coverage (day care, default radius, straight line, the aged 60+,
    operating only: result, street chart, map), cases (the last 182 days to the data's day: figures, and those of
    any time; hot spots of counts with binary weights, and their map)."""
    from ui import cases, coverage, layers, overview

    c = replace(ctx, street=street)
    overview.figures(c)
    overview.strip_png(c)
    overview.streets_at_a_glance(c)
    layers.district_map(c.path, c.token, street, c.lang, c.tiles, c.tiles_attr, c.tiles_datum)
    question = (c.path, c.token, ("day_care",), None, "euclidean", "elderly", False)
    coverage.cached_coverage(*question)
    coverage.cached_street_chart(*question, c.lang)
    coverage.coverage_map(c.path, c.token, street, c.tiles, c.tiles_attr, c.tiles_datum, c.lang, *question[2:])
    table = cases.case_table(c)
    as_of = table.as_of.date()
    first = pd.Timestamp(int(table.day.min()), unit="D").date()
    flt = CaseFilter(since=max(first, as_of - dt.timedelta(days=181)), until=as_of,
                     streets=(street,) if street else ())
    cases.kpis_cached(c, flt)
    cases.kpis_cached(c, CaseFilter(streets=flt.streets))
    try:
        hot = cases.hot_spots_cached(c, flt, measure="count", weights_scheme="binary")
    except AnalysisError as err:  # the page says why (fewer than 30 grids in the street)
        assert err.code == "analysis.too_few_grids"
        return
    cases.hotspot_payload(c, hot, flt, measure="count", weights_scheme="binary")


def test_the_warm_up_builds_every_street_of_the_version(demo, monkeypatch):
    streets = _streets(demo)
    assert len(streets) == 5
    ctx, (ready, failed) = _warm(demo)
    assert failed == {}
    assert ready == [None, *streets]
    # the overview's figures and trend of each street are kept beside the version (a restart reads them back)
    names = set(demo.derived().names())
    for street in [None, *streets]:
        assert pagedata.figures_name(street) in names and pagedata.trend_name(street) in names

    # each key a visit asks for is in memory: asking again computes nothing, street by street
    misses = Misses(monkeypatch)
    for street in [None, *streets]:
        _page_calls(ctx, street)
        assert misses.names == Counter(), street
    # hot spots are refused (and asked again) only where a street has fewer than 30 grids, counted here
    grids = demo.load().grids
    small = [s for s in streets if (grids["street"] == s).sum() < 30]
    assert small == ["清水塘"] and sum(misses.refused.values()) == len(small)

    # and the figures are the street's own: its grids' count, as listed from the grids here
    from ui import overview

    for street in streets:
        assert overview.figures(replace(ctx, street=street)).summary.grids == int((grids["street"] == street).sum())


def test_a_visit_of_each_street_after_the_warm_up_computes_nothing(demo, monkeypatch):
    streets = _streets(demo)
    _warm(demo)
    misses = Misses(monkeypatch)
    for street in [None, *streets]:
        for page in ("pages/overview.py", "pages/coverage.py", "pages/cases.py"):
            at = AppTest.from_file(APP, default_timeout=240)  # a new session opening the page on the street
            if street is not None:
                at.session_state["street_choice"] = street  # ui.widgets keeps the sidebar's street here
            at.switch_page(page).run()
            assert not at.exception, (street, page, [e.value for e in at.exception])
            assert len(at.title) >= 1 and not at.error, (street, page, [e.value for e in at.error])
            assert at.session_state["page_context"].street == street
        assert misses.names == Counter(), street
    # the cases page of the last street showed its hot spots (it has 44 grids), drawn from the cache
    assert any(t("cases.hot.legend", lang="zh") in m.value for m in at.markdown)


def test_a_street_that_fails_is_logged_and_the_others_are_built(demo, monkeypatch, caplog):
    from ui import coverage, overview

    streets = _streets(demo)
    bad = streets[2]
    figures = overview.figures

    def failing(ctx):
        if ctx.street == bad:
            raise RuntimeError("disk full")
        return figures(ctx)

    monkeypatch.setattr(overview, "figures", failing)
    with caplog.at_level(logging.WARNING, logger="gridatlas.serve"):
        ctx, (ready, failed) = _warm(demo)
    assert failed == {bad: [f"figures:{bad}"]}
    assert ready == [None, *(s for s in streets if s != bad)]
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.getMessage() == f"warm-up: figures of street {bad!r} was not prepared"
    assert str(record.exc_info[1]) == "disk full"
    # the streets after it are built, and so are the bad street's other items
    names = set(demo.derived().names())
    assert pagedata.figures_name(streets[-1]) in names and pagedata.figures_name(bad) not in names
    misses = Misses(monkeypatch)
    question = (ctx.path, ctx.token, ("day_care",), None, "euclidean", "elderly", False)
    for street in streets:
        coverage.coverage_map(ctx.path, ctx.token, street, ctx.tiles, ctx.tiles_attr, ctx.tiles_datum, ctx.lang,
                              *question[2:])
    assert misses.names == Counter()


def test_the_default_overview_is_ready_before_the_first_street_is_built(demo, monkeypatch, caplog):
    import ui.cases
    import ui.overview
    from ui import serve

    events: list[tuple[str, str | None]] = []

    def recorded(what: str, fn, street_of):
        def wrapper(*args, **kwargs):
            events.append((what, street_of(*args, **kwargs)))
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(pagedata, "build_figures", recorded("figures", pagedata.build_figures, lambda ds, s, *a, **k: s))
    monkeypatch.setattr(pagedata, "build_trend", recorded("trend", pagedata.build_trend, lambda ds, s, *a, **k: s))
    monkeypatch.setattr(ui.overview, "_draw_strip", recorded("trend_png", ui.overview._draw_strip,
                                                             lambda ctx: ctx.street))
    monkeypatch.setattr(ui.cases, "hot_spots", recorded("hot_spots", ui.cases.hot_spots,
                                                        lambda table, w, flt, **k: (flt.streets or (None,))[0]))

    class Heard(logging.Handler):
        def emit(self, record):
            events.append(("log", record.getMessage()))

    heard = Heard(level=logging.WARNING)
    serve.log.addHandler(heard)
    monkeypatch.setattr(serve, "_wait_for_runtime", lambda *a, **k: True)  # no server here: nothing to wait for
    monkeypatch.setattr(serve, "shut_down_expired_sessions", lambda: False)
    monkeypatch.setattr(serve, "STREET_PAUSE_S", 0.0)
    slept: list[float] = []
    monkeypatch.setattr(serve.time, "sleep", lambda s: slept.append(s))  # the streets' wait after a start
    try:
        serve._warm_quietly()
    finally:
        serve.log.removeHandler(heard)

    overview = [("figures", None), ("trend", None), ("trend_png", None)]
    first_street = next(i for i, (what, s) in enumerate(events) if what != "log" and s is not None)
    done = next(i for i, (what, msg) in enumerate(events) if what == "log" and msg.startswith("warm-up done:"))
    assert [e for e in events[:done] if e[0] != "log"] == overview  # the default overview alone, and first
    assert done < first_street
    streets = _streets(demo)
    built = {(what, s) for what, s in events[done:] if what != "log"}
    assert built >= {(w, s) for s in streets for w in ("figures", "trend", "trend_png", "hot_spots")}
    assert ("hot_spots", None) in built  # the whole district's cases page too
    ready = [msg for what, msg in events if what == "log" and "streets ready" in msg]
    assert len(ready) == 1 and ready[0].startswith(f"warm-up: {len(streets)} streets ready in ")
    assert slept[:1] == [serve.STREETS_AFTER_START_S]  # before the first street, after the overview


def test_an_import_on_the_data_page_then_warms_every_street_of_the_new_version(demo, caplog):
    from ui import serve
    from ui.progress import default_context, prepare_version

    ctx = default_context()
    info = demo.import_layer("cases", demo.load().cases.iloc[:-100], source="again.gpkg")
    version_committed()  # what the 数据管理 page does when the import ends, then:
    prepare_version(ctx)
    with caplog.at_level(logging.WARNING, logger="gridatlas.serve"):
        serve.warm_streets_in_background(ctx.path).join(240)
    assert demo.current().id == info.id
    streets = _streets(demo)
    names = set(demo.derived().names())
    # the import kept each street's figures and trend; the streets' warm-up read the trends back for their pictures
    assert {pagedata.trend_name(s) for s in streets} <= names
    assert [r.getMessage().split(" in ")[0] for r in caplog.records if "streets ready" in r.getMessage()] == \
        [f"warm-up: {len(streets)} streets ready"]


def test_the_streets_give_way_to_page_runs(demo, monkeypatch):
    """Before each item the warm-up waits while a page run is in progress (here: a fake count of runs), and goes
    on after ``wait_s`` when the runs never end."""
    from ui import serve
    from ui.progress import default_context, prepare_version

    ctx = default_context()
    prepare_version(ctx, maps=False, overview_only=True)
    busy = {"runs": 0, "asked": 0}
    seen: list[int] = []  # the runs in progress when each item began

    def runs() -> int:
        busy["asked"] += 1
        if busy["asked"] % 3 == 0:  # every third look, the page run in progress has ended
            busy["runs"] = 0
        return busy["runs"]

    import ui.overview

    figures = ui.overview.figures

    def recorded(c):
        seen.append(busy["runs"])
        busy["runs"] = 1  # a visitor's page run begins while this item is built
        return figures(c)

    monkeypatch.setattr(serve, "page_runs_in_progress", runs)
    monkeypatch.setattr(ui.overview, "figures", recorded)
    ready, failed = serve.warm_streets(ctx, maps=False, pause_s=0.0, wait_s=30.0)
    assert failed == {} and len(ready) == 6 and seen == [0] * 6  # never begun while a run was in progress

    # runs that never end: each item waits wait_s, then is built all the same
    monkeypatch.setattr(serve, "page_runs_in_progress", lambda: 1)
    seen.clear()
    ready, failed = serve.warm_streets(ctx, maps=False, pause_s=0.0, wait_s=0.01)
    assert failed == {} and len(ready) == 6 and len(seen) == 6


def test_streamlits_session_notices_from_the_warm_up_are_dropped_and_the_pages_kept():
    """A page's label asks for the session's language; from the warm-up's threads (no session) Streamlit logged a
    "missing ScriptRunContext" warning for each (600 lines for the demo's streets): dropped by a filter on its
    loggers, for the warm-up's threads only."""
    from ui import serve

    serve._quiet_notices()
    serve._quiet_notices()  # once is enough: not added twice
    got: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            got.append(f"{record.threadName}: {record.getMessage()}")

    logger = logging.getLogger(serve.NOTICES[0])
    assert logger.filters.count(serve._not_from_warm_up) == 1
    keep = Keep()
    logger.addHandler(keep)
    try:
        for name in ("gridatlas-warm-up", "gridatlas-warm-streets", "ScriptRunner.scriptThread"):
            thread = threading.Thread(target=lambda: logger.warning("missing ScriptRunContext!"), name=name)
            thread.start()
            thread.join()
    finally:
        logger.removeHandler(keep)
    assert got == ["ScriptRunner.scriptThread: missing ScriptRunContext!"]


def test_after_a_restart_the_streets_overview_items_are_read_back_not_built(demo, monkeypatch):
    import ui.layers
    import ui.overview

    ctx, (ready, failed) = _warm(demo)
    assert failed == {}
    st.cache_resource.clear()  # as after a restart: memory empty, the version's folder kept

    def refuse(*_a, **_k):
        raise AssertionError("built again instead of read back")

    for module, name in ((pagedata, "build_figures"), (pagedata, "build_trend"), (ui.overview, "build_figures"),
                         (ui.overview, "_draw_strip"), (ui.layers, "build_district_map")):
        monkeypatch.setattr(module, name, refuse)
    from ui import serve

    again, failed = serve.warm_streets(ctx, maps=True, pause_s=0.0, wait_s=0.0)
    assert failed == {} and again == ready == [None, *_streets(demo)]
