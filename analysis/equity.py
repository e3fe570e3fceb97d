"""Equity of access: who is beyond reach, and how evenly the 2SFCA access is shared, per street and district.

Contract (the ``equity`` command, the coverage page and the meeting's equity slide use it):

- **Beyond reach**: the aged 60+ (the demand: `analysis.projection.with_demand` for a plan year or the 80+)
  not within ``radius_m`` of a facility of the type (`analysis.coverage`): ``beyond = elderly −
  covered_elderly``, ``beyond_share = beyond / elderly``.
- **Access**: each grid's 2SFCA score (`analysis.accessibility`, capacity per 1,000 aged 60+ in reach,
  ``per_1000``): zero where no facility is in reach, so Gini and Palma mix "none" with "little" — the
  beyond-reach share stands beside them for that reason.
- **Gini** (`weighted_gini`): the aged-60+-weighted mean absolute difference of the grids' scores over twice
  their weighted mean, ``Σᵢ Σⱼ wᵢ wⱼ |xᵢ − xⱼ| / (2 W² μ)``, no small-sample correction; NaN when nobody lives
  there or everyone's score is 0.
- **Palma** (`palma_ratio`): the access held by the best-served 10 % of the aged 60+ over that held by the
  worst-served 40 % (people ranked by their grid's score; a grid straddling a cut counted in part); ``inf``
  when the worst-served 40 % hold none, NaN when nobody holds any.
- **Rows**: one per street (in the grids' order of first appearance) and one for the district, whose
  ``street`` is `DISTRICT_ROW` (全区); the ten worst-off grids are those with the lowest score, then the
  largest beyond-reach share, then the most aged 60+ (grids with nobody aged 60+ left out).
- **Before / after** (`compare_equity`): the same rows for two runs (a scenario, a what-if) side by side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from analysis.accessibility import accessibility_by_grid
from analysis.coverage import DataLike, compute_coverage, prepare_inputs
from analysis.network import WalkGraph
from analysis.options import Distance

DISTRICT_ROW = "全区"
WORST_GRIDS = 10
STREET_COLUMNS = ("street", "elderly", "beyond", "beyond_share", "gini", "palma")
GRID_COLUMNS = ("grid_id", "street", "elderly", "covered_elderly", "access")


def _clean(values: ArrayLike, weights: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype="float64")
    w = np.asarray(weights, dtype="float64")
    keep = np.isfinite(x) & np.isfinite(w) & (w > 0)
    return x[keep], w[keep]


def weighted_gini(values: ArrayLike, weights: ArrayLike) -> float:
    """``Σᵢ Σⱼ wᵢ wⱼ |xᵢ − xⱼ| / (2 W² μ)`` (μ the weighted mean), in O(n log n) by sorting; NaN without weight
    or with a zero mean."""
    x, w = _clean(values, weights)
    total_w = float(w.sum())
    if total_w <= 0:
        return math.nan
    mean = float((w * x).sum()) / total_w
    if mean <= 0:
        return math.nan
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    below_w = np.cumsum(w) - w  # weight of everyone ranked before i
    below_wx = np.cumsum(w * x) - w * x
    half = float((w * (x * below_w - below_wx)).sum())  # Σ over pairs i>j of wᵢ wⱼ (xᵢ − xⱼ)
    return 2.0 * half / (2.0 * total_w * total_w * mean)


def _held_below(x: np.ndarray, w: np.ndarray, cut: float) -> float:
    """Access held by the first ``cut`` people, people ranked by ``x`` ascending (``x``, ``w`` sorted)."""
    start = np.cumsum(w) - w
    part = np.clip(cut - start, 0.0, w)
    return float((x * part).sum())


def palma_ratio(values: ArrayLike, weights: ArrayLike) -> float:
    """Access held by the best-served 10 % of people over that held by the worst-served 40 % (partial grids
    counted in part); ``inf`` when the worst-served 40 % hold nothing, NaN when nobody holds anything."""
    x, w = _clean(values, weights)
    total_w = float(w.sum())
    if total_w <= 0:
        return math.nan
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    total = float((x * w).sum())
    if total <= 0:
        return math.nan
    bottom = _held_below(x, w, 0.4 * total_w)
    top = total - _held_below(x, w, 0.9 * total_w)
    return math.inf if bottom <= 0 else top / bottom


@dataclass(frozen=True, eq=False)
class EquityResult:
    """``grids``: `GRID_COLUMNS` in the grids' order (``access`` = 2SFCA per 1,000); ``streets``:
    `STREET_COLUMNS`, one row per street then the district (`DISTRICT_ROW`); ``worst``: the ten worst-off
    grids (`GRID_COLUMNS` plus ``beyond_share``)."""

    grids: pd.DataFrame
    streets: pd.DataFrame
    worst: pd.DataFrame


def _row(name: str, part: pd.DataFrame) -> dict[str, object]:
    elderly = float(part["elderly"].sum())
    beyond = float((part["elderly"] - part["covered_elderly"]).clip(lower=0).sum())
    return {"street": name, "elderly": elderly, "beyond": beyond,
            "beyond_share": beyond / elderly if elderly > 0 else math.nan,
            "gini": weighted_gini(part["access"], part["elderly"]),
            "palma": palma_ratio(part["access"], part["elderly"])}


def equity_from_tables(grids: pd.DataFrame) -> EquityResult:
    """Equity of a grid table with `GRID_COLUMNS` (what `equity_by_grid` builds; tests pass their own)."""
    table = grids[list(GRID_COLUMNS)].copy()
    rows = [_row(str(s), part) for s, part in table.groupby("street", sort=False)]
    rows.append(_row(DISTRICT_ROW, table))
    streets = pd.DataFrame(rows, columns=list(STREET_COLUMNS))
    ranked = table.assign(beyond_share=np.where(table["elderly"] > 0,
                                                1.0 - table["covered_elderly"] / table["elderly"].where(
                                                    table["elderly"] > 0), np.nan))
    ranked = ranked[ranked["elderly"] > 0].sort_values(["access", "beyond_share", "elderly"],
                                                       ascending=[True, False, False], kind="stable")
    return EquityResult(grids=table, streets=streets, worst=ranked.head(WORST_GRIDS).reset_index(drop=True))


def equity_by_grid(
    data: DataLike,
    *,
    facility_types: str | Sequence[str] = ("day_care",),
    radius_m: float | Mapping[str, float] | None = None,
    distance: Distance = "euclidean",
    include_planned: bool = False,
    enhanced: bool = False,
    graph: WalkGraph | None = None,
) -> EquityResult:
    """Coverage and 2SFCA of the aged 60+ (the grids' ``elderly``: pass `with_demand`'s dataset for a plan year
    or the 80+) on one set of inputs, and the equity figures of the module docstring."""
    inputs = prepare_inputs(data)
    options = {"facility_types": facility_types, "radius_m": radius_m, "distance": distance,
               "include_planned": include_planned, "graph": graph}
    cov = compute_coverage(inputs, weight="elderly", **options).grids
    acc = accessibility_by_grid(inputs, weight="elderly", enhanced=enhanced, **options).grids
    table = pd.DataFrame({
        "grid_id": cov["grid_id"].astype(str).to_numpy(),
        "street": cov["street"].to_numpy(dtype=object),
        "elderly": cov["elderly"].astype("float64").to_numpy(),
        "covered_elderly": cov["covered_elderly"].astype("float64").to_numpy(),
        "access": acc["per_1000"].to_numpy(dtype="float64"),
    })
    return equity_from_tables(table)


def compare_equity(before: EquityResult, after: EquityResult) -> pd.DataFrame:
    """Street and district rows of two runs side by side: ``street`` then ``<figure>_before``,
    ``<figure>_after`` for ``elderly, beyond, beyond_share, gini, palma``, in ``before``'s order."""
    b = before.streets.set_index("street")
    a = after.streets.set_index("street").reindex(b.index)
    out = pd.DataFrame({"street": b.index.to_numpy(dtype=object)})
    for col in STREET_COLUMNS[1:]:
        out[f"{col}_before"] = b[col].to_numpy()
        out[f"{col}_after"] = a[col].to_numpy()
    return out


__all__ = ["DISTRICT_ROW", "EquityResult", "GRID_COLUMNS", "STREET_COLUMNS", "WORST_GRIDS", "compare_equity",
           "equity_by_grid", "equity_from_tables", "palma_ratio", "weighted_gini"]
