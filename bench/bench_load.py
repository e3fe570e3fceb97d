"""30, 60 and 120 staff open the dashboard at 9:00: real sessions against one server on the Wuchang-scale data.

The model of "thirty staff at 9:00": ``--sessions`` people (default 30, then
60, then 120, each number on a fresh server; one user account each: leaders,
planners and staff) come in at once — session
*i* starts at ``i / (n - 1) * --ramp-s`` (default 15 s, one every half
second), so all thirty are connected together while the first are still in
their morning — and each goes through a typical morning: sign in and see
the overview, change street (the sidebar's street selectbox, a street per
session), open coverage, open cases, change the period (最近一年), open the
overdue list, download it (Excel). Between two steps a person looks at what
the page shows for a think time drawn uniformly from ``--think-s`` (default
2–6 s, seeded per session): people read before they click, so at any moment
only some of the thirty are waiting for the server. Think time is not counted
in any step.

Most sessions speak Streamlit's own websocket protocol (bench/st_session.py:
the messages a browser exchanges with the server, without a browser's
rendering cost, so thirty of them fit on the same two cores as the server);
``--browsers`` of them (default 3, spread over the ramp) are real headless
Chromium contexts (Debian's Chromium). A step is timed from the request to
the page drawn: for a websocket session, from sending the BackMsg until the
run it caused has finished, with no exception (or error box) in the page's
tree; for a browser, from the click until the script has finished and every
map on the page has Leaflet's layers in place; the download: from the click
until the file has arrived (the server writes the spreadsheet on the click:
asked for over the websocket as the browser asks for a deferred download, then
fetched from the media URL it answers with / Chromium's download).

What it does (loopback only: the server listens on 127.0.0.1 and the clients
refuse any other host, the browsers' requests are watched and any that leaves
the machine is reported; bounded: ``--sessions`` ≤ 120, ``--browsers`` ≤ 10,
every step under ``STEP_TIMEOUT_S`` (the warm-up's under ``WARM_UP_TIMEOUT_S``), every round and the whole run under
``--deadline-s``; stops by itself):

1. For each number of ``--sessions``, starts the app (bench/_load_server.py:
   `python -m ui.serve` plus a memory sampler and timing hooks) on ``--data``
   (default ``cache/wuchang.gpkg``, made by ``make wuchang``) with a
   workspace holding one user per session.
2. Waits until the server's warm-up has every street ready (its log's "streets
   ready" line: staff at 9:00 meet a server started before the morning).
   Self-check: a websocket session signing in with a wrong password must see
   the sign-in error and stay on the sign-in form. Then one warm-up session
   goes through the morning (the first visitor of the day: the dataset and
   the page caches load); it also reads the street names from the sidebar.
3. Round 1: the sessions as above. They end; after ``--settle-s`` (default
   125 s: Streamlit keeps a session two minutes after its browser left, for
   a reconnect; ``--session-ttl-s`` shortens that time and the default settle
   with it) the server's heap is settled (those sessions dropped and shut
   down, a full collection) and sampled. Rounds 2, 3, ... (``--rounds``,
   default 2) repeat the morning with new sessions; growth is the difference
   between two successive settled samples, with what the runtime still holds
   for sessions (media files, dataframe sources) in each.
4. Median and 95th percentile per step and round (all sessions, websocket and
   browser sessions separately), errors with their step and message (a
   session that did not finish counts), server RSS (peak in each round and
   settled), Python heap blocks, Python's own full collections in each round
   (every session waits while one runs).
5. Where the time goes, per round: the server's CPU (cores busy), the client's
   own (this process, one event loop for every websocket session, and how
   late that loop woke; Chromium's processes), each websocket step cut at the
   server's timestamps (to the server, waiting to start, the run and its CPU
   time, back to the client), the runs per page, page section and cache miss
   (built, or waited for another session building the same value), and for
   the largest number of sessions a py-spy profile of the thread holding the
   interpreter lock (whose code runs, under which project function). Written
   to the "Load: 30, 60 and 120 sessions" section of bench/RESULTS.md unless
   ``--no-write``. ``--dump
   FILE`` also writes every session's step times, and when each step ended,
   as JSON: steps of many sessions ending at the same moment show a queue.

Run: ``.venv/bin/python -m bench.bench_load`` (about 30 minutes on 2 cores);
``--sessions 30 --rounds 3`` for thirty alone. A quick check of the harness on
the bundled demo:
``... -m bench.bench_load --data data/shifeng_demo.gpkg --sessions 4 --browsers 1 --rounds 1 --settle-s 5 --no-write``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bench.results import WUCHANG, machine_line, write_section
from bench.server import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS, start_server
from bench.st_session import StepError, StSession

PASSWORD = "bench pass 2026"
ROLES = ("leader", "planner", "staff")
STEPS = ("sign_in_overview", "change_street", "coverage", "cases", "change_period", "overdue_list", "download")
STEP_TIMEOUT_S = 120
WARM_UP_TIMEOUT_S = 600
MAX_SESSIONS = 120
MAX_BROWSERS = 10
# the labels the morning uses (Chinese, the app's default language)
L_NAME, L_PASSWORD, L_SIGN_IN = "用户名", "密码", "登录"
L_STREET, L_PERIOD, L_YEAR, L_VIEW, L_OVERDUE, L_EXCEL = "街道", "上报时间段", "最近一年", "视图", "逾期清零", "下载 Excel"
H_OVERVIEW, H_COVERAGE, H_CASES = "网格服务总览", "服务覆盖分析", "事件热点与办理"


@dataclass
class SessionResult:
    index: int
    kind: str  # "websocket" or "browser"
    user: str
    times: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    connect_s: float | None = None  # websocket: health, host-config, websocket handshake; browser: page to sign-in form
    session_id: str = ""  # the server's id of a websocket session (its runs in the server's timing records)
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)  # step -> (request sent, page drawn), Unix
    draw: dict[str, float] = field(default_factory=dict)  # browser: seconds from the script's end to the page drawn
    js_errors: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # browser requests to anything but loopback
    bytes_in: int = 0
    cache_hits: int = 0
    streets: list[str] = field(default_factory=list)  # the sidebar's streets, as this session saw them
    ended: dict[str, float] = field(default_factory=dict)  # when each step ended (Unix time)

    def took(self, step: str, seconds: float) -> None:
        now = time.time()
        self.times[step] = seconds
        self.ended[step] = now
        self.spans[step] = (now - seconds, now)


@contextmanager
def recording(res: SessionResult) -> Iterator[None]:
    """Record a failing step as the session's error, named by the step (and go on with the run); a cancelled
    session says so."""
    try:
        yield
    except asyncio.CancelledError:
        res.error = f"{failed_step(res)}: stopped at the round's deadline"
        raise
    except Exception as exc:
        res.error = f"{failed_step(res)}: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:240]}"


def failed_step(res: SessionResult) -> str:
    """The step a session was in when it stopped: the first it did not finish."""
    return next((step for step in STEPS if step not in res.times), "after the last step")


# --- the server -------------------------------------------------------------------------------

def _prepare_home(users: list[str]) -> Path:
    from geo.users import UserStore

    home = Path(tempfile.mkdtemp(prefix="gridatlas-load-home-"))
    store = UserStore(home)
    for i, name in enumerate(users):
        store.add(name, PASSWORD, ROLES[i % len(ROLES)])
    return home


def read_samples(samples: Path) -> list[dict]:
    if not samples.exists():
        return []
    return [json.loads(line) for line in samples.read_text().splitlines() if line.strip()]


def _mb(n: int | None) -> str:
    return "—" if n is None else f"{n / 1024 ** 2:,.0f} MB"


async def settled_sample(samples: Path, *, wait_s: float = 5.0) -> dict:
    """A sample taken right after a full collection in the server (after ``wait_s`` for sessions to wind down)."""
    await asyncio.sleep(wait_s)
    flag = Path(str(samples) + ".gc")
    flag.touch()
    for _ in range(60):
        await asyncio.sleep(0.5)
        got = [s for s in read_samples(samples) if s.get("collected")]
        if not flag.exists() and got:
            return got[-1]
    raise RuntimeError("the server's memory sampler did not answer")


# --- a websocket session's morning --------------------------------------------------------------

def _expect(ok: bool, what: str) -> None:
    if not ok:
        raise StepError(what)


async def ws_morning(res: SessionResult, url: str, streets: list[str], delay_s: float,
                     think: Callable[[], Awaitable[None]], *, timeout_s: float = STEP_TIMEOUT_S) -> SessionResult:
    await asyncio.sleep(delay_s)
    s = StSession(url, timeout_s=timeout_s)
    try:
        with recording(res):
            t0 = time.perf_counter()
            await s.connect()
            res.connect_s = time.perf_counter() - t0
            (await s.open("")).raise_for_errors()
            await s.fill(L_NAME, res.user)
            await s.fill(L_PASSWORD, PASSWORD)
            run = (await s.click(L_SIGN_IN)).raise_for_errors()
            _expect(any(H_OVERVIEW in h for h in s.headings()) and s.elements("metric"),
                    f"no overview after sign-in: {s.headings()[:3]}")
            res.took("sign_in_overview", run.seconds)
            box = s.find("selectbox", L_STREET, sidebar=True)
            res.streets = list(box.proto.options[1:])  # the first is "all streets"
            street = streets[res.index % len(streets)] if streets else res.streets[res.index % len(res.streets)]
            _expect(s.value(box) != street, f"{street} chosen already")

            await think()
            run = (await s.select(L_STREET, street, sidebar=True)).raise_for_errors()
            chosen = s.value(s.find("selectbox", L_STREET, sidebar=True))
            _expect(chosen == street, f"the street selectbox shows {chosen!r} after choosing {street!r}")
            shown = {row[L_STREET] for tb in s.html_tables() for row in tb if L_STREET in row}  # the street table
            _expect(shown == {street}, f"the overview's street table shows {sorted(shown)[:3]} after choosing {street!r}")
            res.took("change_street", run.seconds)

            for step, page, heading in (("coverage", "coverage", H_COVERAGE), ("cases", "cases", H_CASES)):
                await think()
                run = (await s.switch_page(page)).raise_for_errors()
                _expect(any(heading in h for h in s.headings()), f"{page}: headings {s.headings()[:3]}")
                _expect(s.value(s.find("selectbox", L_STREET, sidebar=True)) == street, f"{page}: street lost")
                res.took(step, run.seconds)

            await think()
            run = (await s.select(L_PERIOD, L_YEAR)).raise_for_errors()
            _expect(s.value(s.find("selectbox", L_PERIOD)) == L_YEAR, "the period did not change")
            res.took("change_period", run.seconds)

            await think()
            run = (await s.select(L_VIEW, L_OVERDUE)).raise_for_errors()
            s.find("download_button", L_EXCEL)  # the list and its downloads are drawn
            res.took("overdue_list", run.seconds)

            await think()
            body, arrived, run = await s.download(L_EXCEL)
            _expect(len(body) > 0 and body[:2] == b"PK", f"the Excel file has {len(body)} bytes")
            if run is not None:
                run.raise_for_errors()
            res.took("download", arrived)
    finally:
        res.bytes_in, res.cache_hits, res.session_id = s.bytes_in, s.cache_hits, s.session_id
        await s.close()
    return res


async def self_check(url: str, user: str) -> str:
    """A wrong password must give the sign-in error and no page; returns the error's text."""
    async with StSession(url, timeout_s=STEP_TIMEOUT_S) as s:
        (await s.open("")).raise_for_errors()
        await s.fill(L_NAME, user)
        await s.fill(L_PASSWORD, PASSWORD + " wrong")
        run = await s.click(L_SIGN_IN)
        if run.exceptions or not run.error_boxes or s.elements("metric") or not s.elements("text_input"):
            raise RuntimeError(f"self-check: a wrong password gave {run} with headings {s.headings()}")
        return run.error_boxes[0]


