"""App start to overview map drawn in Chromium, and the overview map's payload, on both datasets.

For each dataset: start the server (time to healthy); open the overview cold
(first visit: the dataset is read, validated and the map built); then reload
it several times on the warm server and take the median time from navigation
to every grid polygon drawn. The payload is the map script the page sends to
the map component, compared in the same run with a straightforward folium map
of the same layers (every column, unsimplified, one marker per facility).

    python -m bench.bench_app [--repeat 5] [--no-write]

With ``--light BEFORE_TREE`` it measures the lighter overview map (issue 21) instead, before and after in the
same run: BEFORE_TREE is a checkout of the code to compare with (e.g. a git worktree without the change), this
checkout (or ``--after TREE``, e.g. a clean worktree of HEAD) is "after". For each, on a copy of the Wuchang dataset of its own (``cache/wuchang.gpkg`` with its
versions): the overview map's payload (the script, and the bytes Streamlit sends it as: JSON with non-ASCII
escaped), and the first visit after a server restart (the version's page data on disk from a first start):
server start -> healthy, then navigation -> every grid drawn, ``--repeat`` restarts per tree, alternating,
medians; and what the browser alone spends on the map (its script run in headless Chromium until painted, the
scripts it needs loaded first). The server's own warm-up line says where its start went.

    python -m bench.bench_app --light /tmp/before [--repeat 5] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import folium
import streamlit_folium as sf

from bench.results import DEMO, ROOT, WUCHANG, machine_line, write_section
from bench.server import AppServer, chromium_page, free_port, start_server, time_opens
from geo.dataset import read_dataset
from tests.e2e.conftest import wait_for_map_count
from ui.layers import build_district_map
from ui.maps import localize_assets


def _script_bytes(m: folium.Map) -> int:
    localize_assets(m)
    m.get_root().render()
    return len(sf._get_map_string(m).encode("utf-8"))


def payload(path: Path) -> tuple[int, int, int]:
    """(GridAtlas map bytes, straightforward folium map bytes, grid count)."""
    ds = read_dataset(path)
    ours, _ = build_district_map(ds)
    naive = folium.Map(tiles=None)
    folium.GeoJson(ds.grids.to_json(default=str), name="grids").add_to(naive)
    if ds.estates is not None:
        folium.GeoJson(ds.estates.to_json(default=str), name="estates").add_to(naive)
    for row in ds.facilities.itertuples():
        folium.CircleMarker([row.geometry.y, row.geometry.x], radius=5, tooltip=str(row.name)).add_to(naive)
    return _script_bytes(ours), _script_bytes(naive), len(ds.grids)


def browser_times(path: Path, n_grids: int, *, repeat: int) -> tuple[float, float, list[float]]:
    """(server start s, cold first map s, warm map times s)."""
    with start_server(path) as server:
        cold_s, warm = time_opens(f"{server.url}/", lambda page: wait_for_map_count(
            page, "path.ga-grid", n_grids, timeout_ms=300_000), repeat=repeat)
    return server.start_s, cold_s, warm


# Run in a tree's own code: the overview map's payload at Wuchang scale (with the estates too when it can).
_PAYLOAD_CHILD = """
import inspect, json, sys, time
sys.path.insert(0, ".")
from geo.workspace import open_store
from ui.layers import build_district_map
from ui.maps import map_payload
ds = open_store(sys.argv[1]).load()
out = {}
cases = [("default", {})]
if "layers" in inspect.signature(build_district_map).parameters:
    cases.append(("estates", {"layers": ("estates",)}))
for label, kw in cases:
    t0 = time.perf_counter()
    p = map_payload(build_district_map(ds, **kw)[0])
    out[label] = {"script": len(p.script.encode("utf-8")), "wire": len(json.dumps(p.script)),
                  "build_s": time.perf_counter() - t0, "estates": "ga-estate" in p.script}
    with open(sys.argv[2] + "." + label + ".json", "w", encoding="utf-8") as fh:
        json.dump({"script": p.script, "header": p.header, "js_links": p.js_links, "css_links": p.css_links}, fh)
