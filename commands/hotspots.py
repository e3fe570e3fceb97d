"""``hotspots``: Getis-Ord Gi* hot spots and emerging patterns of cases, one row per grid."""

from __future__ import annotations

import argparse
import sys

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
    """One pipeline (`analysis.districts.grid_hotspots`): ``--scheduler`` only says where its heavy steps run."""
    from analysis.cases import CaseFilter, case_table_from_dataset
    from analysis.distributed import connect
    from analysis.districts import grid_hotspots

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
    grids = ds.grids
    if args.per_district and "district" not in grids.columns:  # a district dataset: itself, as one district
        grids = grids.assign(district=ds.name)
    client = connect(args.scheduler)
    try:
        run = grid_hotspots(table, grids, flt, by="district" if args.per_district else None, measure=args.measure,
                            permutations=args.permutations, seed=args.seed, period=args.period,
                            weights_scheme=args.weights, client=client)
    finally:
        if client is not None:
            client.close()
    write_table(run.frame, args.out)
    for note in run.notes:
        print(f"warning: {note}", file=sys.stderr)
    bins = run.frame["gi_bin"]
    patterns = run.frame["pattern"].dropna().value_counts().to_dict()
    summary = {"command": "hotspots", "cases": run.n_cases, "cases_outside_grids": table.outside,
               "grids": table.n_grids, "grids_analysed": run.n_grids_analysed, "measure": args.measure,
               "since": args.since, "until": args.until, "category": args.category, "as_of": table.as_of.date(),
               "permutations": args.permutations, "seed": args.seed, "period": args.period,
               "periods": run.n_periods, "hot_grids": int((bins > 0).sum()), "cold_grids": int((bins < 0).sum()),
               "patterns": {str(k): int(v) for k, v in patterns.items()}, "per_district": bool(args.per_district),
               "scheduler": args.scheduler, "out": str(args.out)}
    if args.per_district:
        summary["districts"] = len(run.groups)
    print_json(summary)
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
                        "across the whole dataset; output gains a district column after grid_id")
    add_scheduler_arg(p, "counting in chunks and one task per district (one for the whole dataset); the same file "
                         "as without it")
    p.add_argument("--out", required=True,
                   help="CSV (or .xlsx) to write: grid_id, cases, rate_per_1000, gi_z, gi_p, gi_p_sim, gi_bin, "
                        "pattern, one row per grid")
    p.set_defaults(func=_cmd_hotspots)
