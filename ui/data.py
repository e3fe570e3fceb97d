"""Cached loading of datasets and of what pages derive from them.

A dataset is named by its ``spec`` (a workspace name, a GeoPackage path or a
``postgresql://`` URL, with ``#district=NAME`` or ``#city`` for a part of a
city: `geo.ref.DatasetRef`; `geo.storage.open_store`). Its current version is
loaded once per version (`st.cache_resource` keyed by the store's ``token``)
and shared by every session: the frozen Dataset is never mutated. Loading
trusts the version (validated at import, checksum checked on open).

What pages derive from a version (`derived`) is computed once per version and
kept on disk beside it, so a restarted server reads it instead of
recomputing; the page-level caches are keyed by ``(spec, token)`` rather than
by hashing GeoDataFrames on every rerun; where a GeoDataFrame must be an
argument, `HASH_FUNCS` hashes it cheaply and exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.dataset import Dataset, default_data_path
from geo.ref import DatasetRef
from geo.storage import DatasetStore, list_datasets, open_store

T = TypeVar("T")

# Room in the page caches kept per street (and per period, filter or language): a district has up to thirty-odd
# streets, and thirty staff at 9:00 open each their own street in a few variants. A cache smaller than the streets
# in use keeps nothing (each street pushes out the one needed next): with 14 streets and room for 24 hot-spot
# answers, the two periods of the morning recomputed every street's hot spots in every round (bench/RESULTS.md, "Load").
STREET_ENTRIES = 128


def _hash_gdf(gdf: gpd.GeoDataFrame) -> str:
    h = hashlib.sha1()
    h.update(str(gdf.crs).encode())
    h.update(pd.util.hash_pandas_object(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), index=True).values)
    h.update(b"".join(gdf.geometry.to_wkb().fillna(b"").tolist()))
    return h.hexdigest()


HASH_FUNCS = {gpd.GeoDataFrame: _hash_gdf}


@dataclass(frozen=True)
class DatasetChoice:
    """A dataset the sidebar offers: a label and the spec `open_store` takes (kept as ``path``)."""

    label: str
    path: str


def dataset_choices() -> list[DatasetChoice]:
    """GRIDATLAS_DATA first (if set), the workspace's datasets (the demo among them), then cache/*.gpkg."""
    return [DatasetChoice(e.label, e.spec) for e in list_datasets()]


def get_ref(spec: str | None = None) -> DatasetRef:
    """The `DatasetRef` a spec or page key names (default: $GRIDATLAS_DATA or the demo)."""
    return DatasetRef.parse(spec or default_data_path())


def get_store(spec: str | None = None) -> DatasetStore:
    """The store of the dataset ``spec`` names (a part's key: its whole dataset). Cheap: nothing is read."""
    return open_store(get_ref(spec).dataset())


@st.cache_resource(show_spinner=False, max_entries=2)
def _load(spec: str, token: str) -> Dataset:
    return get_store(spec).load()


# the whole city as the city pages show it: every layer but the cases (those are counted by the store)
CITY_LAYERS: tuple[str, ...] = ("estates", "candidates")


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_part(key: str, token: str) -> Dataset:
    """The city without cases (``SPEC#city``) or one district with its cases (``SPEC#district=NAME``)."""
    ref = get_ref(key)
    if ref.district is None:
        return get_store(key).load(layers=CITY_LAYERS)
    return get_store(key).load(district=ref.district)


def _is_part(path: str) -> bool:
    return get_ref(path).is_part


def get_dataset(path: str | None = None) -> Dataset:
    """The current version of the dataset ``path`` names, loaded once per version.

    A key naming part of a city dataset (`geo.ref.DatasetRef`: ``SPEC#city``,
    ``SPEC#district=NAME``) gives that part.
    """
    spec = get_ref(path).key
    if _is_part(spec):
        return _load_part(spec, dataset_token(spec))
    return _load(spec, get_store(spec).token)


def dataset_token(path: str) -> str:
    """A cache key that changes when the dataset's current version changes."""
    if _is_part(path):  # a part changes with its dataset
        return f"{get_store(path).token}|{get_ref(path).key}"
    return get_store(path).token


# one entry per dataset version and name: the overview alone keeps a figure set per street and a map per street,
# language and basemap, so room for a few versions of a district with its thirty-odd streets
@st.cache_resource(show_spinner=False, max_entries=256)
def _derived(spec: str, token: str, name: str, _build: Callable[[], T]) -> T:
    if _is_part(spec):  # a part of a city dataset: computed per server
        return _build()
    store = get_store(spec)
    if not hasattr(store, "derived"):  # a backend without a place for derived data: computed per server
        return _build()
    return store.derived().get(name, _build)


def derived(spec: str, token: str, name: str, build: Callable[[], T]) -> T:
    """What ``build`` derives from the version ``token`` names: read from its folder, else built and kept there.

    ``name`` says what it is and the format of its value (change it when the value's class changes).
    """
    return _derived(spec, token, name, build)


def getter(spec: str, token: str) -> Callable[[str, Callable[[], T]], T]:
    """`analysis.pagedata`'s ``get`` for one version: `derived` (memory, then the version's folder)."""
    return lambda name, build: derived(spec, token, name, build)