# --- a browser session's morning ------------------------------------------------------------------

async def _wait_idle(page, timeout_s: float) -> None:
    """Wait for a rerun to start (briefly) and then to finish (no running indicator)."""
    running = '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'
    try:
        await page.wait_for_selector(running, timeout=1500)
    except Exception:
        pass  # the rerun may have finished before we looked
    await page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    await page.wait_for_function(f"() => !document.querySelector('{running}')", timeout=timeout_s * 1000)


async def _wait_maps(page, timeout_s: float) -> None:
    """Every folium map on the page has Leaflet's vector layers drawn."""
    deadline = time.monotonic() + timeout_s
    while True:
        frames = page.locator('iframe[title="streamlit_folium.st_folium"]')
        n = await frames.count()
        drawn = 0
        for i in range(n):
            try:
                handle = await frames.nth(i).element_handle(timeout=2000)
                frame = await handle.content_frame() if handle else None
                if frame and await frame.evaluate(
                        "() => document.querySelectorAll('.leaflet-overlay-pane path, .leaflet-marker-pane *, "
                        ".leaflet-overlay-pane canvas').length > 0"):
                    drawn += 1
            except Exception:
                pass  # replaced during a rerun: look again
        if n > 0 and drawn == n:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{drawn} of {n} maps drawn after {timeout_s:.0f} s")
        await asyncio.sleep(0.2)


async def _drawn(page, *, maps: bool, timeout_s: float = STEP_TIMEOUT_S) -> float:
    """Wait for the run to finish and (``maps``) the maps to be drawn; the seconds from the run's end to drawn."""
    await _wait_idle(page, timeout_s)
    idle = time.perf_counter()
    if await page.locator('[data-testid="stException"]').count():
        raise RuntimeError("exception box: " + (await page.locator('[data-testid="stException"]').first.inner_text())[:300])
    if maps:
        await _wait_maps(page, timeout_s)
    return time.perf_counter() - idle


async def _choose(page, label: str, option: str, *, sidebar: bool = False) -> None:
    scope = page.locator('[data-testid="stSidebar"]') if sidebar else page
    box = scope.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    await box.click()
    await page.locator('[role="option"]').filter(has_text=option).first.click()


def _is_local(url: str) -> bool:
    return url.startswith(("data:", "blob:", "about:")) or (urlparse(url).hostname or "") in LOCAL_HOSTS


