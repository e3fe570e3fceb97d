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
"""

from __future__ import annotations

import collections
import gc
import json
import os
import sys
import threading
import time
import weakref

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


def _sample_forever(path: str) -> None:
    proc = psutil.Process()
    with open(path, "a", encoding="utf-8") as fh:
        while True:
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
                                 "full_gc": list(_FULL["pauses"]),
                                 **({**_held(), "types": _types()} if collected else {})}) + "\n")
            fh.flush()
            if collected:  # the settled sample is written: the load test may read it now
                os.remove(flag)
            time.sleep(0.5)


def main() -> None:
    samples = os.environ["BENCH_SAMPLES"]
    import streamlit.runtime  # noqa: F401  imported before the sampler starts: both import it

    from ui import serve

    gc.callbacks.append(_time_full_collections)
    threading.Thread(target=_sample_forever, args=(samples,), daemon=True).start()
    sys.exit(serve.main(sys.argv[1:]))  # "--server.port ...", as bench.server passes it


if __name__ == "__main__":
    main()