print(json.dumps(out))
"""


def _tree_payload(tree: Path, data: Path, env: dict[str, str], dump: Path) -> dict:
    """The tree's overview map payload sizes; each payload also written to ``dump.<case>.json``."""
    out = subprocess.run([sys.executable, "-c", _PAYLOAD_CHILD, str(data), str(dump)], cwd=tree, env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


_DRAW = """async ([script, n]) => {
    const t0 = performance.now();
    (0, eval)(script);
    const parsed = performance.now();
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const drawn = document.querySelectorAll("path.ga-grid").length;
    return {eval_ms: parsed - t0, painted_ms: performance.now() - t0, grids: drawn, expected: n};
}"""


def browser_draw(payload: Path, tree: Path, *, n_grids: int, repeat: int) -> list[dict]:
    """What the map component does with a payload, alone in headless Chromium: the map's scripts loaded from the
    tree's static/ (not timed), then its script run (parse, decode, Leaflet building every layer) until painted."""
    p = json.loads(payload.read_text(encoding="utf-8"))
    runs = []
    with chromium_page() as page:
        for _ in range(repeat):
            page.set_content(f"<html><head>{p['header']}</head><body>"
                             '<div id="map_div" style="width:1100px;height:600px"></div></body></html>')
            for css in p["css_links"]:
                page.add_style_tag(path=str(tree / "static" / css.removeprefix("/app/static/")))
            for js in p["js_links"]:
                page.add_script_tag(path=str(tree / "static" / js.removeprefix("/app/static/")))
            got = page.evaluate(_DRAW, [p["script"], n_grids])
            if got["grids"] != n_grids:
                raise RuntimeError(f"{payload}: {got['grids']} grids drawn, expected {n_grids}")
            runs.append(got)
    return runs


def _start_in(tree: Path, env: dict[str, str], log: Path) -> AppServer:
    """`bench.server.start_server`, but serving ``tree``'s code."""
    port = free_port()
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "ui.serve", "--server.port", str(port), "--server.address",
                                 "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                                cwd=tree, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return AppServer(proc, url, time.perf_counter() - t0, log)
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"the app did not become healthy; see {log}")


def _first_visit(tree: Path, env: dict[str, str], log: Path, n_grids: int) -> dict:
    """A server start, then one first visit: navigation -> map frame attached -> every grid drawn."""
    server = _start_in(tree, env, log)
    try:
        with chromium_page() as page:
            t0 = time.perf_counter()
            page.goto(f"{server.url}/")
            page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', state="attached", timeout=300_000)
            frame_s = time.perf_counter() - t0
            wait_for_map_count(page, "path.ga-grid", n_grids, timeout_ms=300_000)
            drawn_s = time.perf_counter() - t0
        time.sleep(0.5)
    finally:
        server.stop()
    warm = re.search(r"warm-up done: (.*)", log.read_text(errors="replace"))
    return {"start_s": server.start_s, "frame_s": frame_s, "drawn_s": drawn_s, "warm": warm.group(1) if warm else ""}


