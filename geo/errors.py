"""Errors raised by readers, validators, storage and analyses.

Every error carries a ``code`` (dotted, lower case: ``data.column_missing``,
``analysis.radius_out_of_range``) and the ``params`` its message needs. The
English ``message``/``fix`` written here are what logs and tracebacks show;
what users read comes from the string table by code (``err.<code>`` and
``fix.<code>`` in ``i18n/strings/``), in their language, formatted with
``params``. A code without a table entry falls back to the English text.

`DataError` carries every problem found in one pass, so a clerk fixes a file
once instead of once per problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    ``row`` is the 1-based data row as a spreadsheet user counts it (header
    excluded); ``None`` when the problem is about the whole layer or column.
    A reader of a sheet that staff fill by hand (the targets template,
    `geo.followups.read_target_template`) gives the sheet's own row number
    instead (header row 1) and the sheet's name in ``params["sheet"]``, so the
    message names the row the clerk sees.
    ``column`` is the schema's (English) name; ``source_column`` the header the
    file itself used, when it differs (``老年人口`` for ``elderly``).
    ``value`` is the offending value as text, when there is one.
    """

    layer: str
    message: str
    fix: str
    row: int | None = None
    column: str | None = None
    code: str = "data.invalid"
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)
    source_column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = [f"layer {self.layer}"]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            col = self.column if not self.source_column or self.source_column == self.column \
                else f"{self.source_column} ({self.column})"
            where.append(f"column {col}")
        return f"{', '.join(where)}: {self.message} — {self.fix}"


class GridAtlasError(Exception):
    """Base of every error GridAtlas raises on purpose: a code, its params, an English message."""

    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, params: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.params: Mapping[str, Any] = MappingProxyType(dict(params or {}))

    def __reduce__(self):
        # picklable: an error raised in a Dask task on another process reaches the caller whole (class, code,
        # params, message), so the CLI and the pages translate it as they do an error raised here
        return _rebuild_error, (type(self), self.message, self.code, dict(self.params))


def _rebuild_error(cls: type[GridAtlasError], message: str, code: str, params: dict[str, Any]) -> GridAtlasError:
    err = cls.__new__(cls)
    GridAtlasError.__init__(err, message, code=code, params=params)
    return err


class DataError(GridAtlasError, ValueError):
    """Input data that cannot be used; ``problems`` lists every problem found."""

    default_code = "data.invalid"

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found"
        super().__init__(head + ":\n" + "\n".join(f"- {p}" for p in self.problems),
                         code=self.default_code, params={"count": count})

    def __reduce__(self):
        return type(self), (self.problems,)


class AnalysisError(GridAtlasError, ValueError):
    """An analysis was asked for something it cannot do (bad parameter, missing layer)."""

    default_code = "analysis.invalid"


class StorageError(GridAtlasError, OSError):
    """The workspace or database cannot do what was asked (missing, corrupt, full disk, locked)."""

    default_code = "storage.failed"


class SettingsError(GridAtlasError, ValueError):
    """A ``GRIDATLAS_*`` variable or a ``.streamlit/secrets.toml`` key has a value that cannot be used."""

    default_code = "settings.invalid"


def bad_choice(name: str, value: object, allowed: tuple[str, ...] | list[str]) -> AnalysisError:
    """The error for a value that is not one of ``allowed`` (code ``analysis.bad_choice``)."""
    allowed = tuple(str(a) for a in allowed)
    return AnalysisError(
        f"`{name}` was {value!r} but is expected to be one of: {', '.join(allowed)}",
        code="analysis.bad_choice", params={"name": name, "value": str(value), "allowed": ", ".join(allowed)})
