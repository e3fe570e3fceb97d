"""Browser tests: the real app served on localhost, driven by Debian's headless Chromium.

Every request to anything but localhost is blocked and recorded, so a test
that passes proves the page works offline. These tests never skip: without
Chromium they fail and say how to install it (`make test` does).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.server import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS, start_server

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "tests" / "e2e" / "screens"


def start_app(data: str | None = None, *, env_extra: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start the app as `make run` does (`python -m ui.serve`) on a free port; return the process and its URL once healthy."""
    # strict: a failing page section raises in the server too (its error box fails the test) instead of being contained
    server = start_server(data, env_extra={"GRIDATLAS_STRICT": "1", **(env_extra or {})}, log_dir=ROOT / "tests" / "e2e",
                          timeout_s=90)
    return server.proc, server.url


def stop_app(proc: subprocess.Popen) -> None:
    """Stop a server `start_app` started (killed if it does not end within 10 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """The app on the bundled demo dataset."""
    proc, url = start_app(str(ROOT / "data" / "shifeng_demo.gpkg"))
    yield url
    stop_app(proc)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (make test does)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()
    pw.stop()


@dataclass
class Traffic:
    """Every URL the page asked for, and those blocked for leaving the machine."""

    requested: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def scripts_and_styles(self) -> list[str]:
        return [u for u in self.requested if u.split("?")[0].endswith((".js", ".css"))]


@pytest.fixture
def offline_page(browser):
    """A page whose requests to anything but localhost are aborted (and recorded)."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, locale="zh-CN")
    traffic = Traffic()

    def route(r):
        url = r.request.url
        traffic.requested.append(url)
        host = urlparse(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
            r.continue_()
        else:
            traffic.blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.traffic = traffic
    page.js_errors = errors
    yield page
    context.close()


_SCRIPT_IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const s = document.querySelector('[data-testid="stStatusWidget"]');
    return app && ["notRunning", "compilationError"].includes(app.dataset.testScriptState)
        && (!s || !s.innerText.match(/Running|Stop|运行/));
}"""


def wait_for_app(page, *, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished running the script.

    Read from the app's own ``data-test-script-state`` (``running`` from the moment the server says a run began; the
    status widget shows "Running" only half a second later, so a short run could pass unseen), twice, 300 ms apart:
    a click's rerun may not have begun when this is called."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(_SCRIPT_IDLE, timeout=timeout_ms)
    page.wait_for_timeout(300)
    page.wait_for_function(_SCRIPT_IDLE, timeout=timeout_ms)


def assert_no_exception(page) -> None:
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, f"the page shows an exception: {exc.first.inner_text()[:2000]}"


def map_frame(page, *, index: int = 0, timeout_ms: int = 60_000):
    """The Frame of the index-th folium map on the page, once Leaflet has drawn into it."""
    sel = 'iframe[title="streamlit_folium.st_folium"]'
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        page.wait_for_selector(sel, timeout=timeout_ms)
        try:
            handle = page.locator(sel).nth(index).element_handle(timeout=timeout_ms)
            frame = handle.content_frame() if handle is not None else None
            if frame is not None:
                frame.wait_for_selector(".leaflet-container", timeout=timeout_ms)
                return frame
        except Exception as exc:  # a rerun replaced the iframe between finding it and reading it: look again
            if "detached" not in str(exc) and "Target closed" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise RuntimeError("the map's iframe was detached by a rerun, again and again")
        page.wait_for_timeout(300)


def screenshot(page, name: str) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_map_count(page, css: str, expected: int, *, index: int = 0, timeout_ms: int = 90_000):
    """Wait until the index-th map shows exactly ``expected`` elements matching ``css``; return its frame.

    A rerun may replace the map's iframe while we look at it, so a detached
    frame is looked up again until the deadline.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    last = None
    while time.monotonic() < deadline:
        try:
            frame = map_frame(page, index=index, timeout_ms=timeout_ms)
            last = frame.evaluate("css => document.querySelectorAll(css).length", css)
            if last == expected:
                return frame
        except Exception as exc:  # detached frame during a rerun: look again
            if "detached" not in str(exc) and "Target closed" not in str(exc):
                raise
        page.wait_for_timeout(500)
    raise AssertionError(f"map {index} shows {last} elements matching {css!r}, expected {expected}")


def choose_option(page, box, option: str, *, exact: bool = True, timeout_ms: int = 60_000) -> None:
    """Open the select widget ``box`` (a locator) and click its ``option``.

    A rerun that ends just as the box is clicked (a map click's, a previous
    choice's) redraws the widget and closes its list before the option shows:
    the box is opened again until the option appears or the deadline passes.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        wait_for_app(page, timeout_ms=timeout_ms)
        target = box.locator("input").first if box.locator("input").count() else box
        try:
            target.click(timeout=10_000)
            choice = page.get_by_role("option", name=option, exact=exact).first
            choice.wait_for(timeout=10_000)
            choice.click(timeout=5_000)
            return
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise
            page.keyboard.press("Escape")
            page.wait_for_timeout(500)
