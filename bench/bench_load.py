"""Thirty staff open the dashboard at 9:00: real sessions against one server on the Wuchang-scale data.

The model of "thirty staff at 9:00": ``--sessions`` people (default 30, one
user account each: leaders, planners and staff) come in at once — session
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
map on the page has Leaflet's layers in place; the download: until the file
has arrived (fetched from the server's media URL / Chromium's download).

What it does (loopback only: the server listens on 127.0.0.1 and the clients
refuse any other host, the browsers' requests are watched and any that leaves
the machine is reported; bounded: ``--sessions`` ≤ 60, ``--browsers`` ≤ 10,
every step under ``STEP_TIMEOUT_S`` (the warm-up's under ``WARM_UP_TIMEOUT_S``), every round and the whole run under
``--deadline-s``; stops by itself):

1. Starts the app (bench/_load_server.py: `streamlit run app.py` plus a
   memory sampler) on ``--data`` (default ``cache/wuchang.gpkg``, made by
   ``make wuchang``) with a fresh workspace holding one user per session.
2. Self-check: a websocket session signing in with a wrong password must see
   the sign-in error and stay on the sign-in form. Then one warm-up session
   goes through the morning (the first visitor of the day: the dataset and
   the page caches load); it also reads the street names from the sidebar.
3. Round 1: the sessions as above. They end; after ``--settle-s`` (default
   125 s: Streamlit keeps a session two minutes after its browser left, for
   a reconnect) the server's heap is settled (those sessions dropped and shut
   down, a full collection) and sampled. Rounds 2, 3, ... (``--rounds``,
   default 3) repeat the morning with new sessions; growth is the difference
   between two successive settled samples, with what the runtime still holds
   for sessions (media files, dataframe sources) in each.
4. Median and 95th percentile per step (all sessions, websocket and browser
   sessions separately), errors with their messages, server RSS (peak and
   settled), Python heap blocks, Python's own full collections in each round
   (every session waits while one runs); written to the "Load: thirty
   sessions" section of bench/RESULTS.md unless ``--no-write``. ``--dump
   FILE`` also writes every session's step times, and when each step ended,
   as JSON: steps of many sessions ending at the same moment show a queue.

Run: ``.venv/bin/python -m bench.bench_load`` (about 16 minutes on 2 cores).
A quick check of the harness on the bundled demo:
``... -m bench.bench_load --data data/shifeng_demo.gpkg --sessions 4 --browsers 1 --no-write``.
"""

from __future__ import annotations

import argparse
import asyncio
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
MAX_SESSIONS = 60
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
    js_errors: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # browser requests to anything but loopback
    bytes_in: int = 0
    cache_hits: int = 0
    streets: list[str] = field(default_factory=list)  # the sidebar's streets, as this session saw them
    ended: dict[str, float] = field(default_factory=dict)  # when each step ended (Unix time)

    def took(self, step: str, seconds: float) -> None:
        self.times[step] = seconds
        self.ended[step] = time.time()


@contextmanager
def recording(res: SessionResult) -> Iterator[None]:
    """Record a failing step as the session's error (and go on with the run); a cancelled session says so."""
    try:
        yield
    except asyncio.CancelledError:
        res.error = "stopped at the round's deadline"
        raise
    except Exception as exc:
        res.error = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:240]}"


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
            shown = {v for tb in s.tables() if "street" in tb.column_names for v in tb.column("street").to_pylist()}
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
        res.bytes_in, res.cache_hits = s.bytes_in, s.cache_hits
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


async def _drawn(page, *, maps: bool, timeout_s: float = STEP_TIMEOUT_S) -> None:
    await _wait_idle(page, timeout_s)
    if await page.locator('[data-testid="stException"]').count():
        raise RuntimeError("exception box: " + (await page.locator('[data-testid="stException"]').first.inner_text())[:300])
    if maps:
        await _wait_maps(page, timeout_s)


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
        await _drawn(page, maps=maps)
        res.took(name, time.perf_counter() - t0)

    try:
        with recording(res):
            street = streets[res.index % len(streets)]
            await page.goto(url)
            await page.wait_for_selector('input[type="password"]')

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


