"""Serve the app: ``python -m ui.serve [options of streamlit run]`` (what ``make run`` does).

It is ``streamlit run app.py`` with one addition: while the server starts, a
background thread loads what the first visit needs, so the first leader to
open the dashboard in the morning does not wait for it:

1. the code of the sidebar (geopandas, folium, the string table, the sign-in
   gate: about 1.3 s of imports on this machine);
2. the current version of the configured dataset (``GRIDATLAS_DATA``), into
   the same in-memory cache the pages read (`ui.data.get_dataset`); for a
   city, the city overview derived with the version (`ui.city.warm_city`),
   since no page reads the whole city;
3. the rest of the overview page's code (its sections, the sparklines:
   about 1.5 s more);
4. the version's page data as its first visitor will ask for it (the whole
   district, the default language and basemap: `ui.progress.default_context`)
   through `ui.progress.prepare_version`: read back from the version's folder
   when an import or an earlier server built it, else built and kept there;
   the map too, once its component is declared and registered with the
   running server (`register_map_component`; below);
5. then, low-key, every street of that version as its first visitor will ask for it (`warm_streets`,
   `ui.progress.street_steps`): the whole district's coverage and cases pages, then street by street the
   overview's figures, sparklines and map, the coverage page's default question, street chart and map of the
   street, and the cases page's figures and hot spots (and their map) for its default filter — through the
   pages' own cached functions, so a visit finds each under the key it asks for and computes nothing. What is
   kept beside the version (`ui.data.derived`: the overview's items) is read back on the next start; the rest
   is built in memory. Between two streets it sleeps `STREET_PAUSE_S`, and before each item it waits (at most
   `PAGE_RUN_WAIT_S`) while a session's page run is in progress, so page runs get the interpreter first. A
   failing item is logged and the others are built; it ends with one line, "warm-up: N streets ready in S s"
   (on Wuchang's 14 streets, 2 cores: 5.5 s when the overview's items are kept; right after an import the streets'
   sparkline figures, once 1.2 s each here and most of 20 s, are kept by the import: 0.2 s for all of them).

The default overview is ready (and "warm-up done: ..." logged) before the first street is built, and after a
start the streets wait `STREETS_AFTER_START_S` more: the first visit after a restart is not kept waiting by them
(the browser's loading of Streamlit's page, served by this process, is no page run they could give way to).

The imports of step 1 need no runtime: they begin as the process starts, beside Streamlit's own start-up.

The warm-up begins once Streamlit's runtime exists. Streamlit serves a
component only when it was declared during a script run, so the warm-up imports
``streamlit_folium`` only to register it with the runtime itself
(`register_map_component`); without a runtime it never imports it, and the map
component is imported by the first page that draws a map (`ui.maps`). The server answers from the start; a visit that arrives before the warm-up is
done simply shares its work (Python imports a module once; the dataset cache
loads a version once; each item of page data is computed under its cache key's
lock — Streamlit's ``cache_resource`` computes a key once while other callers
wait for it — so the warm-up and a visit never build the same item twice). A warm-up that fails (a missing or damaged dataset) is
only logged: the page the visitor opens then shows the error, as it would
without a warm-up.

It also mends how Streamlit lets go of a session whose browser left
(`shut_down_expired_sessions`, `reap_expired_sessions`). Streamlit keeps such
a session for a reconnect (``server.disconnectedSessionTTL``, two minutes),
but its store drops an expired session only when it next stores another
one (the next browser to leave), and then without shutting it down: the
session is shut down only when Python's collector finds it, and until then
everything the runtime's managers keep per session (its download and image
files, its ``st.dataframe`` row sources) stays referenced. Here the store
shuts a session down as it drops it, and a timer drops expired sessions
every ``REAP_EVERY_S`` seconds.

And of a deferred download (a table's file, made when its button is
clicked) it keeps the file until the browser has fetched it
(`keep_deferred_downloads`) and, when no file could be made, says why in the
page's language (`_say_why`).

And it tells Streamlit, before the first visit, that app.py lists its pages
itself (`own_navigation`): otherwise the first run after a start takes the
``pages/`` folder for an old-style multipage app and gives the sidebar's
widgets other ids than every later run does.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from streamlit.runtime.caching.ttl_cache import TTLCache

APP = Path(__file__).resolve().parent.parent / "app.py"
# What the sidebar imports, then (after the dataset is loaded) what the overview page imports besides. Not the other
# pages' code: importing it too made the first visit slower (2.8 s -> 4.4-5.0 s on 2 cores), the two threads
# sharing one interpreter.
# They need no runtime, so they begin as the process starts (`_warm_quietly`), beside Streamlit's own start-up.
FIRST = ("geopandas", "pyarrow.parquet", "ui.sidebar", "ui.auth", "ui.context", "ui.overview", "ui.layers", "ui.maps")
# What the overview's first run imports besides (a first run after the warm-up imported these: 0.4 s): its table and
# text helpers, the picture decoder of `st.image`, the emoji and icon tables Streamlit reads for the page's title
# and icon, and the names Streamlit's script runner reads once.
OVERVIEW = ("ui.section", "ui.progress", "ui.htmltable", "ui.text", "analysis.needs", "PIL.Image", "PIL.PngImagePlugin",
            "streamlit.emojis", "streamlit.material_icon_names", "streamlit.runtime.scriptrunner.magic_funcs")

REAP_EVERY_S = 15.0
# The streets' warm-up gives way to the pages: a short sleep between two streets, and before each item a wait
# (at most PAGE_RUN_WAIT_S) while a session's page run is in progress.
STREET_PAUSE_S = 0.1
PAGE_RUN_WAIT_S = 2.0
# After a start the streets wait this long: the first visitor of a restart (often the person who restarted it) comes
# within seconds, and the browser's loading of the page (Streamlit's scripts, served by this process) is no page run
# to give way to. On Wuchang the streets running at once took the first visit from 2.6 s to 3.5 s.
STREETS_AFTER_START_S = 10.0

log = logging.getLogger("gridatlas.serve")


def own_navigation() -> bool:
    """Tell Streamlit that app.py lists its pages itself (`st.navigation`); True if it had thought otherwise.

    Streamlit decides once per process, when it builds the first session's page manager, whether an app follows
    its old multipage convention (a ``pages/`` folder beside the entry script), and changes its mind only at the
    first ``st.navigation`` call. Until then, the first run after a server start executes app.py as one page of
    that convention, under another page hash, so every widget app.py draws itself (the sidebar's language,
    dataset, street and basemap) gets an id in that run other than in every later run: the first session's
    first choice there was lost (the language switch relabelled itself and fell back to 中文). `main` calls this
    before the server starts, so the first run is like every other; app.py calls it too, for other entries
    (``streamlit run app.py``, AppTest), and runs itself again when it was needed.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if not hasattr(PagesManager, "uses_pages_directory"):  # a Streamlit without the old convention
        return False
    had = bool(PagesManager.uses_pages_directory)
    PagesManager.uses_pages_directory = False
    return had


