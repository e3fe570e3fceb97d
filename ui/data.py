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

What every page run asks the store before anything else — the dataset's store
(`get_store`), its token (`store_token`, `dataset_token`), the sidebar's
dataset list (`dataset_choices`) and a city's districts
(`ui.city.city_districts`) — is kept per server for `BRIEF_S` seconds
(`briefly`: a monotonic clock, one lock), so thirty runs within a second read
the version pointer once. A version committed by this process (the 数据管理
page's import and restore, a scenario's site opened on the siting page) calls
`version_committed`, which forgets all of it: every session's next run sees
the new version at once. A version committed by another process (the CLI) is
seen at most `BRIEF_S` later (docs/storage.md).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
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


# --- what every run asks the store, kept briefly per server ------------------------------------------------------

# How long a store, its token, the dataset list and a city's districts are kept per server: thirty runs in the same
# second read the version pointer once; another process's new version (the CLI) is seen at most this much later.
BRIEF_S = 2.0

_brief_lock = threading.Lock()
_brief: dict[tuple, tuple[float, object]] = {}  # key -> (monotonic time it was read, value)
_brief_generation = 0  # moved on by `version_committed`: a value read before it is not kept after it


def _clock() -> float:
    return time.monotonic()


def briefly(key: tuple, read: Callable[[], T]) -> T:
    """``read()``, kept per server for `BRIEF_S` seconds under ``key`` (and the environment's ``GRIDATLAS_HOME``
    and ``GRIDATLAS_DATA``), counted from before it was read. An exception is not kept; nor is a value whose
    reading began before a `version_committed` (its caller gets it; the runs after read again)."""
    key = (*key, os.environ.get("GRIDATLAS_HOME"), os.environ.get("GRIDATLAS_DATA"))
    now = _clock()
    with _brief_lock:
        got = _brief.get(key)
        if got is not None and now - got[0] < BRIEF_S:
            return got[1]  # type: ignore[return-value]
        generation = _brief_generation
    value = read()
    with _brief_lock:
        if generation == _brief_generation:
            if len(_brief) > 256:  # specs come from the sidebar and the pages' keys: few; stale ones are let go
                for k in [k for k, (at, _) in _brief.items() if now - at >= BRIEF_S]:
                    del _brief[k]
            _brief[key] = (now, value)
    return value


def version_committed() -> None:
    """This process has just made a new version current (import, restore, a site opened): forget what `briefly`
    kept, so the next run of every session reads the store again and sees it."""
    global _brief_generation
    with _brief_lock:
        _brief_generation += 1
        _brief.clear()


@dataclass(frozen=True)
class DatasetChoice:
    """A dataset the sidebar offers: a label and the spec `open_store` takes (kept as ``path``)."""

    label: str
    path: str


def dataset_choices() -> list[DatasetChoice]:
    """GRIDATLAS_DATA first (if set), the workspace's datasets (the demo among them), then cache/*.gpkg (read at
    most once per `BRIEF_S`)."""
    return list(briefly(("choices",), lambda: tuple(DatasetChoice(e.label, e.spec) for e in list_datasets())))


def get_ref(spec: str | None = None) -> DatasetRef:
    """The `DatasetRef` a spec or page key names (default: $GRIDATLAS_DATA or the demo)."""
    return DatasetRef.parse(spec or default_data_path())


def get_store(spec: str | None = None) -> DatasetStore:
    """The store of the dataset ``spec`` names (a part's key: its whole dataset), opened at most once per `BRIEF_S`
    (opening resolves paths; on PostGIS it checks the catalogue). Stores hold no state of their own: shared."""
    ref = get_ref(spec).dataset()
    return briefly(("store", ref.key), lambda: open_store(ref))


def store_token(spec: str | None = None) -> str:
    """The token of the dataset ``spec`` names (a part's key: its whole dataset's), read at most once per `BRIEF_S`
    (`version_committed` forgets it at once)."""
    ref = get_ref(spec).dataset()
    return briefly(("token", ref.key), lambda: get_store(ref.key).token)


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
    return _load(spec, store_token(spec))


def dataset_token(path: str) -> str:
    """A cache key that changes when the dataset's current version changes."""
    if _is_part(path):  # a part changes with its dataset
        return f"{store_token(path)}|{get_ref(path).key}"
    return store_token(path)


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