async def run_round(pw, url: str, *, rnd: int, users: list[str], browsers: int, per_browser: int, ramp_s: float,
                    think_s: tuple[float, float], streets: list[str], seed: int,
                    deadline_s: float) -> list[SessionResult]:
    n = len(users)
    slots = sorted(browser_slots(n, browsers))
    chromiums = []
    if slots:
        chromiums = [await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                     for _ in range((len(slots) + per_browser - 1) // per_browser)]
    results, tasks = [], []
    try:
        for i, user in enumerate(users):
            rng = random.Random(seed * 10_000 + rnd * 100 + i)

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
    finally:
        for b in chromiums:
            await b.close()
    return results


def _dump(path: Path, rounds: list[list[SessionResult]], starts: list[float]) -> None:
    """Every session of every round as JSON; a step's end is given in seconds from its round's start."""
    out = [{"round": i + 1, "sessions": [
        {"index": r.index, "kind": r.kind, "user": r.user, "error": r.error, "times": r.times,
         "ended_s": {k: round(v - t0, 3) for k, v in r.ended.items()}} for r in results]}
        for i, (results, t0) in enumerate(zip(rounds, starts, strict=True))]
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1))


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


def report(args, data: Path, rounds: list[list[SessionResult]], settled: list[dict], samples: list[dict],
           started: float, check: str) -> str:
    """The figures so far (after round 1: marked as one round only)."""
    all_samples = [s for s in samples if s["t"] >= started] or samples
    peak_rss = max(s["rss"] for s in all_samples)
    peak_sessions = max(s["sessions"] for s in all_samples)
    every_session = [r for rs in rounds for r in rs]
    errors = [(i + 1, r) for i, rs in enumerate(rounds) for r in rs if r.error]
    js = sorted({e for r in every_session for e in r.js_errors})
    left = sorted({u for r in every_session for u in r.left})
    gib = 1024 ** 3
    growth = [((b["rss"] - a["rss"]) / 1024 ** 2, b["blocks"] - a["blocks"],
               ((b.get("rss_trimmed") or 0) - (a.get("rss_trimmed") or 0)) / 1024 ** 2)
              for a, b in zip(settled[1:], settled[2:], strict=False)]
    every = [t for r in every_session for t in r.times.values()]
    # p95 of each step in each round (the target is per round: the first round, all caches cold, is the hard one)
    round_p95 = {(i + 1, name): p95(vals) for i, rs in enumerate(rounds) for name in STEPS
                 if (vals := [r.times[name] for r in rs if name in r.times])}
    worst = max(round_p95, key=round_p95.get) if round_p95 else (0, "—")
    per_round_worst = "; ".join(
        f"round {i}: {max(v for (j, _), v in round_p95.items() if j == i):.2f} s"
        for i in sorted({j for j, _ in round_p95}))
    ws = [r for r in every_session if r.kind == "websocket"]
    n_browsers = len(browser_slots(args.sessions, args.browsers))
    partial = (f"**{len(rounds)} of {args.rounds} rounds (the next still running when written).** "
               if len(rounds) < args.rounds else "")
    settled_rows = "\n".join(
        f"| {'after warm-up' if i == 0 else f'after round {i}'} | {s['rss'] / gib:.2f} GB | {_mb(s.get('rss_trimmed'))} "
        f"| {s['blocks']:,} | {s['objects']:,} | {_mb(s.get('arrow'))} | {_held_line(s)} |"
        for i, s in enumerate(settled))
    grew = _grown_types(settled[1], settled[-1]) if len(settled) > 2 else ""
    growth_lines = "; ".join(f"round {i + 1} -> {i + 2}: RSS {g[0]:+.0f} MB, after malloc_trim {g[2]:+.0f} MB, "
                             f"heap blocks {g[1]:+,}" for i, g in enumerate(growth)) or "one round only"
    # Python's own full collections in each round (between two settled samples): every thread waits for one
    pauses = [s.get("full_gc") or [] for s in settled]
    gc_line = "; ".join(
        f"round {i + 1}: {len(b) - len(a)}" + (f" (longest {max(b[len(a):]):.2f} s)" if len(b) > len(a) else "")
        for i, (a, b) in enumerate(zip(pauses, pauses[1:], strict=False))) or "—"
    body = f"""{partial}{machine_line()}; {args.sessions} sessions per round, {args.sessions - n_browsers} over
Streamlit's websocket protocol (bench/st_session.py) and {n_browsers} in headless Chromium, started over
{args.ramp_s:.0f} s with a think time of {args.think_s[0]:g}–{args.think_s[1]:g} s between steps; server and
clients on the same machine. Data: `{data.name}`. Each session signs in (one user per session: leaders,
planners, staff) and goes through the morning: overview, change street, coverage, cases, change period
(最近一年), overdue list, download it (Excel). A step is timed from the request until the page is drawn:
websocket sessions until the run has finished with no exception or error box in the page's tree; browsers
until the script has finished and every map on the page has Leaflet's layers drawn; the download until the
file has arrived.

All sessions:

{step_table(rounds)}

Websocket sessions:

{step_table(rounds, "websocket")}

Browser sessions:

{step_table(rounds, "browser")}

- errors: {len(errors)} of {len(every_session)} sessions{''.join(f'; round {a} session {r.index} ({r.kind}): {r.error}' for a, r in errors[:5])}
- self-check: a wrong password gives the sign-in error ({check}); browser script errors: {len(js)}{(' (' + '; '.join(js[:3]) + ')') if js else ''}; browser requests leaving the machine: {len(left)}
- websocket sessions received {sum(r.bytes_in for r in ws) / 1e6:,.1f} MB in all; {sum(r.cache_hits for r in ws):,} messages answered from their forward-message cache
- worst step p95 of a round: {round_p95.get(worst, float('nan')):.2f} s ({worst[1].replace('_', ' ')}, round {worst[0]}); target < 6 s in every round; worst per round: {per_round_worst}
- server memory: peak RSS {peak_rss / gib:.2f} GB (target < 3 GB), {peak_sessions} sessions at most
- Python's own full collections (generation 2; every session waits while one runs) during each round: {gc_line}
- growth between identical rounds (settled samples): {growth_lines}
- objects the collector tracks, by type, after round 1 -> after the last round (the most grown; a weak reference
  by what it refers to): {grew or "—"}

Settled samples (taken once Streamlit has let go of the round's sessions, after a full collection; "after
malloc_trim": once the C allocator has returned its free pages; heap blocks: Python's allocator blocks in use):

| when | RSS | after malloc_trim | heap blocks | objects | pyarrow pool | held per session by the runtime |
|---|---|---|---|---|---|---|
{settled_rows}

- all step times: median {statistics.median(every) if every else float('nan'):.2f} s, p95 {p95(every) if every else float('nan'):.2f} s over {len(every)} steps
"""
    return body


