"""The monthly import of a 1 M-case CSV, against a plain pipeline measured in the same run (issue 21).

Steps, each in a fresh process (peak = that process's own ``VmHWM``), repeated ``--repeats`` times (medians):

- plain: ``pyarrow.csv`` read, points from 经度/纬度, ``geopandas.sjoin`` with the grids, GeoParquet write;
- first: ``cli.py import --layer cases`` of the CSV into a workspace copy of Wuchang (cases differ: the CSV's
  coordinates are rounded to 7 decimals, as an export gives them);
- again: the same file imported again (the monthly full export, nothing changed).

    python -m bench.bench_import [--repeats 3] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
from pathlib import Path

from bench.bench_open import child
from bench.results import ROOT, WUCHANG, machine_line, write_section

HOME = ROOT / "bench" / "out" / "home_import"
CSV = ROOT / "bench" / "out" / "wuchang_cases_zh.csv"
NAME = "wuchang"

PLAIN = """
import geopandas as gpd, pyarrow.csv as pacsv, pyogrio
t = pacsv.read_csv({csv!r})
frame = t.drop_columns(["经度", "纬度"]).to_pandas()
pts = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(t.column("经度").to_numpy(), t.column("纬度").to_numpy()),
                       crs="EPSG:4326")
grids = pyogrio.read_dataframe({gpkg!r}, layer="grids", columns=["grid_id"])
joined = gpd.sjoin(pts, grids[["grid_id", "geometry"]], how="left", predicate="within").drop(columns="index_right")
joined = joined[~joined.index.duplicated()]
joined.to_parquet({out!r}, index=False, compression="zstd")
extra = {{"rows": len(joined)}}
"""

IMPORT = """
import runpy
sys.argv = ['cli.py', 'import', '--data', {name!r}, '--layer', 'cases', {csv!r}]
import io, contextlib
# the stages as the CLI reports them (geo.progress): when each began, the process's peak and CPU time by then
stages = {{}}
def hear(stage, done):
    if stage not in stages:
        hwm = next(int(v.split()[0]) for k, v in (l.split(":", 1) for l in open("/proc/self/status")) if k == "VmHWM")
        ru = resource.getrusage(resource.RUSAGE_SELF)
        stages[stage] = (time.perf_counter() - t0, hwm / 1024, ru.ru_utime + ru.ru_stime - cpu0)
import commands.data
commands.data.terminal_progress = lambda lang: hear
buf = io.StringIO()
try:
    with contextlib.redirect_stdout(buf):
        runpy.run_path('cli.py', run_name='__main__')
except SystemExit as e:
    code = e.code
summary = json.loads(buf.getvalue().strip().splitlines()[-1])["version"]
# the version is committed when the stage after "write" begins (the page data, "derive"), else at the end
after = stages.get("derive")
extra = {{"exit": code, "added": summary["rows_added"], "changed": summary["rows_changed"],
          "removed": summary["rows_removed"], "stages": stages,
          "committed_s": after[0] if after else time.perf_counter() - t0,
          "committed_peak_mb": after[1] if after else None, "committed_cpu_s": after[2] if after else None}}
"""

GPKG_WAIT = """
from geo.workspace import open_store
store = open_store({name!r})
pending = store.gpkg_pending()
store.geopackage()  # waits for the background writer (or writes it, when none runs)
extra = {{"pending": pending}}
"""


PAGE_IMPORT = """
from geo.readers import read_layer
from geo.workspace import open_store
from ui.context import PageContext
from ui.maps import basemap_config
from ui.progress import prepare_version

store = open_store({name!r})
cfg = basemap_config()  # the sidebar's default basemap: the configured one, if any
ctx = PageContext(ds=store.load(), path={name!r}, token=store.token, street=None, lang="zh",
                  tiles=cfg.url or None, tiles_attr=cfg.attribution, tiles_datum=cfg.datum)