async def browser_morning(res: SessionResult, browser, url: str, streets: list[str], delay_s: float,
                          think: Callable[[], Awaitable[None]]) -> SessionResult:
    await asyncio.sleep(delay_s)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN",
                                        accept_downloads=True)
    # watched, not routed: routing every request through this process slowed the browsers down
    context.on("request", lambda req: None if _is_local(req.url) else res.left.append(req.url))
    page = await context.new_page()
    page.on("pageerror", lambda exc: res.js_errors.append(str(exc)))
    page.set_default_timeout(STEP_TIMEOUT_S * 1000)

    async def step(name: str, action, *, maps: bool) -> None:
        t0 = time.perf_counter()
        await action()
        res.draw[name] = await _drawn(page, maps=maps)
        res.took(name, time.perf_counter() - t0)

    try:
        with recording(res):
            street = streets[res.index % len(streets)]
            t0 = time.perf_counter()
            await page.goto(url)
            await page.wait_for_selector('input[type="password"]')
            res.connect_s = time.perf_counter() - t0

            async def sign_in():
                await page.locator('input[type="text"]').first.fill(res.user)
                await page.locator('input[type="password"]').fill(PASSWORD)
                await page.locator('[data-testid="stFormSubmitButton"] button').click()
                await page.wait_for_selector('[data-testid="stMetric"]')

            await step("sign_in_overview", sign_in, maps=True)
            await think()
            await step("change_street", lambda: _choose(page, L_STREET, street, sidebar=True), maps=True)

            async def nav(link: str, heading: str):
                await page.locator('[data-testid="stSidebarNav"] a').filter(has_text=link).first.click()
                await page.wait_for_function(
                    f"() => [...document.querySelectorAll('h1')].some(h => h.innerText.includes({json.dumps(heading)}))")

            await think()
            await step("coverage", lambda: nav("覆盖分析", H_COVERAGE), maps=True)
            await think()
            await step("cases", lambda: nav("事件热点", H_CASES), maps=True)
            await think()
            await step("change_period", lambda: _choose(page, L_PERIOD, L_YEAR), maps=True)

            async def overdue():
                await page.locator('[data-testid="stRadio"] label').filter(has_text=L_OVERDUE).first.click()
                await page.wait_for_selector('[data-testid="stDownloadButton"]')

            await think()
            await step("overdue_list", overdue, maps=False)
            await think()
            t0 = time.perf_counter()
            async with page.expect_download(timeout=STEP_TIMEOUT_S * 1000) as dl:
                await page.locator('[data-testid="stDownloadButton"] button').filter(has_text="Excel").first.click()
            download = await dl.value
            size = os.path.getsize(await download.path())
            if size < 1000:
                raise RuntimeError(f"the downloaded file has {size} bytes")
            res.took("download", time.perf_counter() - t0)
    finally:
        await context.close()
    return res


# --- a round --------------------------------------------------------------------------------------

def browser_slots(n: int, browsers: int) -> set[int]:
    """Which of the ``n`` sessions are browsers: ``browsers`` of them, spread evenly over the ramp."""
    return {min(n - 1, round(k * n / browsers)) for k in range(browsers)} if browsers else set()


@dataclass
class ClientLoad:
    """What the load test's own processes spent during a round (they share the two cores with the server)."""

    wall_s: float
    cpu_s: float  # this process (every websocket session: one asyncio loop)
    children_cpu_s: float  # Playwright's driver and the Chromium processes
    lag_p95_s: float  # how late this process's event loop woke up (a late loop delays every websocket step)
    lag_max_s: float


async def _watch_loop(stop: asyncio.Event, lags: list[float], every_s: float = 0.1) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(every_s)
        lags.append(max(0.0, time.perf_counter() - t0 - every_s))


def _children_cpu(seen: dict[int, float]) -> None:
    """Each child process's CPU seconds so far (Playwright's driver, Chromium's processes), into ``seen`` by pid."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        try:
            if child.name() == "py-spy":  # the profiler's own CPU is told with its profile
                continue
            c = child.cpu_times()
            seen[child.pid] = c.user + c.system
        except psutil.Error:  # ended meanwhile: its last sample stands
            pass


async def _watch_children(stop: asyncio.Event, seen: dict[int, float], every_s: float = 1.0) -> None:
    """Sample the children's CPU every second: a browser context's renderer ends before the round does."""
    while not stop.is_set():
        _children_cpu(seen)
        try:
            await asyncio.wait_for(stop.wait(), every_s)
        except TimeoutError:
            pass


def mark_unfinished(results: list[SessionResult]) -> None:
    """A session that did not go through every step and has no error yet (stopped before it began) gets one."""
    for r in results:
        if r.error is None and any(step not in r.times for step in STEPS):
            done = [step for step in STEPS if step in r.times]
            r.error = f"{failed_step(r)}: did not finish (steps done: {', '.join(done) or 'none'})"


async def run_round(pw, url: str, *, rnd: int, users: list[str], browsers: int, per_browser: int, ramp_s: float,
                    think_s: tuple[float, float], streets: list[str], seed: int,
                    deadline_s: float) -> tuple[list[SessionResult], ClientLoad]:
    n = len(users)
    slots = sorted(browser_slots(n, browsers))
    chromiums = []
    if slots:
        chromiums = [await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                     for _ in range((len(slots) + per_browser - 1) // per_browser)]
    results, tasks = [], []
    stop, lags, before, seen = asyncio.Event(), [], {}, {}
    _children_cpu(before)
    watchers = [asyncio.create_task(_watch_loop(stop, lags)), asyncio.create_task(_watch_children(stop, seen))]
    t0, cpu0 = time.perf_counter(), time.process_time()
    try:
        for i, user in enumerate(users):
            rng = random.Random(seed * 1_000_000 + rnd * 1_000 + i)

            async def think(rng: random.Random = rng) -> None:
                await asyncio.sleep(rng.uniform(*think_s))

            delay = ramp_s * i / max(n - 1, 1)
            if i in slots:
                res = SessionResult(i, "browser", user)
                coro = browser_morning(res, chromiums[slots.index(i) // per_browser], url, streets, delay, think)
            else:
                res = SessionResult(i, "websocket", user)
                coro = ws_morning(res, url, streets, delay, think)
            results.append(res)
            tasks.append(asyncio.create_task(coro))
        _, pending = await asyncio.wait(tasks, timeout=deadline_s)
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        _children_cpu(seen)
        client = ClientLoad(time.perf_counter() - t0, time.process_time() - cpu0,
                            sum(v - before.get(pid, 0.0) for pid, v in seen.items()),
                            p95(lags) if lags else 0.0, max(lags, default=0.0))
    finally:
        stop.set()
        await asyncio.gather(*watchers)
        for b in chromiums:
            await b.close()
    for t, r in zip(tasks, results, strict=True):
        if r.error is None and t.done() and not t.cancelled() and t.exception() is not None:
            r.error = f"{type(t.exception()).__name__}: {str(t.exception())[:240]}"
    mark_unfinished(results)
    return results, client


def _dump(path: Path, rounds: list[list[SessionResult]], starts: list[float]) -> None:
    """Every session of every round as JSON; a step's end is given in seconds from its round's start."""
    out = [{"round": i + 1, "sessions": [
        {"index": r.index, "kind": r.kind, "user": r.user, "error": r.error, "times": r.times,
         "ended_s": {k: round(v - t0, 3) for k, v in r.ended.items()}} for r in results]}
        for i, (results, t0) in enumerate(zip(rounds, starts, strict=True))]
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1))


# --- where the time goes: the server's timing records and a sampling profile ----------------------------

def read_runs(path: Path) -> list[dict]:
    """The server's script runs (bench/_load_server.py's timing hooks), one dict per run."""
    return read_samples(path)


def runs_between(runs: list[dict], t0: float, t1: float) -> list[dict]:
    return [r for r in runs if t0 <= r["start"] <= t1]


def cores_busy(samples: list[dict], t0: float, t1: float) -> float | None:
    """The server's CPU use between ``t0`` and ``t1`` in cores (CPU seconds per second), from its samples."""
    inside = [s for s in samples if t0 <= s["t"] <= t1 and "cpu_s" in s]
    if len(inside) < 2 or inside[-1]["t"] <= inside[0]["t"]:
        return None
    return (inside[-1]["cpu_s"] - inside[0]["cpu_s"]) / (inside[-1]["t"] - inside[0]["t"])