def warm(modules: tuple[str, ...] = FIRST, *, dataset: bool = True, then: tuple[str, ...] = OVERVIEW,
         pages: bool = True) -> dict[str, float]:
    """Import ``modules``, load the configured dataset's current version, import ``then`` and prepare the page data
    its first visitor asks for (``pages``); seconds per step."""
    took: dict[str, float] = {}
    t0 = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    took["imports"] = time.perf_counter() - t0
    if dataset:
        t0 = time.perf_counter()
        try:
            from ui.city import warm_city
            from ui.data import get_dataset

            if warm_city():  # a city's first page is its overview, derived with the version: that, not the city
                pages = False
            else:
                get_dataset()
        except Exception as err:  # the page the visitor opens reports it, in their language
            log.warning("warm-up: the dataset was not loaded (%s)", err)
            pages = False
        took["dataset"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for name in then:
        importlib.import_module(name)
    took["overview imports"] = time.perf_counter() - t0
    if dataset and pages:
        t0 = time.perf_counter()
        try:
            from ui.progress import default_context, prepare_version

            ctx = default_context()
            if ctx is not None:
                # what the overview reads; its map too once its component is registered with the server
                built = prepare_version(ctx, maps=register_map_component(), overview_only=True)
                from ui.overview import read_needs

                read_needs(ctx.ds)  # which of the overview's notes its data lacks (a sample of rows, once per version)
                log.warning("warm-up: page data ready: %s", ", ".join(built))
        except Exception as err:  # the page shows what it cannot build, in the visitor's language
            log.warning("warm-up: the page data was not prepared (%s)", err)
        took["page data"] = time.perf_counter() - t0
    return took


def page_runs_in_progress() -> int:
    """How many sessions' page runs are in progress (0 without a runtime, or where Streamlit differs)."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.app_session import AppSessionState

    if not Runtime.exists():
        return 0
    try:
        infos = Runtime.instance()._session_mgr.list_active_sessions()
    except Exception:  # no session manager yet, or its table changed while read: not known to be busy
        return 0
    return sum(getattr(i.session, "_state", None) is AppSessionState.APP_IS_RUNNING for i in infos)


def _give_way(pause_s: float, wait_s: float) -> None:
    """Sleep ``pause_s``, then wait while page runs are in progress, ``wait_s`` at most."""
    if pause_s > 0:
        time.sleep(pause_s)
    deadline = time.monotonic() + wait_s
    while page_runs_in_progress() and time.monotonic() < deadline:
        time.sleep(0.05)


def warm_streets(ctx, *, maps: bool, pause_s: float = STREET_PAUSE_S,
                 wait_s: float = PAGE_RUN_WAIT_S) -> tuple[list[str | None], dict[str | None, list[str]]]:
    """Build what the first visitor of each street of ``ctx``'s version would otherwise build
    (`ui.progress.street_steps`: the overview, the coverage and the cases pages with their default choices, in
    ``ctx``'s language and basemap; the maps with ``maps``): the whole district first (its coverage and cases
    pages), then every street in the sidebar's order. Returns the streets ready and, per street, the items that
    failed.

    Low-key: between two streets it sleeps ``pause_s`` and before each item it waits (``wait_s`` at most) while a
    page run is in progress, so the sessions' page runs get the interpreter first; a visit asking for an item
    being built waits for it under the item's cache key lock, never builds it twice. An item the dataset cannot
    give (a `GridAtlasError`) is left to the page, which says why; an item that fails otherwise is logged and the
    others are built all the same. Stops when the dataset's current version changes (an import: its own page data
    is the import's).
    """
    from geo.errors import GridAtlasError
    from ui.data import dataset_token
    from ui.progress import street_steps

    ready: list[str | None] = []
    failed: dict[str | None, list[str]] = {}
    for street in (None, *ctx.ds.streets):
        _give_way(pause_s, wait_s)
        if dataset_token(ctx.path) != ctx.token:
            log.warning("warm-up: the streets' page data stopped: a new version is current")
            break
        try:
            todo = street_steps(ctx, street, maps=maps)
        except Exception:  # the steps themselves (the dataset's facilities or cases unreadable)
            log.exception("warm-up: the page data of street %r was not prepared", street)
            failed[street] = ["*"]
            continue
        for label, build in todo:
            _give_way(0.0, wait_s)
            try:
                build()
            except GridAtlasError:  # the data lacks what the item needs: the page says so to its visitor
                continue
            except Exception:
                log.exception("warm-up: %s of street %r was not prepared", label.split(":")[0], street)
                failed.setdefault(street, []).append(label)
        if street not in failed:
            ready.append(street)
    return ready, failed


def _warm_streets_of_default(spec: str | None = None) -> None:
    """`warm_streets` for the current version of ``spec`` (default: the dataset the first visitor opens) as its
    first visitors see it (`ui.progress.default_context`), logged."""
    from ui.progress import default_context

    t0 = time.perf_counter()
    ctx = default_context(spec)
    if ctx is None:
        return
    ready, failed = warm_streets(ctx, maps=register_map_component())
    n = sum(street is not None for street in ready)
    log.warning("warm-up: %d streets ready in %.1f s%s", n, time.perf_counter() - t0,
                f" ({len(failed)} with items that failed)" if failed else "")


def warm_streets_in_background(spec: str) -> threading.Thread:
    """After an import on the 数据管理 page (`ui.progress.prepare_version` has made the new version's overview
    ready): `warm_streets` for the new current version of ``spec``, in a thread of its own; it never fails."""

    _quiet_notices()

    def run() -> None:
        try:
            _warm_streets_of_default(spec)
        except Exception:
            log.exception("warm-up of the streets after an import failed")

    thread = threading.Thread(target=run, name="gridatlas-warm-streets", daemon=True)
    thread.start()
    return thread


def register_map_component() -> bool:
    """Declare the map component (``streamlit_folium``) and register it with the running server, as importing it
    during a script run would; False (nothing imported) when no server runs or this Streamlit differs.

    Streamlit registers a component only when it is declared inside a script run (``declare_component`` skips
    the registration without a ``ScriptRunContext``), and a component never registered is never served: its
    maps stay blank. With it registered here, the warm-up may render the overview's map (`ui.maps.map_payload`
    imports the component) before the first visit asks for it.
    """
    from streamlit.runtime import Runtime

    if not Runtime.exists() or not hasattr(Runtime.instance(), "component_registry"):
        return False
    try:
        import streamlit_folium

        Runtime.instance().component_registry.register_component(streamlit_folium._component_func)
    except Exception:  # another streamlit_folium or Streamlit: leave the map to the first page that draws one
        log.exception("the map component could not be registered before the first visit")
        return False
    return True


def _wait_for_runtime(timeout_s: float = 60.0) -> bool:
    """Until Streamlit's runtime exists (map components declared before it would not be served) and is built."""
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + timeout_s
    # the instance is registered as its constructor begins: wait until it has its session manager too
    while not (Runtime.exists() and hasattr(Runtime.instance(), "_session_mgr")):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _call_on_event_loop(fn: Callable[[], object]) -> None:
    """Run ``fn`` on the runtime's event loop, where Streamlit shuts sessions down (else here, the loop being gone)."""
    from streamlit.runtime import Runtime

    try:
        loop = Runtime.instance()._get_async_objs().eventloop
        if not loop.is_closed():
            loop.call_soon_threadsafe(fn)
            return
    except (RuntimeError, AttributeError):  # the runtime has not started, or has stopped
        pass
    fn()