read = read_layer({csv!r}, "cases")
info = store.import_layer("cases", read.gdf, source="page.csv")
t1 = time.perf_counter()
built = prepare_version(ctx)
extra = {{"version": info.id, "prepare_s": time.perf_counter() - t1, "built": built}}
"""


def first_visits(env: dict[str, str]) -> dict[str, dict]:
    """First visit → overview drawn on a fresh server: after a CLI import (nothing built for the new version),
    then after an import as the 数据管理 page makes it (the page data built when it ends)."""
    from bench.bench_open import browser

    out = {"cli": browser(env, 1811)}
    print("first visit after a CLI import", out["cli"], flush=True)
    child(IMPORT.format(name=NAME, csv=str(CSV)), env=env)  # a new version again, nothing built for it
    out["page_import"] = child(PAGE_IMPORT.format(name=NAME, csv=str(CSV)), env=env)
    print("page import", out["page_import"], flush=True)
    out["page"] = browser(env, 1811)
    print("first visit after a page import", out["page"], flush=True)
    out["restart"] = browser(env, 1811)  # the same version, the server started again: the reference
    print("first visit after a restart", out["restart"], flush=True)
    return out


def write_csv() -> None:
    """The Wuchang cases as a clerk's UTF-8 CSV with 经度/纬度 (grid ids left to the import)."""
    import pyogrio

    if CSV.exists():
        return
    cases = pyogrio.read_dataframe(WUCHANG, layer="cases", use_arrow=True)
    table = cases.drop(columns=["geometry", "grid_id"])
    table["经度"] = cases.geometry.x.round(7)
    table["纬度"] = cases.geometry.y.round(7)
    CSV.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(CSV, index=False, encoding="utf-8")


