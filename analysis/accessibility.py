"""Capacity-aware accessibility: two-step floating catchment (2SFCA) and its enhanced form.

Step 1, for each facility ``j``: its supply per resident who can reach it,
``R_j = S_j / Σ_k P_k W(d_kj)``. Step 2, for each place ``i`` where residents
live: ``A_i = Σ_j R_j W(d_ij)``. Plain 2SFCA has ``W = 1`` within the
catchment (Luo & Wang 2003); the enhanced form (E2SFCA, Luo & Qi 2009) uses
distance bands with falling weights, by default 1.0 / 0.68 / 0.22 over the
first, second and last third of the catchment. A band's upper bound is
inclusive, and beyond the last band the weight is 0 — the same rules as
PySAL ``access`` (`weights.step_fn`), which the tests compare against.

Supply ``S_j`` is the facility ``capacity`` (places, beds); a facility
without one gets the median capacity of its type (1 when its type has none),
and the result says how many were filled in. Distances come from
`analysis.coverage.source_target_reach` (straight line or walking), each facility with
its own catchment radius. Per grid, the score is the residents-weighted mean of
its demand points' ``A_i``, reported per 1,000 residents (``per_1000``): the
capacity available to a thousand of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from analysis.coverage import (
    CoverageParams,
    DataLike,
    graph_for_inputs,
    prepare_inputs,
    resolve_params,
    select_facilities,
    source_target_reach,
)
from analysis.network import WalkGraph
from analysis.options import Distance, Weight
from geo.errors import AnalysisError

# (upper bound as a fraction of the catchment radius, weight)
E2SFCA_BANDS: tuple[tuple[float, float], ...] = ((1 / 3, 1.0), (2 / 3, 0.68), (1.0, 0.22))


def _check_bands(bands: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    out = tuple(sorted((float(u), float(w)) for u, w in bands))
    if not out:
        raise AnalysisError("`bands` is empty; give (upper bound, weight) pairs or None for plain 2SFCA",
                            code="analysis.bands_empty")
    for u, w in out:
        if not np.isfinite(u) or u <= 0:
            raise AnalysisError(f"band upper bound {u} must be greater than 0", code="analysis.not_positive",
                                params={"name": "bands (upper bound)", "value": f"{u:g}"})
        if not np.isfinite(w) or w < 0:
            raise AnalysisError(f"band weight {w} must be 0 or more", code="analysis.negative",
                                params={"name": "bands (weight)", "value": f"{w:g}"})
    return out


def step_weights(distance: ArrayLike, bands: Sequence[tuple[float, float]]) -> NDArray[np.float64]:
    """Weight of each distance: the weight of the first band whose upper bound is ≥ it, else 0."""
    b = _check_bands(bands)
    uppers = np.array([u for u, _ in b])
    weights = np.append(np.array([w for _, w in b]), 0.0)
    d = np.asarray(distance, dtype="float64")
    return weights[np.searchsorted(uppers, d, side="left")]


def fca_scores(
    distance_m: sp.csr_matrix,
    supply: ArrayLike,
    demand: ArrayLike,
    *,
    bands: Sequence[tuple[float, float]] | None = None,
    band_scale: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """2SFCA on a sparse (n_facilities, n_demand) distance matrix of reached pairs.

    ``supply`` per facility, ``demand`` per demand location. ``bands`` (upper
    bound, weight) makes it E2SFCA; with ``band_scale`` (per facility) the
    upper bounds are multiples of it (fractions of each facility's catchment).
    Returns ``(R, A)``: supply per demand at each facility (NaN where nobody
    is in reach) and the accessibility of each demand location (0 where no
    facility is in reach).
    """
    d = sp.csr_matrix(distance_m)
    nf, nd = d.shape
    s = np.asarray(supply, dtype="float64")
    p = np.asarray(demand, dtype="float64")
    if s.shape != (nf,) or p.shape != (nd,):
        raise AnalysisError(f"supply has {s.shape[0]} and demand {p.shape[0]} values for a {nf}×{nd} matrix",
                            code="analysis.shape_mismatch",
                            params={"what": "supply, demand", "got": f"{s.shape[0]}, {p.shape[0]}",
                                    "expected": f"{nf}, {nd}"})
    rows = np.repeat(np.arange(nf), np.diff(d.indptr))
    if bands is None:
        w = np.ones(d.nnz)
    else:
        scale = np.ones(nf) if band_scale is None else np.asarray(band_scale, dtype="float64")
        w = step_weights(d.data / scale[rows], bands)
    wm = sp.csr_matrix((w, d.indices, d.indptr), shape=d.shape)
    reached = np.asarray(wm @ p).ravel()
    r = np.divide(s, reached, out=np.full(nf, np.nan), where=reached > 0)
    a = np.asarray(wm.T @ np.nan_to_num(r)).ravel()
    return r, a


@dataclass(frozen=True, eq=False)
class AccessibilityResult:
    """2SFCA per grid and per facility.

    ``grids``: ``grid_id, street, <w>, per_1000`` (capacity within reach per
    1,000 residents, residents-weighted over the grid's demand points),
    ``reach_share`` (share of residents with any facility in reach).
    ``facilities``: ``facility_id, name, type, capacity, demand_in_reach``
    (weighted residents in its catchment), ``per_1000`` (its capacity per 1,000
    of them; NaN when nobody is in reach). ``capacity_filled``: facilities whose
    capacity was missing and filled in.
    """

    params: CoverageParams
    enhanced: bool
    grids: pd.DataFrame
    facilities: pd.DataFrame
    capacity_filled: int


def _capacities(fac: pd.DataFrame) -> tuple[NDArray[np.float64], int]:
    cap = pd.to_numeric(fac["capacity"], errors="coerce") if "capacity" in fac.columns else \
        pd.Series(np.nan, index=fac.index)
    cap = cap.astype("float64")
    missing = cap.isna()
    if missing.any():
        med = cap.groupby(fac["type"].astype(str)).transform("median")
        cap = cap.fillna(med).fillna(1.0)
    return cap.to_numpy(), int(missing.sum())


def accessibility_by_grid(
    data: DataLike,
    *,
    facility_types: str | Sequence[str] = ("day_care",),
    radius_m: float | Mapping[str, float] | None = None,
    distance: Distance = "euclidean",
    weight: Weight = "elderly",
    include_planned: bool = False,
    enhanced: bool = False,
    bands: Sequence[tuple[float, float]] | None = None,
    graph: WalkGraph | None = None,
) -> AccessibilityResult:
    """2SFCA (or E2SFCA with ``enhanced=True``) of the selected facilities, per grid.

    ``bands``: E2SFCA bands as (fraction of the catchment radius, weight),
    default `E2SFCA_BANDS`. Options and errors as `analysis.coverage.compute_coverage`.
    """
    inputs = prepare_inputs(data)
    params = resolve_params(inputs, facility_types=facility_types, radius_m=radius_m, distance=distance,
                            weight=weight, include_planned=include_planned)
    fac = select_facilities(inputs, params).reset_index(drop=True)
    demand = inputs.demand
    g = graph_for_inputs(inputs, graph) if params.distance == "walking" else None
    radii = fac["radius_m"].to_numpy()
    rmax = float(radii.max()) if len(radii) else 1.0
    dist = source_target_reach(fac, demand, radius_m=rmax, distance=params.distance, graph=g).distance_m.tocsr()
    # Each facility keeps only the pairs within its own radius.
    rows = np.repeat(np.arange(dist.shape[0]), np.diff(dist.indptr))
    keep = dist.data <= radii[rows]
    dist = sp.csr_matrix((dist.data[keep], (rows[keep], dist.indices[keep])), shape=dist.shape)
    use_bands = (bands if bands is not None else E2SFCA_BANDS) if enhanced else None
    cap, filled = _capacities(fac)
    w = params.weight
    pop = demand[w].to_numpy(dtype="float64")
    r, a = fca_scores(dist, cap, pop, bands=use_bands, band_scale=radii if use_bands is not None else None)

    grids = inputs.grids
    dg = inputs.demand_grid
    ng = len(grids)
    in_reach = np.asarray(dist.getnnz(axis=0) > 0).ravel()
    wsum = np.bincount(dg, weights=pop, minlength=ng)
    npts = np.bincount(dg, minlength=ng).astype(float)
    use_w = wsum[dg] > 0
    pw = np.where(use_w, pop, 1.0)
    den = np.bincount(dg, weights=pw, minlength=ng)
    score = np.divide(np.bincount(dg, weights=pw * a, minlength=ng), den, out=np.zeros(ng), where=den > 0)
    reach = np.divide(np.bincount(dg, weights=pw * in_reach, minlength=ng), den, out=np.zeros(ng), where=den > 0)
    grid_table = pd.DataFrame({
        "grid_id": grids["grid_id"].to_numpy(dtype=object),
        "street": grids["street"].to_numpy(dtype=object),
        w: grids[w].astype("float64").to_numpy(),
        "per_1000": score * 1000.0,
        "reach_share": np.where(npts > 0, reach, 0.0),
    })
    wmat = dist.copy()
    if use_bands is not None:
        frows = np.repeat(np.arange(wmat.shape[0]), np.diff(wmat.indptr))
        wmat.data = step_weights(wmat.data / radii[frows], use_bands)
    else:
        wmat.data = np.ones(wmat.nnz)
    fac_table = pd.DataFrame({
        "facility_id": fac["facility_id"].astype(str).to_numpy(),
        "name": fac["name"].astype(str).to_numpy(),
        "type": fac["type"].astype(str).to_numpy(),
        "capacity": cap,
        "demand_in_reach": np.asarray(wmat @ pop).ravel(),
        "per_1000": r * 1000.0,
    })
    return AccessibilityResult(params=params, enhanced=bool(enhanced), grids=grid_table, facilities=fac_table,
                               capacity_filled=filled)
