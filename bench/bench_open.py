"""Opening the Wuchang-scale dataset: before (read + validate the GeoPackage) and after (a workspace
version: GeoParquet, checksum, no re-validation, derived data kept beside it); importing the 1 M-case
CSV; the server's first visit, coverage page and peak memory after every page.

Every step runs in a fresh process (cold for Python; the files may be in the OS cache), and its peak
memory is that process's own (``VmHWM``). The workspace is ``bench/out/home`` (removed first).

    python -m bench.bench_open [--no-browser] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.results import ROOT, WUCHANG, machine_line, write_section

HOME = ROOT / "bench" / "out" / "home"
CSV = ROOT / "bench" / "out" / "wuchang_cases.csv"
NAME = "wuchang"

# Run in a child: time a statement, print {"s": seconds, "peak_mb": ...} as the last line.
_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
{body}
ru = resource.getrusage(resource.RUSAGE_SELF)
# the process's own high-water mark (VmHWM): ru_maxrss outlives exec, so a child of a parent that was once large
# (this script, after writing the 1 M-case CSV) would report the parent's peak
hwm = next(int(v.split()[0]) for k, v in (line.split(":", 1) for line in open("/proc/self/status")) if k == "VmHWM")
print(json.dumps({{"s": time.perf_counter() - t0, "cpu_s": ru.ru_utime + ru.ru_stime - cpu0,
                  "peak_mb": hwm / 1024, **extra}}))
"""


def child(body: str, *, env: dict[str, str]) -> dict:
    code = _CHILD.format(root=str(ROOT), body=body)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_env() -> dict[str, str]:
    env = {**os.environ, "GRIDATLAS_HOME": str(HOME), "PYTHONUNBUFFERED": "1"}
    env.pop("GRIDATLAS_DATA", None)
    return env


def write_cases_csv() -> int:
    """The Wuchang cases as a clerk's CSV: lon/lat columns, one row per case (made once)."""
    import pyogrio

    if CSV.exists():
        return -1
    cases = pyogrio.read_dataframe(WUCHANG, layer="cases", use_arrow=True)
    table = cases.drop(columns="geometry").assign(lon=cases.geometry.x.round(7), lat=cases.geometry.y.round(7))
    table = table.drop(columns=["grid_id"])  # assigned at import, as for a clerk's file
    CSV.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(CSV, index=False, encoding="utf-8")
    return len(table)


def steps(env: dict[str, str]) -> dict[str, dict]:
    fig: dict[str, dict] = {}
    fig["before"] = child(f"from geo.dataset import read_dataset\nds = read_dataset({str(WUCHANG)!r})\n"
                          "extra = {'cases': len(ds.cases)}", env=env)
    print("before", fig["before"], flush=True)
    shutil.rmtree(HOME, ignore_errors=True)
    (HOME / "datasets").mkdir(parents=True)
    shutil.copy(WUCHANG, HOME / "datasets" / f"{NAME}.gpkg")
    fig["adopt"] = child(f"from geo.workspace import open_store\ninfo = open_store({NAME!r}).current()\n"
                         "extra = {'version': info.id}", env=env)
    print("adopt", fig["adopt"], flush=True)
    write_cases_csv()
    fig["import"] = child(
        f"import runpy\nsys.argv = ['cli.py', 'import', '--data', {NAME!r}, '--layer', 'cases', {str(CSV)!r}]\n"
        "try:\n    runpy.run_path('cli.py', run_name='__main__')\nexcept SystemExit as e:\n    code = e.code\n"
        "extra = {'exit': code}", env=env)
    print("import", fig["import"], flush=True)
    load = (f"from geo.workspace import open_store\nds = open_store({NAME!r}).load()\n"
            "extra = {'cases': ds.rows('cases'), 'cases_read': ds.is_loaded('cases')}")
    fig["after_cold"] = child(load, env=env)
    print("after", fig["after_cold"], flush=True)
    fig["after_second"] = child(load, env=env)
    fig["after_cases"] = child(f"from geo.workspace import open_store\nds = open_store({NAME!r}).load()\n"
                               "extra = {'cases': len(ds.cases)}", env=env)
    fig["checksum"] = child(f"from geo.workspace import open_store\nopen_store({NAME!r}).verify()\nextra = {{}}",
                            env=env)
    return fig


