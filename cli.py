"""GridAtlas on the command line: the app's analyses for scripts and cron.

Conventions shared by every command: ``--data`` takes a dataset name in the
workspace, a GeoPackage path or a ``postgresql://`` URL (default:
$GRIDATLAS_DATA, else the bundled demo), ``--out`` a file; results
go to ``--out`` and a one-line JSON summary to stdout; bad input exits 2 with
every problem on stderr, one per line, in the language of ``--lang`` (``zh``
by default, as in the app; ``en`` for English), before or after the command. Every
option with a fixed set of values takes it from `analysis.options`. Settings
(``GRIDATLAS_*``) are checked first: an invalid one exits 2 naming it.
Installed with the project, the same commands run as ``gridatlas …``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis.options import (
    CANDIDATE_SOURCES,
    DISTANCES,
    MEASURES,
    PERIODS,
    SOLVERS,
    WEIGHTS,
    WEIGHTS_SCHEMES,
)
from geo import settings
from geo.crs import COORD_SYSTEMS
from geo.dataset import default_data_path
from geo.errors import AnalysisError, GridAtlasError
from geo.readers import read_layer
from geo.schema import LAYER_NAMES
from geo.storage import IMPORT_MODES, open_store
from geo.users import UserError
from i18n import LANGS, error_text, problem_text

EXIT_OK = 0
EXIT_BAD_INPUT = 2
DEFAULT_LANG = "zh"


def _print_json(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str))


def _load(args: argparse.Namespace):
    """The current version of ``--data`` (validated when it was imported, checksum checked now)."""
    return open_store(args.data).load()


def _add_data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default=None,
                   help="dataset: a name in the workspace, a GeoPackage path or a postgresql:// URL "
                        "(default: $GRIDATLAS_DATA, else the bundled demo)")


def _add_scheduler_arg(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help=f"run on this dask.distributed scheduler ({what}); default: in-process")


def _write_table(df: pd.DataFrame, out: str) -> None:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        df.to_excel(path, index=False)
    else:
        df.to_csv(path, index=False, encoding="utf-8")


# --- validate -------------------------------------------------------------

def _cmd_validate(args: argparse.Namespace) -> int:
    read = read_layer(args.file, args.layer, coord_sys=args.coord_sys, epsg=args.epsg, sublayer=args.sheet)
    for problem in read.warnings:
        print(f"warning: {problem_text(problem, lang=args.lang)}", file=sys.stderr)
    gdf = read.gdf
    minx, miny, maxx, maxy = (float(v) for v in gdf.total_bounds)
    _print_json({"layer": args.layer, "file": str(args.file), "rows": len(gdf), "coord_sys": args.coord_sys,
                 "format": read.source.format, "encoding": read.source.encoding, "sublayer": read.source.sublayer,
                 "crs": read.crs_used, "columns": [c for c in gdf.columns if c != "geometry"],
                 "headers": {k: v for k, v in read.columns.items() if v}, "warnings": len(read.warnings),
                 "bounds_wgs84": [round(v, 6) for v in (minx, miny, maxx, maxy)]})
    return EXIT_OK


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check one layer file (GeoPackage, GeoJSON, Shapefile or .zip, CSV, XLSX) "
                                        "and report every problem")
    p.add_argument("--layer", required=True, choices=LAYER_NAMES)
    p.add_argument("--coord-sys", default="wgs84", choices=COORD_SYSTEMS,
                   help="datum of plain lon/lat values (gcj02: Amap/Tencent, bd09: Baidu)")
    p.add_argument("--epsg", type=int, default=None,
                   help="coordinate system of coordinates the file does not describe (or overriding its own): "
                        "4326 WGS84, 4490 CGCS2000, 4547 CGCS2000 Gauss-Kruger 114E, any EPSG code")
    p.add_argument("--sheet", default=None, help="GeoPackage layer or Excel sheet to read (default: the layer's "
                                                 "own name, else the first)")
    p.add_argument("file")
    p.set_defaults(func=_cmd_validate)


# --- demo -----------------------------------------------------------------

MAX_PERMUTATIONS = 99_999


def _check_seed(seed: int) -> None:
    if seed < 0:
        raise AnalysisError(f"--seed was {seed} but must be 0 or more", code="analysis.negative",
                            params={"name": "--seed", "value": str(seed)})


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.cases is not None and args.cases < 1:
        raise AnalysisError(f"--cases was {args.cases} but must be at least 1", code="analysis.not_whole",
                            params={"name": "--cases", "value": str(args.cases), "min": 1})
    _check_seed(args.seed)
    if args.scale == "wuhan":
        from geo import demo_city

        districts = tuple(d.strip() for d in args.districts.split(",") if d.strip()) if args.districts else None
        _print_json(demo_city.build_and_write(args.out, seed=args.seed, n_cases=args.cases, n_grids=args.grids,
                                              districts=districts, log=lambda m: print(m, file=sys.stderr)))
        return EXIT_OK
    if args.out.startswith(("postgresql://", "postgres://")):
        raise AnalysisError("--scale shifeng and wuchang write a GeoPackage; give --out a .gpkg path",
                            code="analysis.needs_geopackage", params={"name": "--out"})
    from geo.demo import build_and_write

    _print_json(build_and_write(args.scale, args.out, seed=args.seed, n_cases=args.cases))
    return EXIT_OK


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="build a synthetic dataset (deterministic from --seed) into a GeoPackage "
                                    "(or, for wuhan, a postgresql:// database)")
    p.add_argument("--scale", required=True, choices=("shifeng", "wuchang", "wuhan"),
                   help="shifeng: the bundled demo (232 grids); wuchang: the large one (1,811 grids, 1 M cases); "
                        "wuhan: the city's 13 districts (~20,000 grids, ~13 M residents, 10 M cases in 2025)")
    p.add_argument("--seed", type=int, default=2019, help="random seed (default 2019, the bundled demo's)")
    p.add_argument("--cases", type=int, default=None, help="number of cases instead of the scale's own")
    p.add_argument("--grids", type=int, default=None, help="wuhan only: grids in the whole city (default 20,000)")
    p.add_argument("--districts", default=None,
                   help="wuhan only: build only these districts, separated by commas (e.g. 江汉区,青山区)")
    p.add_argument("--out", required=True,
                   help="GeoPackage to write (replaced atomically); for wuhan also a postgresql:// URL "
                        "(imported as a new version of that database's dataset)")
    p.set_defaults(func=_cmd_demo)


# --- coverage -------------------------------------------------------------

def _cmd_coverage(args: argparse.Namespace) -> int:
    from analysis.coverage import compute_coverage, district_totals, resolve_params

    types = tuple(t.strip() for t in args.type.split(",") if t.strip())
    ds = _load(args)
    options = {"facility_types": types, "radius_m": args.radius_m, "distance": args.distance, "weight": args.weight,
               "include_planned": args.include_planned}
    if args.scheduler:
        from analysis.coverage import prepare_inputs
        from analysis.distributed import connect, district_coverage

        params = resolve_params(prepare_inputs(ds), **options)
        by = "district" if "district" in ds.grids.columns else "street"
        layers = {n: ds.layer(n) for n in ("grids", "facilities", "estates", "roads")}
        grids = district_coverage(layers, by=by, client=connect(args.scheduler), **options)
        totals = district_totals(grids)
    else:
        res = compute_coverage(ds, **options)
        grids, params, totals = res.grids, res.params, res.totals
    w = args.weight
    table = grids[["grid_id", "street", w, f"covered_{w}", "covered_share", "nearest_m"]].copy()
    table[f"covered_{w}"] = table[f"covered_{w}"].round(2)
    table["covered_share"] = table["covered_share"].round(4)
    table["nearest_m"] = table["nearest_m"].round(1)
    _write_table(table, args.out)
    summary = {"command": "coverage", "types": list(params.facility_types),
               "radius_m": params.radius_by_type, "distance": params.distance,
               "include_planned": params.include_planned, **totals.as_dict(), "out": str(args.out),
               "scheduler": args.scheduler}
    _print_json(summary)
    return EXIT_OK


def _add_coverage(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coverage", help="residents within reach of a facility type, one row per grid")
    _add_data_arg(p)
    p.add_argument("--type", required=True,
                   help="facility type (day_care, health_center, ...); several separated by commas")
    p.add_argument("--radius-m", type=float, default=None,
                   help="threshold in metres (default: the type's GB 50180-2018 life circle, 300 or 1000)")
    p.add_argument("--distance", "--method", dest="distance", default="euclidean", choices=DISTANCES,
                   help="straight line, or walking along the roads layer (--method: the old name)")
    p.add_argument("--weight", default="elderly", choices=WEIGHTS,
                   help="count the aged 60+ (default) or all residents")
    p.add_argument("--include-planned", action="store_true", help="count planned facilities as well")
    _add_scheduler_arg(p, "one task per district (or per street without a district column); same answer")
    p.add_argument("--out", required=True, help="CSV (or .xlsx) to write, one row per grid")
    p.set_defaults(func=_cmd_coverage)


# --- site -----------------------------------------------------------------

def _cmd_site(args: argparse.Namespace) -> int:
    from analysis.siting import SitingRequest, run_siting, siting_problem, solve_siting, summary
    from analysis.siting.exact import fewest_sites
    from geo.scenarios import check_name, save_scenario

    if args.per_district or args.scheduler:
        return _site_per_district(args)
    if args.save is not None:
        check_name(args.save)  # a bad name fails before the solve, not after it
    params = _site_params(args)
    request = SitingRequest(params=params, mode="n" if args.target_share is None else "target",
                            n_new=args.new or 1, target_share=args.target_share or 0.8, solver=args.solver,
                            curve_max=args.curve_max)
    ds = _load(args)
    prob = siting_problem(ds, params)
    if args.save is not None:
        run = run_siting(prob, request, time_limit_s=args.time_limit_s)
        result = run.result
    elif request.mode == "target":
        result = fewest_sites(prob, target_share=request.target_share, solver=args.solver,
                              time_limit_s=args.time_limit_s)
    else:
        result = solve_siting(prob, n_new=args.new, solver=args.solver, time_limit_s=args.time_limit_s)
    table = pd.DataFrame({"site_id": list(result.site_ids), "rank": range(1, result.n_new + 1),
                          "gain_elderly": [round(g, 3) for g in result.gains_elderly]})
    _write_table(table, args.out)
    out = summary(prob, result)
    if args.save is not None:
        saved = save_scenario(args.data, run.to_scenario(args.save, dataset=ds.name), overwrite=args.overwrite)
        out["saved"] = saved.name
    _print_json(out)
    return EXIT_OK


def _site_params(args: argparse.Namespace):
    from analysis.siting import SitingParams

    return SitingParams(facility_type=args.type, radius_m=args.radius_m, distance=args.distance,
                        candidates=args.candidates, min_spacing_m=args.min_spacing_m,
                        capacity=args.capacity or args.site_capacity is not None, site_capacity=args.site_capacity)


def _site_per_district(args: argparse.Namespace) -> int:
    """Each district's coverage curve for 1..N new stations (grids' ``district`` column, else per street)."""
    from types import SimpleNamespace

    from analysis.distributed import connect, district_siting_curves
    from i18n import t

    for option, given in (("--target-share", args.target_share is not None), ("--save", args.save is not None)):
        if given:
            raise AnalysisError(f"--per-district and --scheduler trace each district's curve for --new N; "
                                f"{option} runs on the whole dataset in-process", code="analysis.per_district_curve",
                                params={"option": option})
    if args.new < 1:
        raise AnalysisError(f"--new was {args.new} but must be at least 1", code="analysis.not_whole",
                            params={"name": "--new", "value": str(args.new), "min": 1})
    params = _site_params(args)
    ds = _load(args)
    by = "district" if "district" in ds.grids.columns else "street"
    client = connect(args.scheduler)
    try:
        parts = district_siting_curves(ds, params, by=by, max_new=args.new, solver=args.solver,
                                       time_limit_s=args.time_limit_s, client=client)
    finally:
        if client is not None:
            client.close()
    frame = pd.concat([p.frame.assign(**{by: p.district}) for p in parts if p.note is None], ignore_index=True)
    frame = frame[[by, *(c for c in frame.columns if c != by)]]
    for c in ("greedy_elderly", "exact_elderly"):
        if c in frame.columns:
            frame[c] = frame[c].round(3)
    for c in ("greedy_share", "exact_share"):
        if c in frame.columns:
            frame[c] = frame[c].round(6)
    _write_table(frame, args.out)
    for p in parts:
        if p.note is not None:
            why = SimpleNamespace(code=p.note_code, params=dict(p.note_params), message=p.note)  # as error_text reads
            note = error_text(why, lang=args.lang)
            print(f"warning: {t('siting.district_note', lang=args.lang, district=p.district, note=note)}",
                  file=sys.stderr)
    done = [p for p in parts if p.note is None]
    last = "exact_elderly" if args.solver == "exact" else "greedy_elderly"
    _print_json({"command": "site", "per_district": True, "by": by, "scheduler": args.scheduler,
                 "districts": len(parts), "without_curve": len(parts) - len(done), "new": args.new,
                 "solver": args.solver, "total_elderly": round(sum(p.total_elderly for p in done), 3),
                 "existing_elderly": round(sum(p.existing_elderly for p in done), 3),
                 "covered_elderly_at_most_new": round(sum(float(p.frame[last].iloc[-1]) for p in done), 3),
                 "out": str(args.out)})
    return EXIT_OK


def _add_site(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("site", help="choose N new stations that reach the most uncovered aged 60+ (MCLP)")
    _add_data_arg(p)
    p.add_argument("--type", default="day_care", help="facility type of the new stations (default day_care)")
    p.add_argument("--radius-m", type=float, default=300.0, help="reach in metres (default 300, the 5-min circle)")
    question = p.add_mutually_exclusive_group(required=True)
    question.add_argument("--new", type=int, help="number of new stations N")
    question.add_argument("--target-share", type=float,
                          help="instead of N: the fewest new stations that bring coverage to this share (0.9 = 90 %%)")
    p.add_argument("--solver", default="exact", choices=SOLVERS,
                   help="exact: integer program solved by HiGHS (proven optimum or gap); greedy: one at a time")
    p.add_argument("--distance", "--method", dest="distance", default="euclidean", choices=DISTANCES,
                   help="straight line, or walking along the roads layer (--method: the old name)")
    p.add_argument("--candidates", default="layer", choices=CANDIDATE_SOURCES,
                   help="the candidates layer, or points generated in uncovered estates and grids")
    p.add_argument("--min-spacing-m", type=float, default=0.0,
                   help="keep new stations at least this far from existing ones and from each other")
    p.add_argument("--capacity", action="store_true",
                   help="each station serves at most its capacity (candidates' capacity column)")
    p.add_argument("--site-capacity", type=float, default=None,
                   help="capacity of candidates without one (implies --capacity)")
    p.add_argument("--time-limit-s", type=float, default=60.0, help="time limit of the exact solver")
    p.add_argument("--save", metavar="NAME", default=None,
                   help="also save the answer (with its coverage curve) as a scenario of this name in the dataset, "
                        "where the siting page lists it")
    p.add_argument("--overwrite", action="store_true", help="with --save: replace a scenario of the same name")
    p.add_argument("--curve-max", type=int, default=10,
                   help="with --save: trace the coverage curve up to this many new stations (default 10)")
    p.add_argument("--per-district", action="store_true",
                   help="instead of one answer: each district's coverage curve for 1..N new stations (--new N) inside "
                        "it, for its own residents (grids' district column, else per street); output: one row per "
                        "district and N")
    _add_scheduler_arg(p, "implies --per-district: one task per district (or per street); same answer as "
                          "--per-district in-process")
    p.add_argument("--out", required=True,
                   help="CSV (or .xlsx) to write: site_id, rank, gain_elderly, one row per chosen site; "
                        "stdout gets covered_elderly, covered_share (existing and new together), added_elderly, "
                        "optimal, gap and seconds (building and solving, after reading the data), and saved "
                        "(the scenario name) with --save")
    p.set_defaults(func=_cmd_site)


# --- scenarios ------------------------------------------------------------

def _cmd_scenarios(args: argparse.Namespace) -> int:
    from analysis.siting import SCENARIO_KIND, SitingRun
    from geo.scenarios import list_scenarios

    rows = []
    for s in list_scenarios(args.data, kind=args.kind):
        row: dict = {"name": s.name, "kind": s.kind, "saved_at": s.saved_at}
        if s.kind == SCENARIO_KIND:
            run = SitingRun.from_scenario(s)
            p, r = run.request.params, run.result
            row.update({"facility_type": p.facility_type, "radius_m": p.radius_m, "distance": p.distance,
                        "candidates": p.candidates, "street": p.street, "mode": run.request.mode,
                        "n_new": run.request.n_new if run.request.mode == "n" else None,
                        "target_share": run.request.target_share if run.request.mode == "target" else None,
                        "solver": r.solver, "sites": list(r.site_ids), "covered_share": round(r.covered_share, 6),
                        "added_elderly": round(r.added_elderly, 3), "optimal": r.optimal})
        rows.append(row)
    _print_json({"command": "scenarios", "data": str(args.data), "scenarios": rows})
    return EXIT_OK


def _add_scenarios(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenarios", help="list the scenarios saved in a dataset (oldest first), as JSON")
    _add_data_arg(p)
    p.add_argument("--kind", default=None, help="only scenarios of this kind (e.g. siting)")
    p.set_defaults(func=_cmd_scenarios)


# --- hotspots -------------------------------------------------------------

def _date_arg(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _cmd_hotspots(args: argparse.Namespace) -> int:
    from analysis.cases import CaseFilter, case_table_from_dataset
    from analysis.hotspots import hotspot_report, queen_weights

    if not 0 <= args.permutations <= MAX_PERMUTATIONS:
        raise AnalysisError(f"--permutations was {args.permutations} but must be between 0 and "
                            f"{MAX_PERMUTATIONS:,} (999 is the usual choice)", code="analysis.out_of_range",
                            params={"name": "--permutations", "value": str(args.permutations), "min": 0,
                                    "max": f"{MAX_PERMUTATIONS:,}"})
    _check_seed(args.seed)
    ds = _load(args)
    table = case_table_from_dataset(ds)
    flt = CaseFilter(since=args.since, until=args.until,
                     categories=(args.category,) if args.category else ())
    if args.per_district or args.scheduler:
        return _hotspots_per_district(args, ds, table, flt)
    report = hotspot_report(table, queen_weights(ds.grids), flt, measure=args.measure,
                            permutations=args.permutations, seed=args.seed, period=args.period,
                            weights_scheme=args.weights)
    _write_table(report.frame, args.out)
    for note in report.notes:
        print(f"warning: {note}", file=sys.stderr)
    bins = report.frame["gi_bin"]
    patterns = report.frame["pattern"].dropna().value_counts().to_dict()
    _print_json({"command": "hotspots", "cases": report.hot.n_cases, "cases_outside_grids": table.outside,
                 "grids": table.n_grids, "grids_analysed": report.hot.n_grids_analysed, "measure": args.measure,
                 "since": args.since, "until": args.until, "category": args.category, "as_of": table.as_of.date(),
                 "permutations": args.permutations, "seed": args.seed, "period": args.period,
                 "hot_grids": int((bins > 0).sum()), "cold_grids": int((bins < 0).sum()),
                 "patterns": {str(k): int(v) for k, v in patterns.items()}, "out": str(args.out)})
    return EXIT_OK


def _hotspots_per_district(args: argparse.Namespace, ds, table, flt) -> int:
    """Gi* and emerging patterns per district (grids' ``district`` column, else the whole dataset)."""
    import numpy as np

    from analysis.cases import case_mask
    from analysis.distributed import connect, district_hotspots, grid_period_counts
    from analysis.hotspots import period_range

    if args.measure != "count":
        raise AnalysisError("--per-district and --scheduler count cases (--measure count); rates run in-process",
                            code="analysis.per_district_count_only")
    client = connect(args.scheduler)
    keep = case_mask(table, flt) & (table.grid >= 0)
    first, last = period_range(table, flt, period=args.period)
    codes = table.periods(args.period)
    counts = grid_period_counts(np.where(keep, table.grid, -1), codes, n_grids=table.n_grids, first=first,
                                last=last, client=client)
    grids = ds.grids if "district" in ds.grids.columns else ds.grids.assign(district=ds.name)
    parts = district_hotspots(grids, counts, client=client, permutations=args.permutations, seed=args.seed,
                              weights_scheme=args.weights)
    frame = pd.concat([p.frame.assign(district=p.district) for p in parts], ignore_index=True)
    order = {g: i for i, g in enumerate(ds.grids["grid_id"].astype(str))}
    frame = frame.sort_values("grid_id", key=lambda s: s.astype(str).map(order)).reset_index(drop=True)
    frame = frame[["grid_id", "district", "cases", "gi_z", "gi_p", "gi_p_sim", "gi_bin", "pattern"]]
    frame = frame.assign(gi_z=frame["gi_z"].round(6), gi_p=frame["gi_p"].round(6), gi_p_sim=frame["gi_p_sim"].round(4))
    _write_table(frame, args.out)
    patterns = frame["pattern"].dropna().value_counts().to_dict()
    _print_json({"command": "hotspots", "per_district": True, "scheduler": args.scheduler,
                 "districts": len(parts), "cases": int(counts.sum()), "grids": len(frame),
                 "periods": int(counts.shape[1]), "period": args.period, "permutations": args.permutations,
                 "seed": args.seed, "hot_grids": int((frame["gi_bin"] > 0).sum()),
                 "cold_grids": int((frame["gi_bin"] < 0).sum()),
                 "patterns": {str(k): int(v) for k, v in patterns.items()}, "out": str(args.out)})
    return EXIT_OK


def _add_hotspots(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hotspots", help="Getis-Ord Gi* hot spots and emerging patterns of cases, one row per grid")
    _add_data_arg(p)
    p.add_argument("--since", type=_date_arg, default=None, help="first day of cases counted (YYYY-MM-DD)")
    p.add_argument("--until", type=_date_arg, default=None, help="last day of cases counted (YYYY-MM-DD)")
    p.add_argument("--category", default=None, help="only this case category (e.g. 市容环境)")
    p.add_argument("--measure", default="count", choices=MEASURES,
                   help="cases per grid, or per 1,000 residents")
    p.add_argument("--permutations", type=int, default=999,
                   help="permutations for the two-sided pseudo p-value gi_p_sim (default 999; 0 skips it)")
    p.add_argument("--seed", type=int, default=0, help="seed of the permutations (default 0)")
    p.add_argument("--period", default="week", choices=PERIODS,
                   help="time step of the emerging hot spot pattern (at least 10 in the range)")
    p.add_argument("--weights", default="binary", choices=WEIGHTS_SCHEMES,
                   help="spatial weights of Gi*: binary (default; z-scores equal ArcGIS's, which row "
                        "standardisation does not change) or row (esda's row-standardised moments)")
    p.add_argument("--per-district", action="store_true",
                   help="Gi* and emerging patterns within each district (the grids' district column) instead of "
                        "across the whole dataset; output gains a district column")
    _add_scheduler_arg(p, "implies --per-district: counting in chunks and one task per district; same answer "
                          "as --per-district in-process")
    p.add_argument("--out", required=True,
                   help="CSV (or .xlsx) to write: grid_id, cases, rate_per_1000, gi_z, gi_p, gi_p_sim, gi_bin, "
                        "pattern, one row per grid")
    p.set_defaults(func=_cmd_hotspots)


# --- user -----------------------------------------------------------------

def _read_new_password(stdin=None) -> str:
    """The new password, typed twice: prompted without echo on a terminal, else two lines on standard input."""
    import getpass

    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("password: ")
        second = getpass.getpass("password again: ")
    else:
        lines = stdin.read().splitlines()
        if len(lines) < 2:
            raise UserError("give the password twice on standard input (two lines), e.g. "
                            "printf '%s\\n%s\\n' \"$PW\" \"$PW\" | python cli.py user add NAME --role ROLE",
                            code="user.password_twice")
        first, second = lines[0], lines[1]
    if first != second:
        raise UserError("the two passwords differ; nothing was changed", code="user.password_mismatch")
    return first


def _cli_who() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _cmd_user(args: argparse.Namespace) -> int:
    from geo.audit import AuditLog
    from geo.users import UserStore

    store, log = UserStore(), AuditLog()

    def record(action: str, target: str, detail: str = "") -> None:
        log.record(action, user=_cli_who(), role="admin", target=target, detail=detail, remote="cli")

    try:
        if args.user_command == "list":
            _print_json({"users": [{"name": u.name, "role": u.role, "email": u.email, "created_at": u.created_at,
                                    "locked_until": u.locked_until if u.locked() else None} for u in store.list()],
                         "open": not store.has_users()})
            return EXIT_OK
        if args.user_command == "add":
            user = store.add(args.name, _read_new_password(), args.role, email=args.email)
            record("user_add", user.name, f"role {user.role}")
        elif args.user_command == "remove":
            before = store.get(args.name)
            store.remove(args.name)
            record("user_remove", args.name.strip(), f"role {before.role}" if before else "")
        elif args.user_command == "set-role":
            before = store.get(args.name)
            user = store.set_role(args.name, args.role)
            record("user_role", user.name, f"{before.role} -> {user.role}" if before else user.role)
        elif args.user_command == "passwd":
            user = store.set_password(args.name, _read_new_password())
            record("user_password", user.name)
        elif args.user_command == "unlock":
            user = store.unlock(args.name)
            record("user_unlock", user.name)
    except GridAtlasError as err:  # in the chosen language (err.<code> in i18n/strings/auth.py)
        from i18n import error_text

        print(f"error: {error_text(err, lang=args.lang)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _print_json({"user": args.name.strip(), "done": args.user_command,
                 "role": getattr(store.get(args.name), "role", None), "users": len(store.list())})
    return EXIT_OK


def _add_user(sub: argparse._SubParsersAction) -> None:
    from geo.users import ROLES

    p = sub.add_parser("user", help="users who may sign in to the app, and their roles (kept in GRIDATLAS_HOME)")
    users = p.add_subparsers(dest="user_command", required=True)
    add = users.add_parser("add", help="add a user; the password is read from standard input, twice, never "
                                       "from an argument")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--email", default=None, help="e-mail that single sign-on (st.login) matches")
    users.add_parser("list", help="every user with role and lock, as JSON")
    rm = users.add_parser("remove", help="remove a user (not the last admin)")
    rm.add_argument("name")
    sr = users.add_parser("set-role", help="change a user's role (applies at the user's next click)")
    sr.add_argument("name")
    sr.add_argument("role", choices=ROLES)
    pw = users.add_parser("passwd", help="set a new password (from standard input, twice); ends the user's sessions")
    pw.add_argument("name")
    ul = users.add_parser("unlock", help="lift a lock-out after repeated wrong passwords")
    ul.add_argument("name")
    p.set_defaults(func=_cmd_user)


# --- report -----------------------------------------------------------------

def _cmd_report(args: argparse.Namespace) -> int:
    from analysis.meeting import meeting_brief, parse_month
    from i18n import error_text
    from reports import build_report, format_of

    try:
        fmt = format_of(args.out)  # a bad suffix or month is refused before the data is read
        if args.month is not None:
            parse_month(args.month)
        ds = _load(args)
        brief = meeting_brief(ds, street=args.street, month=args.month)
        data = build_report(ds, brief, fmt, lang=args.lang)
    except AnalysisError as err:  # said in the report's language (the string table's err.<code>)
        print(f"error: {error_text(err, lang=args.lang)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.writing")
    tmp.write_bytes(data)
    tmp.replace(path)
    _print_json({"command": "report", "format": fmt, "district": brief.district, "street": brief.street,
                 "month": brief.month, "lang": args.lang, "bytes": len(data),
                 "figures": {f.key: f.value for f in brief.figures}, "out": str(path)})
    return EXIT_OK


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="the monthly scheduling meeting's material (调度会) as PPTX, PDF or XLSX")
    _add_data_arg(p)
    p.add_argument("--out", required=True, help="file to write; its suffix picks the format: .pptx, .pdf or .xlsx")
    p.add_argument("--street", default=None, help="one street (default: the whole district)")
    p.add_argument("--month", default=None, help="month YYYY-MM (default: the month of the dataset's as_of)")
    p.add_argument("--lang", default=argparse.SUPPRESS, choices=LANGS,
                   help="language of the material and the messages (default: the global --lang, zh)")
    p.set_defaults(func=_cmd_report)


