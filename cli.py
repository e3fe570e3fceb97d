"""GridAtlas on the command line: the app's analyses for scripts and cron.

Conventions shared by every command: ``--data`` takes a dataset name in the
workspace, a GeoPackage path or a ``postgresql://`` URL (default:
$GRIDATLAS_DATA, else the bundled demo), ``--out`` a file; results
go to ``--out`` and a one-line JSON summary to stdout; bad input exits 2 with
every problem on stderr, one per line, in the language of ``--lang`` (``zh``
by default, as in the app; ``en`` for English), before or after the command. Every
option with a fixed set of values takes it from `analysis.options`. Settings
(``GRIDATLAS_*``) are checked first: an invalid one exits 2 naming it.
Installed with the project, the same commands run as ``gridatlas …``.

The commands themselves live in the package `commands` (one module per group); this file is the entry.
"""

from __future__ import annotations

import sys

from commands import EXIT_BAD_INPUT, EXIT_OK, build_parser, main

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
