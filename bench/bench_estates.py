"""The 小区自治 page on both datasets: analysis time against a brute-force count, map payload, page drawn.

For each dataset:

* the estates analyses (`analysis.estates`) timed (median of ``--repeat``),
  beside a brute-force reference in the same run — every listed estate's
  stage worked out date by date in plain Python for every street and month
  end — whose planned/actual figures must equal ours (the run stops if not);
* the page's map payload beside a straightforward folium map of the same
  estates (every column, outlines, one marker per estate);
* in headless Chromium: first visit (cold: dataset read, tables and map
  built) and reloads on the warm server, until every estate dot is drawn.

    python -m bench.bench_estates [--repeat 5] [--no-write]
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

import folium
import pandas as pd
import streamlit_folium as sf

from analysis.estates import (
    DISTRICT,
    company_league,
    estates_at_stage,
    month_ends,
    plan_dates,
    plan_progress,
    stage_counts,
    street_progress,
)
from bench.results import DEMO, WUCHANG, machine_line, med, timed, write_section
from bench.server import start_server, time_opens
from geo.dataset import Dataset, read_dataset
from geo.schema import STAGE_DATE_COLUMNS
from tests.e2e.conftest import wait_for_map_count
from ui.maps import localize_assets


def brute_force(ds: Dataset) -> pd.DataFrame:
    """Planned and actual counts per (street, stage, month end), one estate and one date at a time."""
    start, target, as_of = plan_dates(ds.meta_dict)
    ends = list(month_ends(start, target))
    listed = ds.estates[ds.estates["governance_stage"].notna()]
    stages = list(STAGE_DATE_COLUMNS)
    records = listed[["street", *STAGE_DATE_COLUMNS.values()]].to_dict("records")
    rows = []
    for street in [*sorted({r["street"] for r in records}), DISTRICT]:
        mine = [r for r in records if street == DISTRICT or r["street"] == street]
        for k, stage in enumerate(stages):
            def reached(r: dict, cutoff: pd.Timestamp, k: int = k) -> bool:
                # a stage is reached when it or any later stage is dated before the cutoff
                return any(pd.notna(r[STAGE_DATE_COLUMNS[s]]) and r[STAGE_DATE_COLUMNS[s]] < cutoff
                           for s in stages[k:])
            base = sum(reached(r, start) for r in mine)
            for i, end in enumerate(ends, start=1):
                planned = base + math.ceil((len(mine) - base) * i / len(ends))
                cut = min(end, as_of) + pd.Timedelta(days=1)
                actual = sum(reached(r, cut) for r in mine) if end.to_period("M") <= as_of.to_period("M") else None
                rows.append((street, stage, end, planned, actual))
    return pd.DataFrame(rows, columns=["street", "stage", "month", "planned", "actual"])


def analysis_times(ds: Dataset, repeat: int) -> dict[str, float]:
    start, target, as_of = plan_dates(ds.meta_dict)
    calls = {
        "stage_counts": lambda: stage_counts(ds.estates),
        "street_progress": lambda: street_progress(ds.estates, start=start, target=target, as_of=as_of),
        "plan_progress": lambda: plan_progress(ds.estates, start=start, target=target, as_of=as_of),
        "estates_at_stage (with grids)": lambda: estates_at_stage(ds.estates, ds.grids, None, days_to=as_of),
        "company_league": lambda: company_league(ds.estates),
    }
    out = {name: med(timed(fn, repeat)[0]) for name, fn in calls.items()}
    ref_times, ref = timed(lambda: brute_force(ds), max(1, repeat // 2))
    ours = plan_progress(ds.estates, start=start, target=target, as_of=as_of)
    merged = ours.merge(ref, on=["street", "stage", "month"], suffixes=("", "_ref"))
    if len(merged) != len(ours) or not (merged["planned"] == merged["planned_ref"]).all() or not (
            merged["actual"].fillna(-1) == merged["actual_ref"].astype("float64").fillna(-1)).all():
        raise SystemExit("plan_progress differs from the brute-force count")
    out["brute force (plan and actual, checked equal)"] = med(ref_times)
    return out


def payload(path: Path) -> tuple[int, int]:
    """(the page's map script bytes, a straightforward folium map's bytes)."""
    from ui.estates import stage_map

    ds = read_dataset(path)
    _, _, as_of = plan_dates(ds.meta_dict)
    m = stage_map(str(path), f"bench@{path}", None, ("none", "committee_formed", "rules_adopted", "managed",
                                                      "fees_started"), str(as_of.date()), "zh", None, "", "wgs84")
    localize_assets(m)
    m.get_root().render()
    ours = len(sf._get_map_string(m).encode("utf-8"))
    naive = folium.Map(tiles=None)
    folium.GeoJson(ds.grids.to_json(default=str), name="grids").add_to(naive)
    listed = ds.estates[ds.estates["governance_stage"].notna()]
    folium.GeoJson(listed.to_json(default=str), name="estates").add_to(naive)
    for row in listed.itertuples():
        p = row.geometry.representative_point()
        folium.CircleMarker([p.y, p.x], radius=5, tooltip=str(row.name)).add_to(naive)
    localize_assets(naive)
    naive.get_root().render()
    return ours, len(sf._get_map_string(naive).encode("utf-8"))


def browser_times(path: Path, n_dots: int, *, repeat: int) -> tuple[float, list[float]]:
    with start_server(path) as server:
        return time_opens(f"{server.url}/estates", lambda page: wait_for_map_count(
            page, "path.ga-estate-stage", n_dots, timeout_ms=300_000), repeat=repeat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    lines = [f"Machine: {machine_line()}.", ""]
    page_rows = []
    for label, path in (("demo (Shifeng, 182 listed estates)", DEMO), ("wuchang (793 listed estates)", WUCHANG)):
        if not path.exists():
            raise SystemExit(f"{path} is missing: run `make wuchang` first")
        ds = read_dataset(path)
        times = analysis_times(ds, args.repeat)
        lines += [f"**{label}** — analyses (median of {args.repeat}):", "",
                  "| call | time |", "|---|---|"]
        lines += [f"| {name} | {1000 * s:.0f} ms |" for name, s in times.items()]
        lines.append("")
        n_dots = int(ds.estates["governance_stage"].notna().sum())
        ours, naive = payload(path)
        cold, warm = browser_times(path, n_dots, repeat=args.repeat)
        page_rows.append((label, cold, statistics.median(warm), min(warm), max(warm), ours, naive))
        print(label, times, page_rows[-1], flush=True)
    lines += ["| dataset | first visit → every estate drawn (cold) | reload, warm (median, min–max) | map payload "
              "| straightforward folium map | ratio |", "|---|---|---|---|---|---|"]
    for label, cold, mid, lo, hi, ours, naive in page_rows:
        lines.append(f"| {label} | {cold:.1f} s | {mid:.2f} s ({lo:.2f}–{hi:.2f}) | {ours / 1e6:.2f} MB | "
                     f"{naive / 1e6:.2f} MB | {naive / ours:.1f}× smaller |")
    lines += ["", "Cold includes reading and validating the dataset on a fresh server; warm = tables and map "
              "cached by the server, the browser still draws the whole page. The brute force recounts every "
              "estate's stage at every month end in plain Python; its figures equal `plan_progress`'s."]
    body = "\n".join(lines)
    if not args.no_write:
        write_section("Estates page (小区自治)", body)
    print(body)


if __name__ == "__main__":
    main()
