"""``site``: new stations that reach the most uncovered aged 60+ (or each district's curve); ``scenarios``: the
saved ones."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from analysis.options import CANDIDATE_SOURCES, DISTANCES, OBJECTIVES, SOLVERS
from commands._common import (
    EXIT_OK,
    add_data_arg,
    add_scheduler_arg,
    add_year_args,
    audit,
    data_ref,
    demand_dataset,
    demand_summary,
    load,
    print_json,
    store_of,
    survival_of,
    write_table,
)
from geo.errors import AnalysisError
from i18n import error_text

# --- site -----------------------------------------------------------------

def _cmd_site(args: argparse.Namespace) -> int:
    from analysis.distributed import connect
    from analysis.districts import site_answer
    from analysis.siting import SitingRequest
    from geo.scenarios import check_scenario_name

    _check_objective_options(args)
    if args.objective == "distance":
        return _site_distance(args)
    if args.per_district:
        return _site_per_district(args)
    if args.save is not None:
        check_scenario_name(args.save)  # a bad name fails before the solve, not after it
    ds = demand_dataset(args, load(args))  # --year / --weight: the demand the stations are sited for
    _resolve_candidates(args, ds)
    params = _site_params(args)
    request = SitingRequest(params=params, mode="n" if args.target_share is None else "target",
                            n_new=args.new or 1, target_share=args.target_share or 0.8, solver=args.solver,
                            curve_max=args.curve_max)
    client = connect(args.scheduler)  # the whole dataset's solve, as one task there
    try:
        answer = site_answer(ds, request, n_new=args.new, keep_run=args.save is not None,
                             time_limit_s=args.time_limit_s, client=client)
    finally:
        if client is not None:
            client.close()
    result, run = answer.result, answer.run
    table = pd.DataFrame({"site_id": list(result.site_ids), "rank": range(1, result.n_new + 1),
                          "gain_elderly": [round(g, 3) for g in result.gains_elderly]})
    write_table(table, args.out)
    out = {**answer.summary, "candidates": args.candidates, **demand_summary(args)}
    if args.save is not None:
        out["saved"] = _save(args, run.to_scenario(args.save, dataset=ds.name, demand=_plan_demand(args)), ds.name)
    print_json(out)
    return EXIT_OK


def _plan_demand(args: argparse.Namespace):
    """The demand ``--year``/``--weight``/``--survival`` ask for, as a scenario records it."""
    from analysis.options import DEMAND_WEIGHTS
    from analysis.siting import PlanDemand

    weight = args.weight if args.weight in DEMAND_WEIGHTS else "elderly"
    return PlanDemand.of(args.year, weight, survival_of(args))


def _save(args: argparse.Namespace, scenario, dataset: str) -> str:
    """Store a scenario (a district's in a city, with --district, where its siting page lists it) and audit it."""
    ref = data_ref(args)
    saved = store_of(args).save_scenario(scenario, overwrite=args.overwrite, district=ref.district)
    audit("scenario_save", target=saved.name, detail=f"{dataset}; overwrite={args.overwrite}")
    return saved.name


def _resolve_candidates(args: argparse.Namespace, ds) -> None:
    """``--candidates`` not given: the dataset's default source; generated ones are said on stderr in one line."""
    from analysis.siting import candidate_sources
    from i18n import t

    if args.candidates is None:
        args.candidates = candidate_sources(ds)[0]
        if args.candidates == "generated":
            print(f"note: {t('siting.no_candidates_layer', lang=args.lang)}", file=sys.stderr)


def _ids(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


# Options of one objective only: (option, dest, its default) — given with the other objective, a coded refusal.
_DISTANCE_ONLY = (("--required", "required", None), ("--excluded", "excluded", None), ("--budget", "budget", None),
                  ("--streets-out", "streets_out", None))
_COVERAGE_ONLY = (("--target-share", "target_share", None), ("--per-district", "per_district", False), ("--capacity", "capacity", False),
                  ("--site-capacity", "site_capacity", None), ("--min-spacing-m", "min_spacing_m", 0.0),
                  ("--solver", "solver", "exact"))


def _check_objective_options(args: argparse.Namespace) -> None:
    if args.objective == "coverage":
        for option, dest, default in _DISTANCE_ONLY:
            if getattr(args, dest) != default:
                raise AnalysisError(f"{option} works with --objective distance only; the coverage objective does "
                                    "not take it", code="analysis.site_options_coverage", params={"option": option})
        return
    for option, dest, default in _COVERAGE_ONLY:
        if getattr(args, dest) != default:
            raise AnalysisError(f"{option} works with --objective coverage only; siting by distance does not take it",
                                code="analysis.site_options_distance", params={"option": option})


def _site_distance(args: argparse.Namespace) -> int:
    """Siting by distance (p-median): the chosen sites to --out, the distances before and after to stdout."""
    from analysis.siting import DistanceRequest, DistanceRun, pmedian_sites
    from analysis.siting.pmedian import sites_frame
    from geo.scenarios import check_scenario_name

    if args.save is not None:
        check_scenario_name(args.save)  # a bad name fails before the solve, not after it
    ds = demand_dataset(args, load(args))  # --year / --weight: the demand the stations are sited for
    _resolve_candidates(args, ds)
    request = DistanceRequest(n_new=args.new, budget=args.budget, required=tuple(_ids(args.required)),
                              excluded=tuple(_ids(args.excluded)), distance=args.distance, facility_type=args.type,
                              candidates=args.candidates, limit_m=args.limit_m)
    result = pmedian_sites(ds, n_new=args.new, budget=args.budget, facility_type=args.type, distance=args.distance,
                           candidates=args.candidates, required=request.required, excluded=request.excluded,
                           limit_m=args.limit_m, time_limit_s=args.time_limit_s)
    write_table(sites_frame(result, ds.candidates), args.out)
    if args.streets_out:
        streets = result.by_street.copy()
        num = streets.columns.drop("street")
        streets[num] = streets[num].round(3)
        write_table(streets, args.streets_out)
    out = {**result.summary(), **demand_summary(args)}
    out["candidates"] = args.candidates
    out["out"] = str(args.out)
    if args.save is not None:
        run = DistanceRun.of(request, result, demand=_plan_demand(args))
        out["saved"] = _save(args, run.to_scenario(args.save, dataset=ds.name), ds.name)
    print_json(out)
    return EXIT_OK


def _site_params(args: argparse.Namespace):
    from analysis.siting import SitingParams

    return SitingParams(facility_type=args.type, radius_m=args.radius_m, distance=args.distance,
                        candidates=args.candidates, min_spacing_m=args.min_spacing_m,
                        capacity=args.capacity or args.site_capacity is not None, site_capacity=args.site_capacity)


def _site_per_district(args: argparse.Namespace) -> int:
    """Each district's coverage curve for 1..N new stations (grids' ``district`` column, else per street)."""
    from types import SimpleNamespace

    from analysis.distributed import connect
    from analysis.districts import district_siting_curves
    from i18n import t

    for option, given in (("--target-share", args.target_share is not None), ("--save", args.save is not None)):
        if given:
            raise AnalysisError(f"--per-district traces each district's curve for --new N; "
                                f"{option} runs on the whole dataset", code="analysis.per_district_curve",
                                params={"option": option})
    if args.new < 1:
        raise AnalysisError(f"--new was {args.new} but must be at least 1", code="analysis.not_whole",
                            params={"name": "--new", "value": str(args.new), "min": 1})
    ds = demand_dataset(args, load(args))  # --year / --weight: the demand the stations are sited for
    _resolve_candidates(args, ds)
    params = _site_params(args)
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
    write_table(frame, args.out)
    for p in parts:
        if p.note is not None:
            why = SimpleNamespace(code=p.note_code, params=dict(p.note_params), message=p.note)  # as error_text reads
            note = error_text(why, lang=args.lang)
            print(f"warning: {t('siting.district_note', lang=args.lang, district=p.district, note=note)}",
                  file=sys.stderr)
    done = [p for p in parts if p.note is None]
    last = "exact_elderly" if args.solver == "exact" else "greedy_elderly"
    print_json({"command": "site", "per_district": True, "by": by, "scheduler": args.scheduler,
                "districts": len(parts), "without_curve": len(parts) - len(done), "new": args.new,
                "solver": args.solver, "total_elderly": round(sum(p.total_elderly for p in done), 3),
                "existing_elderly": round(sum(p.existing_elderly for p in done), 3),
                "covered_elderly_at_most_new": round(sum(float(p.frame[last].iloc[-1]) for p in done), 3),
                "out": str(args.out)})
    return EXIT_OK


def add_site(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("site", help="choose N new stations that reach the most uncovered aged 60+ (MCLP), or that "
                                    "bring the aged 60+ nearest to a station (p-median, --objective distance)")
    add_data_arg(p)
    p.add_argument("--objective", default="coverage", choices=OBJECTIVES,
                   help="coverage: the most uncovered aged 60+ within --radius-m (MCLP, default); distance: the "
                        "smallest total (so mean) distance of the aged 60+ to their nearest station (p-median)")
    p.add_argument("--type", default="day_care", help="facility type of the new stations (default day_care)")
    p.add_argument("--radius-m", type=float, default=300.0, help="reach in metres (default 300, the 5-min circle)")
    add_year_args(p)
    question = p.add_mutually_exclusive_group(required=True)
    question.add_argument("--new", type=int, help="number of new stations N")
    question.add_argument("--target-share", type=float,
                          help="instead of N: the fewest new stations that bring coverage to this share (0.9 = 90 %%)")
    question.add_argument("--budget", type=float,
                          help="--objective distance, instead of N: new stations costing at most this in total "
                               "(candidates' cost column)")
    p.add_argument("--required", metavar="ID,…", default=None,
                   help="--objective distance: candidate sites always opened (they count toward N and the budget)")
    p.add_argument("--excluded", metavar="ID,…", default=None,
                   help="--objective distance: candidate sites never opened")
    p.add_argument("--limit-m", type=float, default=5000.0,
                   help="--objective distance: distances are counted up to this (a resident farther from every "
                        "station, or not connected by roads, counts this much; default 5000)")
    p.add_argument("--streets-out", default=None,
                   help="--objective distance: also write one row per street: street, elderly, mean_before_m, "
                        "mean_after_m, p90_before_m, p90_after_m, beyond_before_elderly, beyond_after_elderly")
    p.add_argument("--solver", default="exact", choices=SOLVERS,
                   help="exact: integer program solved by HiGHS (proven optimum or gap); greedy: one at a time")
    p.add_argument("--distance", "--method", dest="distance", default="euclidean", choices=DISTANCES,
                   help="straight line, or walking along the roads layer (--method: the old name)")
    p.add_argument("--candidates", default=None, choices=CANDIDATE_SOURCES,
                   help="the candidates layer, or points generated in uncovered estates and grids (default: the "
                        "layer when the dataset has one, else generated, said on stderr)")
    p.add_argument("--min-spacing-m", type=float, default=0.0,
                   help="keep new stations at least this far from existing ones and from each other")
    p.add_argument("--capacity", action="store_true",
                   help="each station serves at most its capacity (candidates' capacity column)")
    p.add_argument("--site-capacity", type=float, default=None,
                   help="capacity of candidates without one (implies --capacity)")
    p.add_argument("--time-limit-s", type=float, default=60.0, help="time limit of the exact solver")
    p.add_argument("--save", metavar="NAME", default=None,
                   help="also save the answer as a scenario of this name in the dataset, where the siting page lists "
                        "it: with its coverage curve, or (--objective distance) the distances before and after, per "
                        "street; either with its objective and demand (--year, --weight, the survival table)")
    p.add_argument("--overwrite", action="store_true", help="with --save: replace a scenario of the same name")
    p.add_argument("--curve-max", type=int, default=10,
                   help="with --save: trace the coverage curve up to this many new stations (default 10)")
    p.add_argument("--per-district", action="store_true",
                   help="instead of one answer: each district's coverage curve for 1..N new stations (--new N) inside "
                        "it, for its own residents (grids' district column, else per street); output: one row per "
                        "district and N")
    add_scheduler_arg(p, "the whole dataset's solve as one task, or with --per-district one task per district (or "
                         "per street); the same file as without it")
    p.add_argument("--out", required=True,
                   help="CSV (or .xlsx) to write: site_id, rank, gain_elderly, one row per chosen site; "
                        "stdout gets covered_elderly, covered_share (existing and new together), added_elderly, "
                        "optimal, gap and seconds (building and solving, after reading the data), and saved "
                        "(the scenario name) with --save. --objective distance: site_id, rank, saving_m (+ cost "
                        "with --budget); stdout gets total_distance_m, mean_distance_m, p90_distance_m, the same "
                        "before, optimal, gap and seconds")
    p.set_defaults(func=_cmd_site)


# --- scenarios ------------------------------------------------------------

def _cmd_open_site(args: argparse.Namespace) -> int:
    """A site of a saved scenario opened on a day: the facilities layer with it, as a new version."""
    from analysis.siting import open_scenario_site
    from analysis.siting.scenario import opening_note
    from geo.followups import parse_day

    ref = data_ref(args)
    store = store_of(args)
    if args.name is None:
        raise AnalysisError("--open needs --name, the scenario the site was chosen in", code="analysis.option_needs",
                            params={"option": "--open", "needs": "--name"})
    saved = {s.name: s for s in store.list_scenarios(district=ref.district)}
    if args.name not in saved:
        from geo.scenarios import scenario_missing

        raise scenario_missing(args.name)
    day = parse_day(args.on)
    # the whole dataset's facilities, also with --district: one district's part would replace the city's layer
    info, facilities = open_scenario_site(store, saved[args.name], args.open, opened_on=day, user=args.user)
    audit("import", target=f"{store.name}/facilities", detail=opening_note(args.name, args.open, day),
          user=args.user)
    print_json({"command": "scenarios open", "data": str(args.data), "scenario": args.name, "site": args.open,
                "opened_on": day.isoformat(), "version": info.id, "facilities": len(facilities)})
    return EXIT_OK


def _scenario_row(s) -> dict:
    """A saved siting scenario's line of ``scenarios``: its objective, the demand it was sited for, its figures."""
    from analysis.siting import DistanceRun, load_run

    run = load_run(s)
    d = run.demand
    row: dict = {"objective": run.objective, "year": d.year, "weight": d.weight, "survival": d.survival,
                 "survival_assumption": d.survival_assumption if d.year is not None else None}
    if isinstance(run, DistanceRun):
        q, r = run.request, run.result
        row.update({"facility_type": q.facility_type, "distance": q.distance, "candidates": q.candidates,
                    "n_new": q.n_new, "budget": q.budget, "required": list(q.required), "excluded": list(q.excluded),
                    "sites": list(r.site_ids), "mean_before_m": round(r.mean_before_m, 3),
                    "mean_distance_m": round(r.mean_distance_m, 3), "p90_before_m": round(r.p90_before_m, 3),
                    "p90_distance_m": round(r.p90_distance_m, 3), "optimal": r.optimal,
                    "gap": None if r.gap is None else round(r.gap, 9)})
        return row
    p, r = run.request.params, run.result
    row.update({"facility_type": p.facility_type, "radius_m": p.radius_m, "distance": p.distance,
                "candidates": p.candidates, "street": p.street, "mode": run.request.mode,
                "n_new": run.request.n_new if run.request.mode == "n" else None,
                "target_share": run.request.target_share if run.request.mode == "target" else None,
                "solver": r.solver, "sites": list(r.site_ids), "covered_share": round(r.covered_share, 6),
                "added_elderly": round(r.added_elderly, 3), "optimal": r.optimal})
    return row


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from analysis.siting import SCENARIO_KIND
    if args.open is not None:
        return _cmd_open_site(args)
    ref = data_ref(args)
    rows = []
    for s in store_of(args).list_scenarios(kind=args.kind, district=ref.district):
        row: dict = {"name": s.name, "kind": s.kind, "saved_at": s.saved_at}
        if s.kind == SCENARIO_KIND:
            row.update(_scenario_row(s))
        rows.append(row)
    print_json({"command": "scenarios", "data": str(args.data), "district": ref.district, "scenarios": rows})
    return EXIT_OK


def add_scenarios(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenarios", help="list the scenarios saved in a dataset (oldest first), as JSON")
    add_data_arg(p)
    p.add_argument("--kind", default=None, help="only scenarios of this kind (e.g. siting)")
    p.add_argument("--open", default=None, metavar="SITE",
                   help="mark this site of scenario --name opened on --on: it becomes a facility (a new version)")
    p.add_argument("--name", default=None, help="the scenario (with --open)")
    p.add_argument("--on", default=None, metavar="YYYY-MM-DD", help="the day the station opened (with --open)")
    p.add_argument("--user", default=None, help="who records it, for the audit log (default: cli:<login>)")
    p.set_defaults(func=_cmd_scenarios)
