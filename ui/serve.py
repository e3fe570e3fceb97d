"""Serve the app: ``python -m ui.serve [options of streamlit run]`` (what ``make run`` does).

It is ``streamlit run app.py`` with one addition: while the server starts, a
background thread loads what the first visit needs, so the first leader to
open the dashboard in the morning does not wait for it:

1. the code of the overview page and the shared sidebar (geopandas, folium,
   the string table, the sign-in gate: about 1.2 s of imports on this
   machine);
2. the current version of the configured dataset (``GRIDATLAS_DATA``), into
   the same in-memory cache the pages read (`ui.data.get_dataset`).

The warm-up begins once Streamlit's runtime exists, and never imports
``streamlit_folium``: Streamlit serves a component only when it was declared
during a script run, so the map component is imported by the first page that
draws a map (`ui.maps`). The server answers from the start; a visit that arrives before the warm-up is
done simply shares its work (Python imports a module once; the dataset cache
loads a version once). A warm-up that fails (a missing or damaged dataset) is
only logged: the page the visitor opens then shows the error, as it would
without a warm-up.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"
# What the overview and the sidebar import. Not the other pages' code (scipy, the hot-spot statistics): importing
# it too made the first visit slower (2.8 s -> 4.4-5.0 s on 2 cores), the two threads sharing one interpreter.
FIRST = ("geopandas", "pyarrow.parquet", "ui.sidebar", "ui.auth", "ui.context", "ui.overview", "ui.layers", "ui.maps")

log = logging.getLogger("gridatlas.serve")


def warm(modules: tuple[str, ...] = FIRST, *, dataset: bool = True) -> dict[str, float]:
    """Import ``modules`` and load the configured dataset's current version; seconds per step."""
    took: dict[str, float] = {}
    t0 = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    took["imports"] = time.perf_counter() - t0
    if dataset:
        t0 = time.perf_counter()
        try:
            from ui.data import get_dataset

            get_dataset()
        except Exception as err:  # the page the visitor opens reports it, in their language
            log.warning("warm-up: the dataset was not loaded (%s)", err)
        took["dataset"] = time.perf_counter() - t0
    return took


def _wait_for_runtime(timeout_s: float = 60.0) -> bool:
    """Until Streamlit's runtime exists: map components declared before it would not be served."""
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + timeout_s
    while not Runtime.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _warm_quietly() -> None:
    # the caches' "no script run context" notices mean nothing here: there is no session yet
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    try:
        if not _wait_for_runtime():
            log.warning("warm-up skipped: the server did not start")
            return
        took = warm()
        log.warning("warm-up done: %s", ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))
    except Exception:  # never stop the server for it
        log.exception("warm-up failed")


def main(argv: list[str] | None = None) -> int:
    threading.Thread(target=_warm_quietly, name="gridatlas-warm-up", daemon=True).start()
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    return stcli.main()


if __name__ == "__main__":
    sys.exit(main())