def light(before: Path, *, after: Path = ROOT, repeat: int, write: bool) -> None:
    """Issue 21: the overview map's payload and the first visit after a restart, before and after, same run."""
    work = ROOT / "bench" / "out" / "light"
    shutil.rmtree(work, ignore_errors=True)
    trees = {"before": before.resolve(), "after": after.resolve()}
    envs = {}
    for label in trees:
        d = work / label
        (d / "home").mkdir(parents=True)
        shutil.copy(WUCHANG, d / "wuchang.gpkg")
        shutil.copytree(WUCHANG.with_suffix(".versions"), d / "wuchang.versions", ignore=shutil.ignore_patterns("lock"))
        envs[label] = {**os.environ, "GRIDATLAS_HOME": str(d / "home"), "GRIDATLAS_DATA": str(d / "wuchang.gpkg"),
                       "PYTHONUNBUFFERED": "1"}
    machine = machine_line()
    sizes = {label: _tree_payload(tree, work / label / "wuchang.gpkg", envs[label], work / label / "payload")
             for label, tree in trees.items()}
    print(sizes, flush=True)
    n = 1811
    draw: dict[str, list[dict]] = {label: [] for label in trees}
    for _ in range(repeat):  # alternating, as the restarts below
        for label, tree in trees.items():
            draw[label] += browser_draw(work / label / "payload.default.json", tree, n_grids=n, repeat=1)
    print(draw, flush=True)
    for label, tree in trees.items():  # a first start: the version's page data (and map) built and kept
        print(label, "first start", _first_visit(tree, envs[label], work / label / "server.log", n), flush=True)
    runs: dict[str, list[dict]] = {label: [] for label in trees}
    for i in range(repeat):
        for label, tree in trees.items():
            got = _first_visit(tree, envs[label], work / label / f"server-{i}.log", n)
            runs[label].append(got)
            print(label, i, got, flush=True)
    load_end = os.getloadavg()[0]
    lines = [
        f"`python -m bench.bench_app --light BEFORE --repeat {repeat}` on `cache/wuchang.gpkg` (1,811 grids, 3,600 "
        f"estates, 313 facilities). {machine}; load average {load_end:.1f} at the end. Before = {before_label(before)}; "
        f"after = {before_label(after) if after.resolve() != ROOT else 'this checkout'}. Each tree serves its own copy of the dataset (its version's page data on disk "
        "from a first start); restarts alternate between the trees.",
        "",
        "| | before | after |",
        "|---|---|---|",
    ]
    b, a = sizes["before"]["default"], sizes["after"]["default"]
    lines.append(f"| overview map script (UTF-8) | {b['script'] / 1e6:.2f} MB | {a['script'] / 1e6:.2f} MB |")
    lines.append(f"| as sent by Streamlit (JSON, non-ASCII escaped) | {b['wire'] / 1e6:.2f} MB | "
                 f"{a['wire'] / 1e6:.2f} MB |")
    lines.append(f"| of which the estates (hidden before, not sent after) | {'yes' if b['estates'] else 'no'} | "
                 f"{'yes' if a['estates'] else 'no'} |")
    if "estates" in sizes["after"]:
        e = sizes["after"]["estates"]
        lines.append(f"| script with the estates switched on | (always in) | {e['script'] / 1e6:.2f} MB "
                     f"(sent {e['wire'] / 1e6:.2f} MB) |")
    lines.append(f"| building and rendering the map once (server side) | {b['build_s']:.2f} s | {a['build_s']:.2f} s |")

    def cell(label: str, key: str) -> str:
        vals = [r[key] for r in runs[label]]
        return f"{statistics.median(vals):.2f} s ({', '.join(f'{v:.1f}' for v in vals)})"

    for key, what in (("eval_ms", "Chromium alone: run the map script (parse, decode, build every layer)"),
                      ("painted_ms", "Chromium alone: run the map script until painted")):
        vals = {label: [r[key] for r in draw[label]] for label in trees}
        lines.append(f"| {what} (median; runs) | " + " | ".join(
            f"{statistics.median(v):.0f} ms ({', '.join(f'{x:.0f}' for x in v)})" for v in vals.values()) + " |")
    for key, what in (("start_s", "server start → healthy"), ("drawn_s", "first visit: navigation → every grid drawn")):
        lines.append(f"| {what} (median; runs) | {cell('before', key)} | {cell('after', key)} |")
    lines += ["", "Server warm-up lines of the last restart: before — " + runs["before"][-1]["warm"]
              + "; after — " + runs["after"][-1]["warm"] + "."]
    body = "\n".join(lines)
    print(body)
    if write:
        write_section("Lighter overview maps (issue 21)", body)


def before_label(tree: Path) -> str:
    head = subprocess.run(["git", "-C", str(tree), "log", "-1", "--format=%h"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return f"`{head.stdout.strip()}`" + (" with the change reverted in its worktree" if dirty else " (a clean worktree)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--light", type=Path, metavar="BEFORE_TREE",
                    help="measure the lighter overview map against the code in BEFORE_TREE (issue 21)")
    ap.add_argument("--after", type=Path, default=ROOT, metavar="TREE",
                    help="with --light: the code to measure as 'after' (default: this checkout)")
    args = ap.parse_args()
    if args.light is not None:
        light(args.light, after=args.after, repeat=args.repeat, write=not args.no_write)
        return
    rows = []
    for label, path in (("demo (Shifeng, 232 grids)", DEMO), ("wuchang (1,811 grids, 1 M cases)", WUCHANG)):
        if not path.exists():
            raise SystemExit(f"{path} is missing: run `make wuchang` first")
        ours, naive, n = payload(path)
        start_s, cold_s, warm = browser_times(path, n, repeat=args.repeat)
        rows.append((label, start_s, cold_s, statistics.median(warm), min(warm), max(warm), ours, naive))
        print(rows[-1], flush=True)
    lines = [
        f"Machine: {machine_line()}. Headless Chromium, every grid polygon counted in the map before the clock stops.",
        "",
        "| dataset | server start → healthy | first visit → map drawn (cold) | reload → map drawn, warm (median, min–max) "
        "| map payload | straightforward folium map | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, start_s, cold_s, med, lo, hi, ours, naive in rows:
        lines.append(f"| {label} | {start_s:.1f} s | {cold_s:.1f} s | {med:.2f} s ({lo:.2f}–{hi:.2f}) | "
                     f"{ours / 1e6:.2f} MB | {naive / 1e6:.2f} MB | {naive / ours:.1f}× smaller |")
    lines += ["", "Targets: demo map drawn within 3 s on a warm server; Wuchang map payload under 2 MB. "
              "Warm = the dataset and the map are cached by the server; the browser still downloads and draws "
              "the whole map on every reload."]
    body = "\n".join(lines)
    if args.no_write:
        print(body)
    else:
        write_section("App start and overview map (issue: foundation)", body)
        print(body)


if __name__ == "__main__":
    main()