def _server_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _server_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


PAGES = ("覆盖分析", "选址规划", "事件热点", "小区自治", "调度会", "数据管理", "总览")


def browser(env: dict[str, str], n_grids: int) -> dict:
    """One server start: first visit → overview map drawn; coverage page first open; every page; peak memory."""

    from bench.bench_coverage import _wait_drawn
    from bench.server import chromium_page, start_server
    from tests.e2e.conftest import wait_for_app, wait_for_map_count

    server = start_server(NAME, env=env)
    url = server.url
    out: dict = {"start_s": server.start_s}
    try:
        with chromium_page() as page:
            t0 = time.perf_counter()
            page.goto(f"{url}/")
            wait_for_map_count(page, "path.ga-grid", n_grids, timeout_ms=300_000)
            out["overview_s"] = time.perf_counter() - t0
            nav = page.locator('[data-testid="stSidebarNav"]')
            t0 = time.perf_counter()
            nav.get_by_text("覆盖分析").click()
            _wait_drawn(page, None, n_grids=n_grids)
            out["coverage_s"] = time.perf_counter() - t0
            out["pages_s"] = {}
            for label in PAGES[1:]:
                link = nav.get_by_text(label)
                if link.count() == 0:
                    continue
                t0 = time.perf_counter()
                link.first.click()
                page.wait_for_timeout(500)
                wait_for_app(page, timeout_ms=300_000)
                out["pages_s"][label] = round(time.perf_counter() - t0, 2)
            out["peak_mb"] = _server_peak_mb(server.proc.pid)
            out["rss_mb"] = _server_rss_mb(server.proc.pid)
    finally:
        server.stop()
    return out


# --- the first visit after an import and after a restart, code before and after a change (issue 21) --------------

FIRST_HOME = ROOT / "bench" / "out" / "home_first"
FIRST_TITLE = "First visit after an import or a restart (issue 21)"


