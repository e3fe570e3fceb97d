"""``hotspots``: Getis-Ord Gi* hot spots and emerging patterns of cases, one row per grid."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from analysis.options import MEASURES, PERIODS, WEIGHTS_SCHEMES
from commands._common import EXIT_OK, add_data_arg, add_scheduler_arg, check_seed, load, print_json, write_table
from geo.errors import AnalysisError

MAX_PERMUTATIONS = 99_999


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
    check_seed(args.seed)
    ds = load(args)
    table = case_table_from_dataset(ds)
    flt = CaseFilter(since=args.since, until=args.until,
                     categories=(args.category,) if args.category else ())
    if args.per_district or args.scheduler:
        return _hotspots_per_district(args, ds, table, flt)
    report = hotspot_report(table, queen_weights(ds.grids), flt, measure=args.measure,
                            permutations=args.permutations, seed=args.seed, period=args.period,
                            weights_scheme=args.weights)
    write_table(report.frame, args.out)
    for note in report.notes:
        print(f"warning: {note}", file=sys.stderr)
    bins = report.frame["gi_bin"]
    patterns = report.frame["pattern"].dropna().value_counts().to_dict()
    print_json({"command": "hotspots", "cases": report.hot.n_cases, "cases_outside_grids": table.outside,
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
    write_table(frame, args.out)
    patterns = frame["pattern"].dropna().value_counts().to_dict()
    print_json({"command": "hotspots", "per_district": True, "scheduler": args.scheduler,
                "districts": len(parts), "cases": int(counts.sum()), "grids": len(frame),
                "periods": int(counts.shape[1]), "period": args.period, "permutations": args.permutations,
                "seed": args.seed, "hot_grids": int((frame["gi_bin"] > 0).sum()),
                "cold_grids": int((frame["gi_bin"] < 0).sum()),
                "patterns": {str(k): int(v) for k, v in patterns.items()}, "out": str(args.out)})
    return EXIT_OK


def add_hotspots(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hotspots", help="Getis-Ord Gi* hot spots and emerging patterns of cases, one row per grid")
    add_data_arg(p)
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
    add_scheduler_arg(p, "implies --per-district: counting in chunks and one task per district; same answer "
                          "as --per-district in-process")
    p.add_argument("--out", required=True,
                   help="CSV (or .xlsx) to write: grid_id, cases, rate_per_1000, gi_z, gi_p, gi_p_sim, gi_bin, "
                        "pattern, one row per grid")
    p.set_defaults(func=_cmd_hotspots)
