"""The app server for bench/bench_load.py: `python -m ui.serve` (what `make run` starts) in this process, plus a memory sampler.

Every half second a thread appends one JSON line to the file named by
``BENCH_SAMPLES``: the process's resident memory (RSS), the Python heap as
Python's own allocator counts it (``sys.getallocatedblocks``: blocks in use)
and the objects the garbage collector tracks, and the number of browser
sessions Streamlit holds, and the seconds each of Python's own full collections
took so far (every thread waits while one runs). When the file ``BENCH_SAMPLES + ".gc"`` appears,
the next sample runs a full ``gc.collect()`` first (and removes the file), so
the load test reads a settled heap after each round. Started and stopped only
by the load test; listens on loopback.

Where the time goes (``BENCH_SAMPLES + ".runs"``, one JSON line per script
run, written by the same thread): timing hooks laid over Streamlit's
``AppSession.request_rerun`` (when a request reached the server) and
``ScriptRunner._run_script`` (when its run started and ended, and the CPU time
of the script thread meanwhile), and over the project's page-section boundary
``ui.section.section`` (each section's wall time), and over
Streamlit's cache misses (``CachedFunc._handle_cache_miss``, and the wait for
a value's compute lock in ``cache_utils._hold_compute_lock``: Streamlit
computes a missing value once while the other sessions asking for it wait). A run's wall
time minus its thread's CPU time is time the script thread waited: for the
interpreter (the GIL: one thread runs Python at a time), for a lock (a cache
another session is filling), or for I/O. The hooks only measure: every call
goes on to the original.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import json
import os
import sys
import threading
import time
import weakref
from pathlib import Path

import psutil


def _sessions() -> int:
    try:
        from streamlit.runtime import Runtime

        if not Runtime.exists():
            return -1
        return int(Runtime.instance()._session_mgr.num_active_sessions())
    except Exception:
        return -1


def _expire_disconnected_sessions() -> None:
    """Drop the sessions Streamlit keeps after their browser left (for a reconnect, two minutes) once that time is
    up, as the server's own timer does every few seconds (`ui.serve.reap_expired_sessions`: dropped and shut
    down), so that a settled sample does not count them."""
    from ui.serve import reap_expired_sessions

    if reap_expired_sessions():
        time.sleep(1.0)  # their shutdowns run on the server's event loop


def _held() -> dict:
    """What the runtime's managers keep per session: media files (downloads, images) with their bytes, the
    sessions that reference any, and ``st.dataframe`` row sources. Where Streamlit differs: nothing."""
    try:
        from streamlit.runtime import Runtime

        rt = Runtime.instance()
        mfm = rt.media_file_mgr
        files = list(getattr(mfm._storage, "_files_by_id", {}).values())
        dsm = rt.dataframe_source_mgr
        return {"media_files": len(files), "media_bytes": sum(len(f.content) for f in files),
                "media_sessions": len(mfm._files_by_session_and_coord),
                "df_sources": len(dsm._sources), "df_sessions": len(dsm._sources_by_session_and_coord),
                "stored_sessions": len(rt._session_mgr._session_storage.list())}
    except Exception:
        return {}


def _rss_after_trim(proc) -> int | None:
    """RSS once the C allocator has handed its free pages back to the system (glibc ``malloc_trim``): what the
    process still uses, without the memory it freed but keeps for later allocations."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return None
    return proc.memory_info().rss


def _arrow_bytes() -> int | None:
    """Bytes pyarrow's memory pool holds (tables read from GeoParquet live there, outside Python's heap)."""
    count = getattr(sys.modules.get("pyarrow"), "total_allocated_bytes", None)  # None while pyarrow is imported
    return int(count()) if count is not None else None


def _types() -> dict[str, int]:
    """Objects the collector tracks, counted by type (module.name), the 300 most common: what grows between two
    settled samples shows here."""
    counts: collections.Counter[str] = collections.Counter()
    for o in gc.get_objects():
        kind = f"{type(o).__module__}.{type(o).__qualname__}"
        if isinstance(o, weakref.ref):  # weak references by what they refer to (dead: None)
            target = o()
            kind += f" -> {type(target).__module__}.{type(target).__qualname__}" if target is not None else " -> dead"
        counts[kind] += 1
    return dict(counts.most_common(300))


