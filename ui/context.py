"""What every page needs from the shared sidebar: dataset, street filter, language, basemap."""

from __future__ import annotations

import runpy
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import streamlit as st

from geo.dataset import Dataset
from geo.ref import DatasetRef
from ui import auth

_KEY = "page_context"
APP_PATH = Path(__file__).resolve().parent.parent / "app.py"


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
    district: str | None = None  # a city dataset's chosen district (None: the whole city, or not a city)
    city: str | None = None  # the city dataset's spec when ``ds`` is part of a city

    @property
    def ref(self) -> DatasetRef:
        """What ``path`` names: the dataset and, in a city, the district (`geo.ref.DatasetRef`)."""
        return DatasetRef.parse(self.path)

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
    """The context the sidebar set for this rerun (app.py renders the sidebar before any page).

    A direct link to a page, opened before the server has run app.py once, makes
    Streamlit run the page file alone (its old ``pages/`` folder convention).
    Then app.py is run here instead: it draws the sidebar and the navigation and
    runs this page through them, and the stray run stops.
    """
    ctx = st.session_state.get(_KEY)
    if ctx is None or auth.gate() is None:  # never a page for a session that must sign in first
        runpy.run_path(str(APP_PATH), run_name="__main__")
        st.stop()
    return ctx