# --- import / versions / restore ---------------------------------------------

def _cmd_import(args: argparse.Namespace) -> int:
    store = open_store(args.data)  # a bad name is refused before the file is read
    read = read_layer(args.file, args.layer, coord_sys=args.coord_sys, epsg=args.epsg, sublayer=args.sheet)
    for problem in read.warnings:
        print(f"warning: {problem_text(problem, lang=args.lang)}", file=sys.stderr)
    info = store.import_layer(args.layer, read.gdf, mode=args.mode, source=Path(args.file).name, user=args.user)
    _print_json({"command": "import", "data": store.spec, "location": store.location, "file": str(args.file),
                 "format": read.source.format, "encoding": read.source.encoding, "crs": read.crs_used,
                 "warnings": len(read.warnings), "version": info.as_dict()})
    return EXIT_OK


def _add_import(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="validate one layer file and store it as a new version of the dataset "
                                      "(nothing changes when the file has a problem)")
    _add_data_arg(p)
    p.add_argument("--layer", required=True, choices=LAYER_NAMES)
    p.add_argument("--mode", default="replace", choices=IMPORT_MODES,
                   help="replace the layer whole (default) or upsert: replace rows whose id exists, add new ids")
    p.add_argument("--coord-sys", default="wgs84", choices=COORD_SYSTEMS,
                   help="datum of plain lon/lat values (gcj02: Amap/Tencent, bd09: Baidu)")
    p.add_argument("--epsg", type=int, default=None, help="coordinate system of coordinates the file does not "
                                                          "describe (4490 CGCS2000, 4547 Gauss-Kruger 114E, ...)")
    p.add_argument("--sheet", default=None, help="GeoPackage layer or Excel sheet to read")
    p.add_argument("--user", default=None, help="who imports (recorded with the version)")
    p.add_argument("file")
    p.set_defaults(func=_cmd_import)


