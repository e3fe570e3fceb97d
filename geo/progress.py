"""How far a long piece of work has got: one callback that the CLI and the 数据管理 page both listen to.

A `ProgressFn` is called as ``progress(stage, done)``: ``stage`` one of `IMPORT_STAGES` (in that order; a
stage that does not apply is skipped, e.g. ``assign`` for layers other than cases), ``done`` the share of
that stage finished, 0.0 when it starts. `overall` turns a call into the share of the whole import, for a
progress bar. The labels are `i18n` keys ``progress.<stage>``; geo/ only names the stages.
"""

from __future__ import annotations

from collections.abc import Callable

from geo.errors import bad_choice

IMPORT_STAGES: tuple[str, ...] = ("read", "validate", "assign", "compare", "write", "derive")
"""An import's stages: read the file, validate it, assign grids (cases), compare with the stored version,
write the new version, derive what the pages need."""

# rough shares of a 1 M-case import's time (the bar moves evenly enough; a stage skipped is jumped over)
_WEIGHTS = {"read": 0.15, "validate": 0.2, "assign": 0.1, "compare": 0.1, "write": 0.3, "derive": 0.15}

ProgressFn = Callable[[str, float], None]


def _silent(stage: str, done: float) -> None:
    """A `ProgressFn` that reports nothing."""


def progress_or_silent(progress: ProgressFn | None) -> ProgressFn:
    return progress if progress is not None else _silent


def overall(stage: str, done: float = 0.0) -> float:
    """The share (0–1) of a whole import finished when ``stage`` is ``done`` (0–1) finished."""
    if stage not in _WEIGHTS:
        raise bad_choice("stage", stage, IMPORT_STAGES)
    before = sum(_WEIGHTS[s] for s in IMPORT_STAGES[: IMPORT_STAGES.index(stage)])
    return min(1.0, before + _WEIGHTS[stage] * max(0.0, min(1.0, done)))
