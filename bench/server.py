"""The app server and the browser for the benchmarks (and the browser tests): start, wait, stop, time page opens.

- `start_server` runs ``python -m streamlit run app.py`` (or another module
  that takes the same arguments, e.g. bench/_load_server.py with its memory
  sampler) on a free port of 127.0.0.1 and returns once ``/_stcore/health``
  answers; `AppServer.start_s` is the time from launch to healthy.
- `chromium_page` is one headless page of Debian's Chromium.
- `time_opens` opens one address cold (first visit) and then ``repeat`` times
  more on the warm server, timing each from navigation until ``drawn(page)``
  returns.

Everything listens on and talks to loopback only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("GRIDATLAS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1500, "height": 1100}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class AppServer:
    proc: subprocess.Popen
    url: str
    start_s: float
    log: Path

    def stop(self, timeout_s: float = 30) -> None:
        """Terminate the server (kill it if it does not end within ``timeout_s``)."""
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout_s)

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(data: str | Path | None = None, *, env: Mapping[str, str] | None = None,
                 env_extra: Mapping[str, str] | None = None, module: str = "ui.serve",
                 log_dir: Path | None = None, timeout_s: float = 120, args: Sequence[str] = ()) -> AppServer:
    """Start the app on a free loopback port; return once it is healthy.

    ``env`` is the whole environment (default: this process's), ``env_extra``
    is laid over it, ``data`` becomes ``GRIDATLAS_DATA``. ``module`` is run as
    ``python -m module --server.port ... [args]`` (default `ui.serve`, what ``make run`` starts; ``args``: further
    ``--server.*`` options of ``streamlit run``). The server's output
    goes to ``log_dir/.server-PORT.log`` (default: the temporary folder).
    """
    port = free_port()
    full = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1", **(env_extra or {})}
    if data is not None:
        full["GRIDATLAS_DATA"] = str(data)
    log_path = (log_dir or Path(tempfile.gettempdir())) / f".server-{port}.log"
    t0 = time.perf_counter()
    with open(log_path, "w") as log:  # the server holds its own copy of the handle
        proc = subprocess.Popen(
            [sys.executable, "-m", module, "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false", *args],
            cwd=ROOT, env=full, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return AppServer(proc, url, time.perf_counter() - t0, log_path)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    proc.wait(timeout=30)
    raise RuntimeError(f"the app did not become healthy within {timeout_s:.0f} s; see {log_path}")


@contextmanager
def chromium_page() -> Iterator[object]:
    """One page of headless Chromium (sync Playwright), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport=VIEWPORT)
        finally:
            browser.close()


def time_opens(url: str, drawn: Callable[[object], object], *, repeat: int) -> tuple[float, list[float]]:
    """(first visit s, ``repeat`` warm reloads s): from navigation to ``url`` until ``drawn(page)`` returns."""
    times = []
    with chromium_page() as page:
        for _ in range(1 + repeat):
            t0 = time.perf_counter()
            page.goto(url)
            drawn(page)
            times.append(time.perf_counter() - t0)
    return times[0], times[1:]
