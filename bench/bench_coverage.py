"""Coverage benchmark on the Wuchang-scale dataset, against straightforward references timed in the same run.

- Straight-line coverage of one type (day care, 300 m) with `analysis.coverage`
  vs a plain geopandas computation: buffer every station, union the buffers,
  ``gpd.overlay`` the grids with the union for area shares and ``sjoin`` the
  estates for estate grids (the same definition, so the answers are compared).
- Walking coverage (graph built once and cached, as the page does) vs the
  networkx way: each station and resident on its nearest graph node (plus the
  walk to it), one Dijkstra from a super-source with a cutoff.
- The page: in headless Chromium, the time from clicking a threshold preset to
  the new figures and the fully drawn map (first time for that threshold, and
  again once cached).

Run: ``python -m bench.bench_coverage [--data cache/wuchang.gpkg] [--repeats 7] [--no-browser]``.
Writes its figures under ``## coverage`` in bench/RESULTS.md (that section only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.coverage import CoverageInputs, compute_coverage, prepare_inputs  # noqa: E402
from analysis.network import WalkGraph, build_walk_graph  # noqa: E402
from bench import results  # noqa: E402
from bench.results import med, timed  # noqa: E402
from geo.dataset import read_dataset  # noqa: E402

SECTION = "## coverage"
TYPE = "day_care"
RADIUS_M = 300.0


# --- references ---------------------------------------------------------------------

def geopandas_reference(inputs: CoverageInputs, *, radius_m: float) -> pd.Series:
    """Covered elderly per grid, the straightforward geopandas way (buffer, union, overlay, sjoin)."""
    crs = inputs.crs
    fac = inputs.facilities
    fac = fac[(fac["type"] == TYPE) & (fac["status"].astype("string").fillna("operating") != "planned")]
    union = gpd.GeoDataFrame(geometry=[fac.buffer(radius_m).union_all()], crs=crs)
    grids = inputs.grids[["grid_id", "elderly", "geometry"]]
    demand = inputs.demand
    estate_grids = set(demand.loc[demand["source"] == "estate", "grid_id"])
    covered = pd.Series(0.0, index=grids["grid_id"])
    # Grids without estates: share of area inside the union.
    area_grids = grids[~grids["grid_id"].isin(estate_grids)]
    if len(area_grids):
        inter = gpd.overlay(area_grids, union, how="intersection")
        ag = area_grids.set_index("grid_id")
        inside_area = inter.set_index("grid_id").area
        share = inside_area / ag.loc[inside_area.index].area
        covered.loc[share.index] = share.to_numpy() * ag.loc[share.index, "elderly"].to_numpy(dtype="float64")
    # Grids with estates: the estates' points inside the union, weighted by their share of the elderly.
    est = demand[demand["source"] == "estate"]
    inside = gpd.sjoin(est[["grid_id", "elderly", "geometry"]], union, predicate="intersects", how="inner")
    covered = covered.add(inside.groupby("grid_id")["elderly"].sum(), fill_value=0.0)
    return covered


def networkx_graph(graph: WalkGraph) -> nx.Graph:
    g = nx.Graph()
    g.add_weighted_edges_from(zip(graph.edge_u.tolist(), graph.edge_v.tolist(), graph.edge_length_m.tolist(),
                                  strict=True))
    return g


def networkx_reference(inputs: CoverageInputs, graph: WalkGraph, g: nx.Graph, *, radius_m: float) -> pd.Series:
    """Covered elderly per grid by networkx: nearest nodes, multi-source Dijkstra with a cutoff."""
    from scipy.spatial import cKDTree

    fac = inputs.facilities
    fac = fac[(fac["type"] == TYPE) & (fac["status"].astype("string").fillna("operating") != "planned")]
    tree = cKDTree(graph.node_xy)
    f_snap, f_nodes = tree.query(shapely.get_coordinates(fac.geometry.values))
    demand = inputs.demand
    d_snap, d_nodes = tree.query(shapely.get_coordinates(demand.geometry.values))
    # A super-source linked to each station's nearest node by its walk to it.
    source = "stations"
    g.add_weighted_edges_from((source, int(n), float(d)) for n, d in zip(f_nodes, f_snap, strict=True))
    try:
        dist = nx.single_source_dijkstra_path_length(g, source, cutoff=radius_m)
    finally:
        g.remove_node(source)
    walk = np.array([dist.get(int(n), np.inf) for n in d_nodes]) + d_snap
    ok = walk <= radius_m
    return pd.Series(demand["elderly"].to_numpy() * ok).groupby(demand["grid_id"].to_numpy()).sum()


# --- the page in the browser -----------------------------------------------------------

def browser_redraw(data: str, *, presets: list[str]) -> dict[str, list[float]]:
    """Seconds from clicking each preset to new KPI figures and a fully drawn map."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, wait_for_app

    proc, url = start_app(data)
    out: dict[str, list[float]] = {"first": [], "cached": [], "page_load": []}
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = b.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(url)
            wait_for_app(page, timeout_ms=300_000)
            page.locator('[data-testid="stSidebarNav"]').get_by_text("覆盖分析").wait_for(timeout=300_000)
            t0 = time.perf_counter()
            page.locator('[data-testid="stSidebarNav"]').get_by_text("覆盖分析").click()
            n_grids = _wait_drawn(page, None)
            out["page_load"].append(time.perf_counter() - t0)
            for rnd in ("first", "cached"):
                for label in presets:
                    before = _share_text(page)
                    t0 = time.perf_counter()
                    page.get_by_text(label, exact=True).click()
                    _wait_drawn(page, before, n_grids=n_grids)
                    out[rnd].append(time.perf_counter() - t0)
            b.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out