async def main_async(args) -> int:
    from playwright.async_api import async_playwright

    data = Path(args.data)
    if not data.exists():
        print(f"{data} is missing: run `make wuchang` first", file=sys.stderr)
        return 2
    run_deadline = time.monotonic() + args.deadline_s
    users = [f"user{i:02d}" for i in range(args.sessions)]
    home = _prepare_home([*users, "warmup", "selfcheck"])
    work = Path(tempfile.mkdtemp(prefix="gridatlas-load-"))
    samples = work / "samples.jsonl"
    server = start_server(data, env_extra={"GRIDATLAS_HOME": str(home), "BENCH_SAMPLES": str(samples)},
                          module="bench._load_server", log_dir=work)
    print(f"server {server.url} healthy in {server.start_s:.1f} s; log {server.log}", flush=True)
    started = time.time()
    rounds: list[list[SessionResult]] = []
    settled: list[dict] = []
    starts: list[float] = []
    try:
        check = await self_check(server.url, "selfcheck")
        print(f"self-check: wrong password -> {check!r}", flush=True)

        async def no_think() -> None:
            return None

        # one warm-up session loads the dataset and the page caches, as the first visitor of the day does
        # (a cold open of the Wuchang data took up to 112 s on a busy machine: the warm-up may take 10 minutes a step)
        warm = await ws_morning(SessionResult(0, "websocket", "warmup"), server.url, args.streets or [], 0.0,
                                no_think, timeout_s=WARM_UP_TIMEOUT_S)
        print("warm-up:", json.dumps({k: round(v, 2) for k, v in warm.times.items()}), warm.error, flush=True)
        if warm.error:
            raise RuntimeError(f"the warm-up session failed: {warm.error}")
        streets = args.streets or warm.streets
        settled.append(await settled_sample(samples, wait_s=2))
        async with async_playwright() as pw:
            for r in range(args.rounds):
                left = run_deadline - time.monotonic()
                if left < 30:
                    print("the run's deadline has passed: no further round", flush=True)
                    break
                t0 = time.time()
                starts.append(t0)
                results = await run_round(pw, server.url, rnd=r, users=users, browsers=args.browsers,
                                          per_browser=args.per_browser, ramp_s=args.ramp_s,
                                          think_s=tuple(args.think_s), streets=streets, seed=args.seed,
                                          deadline_s=min(left, args.round_deadline_s))
                rounds.append(results)
                if args.dump:
                    _dump(Path(args.dump), rounds, starts)
                errors = [r_ for r_ in results if r_.error]
                print(f"round {r + 1}: {len(results)} sessions in {time.time() - t0:.0f} s, {len(errors)} errors",
                      flush=True)
                for e in errors:
                    print(f"   session {e.index} ({e.kind}, {e.user}): {e.error}", flush=True)
                # settled once Streamlit has let go of the round's sessions (it keeps a session two minutes after its
                # browser left, for a reconnect): growth then compares the server itself, not sessions in waiting
                settled.append(await settled_sample(samples, wait_s=args.settle_s))
                body = report(args, data, rounds, settled, read_samples(samples), started, check)
                print(body, flush=True)
                if not args.no_write:
                    write_section("Load: thirty sessions at 9:00 (bench/bench_load.py)", body)
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    return 0 if rounds and not any(r.error for rs in rounds for r in rs) else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=30, help=f"sessions per round, 1 to {MAX_SESSIONS}")
    p.add_argument("--browsers", type=int, default=3, help=f"how many of them are Chromium (0 to {MAX_BROWSERS})")
    p.add_argument("--per-browser", type=int, default=10, help="browser contexts per Chromium process")
    p.add_argument("--settle-s", type=float, default=125.0,
                   help="after a round, wait this long (Streamlit keeps a left session 120 s) before the settled sample")
    p.add_argument("--ramp-s", type=float, default=15.0, help="sessions start evenly over this many seconds")
    p.add_argument("--think-s", type=float, nargs=2, default=[2.0, 6.0], metavar=("MIN", "MAX"),
                   help="think time between two steps, drawn uniformly from MIN..MAX seconds")
    p.add_argument("--seed", type=int, default=2026, help="seed of the think times")
    p.add_argument("--data", default=str(WUCHANG), help="the dataset (default cache/wuchang.gpkg)")
    p.add_argument("--streets", nargs="*", default=None, help="streets to choose (default: the sidebar's)")
    p.add_argument("--round-deadline-s", type=float, default=20 * 60, help="a round's sessions stop after this")
    p.add_argument("--deadline-s", type=float, default=45 * 60, help="no round starts after this")
    p.add_argument("--rounds", type=int, default=3, help="identical rounds (growth is compared between them), 1 to 5")
    p.add_argument("--dump", default=None, metavar="FILE",
                   help="also write every session's step times (and when each step ended) to FILE, as JSON")
    p.add_argument("--no-write", action="store_true", help="print the figures without writing RESULTS.md")
    args = p.parse_args(argv)
    if not 1 <= args.rounds <= 5:
        p.error("--rounds must be 1 to 5")
    if not 1 <= args.sessions <= MAX_SESSIONS:
        p.error(f"--sessions must be 1 to {MAX_SESSIONS}")
    if not 0 <= args.browsers <= min(MAX_BROWSERS, args.sessions):
        p.error(f"--browsers must be 0 to {min(MAX_BROWSERS, args.sessions)}")
    if not 0 <= args.think_s[0] <= args.think_s[1] <= 60:
        p.error("--think-s MIN MAX: 0 <= MIN <= MAX <= 60")
    if not 0 <= args.ramp_s <= 600:
        p.error("--ramp-s must be 0 to 600")
    if args.browsers and not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        p.error(f"Chromium not found at {CHROMIUM}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