def _shutdown(session) -> None:
    try:
        session.shutdown()
    except Exception:  # a session half torn down already: nothing else depends on it
        log.exception("shutting down an expired session failed")


class _ShutdownOnExpiry(TTLCache):
    """Streamlit's session store, which shuts a session down when it drops it for its age or for room.

    A session taken out to be resumed (``del``, ``pop``) is not shut down: its browser came back.
    """

    def expire(self, at_time: float | None = None) -> list:
        removed = super().expire(at_time)
        for _, info in removed:
            _call_on_event_loop(lambda s=info.session: _shutdown(s))
        return removed

    def _evict_lru(self, reason):
        info = super()._evict_lru(reason)
        _call_on_event_loop(lambda s=info.session: _shutdown(s))
        return info


# A file made by a deferred download (`ui.auth.download_button` with a callable) stays downloadable this long.
DEFERRED_KEEP_S = 120.0
_DEFERRED_HOLDER = "gridatlas-deferred-downloads"  # the pseudo-session that holds them (no session has this id)


class _DeferredFiles:
    """Streamlit's deferred downloads, kept until their browser has fetched them.

    On a click, Streamlit runs the button's callable, stores the file and answers with its address; the browser
    then fetches it. But the stored file belongs to no session, so the cleanup that ends every script run — any
    session's — marks it on its first pass and deletes it on the second: under a load test's 60 sessions two runs
    ended between the answer and the fetch and the browser got "404" (21 of 120 downloads). Here each such file is
    also referenced by a pseudo-session for `DEFERRED_KEEP_S`, after which the usual cleanup takes it.
    """

    def __init__(self, mgr, keep_s: float) -> None:
        self.mgr, self.keep_s = mgr, keep_s
        self.original = mgr.execute_deferred
        self._n = 0
        self._failed: dict[str, BaseException] = {}  # file id -> why its last making failed (`failure`)
        self._failed_lock = threading.Lock()

    def failure(self, file_id: str) -> BaseException | None:
        """Why the last click of ``file_id`` got no file (once: it is forgotten as it is read)."""
        with self._failed_lock:
            return self._failed.pop(file_id, None)

    def execute_deferred(self, file_id: str) -> str:
        try:
            url = self.original(file_id)
        except Exception as err:  # Streamlit answers its one English sentence; `_say_why` says which cause
            with self._failed_lock:
                if len(self._failed) >= 256:  # answers never read (a handler other than Streamlit's): bounded
                    self._failed.clear()
                self._failed[file_id] = err
            raise
        made = url.rsplit("/", 1)[-1].split(".", 1)[0]  # the storage's address: .../<file id><extension>
        with self.mgr._lock:
            if made not in self.mgr._file_metadata:  # another storage's addresses: nothing to hold
                return url
            self._n += 1
            coord = f"{made}#{self._n}"  # two sessions may make the same file: each holds it for itself
            self.mgr._files_by_session_and_coord.setdefault(_DEFERRED_HOLDER, {})[coord] = made
        timer = threading.Timer(self.keep_s, self.release, args=(coord,))
        timer.daemon = True
        timer.start()
        return url

    def release(self, coord: str) -> None:
        with self.mgr._lock:
            held = self.mgr._files_by_session_and_coord.get(_DEFERRED_HOLDER)
            if held is not None:
                held.pop(coord, None)
                if not held:
                    del self.mgr._files_by_session_and_coord[_DEFERRED_HOLDER]