def _share_text(page) -> str:
    return page.locator('[data-testid="stMetric"]').filter(has_text="覆盖率").first.inner_text()


def _wait_drawn(page, before: str | None, *, n_grids: int | None = None) -> int:
    """Wait for the share KPI to change (if ``before``) and the map iframe to hold every grid polygon."""
    page.wait_for_function(
        """([before, n]) => {
            const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
                .find(e => e.innerText.includes('覆盖率'));
            if (!m || (before !== null && m.innerText === before)) return false;
            const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
            const doc = f && f.contentDocument;
            if (!doc) return false;
            const k = doc.querySelectorAll('path.ga-coverage-grid').length;
            return n === null ? k > 0 : k >= n;
        }""", arg=[before, n_grids], timeout=300_000, polling=20)
    return page.evaluate("""() => document.querySelector('iframe[title="streamlit_folium.st_folium"]')
        .contentDocument.querySelectorAll('path.ga-coverage-grid').length""")


# --- main --------------------------------------------------------------------------

def run(data: str, *, repeats: int, browser: bool) -> dict:
    fig: dict = {"data": data, "load_avg_1min": os.getloadavg()[0]}
    t0 = time.perf_counter()
    ds = read_dataset(data)
    fig["read_s"] = time.perf_counter() - t0
    fig["grids"] = len(ds.grids)
    fig["facilities"] = len(ds.facilities)
    fig["day_care"] = int((ds.facilities["type"] == TYPE).sum())
    fig["estates"] = 0 if ds.estates is None else len(ds.estates)
    fig["roads"] = 0 if ds.roads is None else len(ds.roads)

    prep_t, inputs = timed(lambda: prepare_inputs(ds), 3)
    fig["prepare_s"] = med(prep_t)
    fig["demand_points"] = len(inputs.demand)
    graph_t, graph = timed(lambda: build_walk_graph(inputs.roads), 3)
    fig["graph_build_s"] = med(graph_t)
    fig["graph_nodes"], fig["graph_edges"] = graph.n_nodes, graph.n_edges

    # Straight line.
    ours_t, res = timed(lambda: compute_coverage(inputs, facility_types=TYPE, radius_m=RADIUS_M), repeats)
    scratch_t, _ = timed(lambda: compute_coverage(ds, facility_types=TYPE, radius_m=RADIUS_M), 3)
    ref_t, ref = timed(lambda: geopandas_reference(inputs, radius_m=RADIUS_M), repeats)
    ours = res.grids.set_index("grid_id")["covered_elderly"]
    diff = (ours - ref.reindex(ours.index).fillna(0.0)).abs()
    fig["euclid_s"] = med(ours_t)
    fig["euclid_from_dataset_s"] = med(scratch_t)
    fig["euclid_ref_s"] = med(ref_t)
    fig["euclid_ratio"] = fig["euclid_ref_s"] / fig["euclid_s"]
    fig["euclid_share"] = res.totals.covered_share
    fig["euclid_max_abs_diff"] = float(diff.max())
    fig["euclid_total_diff"] = float(ours.sum() - ref.sum())

    # Walking, graph cached.
    walk_t, wres = timed(lambda: compute_coverage(inputs, facility_types=TYPE, radius_m=RADIUS_M, distance="walking",
                                                  graph=graph), repeats)
    g = networkx_graph(graph)
    nx_t, nx_cov = timed(lambda: networkx_reference(inputs, graph, g, radius_m=RADIUS_M), repeats)
    fig["walk_s"] = med(walk_t)
    fig["walk_ref_s"] = med(nx_t)
    fig["walk_ratio"] = fig["walk_ref_s"] / fig["walk_s"]
    fig["walk_share"] = wres.totals.covered_share
    fig["walk_nx_share"] = float(nx_cov.sum() / ds.grids["elderly"].sum())
    wl_t, _ = timed(lambda: compute_coverage(inputs, facility_types=TYPE, radius_m=1000.0, distance="walking",
                                             graph=graph), repeats)
    fig["walk_1000_s"] = med(wl_t)
    nx1_t, _ = timed(lambda: networkx_reference(inputs, graph, g, radius_m=1000.0), repeats)
    fig["walk_1000_ref_s"] = med(nx1_t)
    fig["walk_1000_ratio"] = fig["walk_1000_ref_s"] / fig["walk_1000_s"]

    if browser:
        red = browser_redraw(data, presets=["10分钟 500米", "15分钟 800米", "15分钟 1000米", "5分钟 300米"])
        fig["page_load_s"] = red["page_load"][0]
        fig["redraw_first_s"] = red["first"]
        fig["redraw_cached_s"] = red["cached"]
        fig["redraw_first_median_s"] = med(red["first"])
        fig["redraw_cached_median_s"] = med(red["cached"])
    return fig