def server_cpu_s(samples: list[dict], t0: float, t1: float) -> float | None:
    """The server's CPU seconds between its first and last sample inside ``t0``..``t1``."""
    inside = [s for s in samples if t0 <= s["t"] <= t1 and "cpu_s" in s]
    return inside[-1]["cpu_s"] - inside[0]["cpu_s"] if len(inside) >= 2 else None


def peak_rss(samples: list[dict], t0: float, t1: float) -> int | None:
    inside = [s["rss"] for s in samples if t0 <= s["t"] <= t1]
    return max(inside) if inside else None


def _stats(values: list[float]) -> tuple[float, float]:
    return (statistics.median(values), p95(values)) if values else (float("nan"), float("nan"))


def page_rows(runs: list[dict]) -> list[dict]:
    """Per page: its runs, median and p95 wall, the seconds spent in all, of them on the script thread's CPU, and
    the median wait from the request reaching the server until its run started; the most time first."""
    by: dict[str, list[dict]] = {}
    for r in runs:
        by.setdefault(r["page"] or "(sign-in)", []).append(r)
    rows = []
    for page, rs in by.items():
        walls = [r["end"] - r["start"] for r in rs]
        queues = [r["start"] - r["requested"] for r in rs if r.get("requested") is not None]
        med, high = _stats(walls)
        rows.append({"page": page, "runs": len(rs), "median_s": med, "p95_s": high, "wall_s": sum(walls),
                     "cpu_s": sum(r["cpu_s"] for r in rs), "queue_median_s": _stats(queues)[0]})
    return sorted(rows, key=lambda row: -row["wall_s"])


def section_rows(runs: list[dict]) -> list[dict]:
    """Per page section (and, per page, the part of its runs outside any section): count, median and p95 wall,
    seconds in all; the most time first. Nested sections count in each."""
    by: dict[str, list[float]] = {}
    for r in runs:
        inside = 0.0
        for name, wall, _cpu in r["sections"]:
            by.setdefault(name, []).append(wall)
            inside += wall
        by.setdefault(f"({r['page'] or 'sign-in'}: outside sections)", []).append(r["end"] - r["start"] - inside)
    rows = []
    for name, walls in by.items():
        med, high = _stats(walls)
        rows.append({"section": name, "n": len(walls), "median_s": med, "p95_s": high, "wall_s": sum(walls)})
    return sorted(rows, key=lambda row: -row["wall_s"])


def cache_rows(runs: list[dict]) -> list[dict]:
    """Per cached function (Streamlit's cache): misses in these runs, how many of them waited for another
    session's computation of the same value and for how long in all, the seconds spent computing (a miss's time
    less its wait) and the longest miss; the most time first."""
    by: dict[str, list[tuple[float, float]]] = {}
    for r in runs:
        for name, total, waited in r.get("caches", []):
            by.setdefault(name, []).append((total, waited))
    rows = [{"cache": name, "misses": len(v), "waited_n": sum(1 for _, w in v if w >= 0.001),
             "waited_s": sum(w for _, w in v), "built_s": sum(t - w for t, w in v), "max_s": max(t for t, _ in v)}
            for name, v in by.items()]
    return sorted(rows, key=lambda row: -(row["waited_s"] + row["built_s"]))


BREAKDOWN = ("to_server", "queue", "run", "run_cpu", "back")


def step_parts(results: list[SessionResult], runs: list[dict]) -> dict[str, dict[str, list[float]]]:
    """Each websocket step cut at the server's timestamps: ``to_server`` (sent until the request reached the
    server), ``queue`` (until its run started), ``run`` (the run's wall time; ``run_cpu`` of it on the script
    thread's CPU), ``back`` (from the run's end until the client had the whole page). Steps without a run of
    their session inside (the download: its file is made outside any run, then fetched over HTTP) are left out.
    Step -> part -> values."""
    by_session: dict[str, list[dict]] = {}
    for r in runs:
        by_session.setdefault(r["session"], []).append(r)
    out: dict[str, dict[str, list[float]]] = {}
    for res in results:
        if res.kind != "websocket" or not res.session_id:
            continue
        mine = sorted(by_session.get(res.session_id, []), key=lambda r: r["start"])
        for step, (sent, done) in res.spans.items():
            inside = [r for r in mine if sent - 0.05 <= (r.get("requested") or r["start"]) <= done
                      and r["end"] <= done + 0.05]
            if not inside:
                continue
            first = inside[0]
            requested = first.get("requested") or first["start"]
            parts = out.setdefault(step, {k: [] for k in BREAKDOWN})
            parts["to_server"].append(max(0.0, requested - sent))
            parts["queue"].append(first["start"] - requested)
            parts["run"].append(sum(r["end"] - r["start"] for r in inside))
            parts["run_cpu"].append(sum(r["cpu_s"] for r in inside))
            parts["back"].append(max(0.0, done - inside[-1]["end"]))
    return out


def start_profile(pid: int, out: Path, *, rate: int, duration_s: float):
    """py-spy sampling the server (only the thread that holds the interpreter lock, without pausing the process);
    None when py-spy is not installed."""
    import subprocess

    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        return None
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--gil", "--nonblocking", "--full-filenames",
                             "--format", "raw", "--rate", str(rate), "--duration", str(max(1, int(duration_s))),
                             "--output", str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def profiler_cpu_s(proc) -> float | None:
    """The CPU seconds py-spy itself has used so far (it shares the machine with the server)."""
    import psutil

    try:
        c = psutil.Process(proc.pid).cpu_times()
    except psutil.Error:
        return None
    return c.user + c.system


