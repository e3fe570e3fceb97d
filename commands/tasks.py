"""``tasks``: the meeting's follow-ups (督办事项) — add one, list them (JSON), close one with a note."""

from __future__ import annotations

import argparse
import datetime as dt

from commands._common import EXIT_OK, add_data_arg, audit, cli_user, data_ref, load, print_json, store_of


def _followup_json(fu, state: str | None = None) -> dict:
    out = {"id": fu.id, "title": fu.title, "unit": fu.unit, "street": fu.street, "due": fu.due,
           "meeting": fu.meeting, "done_on": fu.done_on, "note": fu.note, "recorded_at": fu.recorded_at,
           "author": fu.author, "district": fu.district}
    if state is not None:
        out["state"] = state
    return out


def _day(text: str | None, ds) -> dt.date:
    from analysis.followups import default_day
    from geo.followups import parse_day

    return default_day(ds) if text is None else parse_day(text)


def _cmd_add(args: argparse.Namespace) -> int:
    from analysis.followups import check_street
    from analysis.meeting import default_month
    from geo.followups import new_followup

    ds = load(args)
    fu = new_followup(title=args.title, unit=args.unit, due=args.due, meeting=args.meeting or default_month(ds),
                      street=check_street(ds, args.street))
    store = store_of(args)
    saved = store.add_followup(fu, user=args.user or cli_user(), district=data_ref(args).district)
    audit("followup_add", target=f"{store.name}/{saved.id}", detail=f"{saved.unit}: {saved.title}; due {saved.due}",
          user=args.user)
    print_json({"command": "tasks add", "dataset": store.name, "followup": _followup_json(saved)})
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    from geo.followups import followup_state

    ds = load(args)
    day = _day(args.on, ds)
    store = store_of(args)
    rows = [(fu, followup_state(fu, day)) for fu in store.list_followups(district=data_ref(args).district)]
    if args.open:
        rows = [(fu, s) for fu, s in rows if s != "done"]
    counts = {s: sum(1 for _, st in rows if st == s) for s in ("open", "overdue", "done")}
    print_json({"command": "tasks list", "dataset": store.name, "day": day.isoformat(), "counts": counts,
                "followups": [_followup_json(fu, s) for fu, s in rows]})
    return EXIT_OK


def _cmd_done(args: argparse.Namespace) -> int:
    ds = load(args)
    day = _day(args.on, ds)
    store = store_of(args)
    done = store.close_followup(args.id, note=args.note, done_on=day.isoformat(), user=args.user or cli_user(),
                                district=data_ref(args).district)
    audit("followup_done", target=f"{store.name}/{done.id}", detail=f"{done.done_on}: {done.note}", user=args.user)
    print_json({"command": "tasks done", "dataset": store.name, "followup": _followup_json(done, "done")})
    return EXIT_OK


def add_tasks(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tasks", help="the meeting's follow-ups (督办事项): add, list, done")
    verbs = p.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="record a decision to follow up")
    add_data_arg(add)
    add.add_argument("--title", required=True, help="what was decided")
    add.add_argument("--unit", required=True, help="the responsible unit")
    add.add_argument("--due", required=True, metavar="YYYY-MM", help="the month it is due")
    add.add_argument("--street", default=None, help="the street it concerns (optional)")
    add.add_argument("--meeting", default=None, metavar="YYYY-MM",
                     help="the month whose meeting decided it (default: the month of the dataset's as_of)")
    add.add_argument("--user", default=None, help="who records it, for the audit log (default: cli:<login>)")
    add.set_defaults(func=_cmd_add)
    ls = verbs.add_parser("list", help="the follow-ups with their state, as JSON")
    add_data_arg(ls)
    ls.add_argument("--open", action="store_true", help="only those not done (open or overdue)")
    ls.add_argument("--on", default=None, metavar="YYYY-MM-DD",
                    help="judge the states at the end of this day (default: today, or the last day of the month "
                         "after the data's as-of month when that is earlier)")
    ls.set_defaults(func=_cmd_list)
    done = verbs.add_parser("done", help="close a follow-up with a note")
    add_data_arg(done)
    done.add_argument("--id", type=int, required=True, help="the follow-up's number (tasks list)")
    done.add_argument("--note", required=True, help="what was done")
    done.add_argument("--on", default=None, metavar="YYYY-MM-DD", help="the day it was done (default: as tasks list)")
    done.add_argument("--user", default=None, help="who closes it, for the audit log (default: cli:<login>)")
    done.set_defaults(func=_cmd_done)
