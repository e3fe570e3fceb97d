"""The saved-scenario format: `Scenario`, its name check and its errors (what every store shares).

A scenario is what a planner wants to show again: its parameters and its
result, both JSON objects, under a name unique in its dataset (or, in a city
dataset, in its district). Where scenarios are kept is the store's business:
``list_scenarios`` / ``save_scenario`` / ``delete_scenario`` of
`geo.storage.DatasetStore` (the GeoPackage workspace keeps them in
``scenarios.gpkg`` beside the versions, PostGIS in ``gridatlas.scenarios``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geo.errors import DataError, Problem

TABLE = "scenarios"
MAX_NAME_CHARS = 80


@dataclass(frozen=True)
class Scenario:
    """One saved scenario: ``kind`` says which analysis made it (e.g. "siting").

    ``district``: the district of a city dataset it belongs to (None: the whole dataset's).
    """

    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    saved_at: str = ""
    district: str | None = None


def _problem(message: str, fix: str, code: str, **params: object) -> DataError:
    return DataError([Problem(TABLE, message, fix, code=code, params=params)])


def scenario_exists(name: str) -> DataError:
    """The error for saving under a name that is taken (without overwrite), in every backend."""
    return _problem(f"a scenario named {name!r} already exists", "choose another name or replace it",
                    "data.scenario_exists", name=name)


def scenario_missing(name: str) -> DataError:
    """The error for a scenario name that is not saved, in every backend."""
    return _problem(f"there is no scenario named {name!r}", "pick one of the saved scenarios", "data.scenario_missing",
                    name=name)


def scenario_table_error(name: str, reason: str) -> DataError:
    """The error for a scenarios file that cannot be read or written as a GeoPackage."""
    return _problem(f"{name} is not a usable GeoPackage ({reason})", "check that the file is a GeoPackage",
                    "data.not_a_geopackage", name=name, reason=reason)


def check_scenario_name(name: str) -> str:
    """A scenario name, stripped; `DataError` when empty or too long."""
    clean = str(name).strip()
    if not clean:
        raise _problem("the scenario name is empty", "give the scenario a name", "data.scenario_name_empty")
    if len(clean) > MAX_NAME_CHARS:
        raise _problem(f"the scenario name has {len(clean)} characters", f"use at most {MAX_NAME_CHARS}",
                       "data.scenario_name_long", n=len(clean), max=MAX_NAME_CHARS)
    return clean
