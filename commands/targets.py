"""``targets``: quarterly targets (预安) — set one, import the units' XLSX template, check a quarter (销号) to CSV."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from commands._common import (
    EXIT_OK,
    add_data_arg,
    audit,
    cli_user,
    data_ref,
    load,
    print_json,
    store_of,
    write_table,
)


def _cmd_set(args: argparse.Namespace) -> int:
    from analysis.followups import check_street
    from geo.followups import new_target

    kind, subject = ("street", args.street) if args.street is not None else ("unit", args.unit)
    target = new_target(quarter=args.quarter, kind=kind, subject=subject, measure=args.measure,
                        minimum=args.min, maximum=args.max)
    if kind == "street":
        check_street(load(args), target.subject)
    store = store_of(args)
    saved = store.set_target(target, user=args.user or cli_user(), district=data_ref(args).district)
    sign = "≥" if saved.bound == "min" else "≤"
    audit("target_set", target=f"{store.name}/{saved.quarter}/{saved.subject}",
          detail=f"{saved.measure} {sign} {saved.threshold:g}", user=args.user)
    print_json({"command": "targets set", "dataset": store.name, "district": saved.district,
                "quarter": saved.quarter, "kind": saved.kind,
                "subject": saved.subject, "measure": saved.measure, "bound": saved.bound,
                "threshold": saved.threshold})
    return EXIT_OK


def _cmd_import(args: argparse.Namespace) -> int:
    from geo.followups import read_target_template

    ds = load(args)
    found = read_target_template(args.file, quarter=args.quarter, streets=tuple(ds.streets))
    targets = found.targets
    store = store_of(args)
    district = data_ref(args).district
    for t in targets:
        store.set_target(t, user=args.user or cli_user(), district=district)
    audit("target_set", target=f"{store.name}/{args.file}",
          detail=f"{len(targets)} targets imported, {len(found.skipped)} blank rows skipped", user=args.user)
    print_json({"command": "targets import", "dataset": store.name, "district": district, "file": str(args.file),
                "targets": len(targets),
                "quarters": sorted({t.quarter for t in targets}),
                "skipped_rows": [r for r, _, _ in found.skipped],
                "left_blank": [{"kind": k, "subject": s} for k, s in found.blank_subjects]})
    return EXIT_OK


def check_table(check: pd.DataFrame) -> pd.DataFrame:
    """One row per target: unit or street, measure, bound, threshold, value, met, cases, end, final, note."""
    return pd.DataFrame({
        "unit": check["subject"].where(check["kind"] == "unit"),
        "street": check["subject"].where(check["kind"] == "street"),
        "measure": check["measure"], "bound": check["bound"], "threshold": check["threshold"],
        "value": check["value"].round(6), "met": check["met"], "cases": check["cases"], "end": check["end"],
        "final": check["final"], "note": check["note"],
    })


def _cmd_check(args: argparse.Namespace) -> int:
    from analysis.targets import check_targets, scorecard
    from geo.calendar import parse_quarter, quarter_text

    quarter = quarter_text(*parse_quarter(args.quarter))
    ds = load(args)
    store = store_of(args)
    district = data_ref(args).district
    check = check_targets(ds, store.list_targets(quarter, district=district), quarter)
    if len(check) == 0:
        print(f"no targets set for {quarter}", file=sys.stderr)
    if args.out:
        write_table(check_table(check), args.out)
    card = scorecard(check)
    met = check["met"]
    print_json({"command": "targets check", "dataset": store.name, "district": district, "quarter": quarter,
                "end": str(check["end"].iloc[0]) if len(check) else None,
                "final": bool(check["final"].iloc[0]) if len(check) else None,
                "targets": len(check), "met": int(met.fillna(False).sum()), "not_met": int((~met.fillna(True)).sum()),
                "not_judged": int(met.isna().sum()),
                "scorecard": card.to_dict(orient="records"), "out": args.out})
    return EXIT_OK


def add_targets(sub: argparse._SubParsersAction) -> None:
    from geo.followups import MEASURES

    p = sub.add_parser("targets", help="quarterly targets (预安): set, import, check (销号)")
    verbs = p.add_subparsers(dest="verb", required=True)
    st = verbs.add_parser("set", help="set one target (replaces the same quarter, unit or street and measure)")
    add_data_arg(st)
    st.add_argument("--quarter", required=True, metavar="YYYYQn", help="the quarter, e.g. 2019Q2")
    who = st.add_mutually_exclusive_group(required=True)
    who.add_argument("--unit", default=None, help="a responsible unit")
    who.add_argument("--street", default=None, help="a street")
    st.add_argument("--measure", required=True, choices=tuple(MEASURES),
                    help="closure_rate (≥), overdue (≤), closed_late (≤), committees (≥, streets), "
                         "coverage (≥, streets)")
    bound = st.add_mutually_exclusive_group(required=True)
    bound.add_argument("--min", type=float, default=None, help="at least this (shares 0..1, e.g. 0.9)")
    bound.add_argument("--max", type=float, default=None, help="at most this (a count)")
    st.add_argument("--user", default=None, help="who sets it, for the audit log (default: cli:<login>)")
    st.set_defaults(func=_cmd_set)
    im = verbs.add_parser("import", help="import the targets of the units' XLSX template (预安表)")
    add_data_arg(im)
    im.add_argument("--file", required=True, help="the filled template (.xlsx)")
    im.add_argument("--quarter", default=None, metavar="YYYYQn",
                    help="the quarter for rows whose 季度 cell is empty")
    im.add_argument("--user", default=None, help="who imports them, for the audit log (default: cli:<login>)")
    im.set_defaults(func=_cmd_import)
    ck = verbs.add_parser("check", help="check a quarter's targets against the data (销号); one CSV row per target")
    add_data_arg(ck)
    ck.add_argument("--quarter", required=True, metavar="YYYYQn", help="the quarter, e.g. 2019Q2")
    ck.add_argument("--out", default=None, help="file for the table (.csv or .xlsx)")
    ck.set_defaults(func=_cmd_check)
