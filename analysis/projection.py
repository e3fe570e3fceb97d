"""Demand in a plan year: the grids' aged 60+ and 80+ projected from their five-year age bands.

Contract (the ``project`` command, ``coverage``/``site``/``equity`` with ``--year``, and the pages use it):

- **Bands**: `geo.schema.AGE_BANDS` (``aged_55_59`` … ``aged_75_79``, ``aged_80_plus``) on the grids; the
  60+ bands add up to ``elderly`` (checked at import). Any band missing: `AnalysisError`
  ``analysis.age_bands_missing`` naming the columns; never a guess.
- **Cohort ageing** (`age_five_years`): every five years each band moves up one band, times that band's
  five-year survival ratio; ``aged_80_plus`` keeps its own survivors and receives ``aged_75_79``'s; the new
  ``aged_60_64`` comes from ``aged_55_59``. The new ``aged_55_59`` (from the 50-54, which the data does not
  hold) is assumed as large as today's: a stated assumption, not data.
- **Years between steps**: linear between the two five-year steps around the plan year
  (2019 → 2027: 3/5 of the way from the step of 2024 to that of 2029). The base year is the year of the
  dataset's ``meta.as_of``; a plan year before it is refused (``analysis.year_before_base``), and so is one more
  than `MAX_YEARS_AHEAD` after it.
- **Survival ratios** (`SurvivalTable`): ``data/survival_ratios.csv`` by default (CSV ``band,ratio``, lines
  starting ``#`` are notes), a Gompertz model fitted to a life expectancy at 60 of 21 years — an ASSUMPTION,
  labelled so wherever it is used (`gompertz_ratios` rebuilds it); a planner's own table of the same form
  replaces it (``--survival FILE``, the pages' upload). Every band needs a ratio in (0, 1].
- **Demand** (`with_demand`): a copy of the dataset whose grids' ``elderly`` is the demand a coverage, siting or
  equity run counts — the aged 60+ (``weight="elderly"``) or 80+ (``"elderly_80"``), today or in ``year`` —,
  rounded to whole persons. Every analysis that counts the aged 60+ then counts that demand unchanged.

Results are float (people in a band times ratios); `project_grids` returns them unrounded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.options import DEMAND_WEIGHTS, DemandWeight, check_choice
from geo.calendar import meta_as_of
from geo.dataset import Dataset
from geo.errors import AnalysisError
from geo.schema import AGE_BANDS, ELDERLY_BANDS

STEP_YEARS = 5
MAX_YEARS_AHEAD = 30
SURVIVAL_PATH = Path(__file__).resolve().parent.parent / "data" / "survival_ratios.csv"
GOMPERTZ_E60_YEARS = 21.0
GOMPERTZ_SLOPE_PER_YEAR = 0.10


@dataclass(frozen=True)
class SurvivalTable:
    """Five-year survival ratio per band (`AGE_BANDS`), where they came from, and whether they are an assumption."""

    ratios: tuple[tuple[str, float], ...]
    source: str
    assumption: bool

    @property
    def by_band(self) -> dict[str, float]:
        return dict(self.ratios)


def read_survival(path: str | Path, *, assumption: bool | None = None) -> SurvivalTable:
    """A survival table from a CSV ``band,ratio`` (lines starting ``#`` are notes); coded errors otherwise
    (``analysis.survival_*``: unreadable, no header, unknown or repeated band, a ratio not in (0, 1], bands
    without a ratio).

    ``assumption``: whether the table is a model rather than data; by default, whether its notes say
    ``ASSUMPTION``.
    """
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise AnalysisError(f"the survival table {name} cannot be read", code="analysis.survival_unreadable",
                            params={"source": name}) from None
    notes = [ln for ln in text.splitlines() if ln.lstrip().startswith("#")]
    rows = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not rows or [c.strip() for c in rows[0].split(",")][:2] != ["band", "ratio"]:
        raise AnalysisError(f"the survival table {name} does not start with the header band,ratio",
                            code="analysis.survival_no_header", params={"source": name})
    ratios: dict[str, float] = {}
    for line in rows[1:]:
        cells = [c.strip() for c in line.split(",")]
        band = cells[0]
        if band not in AGE_BANDS or band in ratios:
            raise AnalysisError(f"the survival table {name} has an unknown or repeated band {band!r}; the bands are "
                                f"{', '.join(AGE_BANDS)}", code="analysis.survival_bad_band",
                                params={"source": name, "band": band, "bands": ", ".join(AGE_BANDS)})
        text_value = cells[1] if len(cells) > 1 else ""
        try:
            value = float(text_value)
        except ValueError:
            value = math.nan
        if not (0.0 < value <= 1.0):
            raise AnalysisError(f"the survival table {name} gives {band} the ratio {text_value!r}, which is not "
                                "greater than 0 and at most 1", code="analysis.survival_bad_ratio",
                                params={"source": name, "band": band, "value": text_value})
        ratios[band] = value
    missing = [b for b in AGE_BANDS if b not in ratios]
    if missing:
        raise AnalysisError(f"the survival table {name} has no ratio for {', '.join(missing)}",
                            code="analysis.survival_missing", params={"source": name, "missing": ", ".join(missing)})
    if assumption is None:
        assumption = any("ASSUMPTION" in n for n in notes)
    return SurvivalTable(tuple((b, ratios[b]) for b in AGE_BANDS), name, bool(assumption))


def default_survival() -> SurvivalTable:
    """The shipped table, ``data/survival_ratios.csv`` (a labelled assumption: see the module docstring)."""
    return read_survival(SURVIVAL_PATH)


def gompertz_ratios(e60_years: float = GOMPERTZ_E60_YEARS, slope_per_year: float = GOMPERTZ_SLOPE_PER_YEAR
                    ) -> dict[str, float]:
    """Five-year survival ratios of a Gompertz life table, hazard ``a·exp(slope·(x−60))``, ``a`` fitted so that
    life expectancy at 60 is ``e60_years``: ``L(x+5, x+10) / L(x, x+5)`` per band, ``T(85) / T(80)`` for 80+.

    ``L`` and ``T`` are the person-years lived (integrals of survivorship), computed by Gauss–Legendre
    quadrature on one-year pieces up to age 130; this is how ``data/survival_ratios.csv`` was made.
    """
    from scipy.optimize import brentq

    nodes, weights = np.polynomial.legendre.leggauss(8)

    def person_years(a: float, x0: float, x1: float) -> float:
        edges = np.arange(x0, x1 + 1e-9, 1.0)
        total = 0.0
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            x = (hi - lo) / 2 * nodes + (hi + lo) / 2
            survival = np.exp(-(a / slope_per_year) * np.expm1(slope_per_year * (x - 60.0)))
            total += (hi - lo) / 2 * float(weights @ survival)
        return total

    a = brentq(lambda a: person_years(a, 60.0, 130.0) - e60_years, 1e-5, 0.5, xtol=1e-12)
    out = {band: person_years(a, x + 5, x + 10) / person_years(a, x, x + 5)
           for band, x in zip(AGE_BANDS[:-1], range(55, 80, 5), strict=True)}
    out[AGE_BANDS[-1]] = person_years(a, 85.0, 130.0) / person_years(a, 80.0, 130.0)
    return out


def band_matrix(grids: pd.DataFrame) -> np.ndarray:
    """The grids' bands as a float (n, 6) array in `AGE_BANDS` order; `AnalysisError` when any is missing."""
    missing = [b for b in AGE_BANDS if b not in grids.columns]
    if missing:
        raise AnalysisError(
            f"projecting the aged 60+ needs the grids' age bands; missing: {', '.join(missing)}. Import the grids "
            "with the columns 55-59岁 … 80岁及以上", code="analysis.age_bands_missing",
            params={"missing": ", ".join(missing)})
    values = grids[list(AGE_BANDS)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
    blank = ~np.isfinite(values)
    if blank.any():
        rows = np.flatnonzero(blank.any(axis=1))
        ids = grids["grid_id"].astype(str).to_numpy()[rows[:5]] if "grid_id" in grids.columns else rows[:5] + 1
        raise AnalysisError(f"age bands are blank for {len(rows)} grid(s) ({', '.join(map(str, ids))})",
                            code="analysis.age_bands_blank", params={"count": len(rows),
                                                                     "grids": ", ".join(map(str, ids))})
    return values


def age_five_years(bands: np.ndarray, survival: SurvivalTable) -> np.ndarray:
    """One five-year step of cohort ageing on an (n, 6) band array (see the module docstring)."""
    s = np.array([survival.by_band[b] for b in AGE_BANDS], dtype="float64")
    out = np.empty_like(bands)
    out[:, 0] = bands[:, 0]  # the next 55-59: as many as today's (assumption)
    out[:, 1:5] = bands[:, 0:4] * s[0:4]
    out[:, 5] = bands[:, 4] * s[4] + bands[:, 5] * s[5]
    return out


def base_year(meta: Mapping[str, str] | None) -> int:
    """The year of the dataset's ``as_of`` (the year its figures describe)."""
    day = meta_as_of(meta)
    if day is None:
        raise AnalysisError("projecting needs the dataset's as_of date (meta), and it has none",
                            code="analysis.no_as_of")
    return int(day.year)


def check_year(year: object, base: int) -> int:
    """A plan year from ``base`` to ``base + MAX_YEARS_AHEAD``; coded errors otherwise."""
    try:
        y = int(str(year).strip())
    except (TypeError, ValueError):
        raise AnalysisError(f"the plan year was {year!r} but must be a year such as 2030",
                            code="analysis.not_whole", params={"name": "year", "value": str(year), "min": base}
                            ) from None
    if y < base:
        raise AnalysisError(f"the plan year {y} is before the data's year {base}", code="analysis.year_before_base",
                            params={"year": y, "base": base})
    if y > base + MAX_YEARS_AHEAD:
        raise AnalysisError(f"the plan year {y} is more than {MAX_YEARS_AHEAD} years after the data's year {base}",
                            code="analysis.year_too_far", params={"year": y, "base": base, "max": MAX_YEARS_AHEAD})
    return y


def project_bands(bands: np.ndarray, years: float, survival: SurvivalTable) -> np.ndarray:
    """The bands ``years`` (≥ 0) after today: whole five-year steps, linear between the two around ``years``."""
    steps, rest = divmod(float(years), STEP_YEARS)
    now = np.asarray(bands, dtype="float64")
    for _ in range(int(steps)):
        now = age_five_years(now, survival)
    if rest == 0:
        return now
    return now + (rest / STEP_YEARS) * (age_five_years(now, survival) - now)


@dataclass(frozen=True)
class Projection:
    """Per grid (in the grids' order): ``grid_id, street, elderly`` (today), ``elderly_plan`` and
    ``aged_80_plus_plan`` (the plan year), and every band in the plan year (``<band>_plan``)."""

    year: int
    base_year: int
    survival: SurvivalTable
    grids: pd.DataFrame


def project_grids(grids: pd.DataFrame, *, year: object, base: int, survival: SurvivalTable | None = None
                  ) -> Projection:
    """The grids' bands projected to ``year`` from ``base`` (the data's year)."""
    y = check_year(year, base)
    table = survival or default_survival()
    now = band_matrix(grids)
    then = project_bands(now, y - base, table)
    out = pd.DataFrame({
        "grid_id": grids["grid_id"].astype(str).to_numpy(),
        "street": grids["street"].to_numpy(dtype=object) if "street" in grids.columns else None,
        "elderly": pd.to_numeric(grids["elderly"]).to_numpy(),
        "elderly_plan": then[:, 1:].sum(axis=1),
        "aged_80_plus_plan": then[:, 5],
    })
    for i, band in enumerate(AGE_BANDS):
        out[f"{band}_plan"] = then[:, i]
    return Projection(y, base, table, out)


def project_dataset(ds: Dataset, *, year: object, survival: SurvivalTable | None = None) -> Projection:
    """`project_grids` on a dataset's grids, from the year of its ``as_of``."""
    return project_grids(ds.grids, year=year, base=base_year(ds.meta_dict), survival=survival)


def demand_values(grids: pd.DataFrame, *, meta: Mapping[str, str] | None, year: object | None = None,
                  weight: DemandWeight = "elderly", survival: SurvivalTable | None = None) -> np.ndarray:
    """Per grid, the people a plan counts: aged 60+ or 80+ (``weight``), today (``year`` None) or in ``year``;
    not rounded."""
    check_choice("weight", weight, DEMAND_WEIGHTS)
    if year is None:
        if weight == "elderly":
            return pd.to_numeric(grids["elderly"]).to_numpy(dtype="float64")
        return band_matrix(grids)[:, 5]
    proj = project_grids(grids, year=year, base=base_year(meta), survival=survival)
    column = "elderly_plan" if weight == "elderly" else "aged_80_plus_plan"
    return proj.grids[column].to_numpy(dtype="float64")


def with_demand(ds: Dataset, *, year: object | None = None, weight: DemandWeight = "elderly",
                survival: SurvivalTable | None = None) -> Dataset:
    """The dataset with its grids' ``elderly`` replaced by the demand (whole persons; see the module docstring).

    Today's aged 60+ (no ``year``, ``weight="elderly"``) returns ``ds`` itself, unchanged.
    """
    check_choice("weight", weight, DEMAND_WEIGHTS)
    if year is None and weight == "elderly":
        return ds
    values = demand_values(ds.grids, meta=ds.meta_dict, year=year, weight=weight, survival=survival)
    grids = ds.grids.copy()
    grids["elderly"] = np.round(values).astype("int64")
    return ds.with_layer("grids", grids)


def demand_label(year: int | None, weight: DemandWeight) -> dict[str, object]:
    """What a demand is, for JSON summaries and saved scenarios: ``{"year": …, "weight": …}``."""
    return {"year": year, "weight": weight}


__all__ = ["ELDERLY_BANDS", "MAX_YEARS_AHEAD", "Projection", "STEP_YEARS", "SurvivalTable", "age_five_years",
           "band_matrix", "base_year", "check_year", "default_survival", "demand_label", "demand_values",
           "gompertz_ratios", "project_bands", "project_dataset", "project_grids", "read_survival", "with_demand"]