def keep_deferred_downloads(mgr=None, keep_s: float | None = None) -> _DeferredFiles | None:
    """Make the media file manager (default: the runtime's) keep each deferred download's file `DEFERRED_KEEP_S`
    (`_DeferredFiles`); None where Streamlit differs (its downloads then work as Streamlit's own do)."""
    if mgr is None:
        from streamlit.runtime import Runtime

        if not Runtime.exists():  # no server (a test, a script): nothing to hold
            return None
        mgr = Runtime.instance().media_file_mgr
    needed = ("execute_deferred", "_lock", "_file_metadata", "_files_by_session_and_coord")
    if not all(hasattr(mgr, a) for a in needed) or not isinstance(mgr._files_by_session_and_coord, dict):
        log.warning("Streamlit's media file manager is not the expected one: deferred downloads are not held")
        return None
    if isinstance(getattr(mgr.execute_deferred, "__self__", None), _DeferredFiles):
        return mgr.execute_deferred.__self__
    held = _DeferredFiles(mgr, DEFERRED_KEEP_S if keep_s is None else keep_s)
    mgr.execute_deferred = held.execute_deferred
    _say_why(held)
    return held


def _say_why(held: _DeferredFiles) -> None:
    """Make a deferred download's failure say its cause in the session's language (`ui.auth.download_error_text`:
    sign-in needed, the page expired, the file's own error), where Streamlit answers every failure with "Failed
    to generate file for download". Streamlit's handler of these requests is wrapped once, for every session."""
    try:
        from streamlit.runtime.backend_operation_handler import DeferredFileHandler
    except ImportError:
        log.warning("Streamlit has no deferred file handler where expected: download errors are Streamlit's own")
        return
    original = DeferredFileHandler.handle
    if getattr(original, "gridatlas_says_why", None) is not None:
        original.gridatlas_says_why[0] = held  # a new manager (a test's): its failures are the ones to read
        return
    current = [held]

    async def handle(self, request, session_id):
        response = await original(self, request, session_id)
        if response.error_msg:
            from ui.auth import download_error_text

            response.error_msg = download_error_text(current[0].failure(request.deferred_file.file_id),
                                                     lang=_session_lang(session_id))
        return response

    handle.gridatlas_says_why = current
    DeferredFileHandler.handle = handle


