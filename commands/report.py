"""``report``: the monthly scheduling meeting's material (调度会) as PPTX, PDF or XLSX."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from commands._common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    add_data_arg,
    add_year_args,
    data_ref,
    demand_options,
    demand_summary,
    load,
    print_json,
    store_of,
)
from geo.errors import AnalysisError
from i18n import LANGS


def _cmd_report(args: argparse.Namespace) -> int:
    from analysis.followups import state_counts
    from analysis.meeting import meeting_brief, parse_month
    from i18n import error_text
    from reports import build_report, format_of
    from reports.content import needs_line

    try:
        fmt = format_of(args.out)  # a bad suffix or month is refused before the data is read
        if args.month is not None:
            parse_month(args.month)
        ds = load(args)
        store = store_of(args)  # the dataset's follow-ups and targets: listed, and checked in a quarter's last month
        # --year/--weight/--survival: the current month's coverage, gaps and equity count that demand (the trend
        # stays on today's aged 60+); refused as `coverage --year` refuses them
        district = data_ref(args).district  # in a city, that district's own follow-ups and targets
        brief = meeting_brief(ds, street=args.street, month=args.month,
                              followups=store.list_followups(district=district),
                              targets=store.list_targets(district=district), **demand_options(args))
        data = build_report(ds, brief, fmt, lang=args.lang)
    except AnalysisError as err:  # said in the report's language (the string table's err.<code>)
        print(f"error: {error_text(err, lang=args.lang)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.writing")
    tmp.write_bytes(data)
    tmp.replace(path)
    # what the material could not show (analysis.needs), each with the line the material prints for it
    needs = [{"section": m.section, "layer": m.layer, "column": m.column, "text": needs_line(m, args.lang)}
             for m in brief.needs]
    print_json({"command": "report", "format": fmt, "district": brief.district, "street": brief.street,
                "month": brief.month, "lang": args.lang, "bytes": len(data), **demand_summary(args),
                "figures": {f.key: f.value for f in brief.figures}, "needs": needs,
                "followups": state_counts(brief.followups) if brief.followups is not None else None,
                "quarter": brief.quarter,
                "targets": brief.scorecard.to_dict(orient="records") if brief.scorecard is not None else None,
                "out": str(path)})
    return EXIT_OK


def add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="the monthly scheduling meeting's material (调度会) as PPTX, PDF or XLSX")
    add_data_arg(p)
    p.add_argument("--out", required=True, help="file to write; its suffix picks the format: .pptx, .pdf or .xlsx")
    p.add_argument("--street", default=None, help="one street (default: the whole district)")
    p.add_argument("--month", default=None, help="month YYYY-MM (default: the month of the dataset's as_of)")
    add_year_args(p)
    p.add_argument("--lang", default=argparse.SUPPRESS, choices=LANGS,
                   help="language of the material and the messages (default: the global --lang, zh)")
    p.set_defaults(func=_cmd_report)