def _cmd_versions(args: argparse.Namespace) -> int:
    store = open_store(args.data)
    versions = store.versions()
    _print_json({"command": "versions", "data": store.spec, "location": store.location,
                 "current": store.current().id, "versions": [v.as_dict() for v in versions]})
    return EXIT_OK


def _add_versions(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("versions", help="list the dataset's versions (oldest first) and the current one")
    _add_data_arg(p)
    p.set_defaults(func=_cmd_versions)


def _cmd_restore(args: argparse.Namespace) -> int:
    store = open_store(args.data)
    info = store.restore(args.version, user=args.user)
    _print_json({"command": "restore", "data": store.spec, "location": store.location, "version": info.as_dict()})
    return EXIT_OK


def _add_restore(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("restore", help="make an earlier version current again (written as a new version)")
    _add_data_arg(p)
    p.add_argument("--version", type=int, required=True, help="the version number to restore (see `versions`)")
    p.add_argument("--user", default=None, help="who restores (recorded with the version)")
    p.set_defaults(func=_cmd_restore)


# Each command module adds its sub-parser here (one function per command).
_BUILDERS: list[Callable[[argparse._SubParsersAction], None]] = [_add_validate, _add_demo, _add_coverage, _add_site,
                                                              _add_scenarios, _add_hotspots, _add_report, _add_user,
                                                              _add_import, _add_versions, _add_restore]


def _add_lang_arg(p: argparse.ArgumentParser, *, default: object) -> None:
    p.add_argument("--lang", choices=LANGS, default=default,
                   help="language of messages: zh (中文, default) or en")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridatlas", description="GridAtlas 网格服务覆盖分析")
    _add_lang_arg(parser, default=DEFAULT_LANG)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in _BUILDERS:
        add(sub)
    for p in sub.choices.values():  # --lang also after the command name (unless the command has its own)
        if "--lang" not in p._option_string_actions:
            _add_lang_arg(p, default=argparse.SUPPRESS)
    return parser


def _report(err: GridAtlasError, lang: str) -> None:
    """Every problem of ``err`` on stderr, one per line, in ``lang``."""
    problems = getattr(err, "problems", ())
    for problem in problems:
        print(f"error: {problem_text(problem, lang=lang)}", file=sys.stderr)
    if not problems:
        print(f"error: {error_text(err, lang=lang)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings.check_all()
        if getattr(args, "data", "unset") is None:
            args.data = default_data_path()
        return int(args.func(args) or EXIT_OK)
    except GridAtlasError as err:
        _report(err, args.lang)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