def prepare(env: dict[str, str]) -> Path:
    """A workspace holding Wuchang as version 1; kept as a template the runs copy."""
    template = HOME.with_name(HOME.name + "_template")
    # version 1 as a workspace takes a file in now: with its layers' row hashes kept (geo.rowhash)
    kept = template / "datasets" / f"{NAME}.versions" / "v0001" / "hashes"
    if not (template / "datasets" / f"{NAME}.versions" / "CURRENT").exists() or not kept.is_dir():
        shutil.rmtree(template, ignore_errors=True)
        (template / "datasets").mkdir(parents=True)
        shutil.copy(WUCHANG, template / "datasets" / f"{NAME}.gpkg")
        child(f"from geo.workspace import open_store\nopen_store({NAME!r}).current()\nextra = {{}}",
              env={**env, "GRIDATLAS_HOME": str(template)})
    return template


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--browser", action="store_true", help="also the first visit after an import (Chromium)")
    args = ap.parse_args()
    machine = machine_line()
    env = {**os.environ, "GRIDATLAS_HOME": str(HOME), "PYTHONUNBUFFERED": "1"}
    env.pop("GRIDATLAS_DATA", None)
    write_csv()
    template = prepare(env)
    runs: dict[str, list[dict]] = {"plain": [], "first": [], "again": []}
    for _ in range(args.repeats):
        out = ROOT / "bench" / "out" / "plain_cases.parquet"
        runs["plain"].append(child(PLAIN.format(csv=str(CSV), gpkg=str(WUCHANG), out=str(out)), env=env))
        print("plain", runs["plain"][-1], flush=True)
        shutil.rmtree(HOME, ignore_errors=True)
        # hard links: the copy is the same files, made at once (versions are never written in place)
        shutil.copytree(template, HOME, copy_function=os.link)
        for step in ("first", "again"):
            runs[step].append(child(IMPORT.format(name=NAME, csv=str(CSV)), env=env))
            print(step, runs[step][-1], flush=True)
            # the GeoPackage copy is written after the commit, in the background: waited for here, so that the
            # next step does not share the CPU with it, and timed from the import's end
            runs[step][-1]["gpkg"] = child(GPKG_WAIT.format(name=NAME), env=env)
            print("  gpkg", runs[step][-1]["gpkg"], flush=True)
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("s", "cpu_s", "peak_mb")} for k, v in runs.items()}
    for k in ("first", "again"):
        med[k]["committed_s"] = statistics.median(r["committed_s"] for r in runs[k])
        med[k]["committed_peak_mb"] = statistics.median(r["committed_peak_mb"] or r["peak_mb"] for r in runs[k])
        med[k]["committed_cpu_s"] = statistics.median(r["committed_cpu_s"] or r["cpu_s"] for r in runs[k])
        med[k]["gpkg_s"] = statistics.median(r["gpkg"]["s"] for r in runs[k])
    plain = med["plain"]["s"]
    last = {k: v[-1] for k, v in runs.items()}

    def row(label: str, key: str, goal: str) -> str:
        m, runs_s = med[key], ", ".join(f"{r['s']:.1f}" for r in runs[key])
        if key == "plain":
            return f"| {label} | {m['s']:.1f} s ({runs_s}) | | | {m['cpu_s']:.1f} s | {m['peak_mb']:,.0f} MB | | | {goal} |"
        committed = ", ".join(f"{r['committed_s']:.1f}" for r in runs[key])
        cpu = med["plain"]["cpu_s"]
        return (f"| {label} | {m['committed_s']:.1f} s ({committed}) | {m['s']:.1f} s ({runs_s}) | "
                f"{m['gpkg_s']:.1f} s | {m['committed_cpu_s']:.1f} s ({m['cpu_s']:.1f} s) | "
                f"{m['committed_peak_mb']:,.0f} MB | {m['peak_mb']:,.0f} MB | "
                f"{m['committed_s'] / plain:.2f}× ({m['s'] / plain:.2f}×); CPU {m['committed_cpu_s'] / cpu:.2f}× | "
                f"{goal} |")

    lines = [
        f"`python -m bench.bench_import --repeats {args.repeats}` — Wuchang (1,811 grids), 1,000,000 cases as a "
        f"UTF-8 CSV with 经度/纬度 ({CSV.stat().st_size / 1e6:.0f} MB). {machine}; load average "
        f"{os.getloadavg()[0]:.1f} at the end. Each step in a fresh process; medians of {args.repeats} "
        "(each run's wall time in brackets); peak = the process's own high-water mark.",
        "",
        "| step | to the commit (median; runs) | whole command (median; runs) | GeoPackage copy ready after | CPU "
        "time to the commit (command) | peak to the commit | peak (command) | ÷ plain: commit (command); CPU | goal |",
        "|---|---|---|---|---|---|---|---|---|",
        row("plain pipeline: pyarrow read + points + `sjoin` + GeoParquet write", "plain", ""),
        row("`cli.py import --layer cases`, into Wuchang (every case's position differs)", "first",
            "≤ 2× plain, < 1 GB"),
        row("the same file imported again (nothing changed)", "again", "≤ 3× plain, < 1 GB"),
        "",
        f"Counts reported by the imports (last run): first +{last['first']['added']:,} ~{last['first']['changed']:,} "
        f"-{last['first']['removed']:,}; again +{last['again']['added']:,} ~{last['again']['changed']:,} "
        f"-{last['again']['removed']:,}. Stages of the last run (start, s; peak by then, MB): first "
        + ", ".join(f"{k} {v[0]:.1f} ({v[1]:,.0f})" for k, v in last["first"]["stages"].items()) + "; again "
        + ", ".join(f"{k} {v[0]:.1f} ({v[1]:,.0f})" for k, v in last["again"]["stages"].items()) + ".",
        "",
        "*To the commit*: from the command's start until the new version is current (read, validate, assign, "
        "compare, write: the stage after it, the page data, begins); *whole command*: until it exits, the "
        "page data for the first visit included; *GeoPackage copy ready after*: from the command's exit until "
        "the background writer has switched in the version's plain GeoPackage.",
    ]
    if args.browser:
        v = first_visits(env)
        lines += [
            "",
            "First visit after an import, on a fresh server (headless Chromium, every grid polygon counted before "
            "the clock stops):",
            "",
            "| the new version was made by | import time before the visit | first visit → overview map drawn |",
            "|---|---|---|",
            f"| `cli.py import` (nothing built for the new version) | — | {v['cli']['overview_s']:.1f} s |",
            f"| an import as the 数据管理 page makes it (ends by building the page data: "
            f"{', '.join(v['page_import']['built'])}) | {v['page_import']['s']:.1f} s, of which building "
            f"{v['page_import']['prepare_s']:.1f} s | {v['page']['overview_s']:.1f} s |",
            f"| (reference) the same version after a server restart | — | {v['restart']['overview_s']:.1f} s |",
            "",
            "Goal: first visit after an import → overview drawn < 4 s.",
        ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Importing a million cases (issue 21)", body)


if __name__ == "__main__":
    main()
