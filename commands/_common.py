"""What every command shares: exit codes, ``--data``/``--scheduler``/``--lang``, the demand options
(``--year``/``--weight``/``--survival``: `add_year_args`, `demand_dataset`, `demand_summary`), the JSON summary,
tables, errors."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from analysis.options import DEMAND_WEIGHTS
from geo.dataset import default_data_path
from geo.errors import AnalysisError, GridAtlasError, StorageError
from geo.ref import DatasetRef
from geo.storage import DatasetStore, open_store
from i18n import LANGS, error_text, problem_text

EXIT_OK = 0
EXIT_BAD_INPUT = 2
DEFAULT_LANG = "zh"


def print_json(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str))


def data_ref(args: argparse.Namespace) -> DatasetRef:
    """What ``--data`` and ``--district`` name (`geo.ref.DatasetRef`, the one parser of dataset specs)."""
    return DatasetRef.parse(args.data or default_data_path(), getattr(args, "district", None))


def store_of(args: argparse.Namespace) -> DatasetStore:
    """The store of ``--data`` (the whole dataset; pass ``data_ref(args).district`` to what takes a district)."""
    return open_store(data_ref(args))


def whole_dataset_store(args: argparse.Namespace, command: str) -> DatasetStore:
    """The store of ``--data`` for a command that works on the whole dataset (import, versions, restore):
    a district is refused (`StorageError` ``storage.whole_dataset_only``)."""
    ref = data_ref(args)
    if ref.district is not None:
        raise StorageError(f"{command} works on the whole dataset, not on district {ref.district!r}: leave out "
                           "--district", code="storage.whole_dataset_only",
                           params={"command": command, "district": ref.district})
    return open_store(ref)


def load(args: argparse.Namespace):
    """The current version of ``--data`` (validated when it was imported, checksum checked now); with
    ``--district`` (or ``SPEC#district=NAME``) that district of a city as a dataset of its own."""
    ref = data_ref(args)
    return open_store(ref).load(district=ref.district)


def add_data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default=None,
                   help="dataset: a name in the workspace, a GeoPackage path or a postgresql:// URL "
                        "(default: $GRIDATLAS_DATA, else the bundled demo); SPEC#district=NAME names one district "
                        "of a city")
    p.add_argument("--district", default=None, metavar="NAME",
                   help="one district of a city dataset (the grids' district column): its grids, the cases in them "
                        "and the facilities, estates and candidates inside; scenarios saved and listed are that "
                        "district's")


def add_scheduler_arg(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help=f"run on this dask.distributed scheduler ({what}); default: in-process")


def write_table(df: pd.DataFrame, out: str) -> None:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        df.to_excel(path, index=False)
    else:
        df.to_csv(path, index=False, encoding="utf-8")


def cli_user() -> str:
    """Who runs the command, as the audit log names it: ``cli:<login>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def audit(action: str, *, target: str, detail: str = "", user: str | None = None, role: str = "") -> None:
    """One entry in the audit log (`geo.audit`, the app's one log) for a change made from the command line:
    ``user`` when the command names one (``--user``), else `cli_user`; ``remote`` is ``cli``."""
    from geo.audit import AuditLog

    AuditLog().record(action, user=user or cli_user(), role=role, target=target, detail=detail, remote="cli")


def check_seed(seed: int) -> None:
    if seed < 0:
        raise AnalysisError(f"--seed was {seed} but must be 0 or more", code="analysis.negative",
                            params={"name": "--seed", "value": str(seed)})


def add_lang_arg(p: argparse.ArgumentParser, *, default: object) -> None:
    p.add_argument("--lang", choices=LANGS, default=default,
                   help="language of messages: zh (中文, default) or en")


def report_error(err: GridAtlasError, lang: str) -> None:
    """Every problem of ``err`` on stderr, one per line, in ``lang``."""
    problems = getattr(err, "problems", ())
    for problem in problems:
        print(f"error: {problem_text(problem, lang=lang)}", file=sys.stderr)
    if not problems:
        print(f"error: {error_text(err, lang=lang)}", file=sys.stderr)


def add_year_args(p: argparse.ArgumentParser, *, weights: tuple[str, ...] | None = DEMAND_WEIGHTS) -> None:
    """``--year`` and ``--survival`` (and ``--weight`` with ``weights``, unless the command has its own)."""
    p.add_argument("--year", type=int, default=None,
                   help="plan year: the aged 60+ projected from the grids' age bands (default: today's data)")
    p.add_argument("--survival", default=None, metavar="FILE",
                   help="CSV band,ratio of five-year survival ratios (default: data/survival_ratios.csv, a model)")
    if weights is not None:
        p.add_argument("--weight", default="elderly", choices=weights,
                       help="count the aged 60+ (default) or the aged 80+ (needs the age bands)")


def survival_of(args: argparse.Namespace):
    from analysis.projection import read_survival

    return read_survival(args.survival) if getattr(args, "survival", None) else None


def demand_options(args: argparse.Namespace) -> dict[str, object]:
    """``year``, ``weight`` and ``survival`` (a `SurvivalTable` or None) as ``--year``/``--weight``/``--survival``
    give them, for `analysis.projection.with_demand` and `analysis.meeting.meeting_brief`; ``--weight population``
    counts the aged 60+ here (it is not a demand that can be projected)."""
    weight = args.weight if args.weight in DEMAND_WEIGHTS else "elderly"
    return {"year": args.year, "weight": weight, "survival": survival_of(args)}


def demand_dataset(args: argparse.Namespace, ds):
    """``ds`` with the grids' ``elderly`` as the demand ``--year``/``--weight`` ask for (`with_demand`)."""
    from analysis.projection import with_demand

    return with_demand(ds, **demand_options(args))


def demand_summary(args: argparse.Namespace) -> dict[str, object]:
    """``year``, ``demand`` (and the survival table's name and whether it is an assumption, with a year) for a
    command's JSON; nothing for today's aged 60+, so the summaries of the commands without these options stay."""
    from analysis.projection import default_survival

    if args.year is None and args.weight in ("elderly", "population"):
        return {}
    table = survival_of(args) or default_survival()
    out: dict[str, object] = {"year": args.year, "demand": args.weight}
    if args.year is not None:
        out["survival"] = table.source
        out["survival_assumption"] = table.assumption
    return out