def _session_lang(session_id: str) -> str | None:
    """The language a session's page shows (its sidebar switch keeps it in ``st.session_state[LANG_KEY]``); None
    (the default language) when that session is gone."""
    from streamlit.runtime import Runtime

    from i18n import LANG_KEY

    try:
        info = Runtime.instance()._session_mgr.get_session_info(session_id)
        state = info.session.session_state if info is not None else None
        return state[LANG_KEY] if state is not None and LANG_KEY in state else None
    except Exception:  # a session ending meanwhile, or Streamlit's insides otherwise: the default language
        return None


def _session_store():
    """The runtime's store of sessions kept for a reconnect, and the lock Streamlit holds while it uses it."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.memory_session_storage import MemorySessionStorage

    mgr = Runtime.instance()._session_mgr
    storage, lock = getattr(mgr, "_session_storage", None), getattr(mgr, "_storage_lock", None)
    if not isinstance(storage, MemorySessionStorage) or lock is None:
        return None, None
    return storage, lock


def shut_down_expired_sessions() -> bool:
    """Make the runtime's session store shut down the sessions it drops; False where Streamlit differs."""
    storage, lock = _session_store()
    if storage is None or not isinstance(getattr(storage, "_cache", None), TTLCache):
        log.warning("Streamlit's session store is not the expected one: expired sessions are not shut down")
        return False
    with lock:
        old = storage._cache
        if not isinstance(old, _ShutdownOnExpiry):
            new = _ShutdownOnExpiry(maxsize=old.maxsize, ttl=old.ttl, timer=old.timer)
            for key, info in old.items():  # sessions kept before this (none, at start-up)
                new[key] = info
            storage._cache = new
    return True


