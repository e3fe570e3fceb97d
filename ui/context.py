"""What every page needs from the shared sidebar: dataset, street filter, language, basemap."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import streamlit as st

from geo.dataset import Dataset

_KEY = "page_context"


@dataclass(frozen=True)
class PageContext:
    """The sidebar's choices for this rerun. ``street`` is None for the whole district."""

    ds: Dataset
    path: str
    token: str
    street: str | None
    lang: str
    tiles: str | None
    tiles_attr: str
    tiles_datum: str

    def grids(self) -> gpd.GeoDataFrame:
        """Grids of the chosen street (all grids when no street is chosen)."""
        g = self.ds.grids
        return g if self.street is None else g[g["street"] == self.street]

    def filter_street(self, gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        """Rows of a layer in the chosen street (by its ``street`` column, else by grid)."""
        if gdf is None or self.street is None:
            return gdf
        if "street" in gdf.columns and gdf["street"].notna().any():
            return gdf[gdf["street"] == self.street]
        if "grid_id" in gdf.columns:
            return gdf[gdf["grid_id"].isin(self.grids()["grid_id"])]
        return gdf[gdf.intersects(self.grids().union_all())]


def set_context(ctx: PageContext) -> None:
    st.session_state[_KEY] = ctx


def get_context() -> PageContext:
    """The context the sidebar set for this rerun (app.py renders the sidebar before any page)."""
    ctx = st.session_state.get(_KEY)
    if ctx is None:
        raise RuntimeError("the sidebar has not run: open the app through app.py")
    return ctx
