"""``coverage``: residents within reach of a facility type, one row per grid."""

from __future__ import annotations

import argparse

from analysis.options import DEMAND_WEIGHTS, DISTANCES, WEIGHTS
from commands._common import EXIT_OK, add_data_arg, add_scheduler_arg, add_year_args, load, print_json, write_table
from geo.errors import AnalysisError


def _cmd_coverage(args: argparse.Namespace) -> int:
    """One pipeline (`analysis.districts.grid_coverage`): ``--scheduler`` only says where its tasks run."""
    from analysis.distributed import connect
    from analysis.districts import grid_coverage
    from analysis.whatif import apply_changes
    from commands._common import demand_dataset, demand_summary

    types = tuple(t.strip() for t in args.type.split(",") if t.strip())
    if args.weight == "population" and args.year is not None:
        raise AnalysisError("--year projects the aged 60+ only; leave out --weight population",
                            code="analysis.population_not_projected")
    ds = demand_dataset(args, load(args))
    if args.close or args.open:
        ds = apply_changes(ds, close=args.close, open_sites=args.open, facility_type=types[0] if types else "day_care")
    counted = "population" if args.weight == "population" else "elderly"
    options = {"facility_types": types, "radius_m": args.radius_m, "distance": args.distance, "weight": counted,
               "include_planned": args.include_planned}
    client = connect(args.scheduler)
    try:
        run = grid_coverage(ds, client=client, **options)
    finally:
        if client is not None:
            client.close()
    grids, params, totals = run.grids, run.params, run.totals
    w = counted
    table = grids[["grid_id", "street", w, f"covered_{w}", "covered_share", "nearest_m"]].copy()
    table[f"covered_{w}"] = table[f"covered_{w}"].round(2)
    if args.weight == "elderly_80":  # the aged 80+ counted: the columns say so
        table = table.rename(columns={"elderly": "elderly_80", "covered_elderly": "covered_elderly_80"})
    table["covered_share"] = table["covered_share"].round(4)
    table["nearest_m"] = table["nearest_m"].round(1)
    write_table(table, args.out)
    summary = {"command": "coverage", "types": list(params.facility_types),
               "radius_m": params.radius_by_type, "distance": params.distance,
               "include_planned": params.include_planned, **totals.as_dict(), **demand_summary(args),
               "close": _ids(args.close), "open": _ids(args.open), "out": str(args.out),
               "scheduler": args.scheduler}
    summary["weight"] = args.weight
    print_json(summary)
    return EXIT_OK


def _ids(text: str | None) -> list[str]:
    return [i.strip() for i in (text or "").split(",") if i.strip()]


def add_coverage(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coverage", help="residents within reach of a facility type, one row per grid")
    add_data_arg(p)
    p.add_argument("--type", required=True,
                   help="facility type (day_care, health_center, ...); several separated by commas")
    p.add_argument("--radius-m", type=float, default=None,
                   help="threshold in metres (default: the type's GB 50180-2018 life circle, 300 or 1000)")
    p.add_argument("--distance", "--method", dest="distance", default="euclidean", choices=DISTANCES,
                   help="straight line, or walking along the roads layer (--method: the old name)")
    p.add_argument("--weight", default="elderly", choices=tuple(dict.fromkeys(WEIGHTS + DEMAND_WEIGHTS)),
                   help="count the aged 60+ (default), all residents, or the aged 80+ (needs the age bands)")
    p.add_argument("--include-planned", action="store_true", help="count planned facilities as well")
    add_year_args(p, weights=None)
    p.add_argument("--close", metavar="ID,…", default=None,
                   help="what-if: these facilities closed (facility ids, separated by commas); nothing is saved")
    p.add_argument("--open", metavar="SITE_ID,…", default=None,
                   help="what-if: these candidate sites opened as stations of the first --type; nothing is saved")
    add_scheduler_arg(p, "one task per district of a city (one for a district dataset), as in-process; "
                         "the same file as without it")
    p.add_argument("--out", required=True, help="CSV (or .xlsx) to write, one row per grid")
    p.set_defaults(func=_cmd_coverage)