def stop_profile(proc) -> str:
    """End the profile (py-spy writes its file on SIGINT); py-spy's last words."""
    import signal
    import subprocess

    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        err, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        err, _ = proc.communicate()
    lines = (err or b"").decode(errors="replace").strip().splitlines()
    said = [line for line in lines if "Samples:" in line or "Error" in line]
    return (said or lines or [""])[-1].removeprefix("py-spy> ").strip()


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    """py-spy's raw output (collapsed stacks: ``outer;...;inner N`` per line) as (frames outermost first, count)."""
    stacks = []
    for line in text.splitlines():
        head, _, count = line.rstrip().rpartition(" ")
        if head and count.isdigit():
            stacks.append((head.split(";"), int(count)))
    return stacks


PROJECT_DIRS = ("ui", "analysis", "geo", "pages", "reports", "i18n", "commands")


def _frame_file(frame: str) -> str:
    """``func (path:line)`` -> path."""
    inner = frame[frame.rfind("(") + 1:].rstrip(")")
    return inner.rpartition(":")[0] or inner


def frame_owner(frame: str) -> str:
    """Who a frame's code belongs to: a project module (``ui/maps.py``), an installed package (``streamlit``),
    or the standard library (``stdlib``)."""
    path = _frame_file(frame)
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    parts = Path(path).parts
    for i, part in enumerate(parts):
        if part in PROJECT_DIRS and i + 1 < len(parts):
            return "/".join(parts[i:])
    if Path(path).name == "app.py":
        return "app.py"
    if "bench" in parts:
        return "bench"
    return "stdlib" if "/lib/python3" in path else Path(path).name


def _func(frame: str) -> str:
    name, _, rest = frame.partition(" (")
    owner = frame_owner(frame)
    return f"{owner}: {name}" if owner else name


def profile_summary(stacks: list[tuple[list[str], int]], *, top: int = 12) -> dict:
    """Samples of the lock-holding thread: by the package whose code was running (the innermost frame), and by
    the innermost project function on the stack (what project code the time is spent under)."""
    total = sum(n for _, n in stacks)
    by_owner: collections.Counter[str] = collections.Counter()
    by_project: collections.Counter[str] = collections.Counter()
    for frames, n in stacks:
        by_owner[frame_owner(frames[-1])] += n
        project = [f for f in frames if "/" in frame_owner(f) or frame_owner(f) == "app.py"]
        by_project[_func(project[-1]) if project else "(no project code on the stack)"] += n
    return {"samples": total, "by_owner": by_owner.most_common(top), "by_project": by_project.most_common(top)}


# --- figures --------------------------------------------------------------------------------------

def p95(values: list[float]) -> float:
    """95th percentile, nearest rank (of 30 values: the 29th smallest)."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, -(-95 * len(s) // 100) - 1))]


def step_table(rounds: list[list[SessionResult]], kind: str | None = None) -> str:
    heads = "".join(f" round {i} median s | round {i} p95 s |" for i in range(1, len(rounds) + 1))
    lines = [f"| step |{heads} max s | n |", "|---|" + "---|---|" * len(rounds) + "---|---|"]
    for name in STEPS:
        cells = []
        every = []
        for results in rounds:
            vals = [r.times[name] for r in results if name in r.times and kind in (None, r.kind)]
            every += vals
            cells += [f"{statistics.median(vals):.2f}", f"{p95(vals):.2f}"] if vals else ["—", "—"]
        label = name.replace("_", " ")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {max(every):.2f} | {len(every)} |" if every
                     else f"| {label} | " + " | ".join(["—"] * (2 * len(rounds) + 1)) + " | 0 |")
    return "\n".join(lines)


def _grown_types(a: dict, b: dict, n: int = 6) -> str:
    ta, tb = a.get("types") or {}, b.get("types") or {}
    diff = sorted(((tb.get(k, 0) - ta.get(k, 0), k) for k in set(ta) | set(tb)), reverse=True)[:n]
    return ", ".join(f"`{k}` {d:+,}" for d, k in diff if d > 0)


def _held_line(s: dict) -> str:
    if "media_files" not in s:
        return "—"
    return (f"{s['stored_sessions']} sessions kept for a reconnect; media files {s['media_files']} "
            f"({_mb(s['media_bytes'])}) referenced by {s['media_sessions']} sessions; "
            f"dataframe sources {s['df_sources']} of {s['df_sessions']} sessions")


@dataclass
class SizeRun:
    """Everything measured for one number of sessions: its own server, warm-up and rounds."""

    size: int
    rounds: list[list[SessionResult]] = field(default_factory=list)
    clients: list[ClientLoad] = field(default_factory=list)
    windows: list[tuple[float, float]] = field(default_factory=list)  # each round's start and end (Unix)
    settled: list[dict] = field(default_factory=list)  # after the warm-up, then after each round
    samples: list[dict] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    log_errors: list[int] = field(default_factory=list)  # tracebacks / section failures in the server's log per round
    profiles: dict[int, dict] = field(default_factory=dict)  # round index -> profile summary
    check: str = ""
    warm: dict[str, float] = field(default_factory=dict)
    server_start_s: float = 0.0
    streets_ready_s: float | None = None  # from healthy until the server's warm-up logged its streets ready
    started: float = 0.0


def round_figures(results: list[SessionResult]) -> dict[str, tuple[float, float, int]]:
    """Step -> (median s, p95 s, n) over the round's sessions that went through it."""
    out = {}
    for name in STEPS:
        vals = [r.times[name] for r in results if name in r.times]
        if vals:
            out[name] = (statistics.median(vals), p95(vals), len(vals))
    return out


def worst_p95(results: list[SessionResult]) -> tuple[float, str]:
    """The round's highest step p95 and its step (nan, "—" without any step)."""
    figs = round_figures(results)
    if not figs:
        return float("nan"), "—"
    step = max(figs, key=lambda k: figs[k][1])
    return figs[step][1], step


def _f(v: float | None, fmt: str = ".2f") -> str:
    return "—" if v is None or v != v else format(v, fmt)


