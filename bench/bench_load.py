"""Thirty staff open the dashboard at 9:00: real browser sessions against one server on the Wuchang-scale data.

What it does (loopback only; bounded: ``--sessions`` ≤ 60, two rounds, each
step and the whole run under a deadline; stops by itself):

1. Starts the app on 127.0.0.1 (bench/_load_server.py: `streamlit run app.py`
   plus a memory sampler) on ``cache/wuchang.gpkg`` (``make wuchang``), with a
   fresh workspace holding one user per session (leaders, planners and staff).
2. Round 1: ``--sessions`` browser contexts (Debian's Chromium, several per
   browser, every request to anything but loopback aborted), started over
   ``--ramp-s`` seconds, each going through a morning: sign in and see the
   overview, change street, open coverage, open cases, change the period,
   open the overdue list, download it (Excel). Each step is timed from the
   click until the page is drawn: the script has finished and every map on
   it has Leaflet's layers in place (or the file has arrived).
3. The contexts close; the server's heap is settled (full collection) and
   sampled. Round 2 repeats the same morning with new sessions; growth is the
   difference between the two settled samples.
4. Median and 95th percentile per step, errors, server RSS (peak and
   settled), Python heap blocks, go to the "Load: thirty sessions" section
   of bench/RESULTS.md.

Run: ``.venv/bin/python -m bench.bench_load`` (about 5 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bench.results import ROOT, WUCHANG, machine_line, write_section

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
PASSWORD = "bench pass 2026"
ROLES = ("leader", "planner", "staff")
STEPS = ("sign_in_overview", "change_street", "coverage", "cases", "change_period", "overdue_list", "download")
STEP_TIMEOUT_S = 120
MAX_SESSIONS = 60
LOCAL = {"127.0.0.1", "localhost"}


@dataclass
class SessionResult:
    index: int
    times: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    js_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


# --- the server -------------------------------------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare_home(n: int) -> Path:
    from geo.users import UserStore

    home = Path(tempfile.mkdtemp(prefix="gridatlas-load-home-"))
    store = UserStore(home)
    for i in range(n):
        store.add(f"user{i:02d}", PASSWORD, ROLES[i % len(ROLES)])
    return home


def start_server(data: Path, home: Path, samples: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "GRIDATLAS_DATA": str(data), "GRIDATLAS_HOME": str(home), "BENCH_SAMPLES": str(samples),
           "PYTHONUNBUFFERED": "1"}
    log = open(samples.with_suffix(".log"), "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._load_server", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see {samples.with_suffix('.log')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the server did not become healthy within 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


def read_samples(samples: Path) -> list[dict]:
    if not samples.exists():
        return []
    return [json.loads(line) for line in samples.read_text().splitlines() if line.strip()]


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


# --- one session's morning ----------------------------------------------------------------------

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


async def morning(browser, url: str, index: int, street: str, delay_s: float) -> SessionResult:
    res = SessionResult(index)
    await asyncio.sleep(delay_s)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN",
                                        accept_downloads=True)

    async def route(r):
        host = urlparse(r.request.url).hostname or ""
        if r.request.url.startswith(("data:", "blob:", "about:")) or host in LOCAL:
            await r.continue_()
        else:
            res.blocked.append(r.request.url)
            await r.abort()

    await context.route("**/*", route)
    page = await context.new_page()
    page.on("pageerror", lambda exc: res.js_errors.append(str(exc)))
    page.set_default_timeout(STEP_TIMEOUT_S * 1000)

    async def step(name: str, action, *, maps: bool) -> None:
        t0 = time.perf_counter()
        await action()
        await _drawn(page, maps=maps)
        res.times[name] = time.perf_counter() - t0

    try:
        await page.goto(url)
        await page.wait_for_selector('input[type="password"]')

        async def sign_in():
            await page.locator('input[type="text"]').first.fill(f"user{index:02d}")
            await page.locator('input[type="password"]').fill(PASSWORD)
            await page.locator('[data-testid="stFormSubmitButton"] button').click()
            await page.wait_for_selector('[data-testid="stMetric"]')

        await step("sign_in_overview", sign_in, maps=True)
        await step("change_street", lambda: _choose(page, "街道", street, sidebar=True), maps=True)

        async def nav(link: str, heading: str):
            await page.locator('[data-testid="stSidebarNav"] a').filter(has_text=link).first.click()
            await page.wait_for_function(
                f"() => [...document.querySelectorAll('h1')].some(h => h.innerText.includes({json.dumps(heading)}))")

        await step("coverage", lambda: nav("覆盖分析", "服务覆盖分析"), maps=True)
        await step("cases", lambda: nav("事件热点", "事件热点与办理"), maps=True)
        await step("change_period", lambda: _choose(page, "上报时间段", "最近一年"), maps=True)

        async def overdue():
            await page.locator('[data-testid="stRadio"] label').filter(has_text="逾期清零").first.click()
            await page.wait_for_selector('[data-testid="stDownloadButton"]')

        await step("overdue_list", overdue, maps=False)
        t0 = time.perf_counter()
        async with page.expect_download(timeout=STEP_TIMEOUT_S * 1000) as dl:
            await page.locator('[data-testid="stDownloadButton"] button').filter(has_text="Excel").first.click()
        download = await dl.value
        size = os.path.getsize(await download.path())
        if size < 1000:
            raise RuntimeError(f"the downloaded file has {size} bytes")
        res.times["download"] = time.perf_counter() - t0
    except Exception as exc:  # recorded, reported, and the run goes on
        res.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    finally:
        await context.close()
    return res


async def run_round(pw, url: str, n: int, per_browser: int, ramp_s: float, streets: list[str]) -> list[SessionResult]:
    browsers = [await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                for _ in range((n + per_browser - 1) // per_browser)]
    try:
        tasks = [morning(browsers[i // per_browser], url, i, streets[i % len(streets)], ramp_s * i / max(n - 1, 1))
                 for i in range(n)]
        return await asyncio.wait_for(asyncio.gather(*tasks), timeout=30 * 60)
    finally:
        for b in browsers:
            await b.close()


# --- figures --------------------------------------------------------------------------------------

def p95(values: list[float]) -> float:
    """95th percentile, nearest rank (of 30 values: the 29th smallest)."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, -(-95 * len(s) // 100) - 1))]


