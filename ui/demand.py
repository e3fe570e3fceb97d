"""The demand a page computes with, as part of the token its cached results are keyed by.

`analysis.projection.with_demand` gives the aged 60+ or 80+, today or in a plan year; `demand_token` appends that
choice to the version token (``<token>@demand:<year>:<weight>:<survival>``), `ui.coverage.coverage_inputs` builds
the inputs of that demand (`demand_dataset`), and everything keyed by ``(path, token)`` below it — coverage, access,
maps, siting — follows without another argument. Today's aged 60+ is the plain version token, so nothing changes
for it. A planner's own survival table (an uploaded CSV) is kept by its SHA-256 in this process
(`register_survival`).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from analysis.projection import SurvivalTable, default_survival, read_survival, with_demand
from geo.dataset import Dataset

SEP = "@demand:"
_SURVIVAL: dict[str, SurvivalTable] = {}


@dataclass(frozen=True)
class Demand:
    """What a page counts: ``year`` (None: today's data), ``weight`` (``elderly`` or ``elderly_80``), and the
    survival table's key (None: the shipped one)."""

    year: int | None = None
    weight: str = "elderly"
    survival: str | None = None

    @property
    def is_today(self) -> bool:
        return self.year is None and self.weight == "elderly"

    def table(self) -> SurvivalTable:
        return _SURVIVAL[self.survival] if self.survival else default_survival()


def register_survival(data: bytes, name: str) -> str:
    """Read an uploaded survival CSV (coded `AnalysisError` when unusable) and keep it under its SHA-256."""
    key = hashlib.sha256(data).hexdigest()[:16]
    if key not in _SURVIVAL:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(name).name
            path.write_bytes(data)
            _SURVIVAL[key] = read_survival(path)
    return key


def demand_token(token: str, demand: Demand) -> str:
    """The version token with the demand appended (the plain token for today's aged 60+)."""
    if demand.is_today:
        return token
    return f"{token}{SEP}{demand.year or ''}:{demand.weight}:{demand.survival or ''}"


def split_token(token: str) -> tuple[str, Demand | None]:
    """The version token and the demand `demand_token` appended (None: today's aged 60+)."""
    if SEP not in token:
        return token, None
    base, spec = token.split(SEP, 1)
    year, weight, survival = spec.split(":")
    return base, Demand(int(year) if year else None, weight, survival or None)


def demand_dataset(ds: Dataset, demand: Demand) -> Dataset:
    """``ds`` with the demand as its grids' ``elderly``."""
    return with_demand(ds, year=demand.year, weight=demand.weight, survival=demand.table())
