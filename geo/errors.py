"""Errors raised by readers, validators and analyses.

`DataError` carries every problem found in one pass, so a clerk fixes a file
once instead of once per problem.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    ``row`` is the 1-based data row as a spreadsheet user counts it (header
    excluded); ``None`` when the problem is about the whole layer or column.
    """

    layer: str
    message: str
    fix: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [f"layer {self.layer}"]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message} — {self.fix}"


class DataError(ValueError):
    """Input data that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found"
        super().__init__(head + ":\n" + "\n".join(f"- {p}" for p in self.problems))


class AnalysisError(ValueError):
    """An analysis was asked for something it cannot do (bad parameter, missing layer)."""
