"""A progress bar on the terminal for long commands (`geo.progress`): on stderr, and only when stderr is a
terminal, so scripts and pipes see nothing of it."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from geo.progress import ProgressFn, overall
from i18n import t

WIDTH = 30


def terminal_progress(lang: str, stream: TextIO | None = None) -> ProgressFn | None:
    """A `geo.progress.ProgressFn` drawing ``[#####.....]  40%  stage`` on ``stream`` (stderr), or None when
    that is not a terminal."""
    out = sys.stderr if stream is None else stream
    if not out.isatty():
        return None
    started = time.perf_counter()

    def draw(stage: str, done: float) -> None:
        share = overall(stage, done)
        filled = int(round(share * WIDTH))
        label = t(f"progress.{stage}", lang=lang)
        out.write(f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {share * 100:3.0f}%  {label}  "
                  f"{time.perf_counter() - started:5.1f} s\033[K")
        out.flush()

    return draw


def finish(progress: ProgressFn | None, lang: str, stream: TextIO | None = None) -> None:
    """End the bar's line (nothing when there was no bar)."""
    if progress is None:
        return
    out = sys.stderr if stream is None else stream
    out.write(f"\r[{'#' * WIDTH}] 100%  {t('progress.done', lang=lang)}\033[K\n")
    out.flush()


def end_line(progress: ProgressFn | None, stream: TextIO | None = None) -> None:
    """Leave the bar's line as it is (the work stopped: its error follows on a line of its own)."""
    if progress is None:
        return
    out = sys.stderr if stream is None else stream
    out.write("\n")
    out.flush()
