"""Importing roads from an OpenStreetMap extract into the Wuchang-scale dataset, as a clerk's command would.

What is timed is the whole command, ``python cli.py import --data wuchang --layer roads FILE.osm.pbf``, in a
fresh process under ``/usr/bin/time -v`` (wall clock and peak RSS of the process): Python's start, opening
the dataset (its grids give the extent), reading the extract with GDAL's OSM driver (bbox + where),
validating, and writing the new version. The extracts come from `bench.gen_osm` (deterministic) over the
dataset's grids plus 3 km. For comparison, the same command with the roads it stored, as a GeoPackage
(the store's share of the time, without OSM parsing).

The workspace is ``bench/out/osm_home`` (removed first); the dataset is ``cache/wuchang.gpkg`` (``make
wuchang``: 1,811 grids, 1 M cases), or ``--dataset PATH``. Each figure is the median of ``--repeat`` runs
(default 5); every run adds a version, as a clerk's repeated import would.

    python -m bench.bench_osm [--dataset bench/out/wuchang_full.gpkg] [--ways 50000,200000] [--no-write]
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
from pathlib import Path

from bench.results import ROOT, WUCHANG, machine_line, write_section

OUT = ROOT / "bench" / "out"
HOME = OUT / "osm_home"
NAME = "wuchang"


def _time_v(args: list[str], env: dict[str, str]) -> dict:
    """Run a command under /usr/bin/time -v: wall seconds, peak RSS (MB), its stdout's last JSON line."""
    out = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", out.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
    assert wall and rss, out.stderr[-2000:]
    seconds = int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    return {"s": seconds, "peak_mb": int(rss.group(1)) / 1024, "out": json.loads(out.stdout.strip().splitlines()[-1])}


def _seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _runs(args: list[str], env: dict[str, str], repeat: int) -> tuple[float, float, dict]:
    runs = [_time_v(args, env) for _ in range(repeat)]
    return (statistics.median(r["s"] for r in runs), statistics.median(r["peak_mb"] for r in runs), runs[-1]["out"])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", type=Path, default=WUCHANG)
    p.add_argument("--ways", default="50000,200000", help="extract sizes (ways), comma-separated")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    if not args.dataset.exists():
        sys.exit(f"{args.dataset} is missing: run `make wuchang` first (or give --dataset)")
    shutil.rmtree(HOME, ignore_errors=True)
    os.environ["GRIDATLAS_HOME"] = str(HOME)  # this process's store and the commands' (settings are read on use)
    os.environ.pop("GRIDATLAS_DATA", None)
    env = dict(os.environ)
    sys.path.insert(0, str(ROOT))
    from geo.dataset import read_dataset
    from geo.osm import extent_of, read_osm_roads
    from geo.workspace import open_store

    t0 = time.perf_counter()
    open_store(NAME).import_dataset(read_dataset(args.dataset), source=args.dataset.name)
    print(f"dataset {NAME} from {args.dataset} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    machine = machine_line()
    rows = []
    for n in (int(v) for v in args.ways.split(",")):
        pbf = OUT / f"wuchang_{n}.osm.pbf"
        gen = json.loads(subprocess.run([sys.executable, "-m", "bench.gen_osm", "--grids", str(args.dataset),
                                         "--ways", str(n), "--out", str(pbf)], capture_output=True, text=True,
                                        check=True, cwd=ROOT).stdout)
        cmd = [sys.executable, "cli.py", "import", "--data", NAME, "--layer", "roads"]
        osm_s, osm_mb, out = _runs([*cmd, str(pbf)], env, args.repeat)
        ds = open_store(NAME).load()
        stored, extent = ds.roads, extent_of(ds.grids)
        read_s = statistics.median(_seconds(lambda pbf=pbf, extent=extent: read_osm_roads(pbf, bbox=extent))
                                   for _ in range(args.repeat))
        gpkg = OUT / f"wuchang_{n}_roads.gpkg"
        gpkg.unlink(missing_ok=True)
        stored.to_file(gpkg, layer="roads", driver="GPKG")
        gpkg_s, gpkg_mb, _ = _runs([*cmd, str(gpkg)], env, args.repeat)
        rows.append({"ways": gen["ways"], "nodes": gen["nodes"], "mb": gen["bytes"] / 1024 / 1024,
                     "taken": out["version"]["layers"]["roads"], "osm_s": osm_s, "osm_mb": osm_mb, "read_s": read_s,
                     "gpkg_s": gpkg_s, "gpkg_mb": gpkg_mb})
        print(json.dumps(rows[-1]), file=sys.stderr)
    body = [
        "What: `python cli.py import --data wuchang --layer roads FILE.osm.pbf` — the whole command in a fresh "
        "process: start, open the dataset (its grids give the extent), read the extract with GDAL's OSM driver "
        "(`lines` layer, bbox of the grids plus 1 km, `where` on highway), validate, write the new version. "
        "Beside it, the reading alone (`geo.osm.read_osm_roads` with the extent, in-process), and the same command "
        "with the roads it stored, as a GeoPackage: the store's and Python's share without OSM parsing.",
        "",
        f"How: `python -m bench.bench_osm --dataset {args.dataset.relative_to(ROOT) if args.dataset.is_relative_to(ROOT) else args.dataset}` "
        f"(dataset: Wuchang scale, 1,811 grids, 1 M cases); extracts from `bench/gen_osm.py` over the grids' "
        f"bounds plus 3 km (street lattice, footway spurs, buildings, motorways, a river; written with pyosmium); "
        f"`/usr/bin/time -v` gives wall time and peak RSS; median of {args.repeat} runs, each a new version. "
        f"{machine}.",
        "",
        "| extract: ways (nodes) | .osm.pbf | roads taken | import .osm.pbf: wall | peak RSS | reading alone "
        "| same roads as .gpkg: wall | peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        body.append(f"| {r['ways']:,} ({r['nodes']:,}) | {r['mb']:.1f} MB | {r['taken']:,} | {r['osm_s']:.2f} s "
                    f"| {r['osm_mb']:.0f} MB | {r['read_s']:.2f} s | {r['gpkg_s']:.2f} s | {r['gpkg_mb']:.0f} MB |")
    text = "\n".join(body)
    print(text)
    if not args.no_write:
        write_section("Roads from OpenStreetMap (import --layer roads FILE.osm.pbf)", text)


if __name__ == "__main__":
    main()