def step_table(rounds: list[list[SessionResult]]) -> str:
    lines = ["| step | round 1 median s | round 1 p95 s | round 2 median s | round 2 p95 s | max s |",
             "|---|---|---|---|---|---|"]
    for name in STEPS:
        cells = []
        every = []
        for results in rounds:
            vals = [r.times[name] for r in results if name in r.times]
            every += vals
            cells += [f"{statistics.median(vals):.2f}", f"{p95(vals):.2f}"] if vals else ["—", "—"]
        lines.append(f"| {name.replace('_', ' ')} | " + " | ".join(cells) + f" | {max(every):.2f} |" if every
                     else f"| {name} | — | — | — | — | — |")
    return "\n".join(lines)


async def main_async(args) -> int:
    from playwright.async_api import async_playwright

    from geo.dataset import read_dataset

    data = Path(args.data)
    if not data.exists():
        print(f"{data} is missing: run `make wuchang` first", file=sys.stderr)
        return 2
    streets = read_dataset(data).streets if args.streets is None else args.streets
    home = _prepare_home(args.sessions)
    work = Path(tempfile.mkdtemp(prefix="gridatlas-load-"))
    samples = work / "samples.jsonl"
    proc, url = start_server(data, home, samples)
    started = time.time()
    rounds: list[list[SessionResult]] = []
    settled: list[dict] = []
    try:
        async with async_playwright() as pw:
            # one warm-up session loads the dataset and the page caches, as the first visitor of the day does
            warm = await run_round(pw, url, 1, 1, 0.0, streets)
            print("warm-up:", json.dumps(warm[0].times), warm[0].error, flush=True)
            settled.append(await settled_sample(samples, wait_s=2))
            for r in range(2):
                t0 = time.time()
                results = await run_round(pw, url, args.sessions, args.per_browser, args.ramp_s, streets)
                rounds.append(results)
                errors = [r_.error for r_ in results if r_.error]
                print(f"round {r + 1}: {len(results)} sessions in {time.time() - t0:.0f} s, {len(errors)} errors",
                      flush=True)
                for e in errors[:5]:
                    print("  ", e, flush=True)
                settled.append(await settled_sample(samples))
    finally:
        stop_server(proc)
    all_samples = [s for s in read_samples(samples) if s["t"] >= started]
    peak_rss = max(s["rss"] for s in all_samples)
    peak_sessions = max(s["sessions"] for s in all_samples)
    errors = [(i + 1, r.index, r.error) for i, rs in enumerate(rounds) for r in rs if r.error]
    js = sorted({e for rs in rounds for r in rs for e in r.js_errors})
    blocked = sorted({u for rs in rounds for r in rs for u in r.blocked})
    gib = 1024 ** 3
    growth_rss = (settled[2]["rss"] - settled[1]["rss"]) / 1024 ** 2
    growth_blocks = settled[2]["blocks"] - settled[1]["blocks"]
    every = [t for rs in rounds for r in rs for t in r.times.values()]
    step_p95 = {name: p95([r.times[name] for rs in rounds for r in rs if name in r.times] or [float("nan")])
                for name in STEPS}
    body = f"""{machine_line()}; {args.sessions} sessions per round ({args.per_browser} browser contexts per
Chromium, started over {args.ramp_s:.0f} s), server and browsers on the same machine. Data: `{data.name}`
(1,811 grids, 1 M cases). Each session signs in (one user per session: leaders, planners, staff) and goes
through the morning: overview, change street, coverage, cases, change period (最近一年), overdue list,
download it (Excel). A step is timed from the click until the script has finished and every map on the page
has Leaflet's layers drawn (the download: until the file has arrived).

{step_table(rounds)}

- errors: {len(errors)} of {2 * args.sessions} sessions{''.join(f'; round {a} session {b}: {c}' for a, b, c in errors[:5])}
- browser script errors: {len(js)}{(' (' + '; '.join(js[:3]) + ')') if js else ''}; requests leaving the machine: {len(blocked)}
- worst step p95 over both rounds: {max(step_p95.values()):.2f} s ({max(step_p95, key=step_p95.get).replace('_', ' ')}); target < 6 s
- server memory: peak RSS {peak_rss / gib:.2f} GB (target < 3 GB), {peak_sessions} sessions at most;
  settled after warm-up {settled[0]['rss'] / gib:.2f} GB, after round 1 {settled[1]['rss'] / gib:.2f} GB,
  after round 2 {settled[2]['rss'] / gib:.2f} GB
- Python heap (allocator blocks in use after a full collection): after round 1 {settled[1]['blocks']:,},
  after round 2 {settled[2]['blocks']:,} ({growth_blocks:+,}); RSS growth between the rounds {growth_rss:+.0f} MB;
  objects tracked by the collector {settled[1]['objects']:,} -> {settled[2]['objects']:,}
- all step times: median {statistics.median(every):.2f} s, p95 {p95(every):.2f} s over {len(every)} steps
"""
    print(body)
    if not args.no_write:
        write_section("Load: thirty sessions at 9:00 (bench/bench_load.py)", body)
    return 0 if not errors else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--per-browser", type=int, default=10)
    p.add_argument("--ramp-s", type=float, default=20.0, help="sessions start evenly over this many seconds")
    p.add_argument("--data", default=str(WUCHANG))
    p.add_argument("--streets", nargs="*", default=None)
    p.add_argument("--no-write", action="store_true", help="print the figures without writing RESULTS.md")
    args = p.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS:
        p.error(f"--sessions must be 1 to {MAX_SESSIONS}")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        p.error(f"Chromium not found at {CHROMIUM}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