def code_tree(rev: str) -> Path:
    """The committed code of ``rev`` as a folder of its own (``git archive``), sharing this checkout's ``static/``."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    tree = ROOT / "bench" / "out" / f"tree_{sha}"
    if not (tree / "app.py").exists():
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        (tree / "static").symlink_to(ROOT / "static")
    return tree


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve(tree: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
    """``python -m ui.serve`` of ``tree`` on a free loopback port, once healthy (as `bench.server.start_server`)."""
    import urllib.request

    from bench.server import free_port

    port = free_port()
    log = FIRST_HOME.parent / f".first-{port}.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "ui.serve", "--server.port", str(port), "--server.address",
                                 "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                                cwd=tree, env={**env, "GRIDATLAS_DATA": NAME}, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url, log
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"the app did not start; see {log}")


def overview_visit(tree: Path, env: dict[str, str], n_grids: int = 1811) -> dict:
    """A fresh server of ``tree``; one browser's first visit until every grid of the overview map is drawn.
    ``s``: wall time from navigation; ``server_cpu_s``: the server's CPU time from its start to then; ``warm_up``:
    what the server's warm-up logged."""
    from bench.server import chromium_page
    from tests.e2e.conftest import wait_for_map_count

    proc, url, log = _serve(tree, env)
    try:
        with chromium_page() as page:
            t0 = time.perf_counter()
            page.goto(f"{url}/")
            wait_for_map_count(page, "path.ga-grid", n_grids, timeout_ms=300_000)
            out = {"s": time.perf_counter() - t0, "server_cpu_s": _cpu_s(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    warm = [line.split("warm-up done:", 1)[1].strip() for line in log.read_text().splitlines()
            if "warm-up done:" in line]
    out["warm_up"] = warm[-1] if warm else ""
    log.unlink(missing_ok=True)
    return out


def cli_import(tree: Path, env: dict[str, str], csv: Path) -> dict:
    """``cli.py import --layer cases`` of ``tree`` (a new version); wall and CPU time."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "cli.py", "import", "--data", NAME, "--layer", "cases", str(csv)],
                          cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return {"s": time.perf_counter() - t0,
            "cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            "page_data": summary.get("page_data")}


def first_visits(revs: dict[str, str], repeats: int) -> dict[str, dict[str, list[dict]]]:
    """For each code revision (label -> rev), ``repeats`` times, alternating the revisions: a workspace holding
    Wuchang, the 1 M-case CSV imported by the CLI, a fresh server's first visit, then a restart's first visit."""
    # bench_import's clerk's CSV and its workspace template holding Wuchang as version 1
    csv = ROOT / "bench" / "out" / "wuchang_cases_zh.csv"
    template = ROOT / "bench" / "out" / "home_import_template"
    if not csv.exists() or not (template / "datasets" / f"{NAME}.versions" / "CURRENT").exists():
        raise SystemExit(f"{csv} or {template} is missing: run `python -m bench.bench_import` once first")
    base = {**bench_env(), "GRIDATLAS_HOME": str(FIRST_HOME)}
    trees = {label: code_tree(rev) for label, rev in revs.items()}
    runs: dict[str, dict[str, list[dict]]] = {label: {"import": [], "after_import": [], "restart": []}
                                              for label in revs}
    for _ in range(repeats):
        for label, tree in trees.items():
            shutil.rmtree(FIRST_HOME, ignore_errors=True)
            shutil.copytree(template, FIRST_HOME, copy_function=os.link)  # versions are never written in place
            r = runs[label]
            r["import"].append(cli_import(tree, base, csv))
            for step in ("after_import", "restart"):
                try:
                    r[step].append(overview_visit(tree, base))
                except Exception as err:  # a visit that never drew the map: counted, and said in the section
                    print(label, step, "failed:", str(err)[:300], flush=True)
                    r[step].append({"s": float("nan"), "server_cpu_s": float("nan"), "warm_up": "", "failed": True})
            print(label, {k: v[-1] for k, v in r.items()}, flush=True)
    return runs


def first_visit_section(revs: dict[str, str], runs: dict[str, dict[str, list[dict]]], machine: str) -> str:
    import statistics

    def cell(rows: list[dict], key: str = "s") -> str:
        values = [r[key] for r in rows if not r.get("failed")]
        failed = sum(bool(r.get("failed")) for r in rows)
        runs_s = ", ".join("failed" if r.get("failed") else f"{r[key]:.1f}" for r in rows)
        med = f"{statistics.median(values):.1f} s" if values else "—"
        return f"{med} ({runs_s})" + (f", {failed} never drawn in 300 s" if failed else "")

    n = len(next(iter(runs.values()))["restart"])
    lines = [
        f"`python -m bench.bench_open --first-visit {n} --before REV` — Wuchang (1,811 grids, 1 M cases), the "
        f"1 M-case CSV (`bench_import`'s) imported by `cli.py import`, then a fresh server (`python -m ui.serve`) and "
        "one headless Chromium visit until every grid of the overview map is drawn; then the server restarted and "
        f"visited again. {machine}; load average {os.getloadavg()[0]:.1f} at the end. Each code revision is run "
        "from its own `git archive` copy, the revisions alternating; medians of "
        f"{n} (each run in brackets); server CPU = the server process's CPU time from its start until the map was "
        "drawn (steadier than wall time on the shared 2 cores).",
        "",
        "| code | CLI import | first visit after the import | its server CPU | first visit after a restart | its "
        "server CPU |",
        "|---|---|---|---|---|---|",
    ]
    for label, rev in revs.items():
        r = runs[label]
        lines.append(f"| {label} (`{rev}`) | {cell(r['import'])} | {cell(r['after_import'])} | "
                     f"{cell(r['after_import'], 'server_cpu_s')} | {cell(r['restart'])} | "
                     f"{cell(r['restart'], 'server_cpu_s')} |")
    lines += ["", "Goals: first visit after an import < 4 s; after a restart < 2.5 s.", "",
              "The servers' warm-up (last run of each), as logged:", ""]
    for label in revs:
        r = runs[label]
        lines.append(f"- {label}: after the import: {r['after_import'][-1].get('warm_up') or '—'}; after a restart: "
                     f"{r['restart'][-1].get('warm_up') or '—'}; the import built: "
                     f"{', '.join(r['import'][-1]['page_data'] or []) or 'nothing'}")
    return "\n".join(lines)


def _row(label: str, f: dict, target: str = "") -> str:
    return f"| {label} | {f['s']:.1f} s | {f['cpu_s']:.1f} s | {f['peak_mb']:,.0f} MB | {target} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--first-visit", type=int, default=0, metavar="N",
                    help="only the first visit after a CLI import and after a restart, N times (medians), for the "
                         "code of --before and of --after")
    ap.add_argument("--before", default=None, help="with --first-visit: the code revision to compare with")
    ap.add_argument("--after", default="HEAD", help="with --first-visit: the code revision measured (default HEAD)")
    args = ap.parse_args()
    if not WUCHANG.exists():
        raise SystemExit(f"{WUCHANG} is missing: run `make wuchang` first")
    machine = machine_line()
    if args.first_visit:
        revs = {"before": args.before, "after": args.after} if args.before else {"after": args.after}
        runs = first_visits(revs, args.first_visit)
        body = first_visit_section(revs, runs, machine)
        print(body)
        if not args.no_write:
            write_section(FIRST_TITLE, body)
        return
    env = bench_env()
    fig = steps(env)
    srv = []
    if not args.no_browser:
        for run in ("first server start (nothing derived yet)", "server restarted (derived data on disk)"):
            srv.append((run, browser(env, 1811)))
            print(run, srv[-1], flush=True)
    b, a, imp = fig["before"], fig["after_cold"], fig["import"]
    lines = [
        f"`python -m bench.bench_open` on `cache/wuchang.gpkg` (1,811 grids, 1,000,000 cases). {machine}; "
        f"load average {os.getloadavg()[0]:.1f} at the end. "
        "Each step in a fresh Python process; peak = that process's maximum resident memory; CPU = its user + "
        "system time (less sensitive than wall time to the other work sharing the 2 cores).",
        "",
        "| step | wall time | CPU time | peak memory | target |",
        "|---|---|---|---|---|",
        _row("before: read + validate the GeoPackage (`read_dataset`, what every open did)", b),
        _row("take the GeoPackage into the workspace once (validate, write version 1: GeoParquet + GeoPackage)",
             fig["adopt"]),
        _row("`cli.py import --layer cases` of the 1 M-case CSV (read, validate, assign grids, new version)", imp,
             "< 60 s, < 2 GB"),
        _row("after: open the current version (checksum + GeoParquet, no re-validation; cases not read)", a),
        _row("after, again (second fresh process)", fig["after_second"]),
        _row("after, and read the 1 M cases too (what the cases page adds)", fig["after_cases"]),
        _row("of which: checksum of the version's files", fig["checksum"]),
    ]
    if srv:
        lines += ["", "Server (headless Chromium, every grid polygon counted before the clock stops):", "",
                  "| server | start → healthy | first visit → overview map drawn | coverage page first open → map "
                  "drawn | other pages (s) | server peak memory after every page |",
                  "|---|---|---|---|---|---|"]
        for run, o in srv:
            pages = ", ".join(f"{k} {v:.1f}" for k, v in o["pages_s"].items())
            lines.append(f"| {run} | {o['start_s']:.1f} s | {o['overview_s']:.1f} s | {o['coverage_s']:.1f} s | "
                         f"{pages} | {o['peak_mb']:,.0f} MB (now {o['rss_mb']:,.0f} MB) |")
        lines += ["", "Targets: first visit after a server start → overview map drawn < 4 s (before: 14.7 s); "
                  "coverage page first open < 3 s (before: 6.9 s); server peak memory after every page < 1 GB "
                  "(before: 1.4 GB for the read alone)."]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Opening a dataset, importing, server memory (issue 9)", body)


if __name__ == "__main__":
    main()
