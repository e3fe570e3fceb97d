"""District and street figures for the overview: grids, residents, facilities, estates.

Case figures come from `analysis.cases` and coverage from `analysis.coverage`, so every page
counts the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo.dataset import Dataset
from geo.errors import AnalysisError
from geo.schema import FACILITY_TYPES


@dataclass(frozen=True)
class DistrictSummary:
    """Key figures of a district (or of one street when ``street`` is set)."""

    street: str | None
    grids: int
    households: int
    population: int
    elderly: int
    area_km2: float
    facilities_by_type: dict[str, int]
    estates: int | None
    unmanaged_estates: int | None
    committees_formed: int | None

    @property
    def elderly_share(self) -> float:
        return self.elderly / self.population if self.population else 0.0

    @property
    def facilities(self) -> int:
        return sum(self.facilities_by_type.values())


def grid_density(grids: gpd.GeoDataFrame, *, crs: object) -> pd.DataFrame:
    """Per grid: ``grid_id``, ``area_km2`` (measured in ``crs``), ``elderly_per_km2``, ``population_per_km2``."""
    area_km2 = grids.to_crs(crs).area.to_numpy() / 1e6
    out = pd.DataFrame({"grid_id": grids["grid_id"].to_numpy(), "area_km2": area_km2})
    safe = out["area_km2"].where(out["area_km2"] > 0)
    out["elderly_per_km2"] = grids["elderly"].astype("float64").to_numpy() / safe
    out["population_per_km2"] = grids["population"].astype("float64").to_numpy() / safe
    return out


def _in_street(gdf: gpd.GeoDataFrame | None, street: str | None, grid_ids: pd.Series) -> gpd.GeoDataFrame | None:
    if gdf is None or street is None:
        return gdf
    if "street" in gdf.columns and gdf["street"].notna().any():
        return gdf[gdf["street"] == street]
    if "grid_id" in gdf.columns:
        return gdf[gdf["grid_id"].isin(grid_ids)]
    return gdf


def district_summary(ds: Dataset, *, street: str | None = None) -> DistrictSummary:
    """Figures for the whole district, or for one street."""
    grids = ds.grids if street is None else ds.grids[ds.grids["street"] == street]
    if street is not None and grids.empty:
        raise AnalysisError(f"`street` was {street!r} but the dataset's streets are {ds.streets}",
                            code="analysis.unknown_street", params={"street": str(street), "streets": ", ".join(ds.streets)})
    ids = grids["grid_id"]
    fac = _in_street(ds.facilities, street, ids)
    if street is not None and fac is not None and ("street" not in fac.columns or fac["street"].isna().all()):
        fac = fac[fac.intersects(grids.union_all())]
    counts = fac["type"].value_counts()
    by_type = {code: int(counts.get(code, 0)) for code in FACILITY_TYPES}
    estates = _in_street(ds.estates, street, ids)
    committees = None
    if estates is not None and "committee_formed_on" in estates.columns:
        committees = int(estates["committee_formed_on"].notna().sum())
    return DistrictSummary(
        street=street,
        grids=len(grids),
        households=int(grids["households"].sum()),
        population=int(grids["population"].sum()),
        elderly=int(grids["elderly"].sum()),
        area_km2=float(grids.to_crs(ds.metric_crs).area.sum() / 1e6),
        facilities_by_type=by_type,
        estates=None if estates is None else len(estates),
        unmanaged_estates=None if estates is None else int((estates["management"] == "unmanaged").sum()),
        committees_formed=committees,
    )


def street_table(ds: Dataset) -> pd.DataFrame:
    """One row per street: grids, households, population, elderly, share aged 60+, facilities, density."""
    g = ds.grids.assign(area_km2=ds.grids.to_crs(ds.metric_crs).area.to_numpy() / 1e6)
    out = g.groupby("street").agg(grids=("grid_id", "size"), households=("households", "sum"),
                                  population=("population", "sum"), elderly=("elderly", "sum"),
                                  area_km2=("area_km2", "sum"))
    out["elderly_share"] = out["elderly"] / out["population"].where(out["population"] > 0)
    out["elderly_per_km2"] = out["elderly"] / out["area_km2"].where(out["area_km2"] > 0)
    fac = ds.facilities
    if "street" in fac.columns and fac["street"].notna().any():
        out["facilities"] = fac.groupby("street").size().reindex(out.index).fillna(0).astype(int)
    else:
        joined = gpd.sjoin(fac[["geometry"]], g[["street", "geometry"]], predicate="within")
        out["facilities"] = joined.groupby("street").size().reindex(out.index).fillna(0).astype(int)
    return out.reset_index()
