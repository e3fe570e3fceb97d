"""The command-line commands, one module per group; ``cli.py`` is the entry (``python cli.py …``, ``gridatlas …``).

- `commands._common`: exit codes, the shared options (``--data``, ``--scheduler``, ``--lang``, and the demand's
  ``--year``/``--weight``/``--survival`` of coverage, site, equity, project and report), the one-line JSON summary,
  tables to ``--out``, errors on stderr.
- `commands.data`: validate, demo, import, versions, restore.
- `commands.coverage`: coverage. `commands.siting`: site, scenarios. `commands.hotspots`: hotspots.
- `commands.report`: report. `commands.users`: user. `commands.planning`: project, equity.
- `commands.tasks`: tasks (the meeting's follow-ups). `commands.targets`: targets (quarterly targets: set,
  import, check).

A command module parses arguments and prints; what the app's pages also need lives in analysis/ or geo/.
To add a command: an ``add_<name>(sub)`` that adds its sub-parser and sets ``func``, listed in `BUILDERS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from commands import coverage, data, hotspots, planning, report, siting, targets, tasks, users
from commands._common import DEFAULT_LANG, EXIT_BAD_INPUT, EXIT_OK, add_lang_arg, report_error
from geo import settings
from geo.dataset import default_data_path
from geo.errors import GridAtlasError

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "build_parser", "main"]

# The sub-commands in the order `--help` lists them.
BUILDERS: list[Callable[[argparse._SubParsersAction], None]] = [
    data.add_validate, data.add_demo, coverage.add_coverage, siting.add_site, siting.add_scenarios,
    hotspots.add_hotspots, report.add_report, users.add_user, data.add_import, data.add_versions, data.add_restore,
    planning.add_project, planning.add_equity, tasks.add_tasks, targets.add_targets,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridatlas", description="GridAtlas 网格服务覆盖分析")
    add_lang_arg(parser, default=DEFAULT_LANG)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in BUILDERS:
        add(sub)
    for p in sub.choices.values():  # --lang also after the command name (unless the command has its own)
        if "--lang" not in p._option_string_actions:
            add_lang_arg(p, default=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings.check_all()
        if getattr(args, "data", "unset") is None:
            args.data = default_data_path()
        return int(args.func(args) or EXIT_OK)
    except GridAtlasError as err:
        report_error(err, args.lang)
        return EXIT_BAD_INPUT
