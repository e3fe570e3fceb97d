"""``coverage``: residents within reach of a facility type, one row per grid."""

from __future__ import annotations

import argparse

from analysis.options import DISTANCES, WEIGHTS
from commands._common import EXIT_OK, add_data_arg, add_scheduler_arg, load, print_json, write_table


def _cmd_coverage(args: argparse.Namespace) -> int:
    """One pipeline (`analysis.districts.grid_coverage`): ``--scheduler`` only says where its tasks run."""
    from analysis.distributed import connect
    from analysis.districts import grid_coverage

    types = tuple(t.strip() for t in args.type.split(",") if t.strip())
    ds = load(args)
    options = {"facility_types": types, "radius_m": args.radius_m, "distance": args.distance, "weight": args.weight,
               "include_planned": args.include_planned}
    client = connect(args.scheduler)
    try:
        run = grid_coverage(ds, client=client, **options)
    finally:
        if client is not None:
            client.close()
    grids, params, totals = run.grids, run.params, run.totals
    w = args.weight
    table = grids[["grid_id", "street", w, f"covered_{w}", "covered_share", "nearest_m"]].copy()
    table[f"covered_{w}"] = table[f"covered_{w}"].round(2)
    table["covered_share"] = table["covered_share"].round(4)
    table["nearest_m"] = table["nearest_m"].round(1)
    write_table(table, args.out)
    summary = {"command": "coverage", "types": list(params.facility_types),
               "radius_m": params.radius_by_type, "distance": params.distance,
               "include_planned": params.include_planned, **totals.as_dict(), "out": str(args.out),
               "scheduler": args.scheduler}
    print_json(summary)
    return EXIT_OK


def add_coverage(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coverage", help="residents within reach of a facility type, one row per grid")
    add_data_arg(p)
    p.add_argument("--type", required=True,
                   help="facility type (day_care, health_center, ...); several separated by commas")
    p.add_argument("--radius-m", type=float, default=None,
                   help="threshold in metres (default: the type's GB 50180-2018 life circle, 300 or 1000)")
    p.add_argument("--distance", "--method", dest="distance", default="euclidean", choices=DISTANCES,
                   help="straight line, or walking along the roads layer (--method: the old name)")
    p.add_argument("--weight", default="elderly", choices=WEIGHTS,
                   help="count the aged 60+ (default) or all residents")
    p.add_argument("--include-planned", action="store_true", help="count planned facilities as well")
    add_scheduler_arg(p, "one task per district of a city (one for a district dataset), as in-process; "
                         "the same file as without it")
    p.add_argument("--out", required=True, help="CSV (or .xlsx) to write, one row per grid")
    p.set_defaults(func=_cmd_coverage)