def section(fig: dict, *, repeats: int) -> str:
    lines = [
        SECTION,
        "",
        f"`python -m bench.bench_coverage --data {fig['data']} --repeats {repeats}` — "
        f"{fig['grids']:,} grids, {fig['facilities']:,} facilities ({fig['day_care']} day-care), "
        f"{fig['estates']:,} estates, {fig['roads']:,} road lines; {fig['demand_points']:,} demand points; "
        f"walking graph {fig['graph_nodes']:,} nodes / {fig['graph_edges']:,} edges. "
        f"Medians of {repeats} runs (one-off steps: 3), 2 cores shared with other work (load average "
        f"{fig['load_avg_1min']:.1f} at the start; under a load near 5 the same steps took 2–4× longer).",
        "",
        "| step | GridAtlas | reference (same run) | reference ÷ GridAtlas | target |",
        "|---|---|---|---|---|",
        f"| straight-line coverage, day care 300 m (inputs prepared) | {fig['euclid_s']:.3f} s | "
        f"{fig['euclid_ref_s']:.3f} s geopandas buffer + union + overlay + sjoin | "
        f"{fig['euclid_ratio']:.1f}× | < 0.5 s |",
        f"| same, from the Dataset (projection + demand points included) | {fig['euclid_from_dataset_s']:.3f} s | | | |",
        f"| walking coverage, day care 300 m (graph cached) | {fig['walk_s']:.3f} s | "
        f"{fig['walk_ref_s']:.3f} s networkx Dijkstra from all stations, nearest nodes | "
        f"{fig['walk_ratio']:.1f}× | < 3 s |",
        f"| walking coverage, 1000 m | {fig['walk_1000_s']:.3f} s | {fig['walk_1000_ref_s']:.3f} s same reference | "
        f"{fig['walk_1000_ratio']:.1f}× | < 3 s |",
        f"| one-off: read + validate dataset | {fig['read_s']:.2f} s | | | |",
        f"| one-off: metric CRS + demand points | {fig['prepare_s']:.2f} s | | | |",
        f"| one-off: walking graph build | {fig['graph_build_s']:.2f} s | | | |",
    ]
    if "redraw_first_median_s" in fig:
        first = ", ".join(f"{v:.2f}" for v in fig["redraw_first_s"])
        cached = ", ".join(f"{v:.2f}" for v in fig["redraw_cached_s"])
        lines += [
            f"| page: threshold preset clicked → new KPIs + all grids drawn, first time per threshold | "
            f"{fig['redraw_first_median_s']:.2f} s (runs: {first}) | | | < 1.5 s |",
            f"| page: same, threshold seen before (cached) | {fig['redraw_cached_median_s']:.2f} s "
            f"(runs: {cached}) | | | < 1.5 s |",
            f"| page: first open of the coverage page (inputs, demand, map) | {fig['page_load_s']:.2f} s | | | |",
        ]
    lines += [
        "",
        f"Answers: district share covered {100 * fig['euclid_share']:.2f} % (straight line). Per grid, covered "
        f"aged 60+ differs from the geopandas reference by at most {fig['euclid_max_abs_diff']:.2f} people "
        f"(total {fig['euclid_total_diff']:+.1f}): the reference tests estates against 64-vertex circle polygons, "
        "which cut up to 0.37 m off a 300 m radius, while GridAtlas measures their distance exactly (an estate "
        "299.8 m away counts). Walking: "
        f"{100 * fig['walk_share']:.2f} % vs {100 * fig['walk_nx_share']:.2f} % for the reference, which puts "
        "residents and stations on their nearest graph node rather than the nearest point of a road, so it walks "
        "differently (checked exactly against networkx with edge snapping in tests/analysis/test_network.py).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT / "cache" / "wuchang.gpkg"))
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--no-browser", action="store_true")
    p.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = p.parse_args(argv)
    fig = run(args.data, repeats=args.repeats, browser=not args.no_browser)
    print(json.dumps(fig, ensure_ascii=False, default=str))
    text = section(fig, repeats=args.repeats)
    print(text)
    if not args.no_write:
        results.write_section(SECTION.removeprefix("## "), text.split("\n", 1)[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
