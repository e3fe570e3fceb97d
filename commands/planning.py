"""``project`` and ``equity``: demand in a plan year, and how evenly access is shared (`analysis.projection`,
`analysis.equity`). The ``--year``/``--weight``/``--survival`` options they share with ``coverage``, ``site`` and
``report`` live in `commands._common`."""

from __future__ import annotations

import argparse
import math

import pandas as pd

from analysis.options import DISTANCES
from commands._common import (
    EXIT_OK,
    add_data_arg,
    add_year_args,
    demand_dataset,
    demand_summary,
    load,
    print_json,
    survival_of,
    write_table,
)


def _cmd_project(args: argparse.Namespace) -> int:
    from analysis.projection import project_dataset

    ds = load(args)
    proj = project_dataset(ds, year=args.year, survival=survival_of(args))
    y = proj.year
    g = proj.grids
    table = pd.DataFrame({"grid_id": g["grid_id"], "elderly": g["elderly"],
                          f"elderly_{y}": g["elderly_plan"].round(2),
                          f"aged_80_plus_{y}": g["aged_80_plus_plan"].round(2)})
    write_table(table, args.out)
    print_json({"command": "project", "base_year": proj.base_year, "year": y, "grids": len(table),
                "elderly": int(g["elderly"].sum()), f"elderly_{y}": round(float(g["elderly_plan"].sum()), 1),
                f"aged_80_plus_{y}": round(float(g["aged_80_plus_plan"].sum()), 1),
                "survival": proj.survival.source, "survival_assumption": proj.survival.assumption,
                "out": str(args.out)})
    return EXIT_OK


def _finite(x: float) -> float | None | str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return "inf" if x == math.inf else round(float(x), 4)


def _cmd_equity(args: argparse.Namespace) -> int:
    from analysis.equity import DISTRICT_ROW, equity_by_grid

    ds = demand_dataset(args, load(args))
    types = tuple(t.strip() for t in args.type.split(",") if t.strip())
    result = equity_by_grid(ds, facility_types=types, radius_m=args.radius_m, distance=args.distance,
                            include_planned=args.include_planned)
    streets = result.streets.copy()
    streets["elderly"] = streets["elderly"].round(0).astype("int64")
    streets["beyond"] = streets["beyond"].round(2)
    for col in ("beyond_share", "gini", "palma"):
        streets[col] = streets[col].round(4)
    write_table(streets, args.out)
    if args.grids_out:
        grids = result.grids.copy()
        grids["elderly"] = grids["elderly"].round(0).astype("int64")
        grids["covered_elderly"] = grids["covered_elderly"].round(2)
        grids["access"] = grids["access"].round(4)
        write_table(grids, args.grids_out)
    district = result.streets.set_index("street").loc[DISTRICT_ROW]
    print_json({"command": "equity", "types": list(types), "radius_m": args.radius_m, "distance": args.distance,
                **demand_summary(args), "elderly": int(round(district["elderly"])),
                "beyond": round(float(district["beyond"]), 2), "beyond_share": _finite(district["beyond_share"]),
                "gini": _finite(district["gini"]), "palma": _finite(district["palma"]),
                "worst_grids": result.worst["grid_id"].tolist(), "out": str(args.out),
                "grids_out": args.grids_out})
    return EXIT_OK


def add_project(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help="the aged 60+ and 80+ of each grid in a plan year, from its age bands")
    add_data_arg(p)
    p.add_argument("--year", type=int, required=True, help="plan year (from the year of the data's as_of on)")
    p.add_argument("--survival", default=None, metavar="FILE",
                   help="CSV band,ratio of five-year survival ratios (default: data/survival_ratios.csv, a model)")
    p.add_argument("--out", required=True, help="CSV (or .xlsx): grid_id, elderly, elderly_<Y>, aged_80_plus_<Y>")
    p.set_defaults(func=_cmd_project)


def add_equity(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("equity", help="aged 60+ beyond reach, Gini and Palma of access, per street and district")
    add_data_arg(p)
    p.add_argument("--type", required=True, help="facility type (day_care, ...); several separated by commas")
    p.add_argument("--radius-m", type=float, default=None,
                   help="threshold in metres (default: the type's GB 50180-2018 life circle)")
    p.add_argument("--distance", "--method", dest="distance", default="euclidean", choices=DISTANCES,
                   help="straight line, or walking along the roads layer")
    p.add_argument("--include-planned", action="store_true", help="count planned facilities as well")
    add_year_args(p)
    p.add_argument("--out", required=True,
                   help="CSV (or .xlsx), one row per street and one for the district (全区): street, elderly, "
                        "beyond, beyond_share, gini, palma")
    p.add_argument("--grids-out", default=None,
                   help="CSV (or .xlsx), one row per grid: grid_id, street, elderly, covered_elderly, access")
    p.set_defaults(func=_cmd_equity)
