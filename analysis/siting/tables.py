"""Tables for pages, files and the CLI: chosen sites, per-grid gains, the summary, service areas."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.siting.capacity import _new_share
from analysis.siting.model import SitingProblem, SitingResult
from geo.errors import AnalysisError


def sites_table(prob: SitingProblem, result: SitingResult) -> gpd.GeoDataFrame:
    """One row per chosen site, in order: rank, site_id, name, gain_elderly, covered_elderly, covered_share,
    capacity (capacitated), geometry (the problem's metric CRS; None without site geometry)."""
    idx = prob.index_of(result.site_ids)
    cum = prob.existing_elderly + np.cumsum(np.asarray(result.gains_elderly, dtype=np.float64))
    total = prob.total_elderly if prob.total_elderly > 0 else 1.0
    df = pd.DataFrame({
        "rank": np.arange(1, len(idx) + 1, dtype=np.int64),
        "site_id": pd.array(list(result.site_ids), dtype="string"),
        "gain_elderly": np.asarray(result.gains_elderly, dtype=np.float64),
        "covered_elderly": cum,
        "covered_share": cum / total,
    })
    if prob.sites is not None and "name" in prob.sites.columns:
        df.insert(2, "name", pd.array(prob.sites["name"].astype("string").to_numpy()[idx], dtype="string"))
    if prob.capacitated:
        df["capacity"] = prob.site_capacity[idx]
    if prob.sites is None:
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([None] * len(df)))
    return gpd.GeoDataFrame(df, geometry=prob.sites.geometry.to_numpy()[idx], crs=prob.sites.crs)


def newly_covered(prob: SitingProblem, result: SitingResult) -> pd.DataFrame:
    """Per demand point: ``new_elderly`` covered by the chosen sites (aged 60+); needs the demand frame."""
    if prob.demand is None:
        raise AnalysisError("per-grid figures need the demand points: build the problem from a dataset",
                            code="analysis.needs_dataset", params={"what": "demand points"})
    share = _new_share(prob, prob.index_of(result.site_ids))
    cls = prob.point_class
    new = np.where(cls >= 0, share[np.maximum(cls, 0)], 0.0) * prob.point_weight
    return pd.DataFrame({"demand_id": prob.demand["demand_id"].to_numpy() if "demand_id" in prob.demand.columns
                         else np.arange(prob.n_points), "grid_id": prob.demand["grid_id"].astype("string").to_numpy(),
                         "new_elderly": new, "existing_elderly": prob.point_existing * prob.point_weight,
                         "elderly": prob.point_weight})


def grid_gains(prob: SitingProblem, result: SitingResult) -> pd.DataFrame:
    """Per grid: elderly, existing_elderly (covered before), new_elderly (covered by the new sites),
    share_before, share_after. Sorted by new_elderly, largest first."""
    pts = newly_covered(prob, result)
    g = pts.groupby("grid_id", sort=True)[["elderly", "existing_elderly", "new_elderly"]].sum().reset_index()
    denom = g["elderly"].where(g["elderly"] > 0)
    g["share_before"] = (g["existing_elderly"] / denom).fillna(0.0)
    g["share_after"] = ((g["existing_elderly"] + g["new_elderly"]) / denom).fillna(0.0)
    return g.sort_values(["new_elderly", "grid_id"], ascending=[False, True], ignore_index=True)


def summary(prob: SitingProblem, result: SitingResult) -> dict[str, Any]:
    """The figures the CLI prints and scenarios keep."""
    return {
        "covered_elderly": round(result.covered_elderly, 3),
        "covered_share": round(result.covered_share, 6),
        "added_elderly": round(result.added_elderly, 3),
        "optimal": result.optimal,
        "gap": None if result.gap is None else round(result.gap, 6),
        "seconds": round(prob.build_s + result.elapsed_s, 4),
    }


def site_service_areas(
    prob: SitingProblem, result: SitingResult, *, graph: Any = None, quad_segs: int = 16
) -> gpd.GeoDataFrame:
    """The area each chosen site serves, in the problem's metric CRS: a circle of ``radius_m``, or with
    walking distance the roads reachable on foot widened into a corridor (needs ``graph``).
    Columns: rank, site_id, geometry."""
    if prob.sites is None:
        raise AnalysisError("service areas need the candidate sites' positions: build the problem from a dataset",
                            code="analysis.needs_dataset", params={"what": "candidate sites"})
    idx = prob.index_of(result.site_ids)
    pts = prob.sites.iloc[idx]
    base = pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "site_id": list(result.site_ids)})
    if prob.params.distance == "walking":
        if graph is None:
            raise AnalysisError("walking service areas need the walking graph of the roads layer",
                                code="analysis.no_roads")
        from analysis.network import isochrones, snap_points

        iso = isochrones(graph, snap_points(graph, pts, what="sites"), limit_m=prob.params.radius_m)
        return gpd.GeoDataFrame(base, geometry=iso.geometry.to_numpy(), crs=prob.sites.crs)
    return gpd.GeoDataFrame(base, geometry=pts.geometry.buffer(prob.params.radius_m, quad_segs=quad_segs).to_numpy(),
                            crs=prob.sites.crs)