def reap_expired_sessions() -> int:
    """Drop (and so shut down) the sessions whose reconnect time is up; how many. Thread-safe."""
    storage, lock = _session_store()
    if storage is None:
        return 0
    with lock:
        return len(storage._cache.expire())


def _reap_forever() -> None:
    while True:
        time.sleep(REAP_EVERY_S)
        try:
            reap_expired_sessions()
        except Exception:
            log.exception("dropping expired sessions failed")


NOTICES = ("streamlit.runtime.scriptrunner_utils.script_run_context", "streamlit.runtime.caching.cache_data_api")


def _not_from_warm_up(record: logging.LogRecord) -> bool:
    return not record.threadName.startswith("gridatlas-warm")


def _quiet_notices() -> None:
    """Drop Streamlit's "no script run context" notices logged by the warm-up's threads (they mean nothing there:
    no session is theirs; a page's label asks for the session's language, and each such ask logged one — 600 lines
    for the demo's five streets). A filter, not a level: Streamlit sets its loggers' levels again as it starts."""
    for name in NOTICES:
        logger = logging.getLogger(name)
        if _not_from_warm_up not in logger.filters:
            logger.addFilter(_not_from_warm_up)


def _warm_quietly() -> None:
    _quiet_notices()
    try:
        t0 = time.perf_counter()
        for name in FIRST:  # no runtime needed: while Streamlit starts its server
            importlib.import_module(name)
        early = time.perf_counter() - t0
        if not _wait_for_runtime():
            log.warning("warm-up skipped: the server did not start")
            return
        if shut_down_expired_sessions():
            threading.Thread(target=_reap_forever, name="gridatlas-session-reaper", daemon=True).start()
        keep_deferred_downloads()
        took = {"imports before the runtime": early, **warm()}
        log.warning("warm-up done: %s", ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))
        if "page data" in took:  # the default overview is ready: then, low-key, every street's first visit
            time.sleep(STREETS_AFTER_START_S)
            _warm_streets_of_default()
    except Exception:  # never stop the server for it
        log.exception("warm-up failed")


def main(argv: list[str] | None = None) -> int:
    own_navigation()
    threading.Thread(target=_warm_quietly, name="gridatlas-warm-up", daemon=True).start()
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    return stcli.main()


if __name__ == "__main__":
    sys.exit(main())
