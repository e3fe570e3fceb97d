"""A synthetic OpenStreetMap extract (``.osm.pbf``) over a dataset's extent, for the road-import benchmark.

The extract covers the grids' bounds plus ``--margin-m`` (3 km by default: an extract is cut wider than the
district, so the import's bbox filter has something to leave out) and holds about ``--ways`` ways, in
proportions like a Chinese city district's extract:

- a street lattice (one way per block side, a bent vertex in the middle): primary every 12th line,
  secondary every 6th, tertiary every 3rd, residential otherwise; some service roads, ``foot=no`` and
  ``access=private`` ways among them (about 60 % of the ways);
- footway spurs into the blocks (10 %);
- buildings (closed ways, ``building=yes``; 25 %), which the driver files as polygons;
- motorways and their links along two diagonals, and a river (waterway) across (5 %).

Deterministic for a seed. Needs ``osmium`` (pyosmium, a bench-only dependency in requirements.txt).

    python -m bench.gen_osm --grids bench/out/wuchang_full.gpkg --ways 50000 --out bench/out/wuchang.osm.pbf
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import osmium
import pyogrio
from osmium.osm.mutable import Node, Way

_M_PER_DEG = 111_320.0


def _bbox(grids: Path, margin_m: float) -> tuple[float, float, float, float]:
    frame = pyogrio.read_dataframe(grids, layer="grids", columns=[])
    minx, miny, maxx, maxy = (float(v) for v in frame.to_crs("EPSG:4326").total_bounds)
    dlat = margin_m / _M_PER_DEG
    dlon = margin_m / (_M_PER_DEG * math.cos(math.radians((miny + maxy) / 2)))
    return minx - dlon, miny - dlat, maxx + dlon, maxy + dlat


class _Builder:
    """Nodes and ways in memory (ids in order), then written nodes first, as PBF readers expect."""

    def __init__(self) -> None:
        self.lon: list[float] = []
        self.lat: list[float] = []
        self.ways: list[tuple[list[int], dict[str, str]]] = []

    def node(self, lon: float, lat: float) -> int:
        self.lon.append(lon)
        self.lat.append(lat)
        return len(self.lon)  # ids from 1

    def way(self, refs: list[int], **tags: str) -> None:
        self.ways.append((refs, tags))

    def write(self, out: Path) -> None:
        out.unlink(missing_ok=True)
        with osmium.SimpleWriter(str(out)) as writer:
            for i, (lon, lat) in enumerate(zip(self.lon, self.lat, strict=True), start=1):
                writer.add_node(Node(id=i, location=(lon, lat), version=1))
            for j, (refs, tags) in enumerate(self.ways, start=1):
                writer.add_way(Way(id=j, nodes=refs, tags=tags, version=1))


def build(bbox: tuple[float, float, float, float], n_ways: int, seed: int) -> _Builder:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bbox
    width_m = (maxx - minx) * _M_PER_DEG * math.cos(math.radians((miny + maxy) / 2))
    height_m = (maxy - miny) * _M_PER_DEG
    street_share = 0.60
    # block sides ~ 2 * nx * ny = street_share * n_ways
    cells = street_share * n_ways / 2
    step_m = math.sqrt(width_m * height_m / cells)
    nx_, ny_ = max(2, int(width_m / step_m)), max(2, int(height_m / step_m))
    xs, ys = np.linspace(minx, maxx, nx_), np.linspace(miny, maxy, ny_)
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    b = _Builder()
    ids = np.array([[b.node(float(x + rng.normal(0, dx * 0.03)), float(y + rng.normal(0, dy * 0.03)))
                     for x in xs] for y in ys])  # ids[row, col]

    def street_class(line: int) -> str:
        return ("primary" if line % 12 == 0 else "secondary" if line % 6 == 0 else "tertiary" if line % 3 == 0
                else "residential")

    def side(a: int, c: int, line: int) -> None:
        mid = b.node((b.lon[a - 1] + b.lon[c - 1]) / 2 + float(rng.normal(0, dx * 0.05)),
                     (b.lat[a - 1] + b.lat[c - 1]) / 2 + float(rng.normal(0, dy * 0.05)))
        tags = {"highway": street_class(line)}
        r = rng.random()
        if tags["highway"] == "residential" and r < 0.12:
            tags = {"highway": "service"}
        elif r < 0.14:
            tags["foot"] = "no"
        elif r < 0.16:
            tags["access"] = "private"
        b.way([a, mid, c], **tags)

    for r in range(ny_):
        for c in range(nx_ - 1):
            side(int(ids[r, c]), int(ids[r, c + 1]), r)
    for c in range(nx_):
        for r in range(ny_ - 1):
            side(int(ids[r, c]), int(ids[r + 1, c]), c)

    def in_block() -> tuple[int, int, float, float]:
        r, c = int(rng.integers(0, ny_ - 1)), int(rng.integers(0, nx_ - 1))
        return r, c, float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8))

    for _ in range(int(0.10 * n_ways)):  # footway spurs from a block's south side into it
        r, c, fx, fy = in_block()
        start = b.node(xs[c] + fx * dx, ys[r])
        end = b.node(xs[c] + fx * dx, ys[r] + fy * dy)
        b.way([start, end], highway="footway")
    for _ in range(int(0.25 * n_ways)):  # buildings: closed squares of 20-40 m
        r, c, fx, fy = in_block()
        x0, y0 = xs[c] + fx * dx, ys[r] + fy * dy
        half = float(rng.uniform(10, 20)) / _M_PER_DEG
        corners = [b.node(x0 + sx * half, y0 + sy * half) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        b.way([*corners, corners[0]], building="yes")
    rest = n_ways - len(b.ways)
    for k in range(rest):  # motorways (and links) on the diagonals, a river across the middle
        t0, t1 = k / rest, (k + 1) / rest
        if k % 3 == 2:
            y = miny + (maxy - miny) * 0.5
            b.way([b.node(minx + (maxx - minx) * t0, y), b.node(minx + (maxx - minx) * t1, y)], waterway="river")
        elif k % 3 == 1:
            b.way([b.node(minx + (maxx - minx) * t0, maxy - (maxy - miny) * t0),
                   b.node(minx + (maxx - minx) * t1, maxy - (maxy - miny) * t1)],
                  highway="motorway" if k % 2 else "motorway_link")
        else:
            b.way([b.node(minx + (maxx - minx) * t0, miny + (maxy - miny) * t0),
                   b.node(minx + (maxx - minx) * t1, miny + (maxy - miny) * t1)], highway="motorway")
    return b


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--grids", type=Path, required=True, help="a GeoPackage with a grids layer (its extent is used)")
    p.add_argument("--ways", type=int, default=50_000)
    p.add_argument("--margin-m", type=float, default=3000.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    bbox = _bbox(args.grids, args.margin_m)
    b = build(bbox, args.ways, args.seed)
    b.write(args.out)
    info = {"out": str(args.out), "ways": len(b.ways), "nodes": len(b.lon), "bytes": args.out.stat().st_size,
            "bbox": [round(v, 5) for v in bbox], "seconds": round(time.perf_counter() - t0, 2)}
    print(json.dumps(info))
    return info


if __name__ == "__main__":
    main()