_FULL: dict = {"pauses": [], "started": None, "forced": False}


def _time_full_collections(phase: str, info: dict) -> None:
    """Python's own full collections (generation 2) while the server runs, each one's seconds: every thread waits
    while one runs. The sampler's forced collections are not counted."""
    if info.get("generation") != 2 or _FULL["forced"]:
        return
    if phase == "start":
        _FULL["started"] = time.perf_counter()
    elif _FULL["started"] is not None:
        _FULL["pauses"].append(round(time.perf_counter() - _FULL["started"], 3))
        _FULL["started"] = None


# --- timing hooks: where a run's time goes -----------------------------------------------------------

_RUNS: list[dict] = []  # finished runs not yet written (appended by script threads, taken by the sampler)
_RUNS_LOCK = threading.Lock()
_REQUESTED: dict[str, float] = {}  # session id -> when its last rerun request reached the server (Unix time)
_SECTIONS = threading.local()  # the running script's sections: .stack [(name, wall s, None), ...],
#   its cache misses: .caches [(cached function, s in all, s of it waiting for another session's computation)]


def _page_of(ctx) -> str:
    """The url path of the page a script run drew ("" before sign-in picks one)."""
    try:
        info = ctx.pages_manager.get_pages().get(ctx.page_script_hash) or {}
        script = str(info.get("script_path") or "")
        return str(info.get("url_pathname") or (Path(script).stem if script.endswith(".py") else "")
                   or info.get("page_name") or "")
    except Exception:  # a run torn down half-way: its page is unknown, the timing still counts
        return ""


def install_timing_hooks() -> None:
    """Time every script run (queue, wall, thread CPU, page) and every page section; see the module docstring."""
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.caching import cache_utils
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    import ui.section

    request_rerun = AppSession.request_rerun
    run_script = ScriptRunner._run_script
    section = ui.section.section
    cache_miss = cache_utils.CachedFunc._handle_cache_miss
    hold_compute_lock = cache_utils._hold_compute_lock

    def timed_request_rerun(self, client_state):
        _REQUESTED[self.id] = time.time()
        return request_rerun(self, client_state)

    limit = int(os.environ.get("BENCH_MAX_RUNS") or 0)
    slots = threading.BoundedSemaphore(limit) if limit > 0 else contextlib.nullcontext()

    def timed_run_script(self, rerun_data):
        _SECTIONS.stack, _SECTIONS.caches = [], []
        requested = _REQUESTED.get(self._session_id)
        try:
            with slots:  # an experiment of the load test (--max-runs): at most so many script runs at once
                t0, cpu0 = time.time(), time.thread_time()
                return run_script(self, rerun_data)
        finally:
            t1, cpu1 = time.time(), time.thread_time()
            ctx = get_script_run_ctx()
            record = {"session": self._session_id, "page": _page_of(ctx) if ctx is not None else "",
                      "requested": requested if requested is not None and requested <= t0 else None,
                      "start": t0, "end": t1, "cpu_s": round(cpu1 - cpu0, 4),
                      "fragment": bool(rerun_data.fragment_id_queue),
                      "sections": _SECTIONS.stack, "caches": _SECTIONS.caches}
            _SECTIONS.stack, _SECTIONS.caches = [], []
            with _RUNS_LOCK:
                _RUNS.append(record)

    @contextlib.contextmanager
    def timed_section(name: str):
        # wall time only: a thread's CPU clock is a system call, and on a crowded machine a thread that makes one
        # while it holds the interpreter lock may be descheduled holding it (the first version of these hooks,
        # timing each section's CPU too, showed up in 8 % of the lock-holding samples at 120 sessions)
        t0 = time.perf_counter()
        try:
            with section(name):
                yield
        finally:
            stack = getattr(_SECTIONS, "stack", None)
            if stack is not None:
                stack.append((name, round(time.perf_counter() - t0, 4), None))

    def timed_cache_miss(self, cache, value_key, func_args, func_kwargs):
        """A cached function's miss: its seconds, and of them how long it waited for the value's compute lock
        (another session computing the same value: Streamlit builds a value once, the others wait)."""
        outer = getattr(_SECTIONS, "waited", None)
        _SECTIONS.waited = 0.0
        t0 = time.perf_counter()
        try:
            return cache_miss(self, cache, value_key, func_args, func_kwargs)
        finally:
            total, waited = time.perf_counter() - t0, _SECTIONS.waited
            _SECTIONS.waited = outer
            caches = getattr(_SECTIONS, "caches", None)
            if caches is not None:
                caches.append((getattr(self._info, "display_name", "?"), round(total, 4), round(waited, 4)))

    @contextlib.contextmanager
    def timed_hold_compute_lock(lock):
        t0 = time.perf_counter()
        with hold_compute_lock(lock):
            if getattr(_SECTIONS, "waited", None) is not None:
                _SECTIONS.waited += time.perf_counter() - t0
            yield

    cache_utils.CachedFunc._handle_cache_miss = timed_cache_miss
    cache_utils._hold_compute_lock = timed_hold_compute_lock
    AppSession.request_rerun = timed_request_rerun
    ScriptRunner._run_script = timed_run_script
    ui.section.section = timed_section