def _parts_table(parts: dict[str, dict[str, list[float]]]) -> str:
    lines = ["| step | n | to server median / p95 s | queue median / p95 s | run median / p95 s | "
             "run on CPU median / p95 s | back median / p95 s |", "|---|---|---|---|---|---|---|"]
    for step in STEPS:
        if step not in parts:
            continue
        cells = [" / ".join(_f(x) for x in _stats(parts[step][k])) for k in BREAKDOWN]
        lines.append(f"| {step.replace('_', ' ')} | {len(parts[step]['run'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pages_table(runs: list[dict]) -> str:
    lines = ["| page | runs | median s | p95 s | wall s in all | of it on CPU | median wait to start s |",
             "|---|---|---|---|---|---|---|"]
    for row in page_rows(runs):
        share = row["cpu_s"] / row["wall_s"] if row["wall_s"] else float("nan")
        lines.append(f"| {row['page']} | {row['runs']} | {_f(row['median_s'])} | {_f(row['p95_s'])} | "
                     f"{row['wall_s']:.1f} | {_f(share * 100, '.0f')} % | {_f(row['queue_median_s'])} |")
    return "\n".join(lines)


def _sections_table(runs: list[dict], top: int = 14) -> str:
    lines = ["| section | n | median s | p95 s | wall s in all |", "|---|---|---|---|---|"]
    for row in section_rows(runs)[:top]:
        lines.append(f"| {row['section']} | {row['n']} | {_f(row['median_s'])} | {_f(row['p95_s'])} | "
                     f"{row['wall_s']:.1f} |")
    return "\n".join(lines)


def _caches_table(runs: list[dict], top: int = 10) -> str:
    rows = cache_rows(runs)
    if not rows:
        return "(no cache misses)"
    lines = ["| cached function | misses | of them waited for another session | waited s in all | computing s in all "
             "| longest miss s |", "|---|---|---|---|---|---|"]
    for row in rows[:top]:
        lines.append(f"| `{row['cache']}` | {row['misses']} | {row['waited_n']} | {row['waited_s']:.1f} | "
                     f"{row['built_s']:.1f} | {row['max_s']:.2f} |")
    return "\n".join(lines)


def _profile_lines(prof: dict) -> str:
    if not prof:
        return "- sampling profile: none (py-spy not installed, or not asked for)"
    held = prof["samples"] / prof["ticks"] if prof.get("ticks") else float("nan")
    owners = ", ".join(f"{k} {n / prof['samples']:.0%}" for k, n in prof["by_owner"]) if prof["samples"] else "—"
    project = "; ".join(f"`{k}` {n / prof['samples']:.0%}" for k, n in prof["by_project"]) if prof["samples"] else "—"
    return (f"- sampling profile (py-spy {prof['rate']} Hz, only the thread holding the interpreter lock, "
            f"{prof['seconds']:.0f} s): a thread held the lock in {prof['samples']:,} of {prof['ticks']:,} ticks "
            f"({_f(held * 100, '.0f')} %; {prof.get('note') or 'py-spy said nothing'}; py-spy itself used "
            f"{_f(prof.get('cpu_s'), '.1f')} s of CPU)\n"
            f"  - whose code ran (innermost frame): {owners}\n"
            f"  - under which project function (innermost project frame on the stack): {project}")


def size_report(args, sr: SizeRun) -> str:
    """One number of sessions: the step tables per round, per-round load, memory, and where the time went."""
    rounds = sr.rounds
    every_session = [r for rs in rounds for r in rs]
    errors = [(i + 1, r) for i, rs in enumerate(rounds) for r in rs if r.error]
    js = sorted({e for r in every_session for e in r.js_errors})
    left = sorted({u for r in every_session for u in r.left})
    gib = 1024 ** 3
    n_browsers = len(browser_slots(sr.size, args.browsers))
    partial = (f"**{len(rounds)} of {args.rounds} rounds (the next still running when written).** "
               if len(rounds) < args.rounds else "")
    per_round = []
    for i, (rs, cl, (t0, t1)) in enumerate(zip(rounds, sr.clients, sr.windows, strict=True)):
        worst, step = worst_p95(rs)
        ws = [r for r in rs if r.kind == "websocket"]
        ws_worst, _ = worst_p95(ws)
        connects = [r.connect_s for r in ws if r.connect_s is not None]
        settled = sr.settled[i + 1]["rss"] / gib if len(sr.settled) > i + 1 else None
        cpu = server_cpu_s(sr.samples, t0, t1)
        per_round.append(
            f"| {i + 1} | {len(rs)} | {sum(1 for r in rs if r.error)} | {_f(worst)} ({step.replace('_', ' ')}) | "
            f"{_f(ws_worst)} | {_f((peak_rss(sr.samples, t0, t1) or 0) / gib)} GB | {_f(settled)} GB | "
            f"{_f(cores_busy(sr.samples, t0, t1))} | {_f(None if cpu is None else cpu / len(rs))} | "
            f"{cl.cpu_s / cl.wall_s:.2f} | {cl.children_cpu_s / cl.wall_s:.2f} | "
            f"{_f(cl.lag_p95_s)} / {_f(cl.lag_max_s)} | {' / '.join(_f(x) for x in _stats(connects))} | "
            f"{sr.log_errors[i] if i < len(sr.log_errors) else '—'} | {cl.wall_s:.0f} s |")
    growth = [((b["rss"] - a["rss"]) / 1024 ** 2, b["blocks"] - a["blocks"],
               ((b.get("rss_trimmed") or 0) - (a.get("rss_trimmed") or 0)) / 1024 ** 2)
              for a, b in zip(sr.settled[1:], sr.settled[2:], strict=False)]
    growth_lines = "; ".join(f"round {i + 1} -> {i + 2}: RSS {g[0]:+.0f} MB, after malloc_trim {g[2]:+.0f} MB, "
                             f"heap blocks {g[1]:+,}" for i, g in enumerate(growth)) or "one round only"
    pauses = [s.get("full_gc") or [] for s in sr.settled]
    gc_line = "; ".join(
        f"round {i + 1}: {len(b) - len(a)}" + (f" (longest {max(b[len(a):]):.2f} s)" if len(b) > len(a) else "")
        for i, (a, b) in enumerate(zip(pauses, pauses[1:], strict=False))) or "—"
    settled_rows = "\n".join(
        f"| {'after warm-up' if i == 0 else f'after round {i}'} | {s['rss'] / gib:.2f} GB | {_mb(s.get('rss_trimmed'))} "
        f"| {s['blocks']:,} | {s['objects']:,} | {_held_line(s)} |"
        for i, s in enumerate(sr.settled))
    draws = {name: [r.draw[name] for r in every_session if name in r.draw] for name in STEPS}
    draw_line = "; ".join(f"{k.replace('_', ' ')} {_f(statistics.median(v))} s" for k, v in draws.items() if v) or "—"
    grew = _grown_types(sr.settled[1], sr.settled[-1]) if len(sr.settled) > 2 else ""
    where = []
    for i, (rs, (t0, t1)) in enumerate(zip(rounds, sr.windows, strict=True)):
        runs = runs_between(sr.runs, t0, t1)
        walls = [r["end"] - r["start"] for r in runs]
        cpu = sum(r["cpu_s"] for r in runs)
        where.append(f"""Round {i + 1}: {len(runs)} script runs, {sum(walls):.0f} s of script time in all over
{t1 - t0:.0f} s ({sum(walls) / max(t1 - t0, 1e-9):.1f} runs at a time on average), {cpu:.0f} s of it on a script
thread's CPU ({_f(cpu / sum(walls) * 100 if walls else float('nan'), '.0f')} %); the rest waited (for the interpreter
lock, a lock, or I/O).

Websocket steps cut at the server's timestamps:

{_parts_table(step_parts(rs, runs))}

By page:

{_pages_table(runs)}

Cache misses (Streamlit's cache computes a missing value once; the other sessions asking for it wait):

{_caches_table(runs)}
""" + (f"""
By page section (the largest; "outside sections": the sign-in gate, the sidebar, the page's own code):

{_sections_table(runs)}

{_profile_lines(sr.profiles.get(i, {}))}
""" if i in sr.profiles or sr.size == max(args.sessions) else ""))
    return f"""### {sr.size} sessions

{partial}{sr.size} sessions per round, {sr.size - n_browsers} over Streamlit's websocket protocol and
{n_browsers} in headless Chromium, started over {args.ramp_s:.0f} s; a fresh server (healthy in
{sr.server_start_s:.1f} s; its warm-up had every street ready {_f(sr.streets_ready_s)} s later, as a server
started before the morning has), then the self-check and the warm-up session (overview
{_f(sr.warm.get('sign_in_overview'))} s, coverage {_f(sr.warm.get('coverage'))} s, cases {_f(sr.warm.get('cases'))} s).

All sessions:

{step_table(rounds)}

Websocket sessions:

{step_table(rounds, "websocket")}

Browser sessions:

{step_table(rounds, "browser")}

Per round ("server CPU": cores busy in the server process, and its CPU seconds in the round per session;
"client CPU": this process, every websocket session
on one event loop, in cores; "Chromium": the browsers' processes, in cores; "loop late": how late the client's
event loop woke, p95 / max s; "connect": a websocket session's HTTP checks and handshake, median / p95 s;
"log": tracebacks and failed sections in the server's log):

| round | sessions | errors | worst step p95 s | worst websocket p95 s | server peak RSS | settled after | server CPU | server CPU s per session | client CPU | Chromium | loop late s | connect s | log | wall |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(per_round)}

- errors: {len(errors)} of {len(every_session)} sessions{''.join(f'; round {a} session {r.index} ({r.kind}): {r.error}' for a, r in errors[:5])}
- self-check: a wrong password gives the sign-in error ({sr.check}); browser script errors: {len(js)}{(' (' + '; '.join(js[:3]) + ')') if js else ''}; browser requests leaving the machine: {len(left)}
- browsers, from the script's end until the page was drawn (median): {draw_line}
- Python's own full collections during each round: {gc_line}
- growth between rounds (settled samples): {growth_lines}
- objects the collector tracks, by type, after round 1 -> after the last round (the most grown): {grew or "—"}

| when | RSS | after malloc_trim | heap blocks | objects | held per session by the runtime |
|---|---|---|---|---|---|
{settled_rows}

#### Where the time goes, {sr.size} sessions

{chr(10).join(where)}"""


def report(args, data: Path, size_runs: list[SizeRun], header: str) -> str:
    """The figures so far, every number of sessions."""
    worst = "; ".join(
        f"{sr.size}: " + ", ".join(f"round {i + 1} {_f(worst_p95(rs)[0])} s" for i, rs in enumerate(sr.rounds))
        for sr in size_runs if sr.rounds)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    ttl = ("" if args.session_ttl_s is None else
           f" Sessions whose client left were kept {args.session_ttl_s:g} s for a reconnect (Streamlit: 120 s), so "
           f"the settled samples came {args.settle_s:g} s after a round.")
    switch = ("" if args.switch_interval_s is None else
              f" The server's switch interval was set to {args.switch_interval_s:g} s (an experiment; Python's is 0.005 s).")
    if args.max_runs is not None:
        switch += f" At most {args.max_runs} script runs at once in the server (an experiment; the others waited)."
    return f"""{header}; load average {load} at the end (the machine is shared). Data: `{data.name}`.{ttl}{switch}
Server and clients on the same machine; each number of sessions on a fresh server. Each session signs in (one
user per session: leaders, planners, staff) and goes through the morning: overview, change street, coverage,
cases, change period (最近一年), overdue list, download it (Excel), with a think time of
{args.think_s[0]:g}–{args.think_s[1]:g} s between steps. A step is timed from the request until the page is
drawn: websocket sessions (bench/st_session.py) until the run has finished with no exception or error box in
the page's tree; browsers until the script has finished and every map on the page has Leaflet's layers drawn;
the download until the file has arrived. A session that fails a step, or does not finish, counts as an error.

- worst step p95 per round (target < 4 s for 30 and 60 sessions, every round): {worst or '—'}

""" + "\n\n".join(size_report(args, sr) for sr in size_runs if sr.rounds)


def _count_log_errors(log: Path) -> int:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return 0
    return text.count("Traceback (most recent call last)") + text.count("[error id")


async def streets_ready(log: Path, timeout_s: float = WARM_UP_TIMEOUT_S) -> float | None:
    """Seconds until the server's warm-up logs every street ready (`ui.serve.warm_streets`): the morning's sessions
    meet a server started before it, as staff do at 9:00. None if it did not say so within ``timeout_s`` (a
    dataset without streets, a warm-up that failed: the rounds then run all the same)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        text = log.read_text(errors="replace") if log.exists() else ""
        if "streets ready in" in text:
            return time.monotonic() - t0
        if "warm-up failed" in text or "warm-up skipped" in text:
            return None
        await asyncio.sleep(0.2)
    return None


async def run_size(args, pw, data: Path, size: int, home: Path, work: Path, on_round: Callable[[], None],
                   sr: SizeRun, run_deadline: float, first_round: int) -> None:
    """One number of sessions on its own server: self-check, warm-up, then ``args.rounds`` rounds."""
    samples = work / f"samples-{size}.jsonl"
    users = [f"user{i:03d}" for i in range(size)]
    env = {"GRIDATLAS_HOME": str(home), "BENCH_SAMPLES": str(samples)}
    if args.switch_interval_s is not None:
        env["BENCH_SWITCH_INTERVAL_S"] = str(args.switch_interval_s)
    if args.max_runs is not None:
        env["BENCH_MAX_RUNS"] = str(args.max_runs)
    ttl = [] if args.session_ttl_s is None else ["--server.disconnectedSessionTTL", str(int(args.session_ttl_s))]
    server = start_server(data, env_extra=env, module="bench._load_server", log_dir=work, args=ttl)
    sr.server_start_s, sr.started = server.start_s, time.time()
    print(f"{size} sessions: server {server.url} healthy in {server.start_s:.1f} s; log {server.log}", flush=True)
    try:
        sr.streets_ready_s = await streets_ready(server.log)
        print(f"{size} sessions: streets ready {_f(sr.streets_ready_s)} s after healthy", flush=True)
        sr.check = await self_check(server.url, "selfcheck")

        async def no_think() -> None:
            return None

        # one warm-up session loads the dataset and the page caches, as the first visitor of the day does
        warm = await ws_morning(SessionResult(0, "websocket", "warmup"), server.url, args.streets or [], 0.0,
                                no_think, timeout_s=WARM_UP_TIMEOUT_S)
        sr.warm = warm.times
        print("warm-up:", json.dumps({k: round(v, 2) for k, v in warm.times.items()}), warm.error, flush=True)
        if warm.error:
            raise RuntimeError(f"the warm-up session failed: {warm.error}")
        streets = args.streets or warm.streets
        sr.settled.append(await settled_sample(samples, wait_s=2))
        logged = _count_log_errors(server.log)
        profile_size = args.profile_size or max(args.sessions)
        for r in range(args.rounds):
            left = run_deadline - time.monotonic()
            if left < 30:
                print("the run's deadline has passed: no further round", flush=True)
                break
            t0 = time.time()
            prof = None
            if not args.no_profile and size == profile_size:
                prof_out = work / f"profile-{size}-{r + 1}.txt"
                prof = start_profile(server.proc.pid, prof_out, rate=args.profile_rate,
                                     duration_s=min(left, args.round_deadline_s) + 30)
            results, client = await run_round(pw, server.url, rnd=first_round + r, users=users,
                                              browsers=args.browsers, per_browser=args.per_browser,
                                              ramp_s=args.ramp_s, think_s=tuple(args.think_s), streets=streets,
                                              seed=args.seed, deadline_s=min(left, args.round_deadline_s))
            t1 = time.time()
            if prof is not None:
                prof_cpu = profiler_cpu_s(prof)
                note = stop_profile(prof)
                text = prof_out.read_text() if prof_out.exists() else ""
                sr.profiles[r] = {**profile_summary(parse_collapsed(text)), "rate": args.profile_rate,
                                  "seconds": t1 - t0, "ticks": int(args.profile_rate * (t1 - t0)), "note": note,
                                  "cpu_s": prof_cpu}
            sr.rounds.append(results)
            sr.clients.append(client)
            sr.windows.append((t0, t1))
            now_logged = _count_log_errors(server.log)
            sr.log_errors.append(now_logged - logged)
            logged = now_logged
            errors = [r_ for r_ in results if r_.error]
            print(f"{size} sessions, round {r + 1}: {t1 - t0:.0f} s, {len(errors)} errors", flush=True)
            for e in errors:
                print(f"   session {e.index} ({e.kind}, {e.user}): {e.error}", flush=True)
            # settled once Streamlit has let go of the round's sessions (it keeps a session two minutes after its
            # browser left, for a reconnect): growth then compares the server itself, not sessions in waiting
            sr.settled.append(await settled_sample(samples, wait_s=args.settle_s))
            sr.samples, sr.runs = read_samples(samples), read_runs(Path(str(samples) + ".runs"))
            on_round()
    finally:
        server.stop()


async def main_async(args) -> int:
    from playwright.async_api import async_playwright

    data = Path(args.data)
    if not data.exists():
        print(f"{data} is missing: run `make wuchang` first", file=sys.stderr)
        return 2
    header = machine_line()
    run_deadline = time.monotonic() + args.deadline_s
    home = _prepare_home([*(f"user{i:03d}" for i in range(max(args.sessions))), "warmup", "selfcheck"])
    work = Path(tempfile.mkdtemp(prefix="gridatlas-load-"))
    size_runs: list[SizeRun] = []

    def on_round() -> None:
        body = report(args, data, size_runs, header)
        print(body, flush=True)
        if args.dump:
            _dump(Path(args.dump), [rs for sr in size_runs for rs in sr.rounds],
                  [w[0] for sr in size_runs for w in sr.windows])
        if not args.no_write:
            write_section(TITLE, body)

    try:
        async with async_playwright() as pw:
            for size in args.sessions:
                if run_deadline - time.monotonic() < 60:
                    print("the run's deadline has passed: no further size", flush=True)
                    break
                sr = SizeRun(size)
                size_runs.append(sr)
                await run_size(args, pw, data, size, home, work, on_round, sr, run_deadline,
                               first_round=sum(len(x.rounds) for x in size_runs))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"work files (server logs, samples, profiles): {work}", flush=True)
    done = [r for sr in size_runs for rs in sr.rounds for r in rs]
    return 0 if done and not any(r.error for r in done) else 1


TITLE = "Load: 30, 60 and 120 sessions at 9:00 (bench/bench_load.py)"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, nargs="+", default=[30, 60, 120],
                   help=f"sessions per round, 1 to {MAX_SESSIONS}; several numbers: each on a fresh server, in turn")
    p.add_argument("--browsers", type=int, default=3, help=f"how many of them are Chromium (0 to {MAX_BROWSERS})")
    p.add_argument("--per-browser", type=int, default=10, help="browser contexts per Chromium process")
    p.add_argument("--settle-s", type=float, default=None,
                   help="after a round, wait this long before the settled sample (default: the session TTL + 5 s)")
    p.add_argument("--session-ttl-s", type=float, default=None,
                   help="how long the server keeps a session whose browser left, for a reconnect (Streamlit's "
                        "server.disconnectedSessionTTL, 120 s by default): shorter, the settled samples come sooner")
    p.add_argument("--ramp-s", type=float, default=15.0, help="sessions start evenly over this many seconds")
    p.add_argument("--think-s", type=float, nargs=2, default=[2.0, 6.0], metavar=("MIN", "MAX"),
                   help="think time between two steps, drawn uniformly from MIN..MAX seconds")
    p.add_argument("--seed", type=int, default=2026, help="seed of the think times")
    p.add_argument("--data", default=str(WUCHANG), help="the dataset (default cache/wuchang.gpkg)")
    p.add_argument("--streets", nargs="*", default=None, help="streets to choose (default: the sidebar's)")
    p.add_argument("--round-deadline-s", type=float, default=20 * 60, help="a round's sessions stop after this")
    p.add_argument("--deadline-s", type=float, default=90 * 60, help="no round starts after this")
    p.add_argument("--rounds", type=int, default=2, help="identical rounds of each number of sessions, 1 to 5")
    p.add_argument("--profile-size", type=int, default=None,
                   help="profile the server with py-spy during the rounds of this many sessions (default: the most)")
    p.add_argument("--profile-rate", type=int, default=50, help="py-spy's samples per second")
    p.add_argument("--no-profile", action="store_true", help="no sampling profile")
    p.add_argument("--max-runs", type=int, default=None,
                   help="an experiment: at most this many script runs at once in the server (the others wait)")
    p.add_argument("--switch-interval-s", type=float, default=None,
                   help="an experiment: the server's sys.setswitchinterval (Python's default 0.005 s)")
    p.add_argument("--dump", default=None, metavar="FILE",
                   help="also write every session's step times (and when each step ended) to FILE, as JSON")
    p.add_argument("--no-write", action="store_true", help="print the figures without writing RESULTS.md")
    args = p.parse_args(argv)
    if args.session_ttl_s is not None and not 5 <= args.session_ttl_s <= 600:
        p.error("--session-ttl-s must be 5 to 600")
    if args.settle_s is None:
        args.settle_s = (120.0 if args.session_ttl_s is None else args.session_ttl_s) + 5.0
    if not 1 <= args.rounds <= 5:
        p.error("--rounds must be 1 to 5")
    if not 1 <= len(args.sessions) <= 4 or not all(1 <= n <= MAX_SESSIONS for n in args.sessions):
        p.error(f"--sessions: one to four numbers, each 1 to {MAX_SESSIONS}")
    if not 0 <= args.browsers <= min(MAX_BROWSERS, min(args.sessions)):
        p.error(f"--browsers must be 0 to {min(MAX_BROWSERS, min(args.sessions))}")
    if not 0 <= args.think_s[0] <= args.think_s[1] <= 60:
        p.error("--think-s MIN MAX: 0 <= MIN <= MAX <= 60")
    if not 0 <= args.ramp_s <= 600:
        p.error("--ramp-s must be 0 to 600")
    if args.max_runs is not None and not 1 <= args.max_runs <= 64:
        p.error("--max-runs must be 1 to 64")
    if args.switch_interval_s is not None and not 0.0001 <= args.switch_interval_s <= 0.1:
        p.error("--switch-interval-s must be 0.0001 to 0.1")
    if not 1 <= args.profile_rate <= 200:
        p.error("--profile-rate must be 1 to 200")
    if args.browsers and not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        p.error(f"Chromium not found at {CHROMIUM}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
