"""What-if on the existing network: close facilities, open candidate sites, change capacities — and see who gains
or loses coverage and access, per grid and street, without saving anything.

Contract (the coverage page, ``coverage --close/--open`` and the saved ``whatif`` scenarios use it):

- `apply_changes(ds, close=…, open_sites=…, capacity=…)` -> a new `Dataset` whose facilities are the old ones
  minus ``close`` (facility ids), plus one operating facility per opened candidate (``facility_id`` and
  ``name`` the candidate's ``site_id`` and name, ``type`` the first facility type asked, ``capacity`` the
  candidate's when it has one), with ``capacity`` (facility or opened site id -> places) applied. An id that
  is not in the data is `AnalysisError` ``analysis.unknown_facilities`` (or
  ``analysis.unknown_sites``); the input is never changed.
- `what_if(ds, …)` -> `WhatIfResult`: coverage (`analysis.coverage`) and 2SFCA access (`analysis.accessibility`)
  before and after, on the same demand points (the residents are placed once); coverage after a closure is
  exactly the coverage recomputed on the data without that facility. Demand is the grids' ``elderly`` (pass
  `analysis.projection.with_demand`'s dataset for a plan year or the aged 80+).
- `whatif_scenario(name, result)` -> the `geo.scenarios.Scenario` (kind ``whatif``) a store saves with
  ``save_scenario``: the changes and options as ``params``, the street figures as ``result``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.accessibility import accessibility_by_grid
from analysis.coverage import CoverageInputs, compute_coverage, prepare_inputs
from analysis.equity import EquityResult, equity_from_tables
from analysis.network import WalkGraph
from analysis.options import Distance
from geo.dataset import Dataset
from geo.errors import AnalysisError
from geo.scenarios import Scenario

SCENARIO_KIND = "whatif"


def _unknown(layer: str, ids: Sequence[str]) -> AnalysisError:
    shown = ", ".join(ids)
    if layer == "candidates":
        return AnalysisError(f"Unknown site id(s), not among the candidates: {shown}.", code="analysis.unknown_sites",
                             params={"ids": shown})
    return AnalysisError(f"no facility with id {shown} in the data", code="analysis.unknown_facilities",
                         params={"ids": shown})


def _ids(values: Sequence[object] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = values.split(",")
    return tuple(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))


def apply_changes(
    ds: Dataset,
    *,
    close: Sequence[str] | str | None = None,
    open_sites: Sequence[str] | str | None = None,
    capacity: Mapping[str, float] | None = None,
    facility_type: str = "day_care",
) -> Dataset:
    """The dataset with facilities closed, candidate sites opened and capacities changed (module docstring)."""
    close_ids, open_ids = _ids(close), _ids(open_sites)
    fac = ds.facilities
    fac_ids = fac["facility_id"].astype(str)
    missing = [i for i in close_ids if i not in set(fac_ids)]
    if missing:
        raise _unknown("facilities", missing)
    kept = fac[~fac_ids.isin(close_ids).to_numpy()]
    parts = [kept]
    if open_ids:
        cand = ds.candidates
        if cand is None:
            raise _unknown("candidates", list(open_ids))
        site_ids = cand["site_id"].astype(str)
        missing = [i for i in open_ids if i not in set(site_ids)]
        if missing:
            raise _unknown("candidates", missing)
        chosen = cand[site_ids.isin(open_ids).to_numpy()].to_crs(fac.crs)
        cap = pd.to_numeric(chosen["capacity"], errors="coerce") if "capacity" in chosen.columns else np.nan
        opened = gpd.GeoDataFrame({
            "facility_id": chosen["site_id"].astype(str).to_numpy(),
            "name": chosen["name"].astype(str).to_numpy() if "name" in chosen.columns else chosen["site_id"],
            "type": facility_type,
            "capacity": np.asarray(cap, dtype="float64") if np.ndim(cap) else np.full(len(chosen), np.nan),
            "status": "operating",
        }, geometry=chosen.geometry.to_numpy(), crs=fac.crs)
        parts.append(opened)
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else kept.reset_index(drop=True)
    out = gpd.GeoDataFrame(out, geometry=fac.geometry.name, crs=fac.crs)
    if capacity:
        ids = out["facility_id"].astype(str)
        missing = [i for i in capacity if str(i) not in set(ids)]
        if missing:
            raise _unknown("facilities", [str(i) for i in missing])
        cap_col = pd.to_numeric(out["capacity"], errors="coerce") if "capacity" in out.columns else \
            pd.Series(np.nan, index=out.index)
        new = ids.map({str(k): float(v) for k, v in capacity.items()})
        out["capacity"] = new.where(new.notna(), cap_col).astype("float64")
    return ds.with_layer("facilities", out)


def _with_facilities(inputs: CoverageInputs, facilities: gpd.GeoDataFrame) -> CoverageInputs:
    """``inputs`` with other facilities: the demand points (and their walking-graph snaps) are kept."""
    f = facilities.to_crs(inputs.crs).reset_index(drop=True)
    if "status" not in f.columns:
        f = f.assign(status="operating")
    return dataclasses.replace(
        inputs, facilities=f, facility_type=f["type"].astype(str).to_numpy(dtype=object),
        facility_planned=(f["status"].astype("string").fillna("operating") == "planned").to_numpy(dtype=bool),
        _snaps=inputs._snaps)


@dataclass(frozen=True, eq=False)
class WhatIfResult:
    """Before and after, per grid (``grid_id, street, elderly, covered_before, covered_after, covered_change,
    access_before, access_after, access_change``, access the 2SFCA per 1,000) and per street (the same sums,
    access weighted by the aged 60+; the district last, as `analysis.equity.DISTRICT_ROW`); the equity figures
    before and after; what was changed."""

    grids: pd.DataFrame
    streets: pd.DataFrame
    equity_before: EquityResult
    equity_after: EquityResult
    changes: Mapping[str, object]
    options: Mapping[str, object]

    @property
    def gained(self) -> pd.DataFrame:
        """Grids whose covered aged 60+ rose, most first."""
        g = self.grids[self.grids["covered_change"] > 1e-9]
        return g.sort_values("covered_change", ascending=False, kind="stable").reset_index(drop=True)

    @property
    def lost(self) -> pd.DataFrame:
        """Grids whose covered aged 60+ fell, most first."""
        g = self.grids[self.grids["covered_change"] < -1e-9]
        return g.sort_values("covered_change", kind="stable").reset_index(drop=True)


def _run(inputs: CoverageInputs, options: dict) -> pd.DataFrame:
    cov = compute_coverage(inputs, weight="elderly", **options).grids
    acc = accessibility_by_grid(inputs, weight="elderly", **options).grids
    return pd.DataFrame({"grid_id": cov["grid_id"].astype(str).to_numpy(),
                         "street": cov["street"].to_numpy(dtype=object),
                         "elderly": cov["elderly"].astype("float64").to_numpy(),
                         "covered_elderly": cov["covered_elderly"].astype("float64").to_numpy(),
                         "access": acc["per_1000"].to_numpy(dtype="float64")})


def _street_rows(grids: pd.DataFrame) -> pd.DataFrame:
    from analysis.equity import DISTRICT_ROW

    def row(name: str, part: pd.DataFrame) -> dict[str, object]:
        w = part["elderly"].to_numpy(dtype="float64")
        out: dict[str, object] = {"street": name, "elderly": float(w.sum())}
        for when in ("before", "after"):
            out[f"covered_{when}"] = float(part[f"covered_{when}"].sum())
            a = part[f"access_{when}"].to_numpy(dtype="float64")
            out[f"access_{when}"] = float((w * a).sum() / w.sum()) if w.sum() > 0 else float("nan")
        out["covered_change"] = out["covered_after"] - out["covered_before"]
        out["access_change"] = out["access_after"] - out["access_before"]
        return out

    rows = [row(str(s), part) for s, part in grids.groupby("street", sort=False)]
    rows.append(row(DISTRICT_ROW, grids))
    return pd.DataFrame(rows)


def what_if(
    ds: Dataset,
    *,
    close: Sequence[str] | str | None = None,
    open_sites: Sequence[str] | str | None = None,
    capacity: Mapping[str, float] | None = None,
    facility_types: str | Sequence[str] = ("day_care",),
    radius_m: float | Mapping[str, float] | None = None,
    distance: Distance = "euclidean",
    include_planned: bool = False,
    graph: WalkGraph | None = None,
    inputs: CoverageInputs | None = None,
) -> WhatIfResult:
    """Coverage and access before and after the changes (see the module docstring); nothing is saved.

    ``inputs``: `prepare_inputs(ds)` when the caller keeps it (a page's cache); built here otherwise.
    """
    types = (facility_types,) if isinstance(facility_types, str) else tuple(facility_types)
    changed = apply_changes(ds, close=close, open_sites=open_sites, capacity=capacity,
                            facility_type=types[0] if types else "day_care")
    before_in = inputs if inputs is not None else prepare_inputs(ds)
    after_in = _with_facilities(before_in, changed.facilities)
    options = {"facility_types": types, "radius_m": radius_m, "distance": distance,
               "include_planned": include_planned, "graph": graph}
    before = _run(before_in, options)
    if not set(types) & set(after_in.facility_types_present):  # every station of the type closed: nobody in reach
        after = before.assign(covered_elderly=0.0, access=0.0)
    else:
        after = _run(after_in, options)
    grids = before[["grid_id", "street", "elderly"]].assign(
        covered_before=before["covered_elderly"], covered_after=after["covered_elderly"],
        covered_change=after["covered_elderly"] - before["covered_elderly"],
        access_before=before["access"], access_after=after["access"],
        access_change=after["access"] - before["access"])
    changes = {"close": list(_ids(close)), "open": list(_ids(open_sites)),
               "capacity": {str(k): float(v) for k, v in (capacity or {}).items()}}
    shown = {"facility_types": list(types), "radius_m": radius_m, "distance": distance,
             "include_planned": bool(include_planned)}
    return WhatIfResult(grids=grids, streets=_street_rows(grids), equity_before=equity_from_tables(before),
                        equity_after=equity_from_tables(after), changes=changes, options=shown)


def whatif_scenario(name: str, result: WhatIfResult, *, demand: Mapping[str, object] | None = None) -> Scenario:
    """The scenario a store saves for ``result`` (kind `SCENARIO_KIND`); ``demand``: plan year and weight."""
    streets = result.streets.replace({np.nan: None}).to_dict(orient="records")
    return Scenario(name=name, kind=SCENARIO_KIND,
                    params={**result.changes, **result.options, **(dict(demand) if demand else {})},
                    result={"streets": streets})


__all__ = ["SCENARIO_KIND", "WhatIfResult", "apply_changes", "what_if", "whatif_scenario"]