def _write_runs(fh) -> None:
    with _RUNS_LOCK:
        runs = _RUNS[:]
        _RUNS.clear()
    for r in runs:
        fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    fh.flush()


def _sample_forever(path: str) -> None:
    proc = psutil.Process()
    with open(path, "a", encoding="utf-8") as fh, open(path + ".runs", "a", encoding="utf-8") as runs_fh:
        while True:
            _write_runs(runs_fh)
            cpu = proc.cpu_times()
            flag = path + ".gc"
            collected = os.path.exists(flag)
            trimmed = None
            if collected:
                _expire_disconnected_sessions()
                _FULL["forced"] = True
                try:
                    gc.collect()
                finally:
                    _FULL["forced"] = False
                trimmed = _rss_after_trim(proc)
            # objects are counted only in a settled sample, between rounds: gc.get_objects() while sessions run
            # costs the server a tenth of a second of its one interpreter each time, and it can hand out a
            # tuple that is still being built (CPython then raises "SystemError: Objects/tupleobject.c:927:
            # bad argument to internal function" in the session that was building it)
            fh.write(json.dumps({"t": time.time(), "rss": proc.memory_info().rss,
                                 "blocks": sys.getallocatedblocks(),
                                 "objects": len(gc.get_objects()) if collected else None,
                                 "rss_trimmed": trimmed, "arrow": _arrow_bytes(),
                                 "sessions": _sessions(), "collected": collected,
                                 "cpu_s": round(cpu.user + cpu.system, 3), "threads": proc.num_threads(),
                                 "full_gc": list(_FULL["pauses"]),
                                 **({**_held(), "types": _types()} if collected else {})}) + "\n")
            fh.flush()
            if collected:  # the settled sample is written: the load test may read it now
                os.remove(flag)
            time.sleep(0.5)


def main() -> None:
    samples = os.environ["BENCH_SAMPLES"]
    import streamlit.runtime  # noqa: F401  imported before the sampler starts: both import it

    switch = os.environ.get("BENCH_SWITCH_INTERVAL_S")
    if switch:  # an experiment of the load test (--switch-interval-s): how often a thread must hand the lock on
        sys.setswitchinterval(float(switch))
    install_timing_hooks()  # before the app's modules import the section boundary
    from ui import serve

    gc.callbacks.append(_time_full_collections)
    threading.Thread(target=_sample_forever, args=(samples,), daemon=True).start()
    sys.exit(serve.main(sys.argv[1:]))  # "--server.port ...", as bench.server passes it


if __name__ == "__main__":
    main()
