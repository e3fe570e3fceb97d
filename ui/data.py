"""Cached loading of datasets and of what pages derive from them.

A dataset is read and validated once per file version (path + modification
time) and shared by every session (`st.cache_resource`: the frozen Dataset is
never mutated). Derived tables are cached with `st.cache_data`, keyed by
`dataset_token` rather than by hashing GeoDataFrames on every rerun; where a
GeoDataFrame must be an argument, `HASH_FUNCS` hashes it cheaply and exactly.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import settings
from geo.dataset import DEMO_PATH, PROJECT_ROOT, Dataset, default_data_path, read_dataset


def _hash_gdf(gdf: gpd.GeoDataFrame) -> str:
    h = hashlib.sha1()
    h.update(str(gdf.crs).encode())
    h.update(pd.util.hash_pandas_object(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), index=True).values)
    h.update(b"".join(gdf.geometry.to_wkb().fillna(b"").tolist()))
    return h.hexdigest()


HASH_FUNCS = {gpd.GeoDataFrame: _hash_gdf}


@dataclass(frozen=True)
class DatasetChoice:
    """A dataset the sidebar offers: a label and a GeoPackage path."""

    label: str
    path: str


def dataset_choices() -> list[DatasetChoice]:
    """$GRIDATLAS_DATA first (if set), the bundled demo, then GeoPackages in cache/; labels are unique."""
    paths: list[str] = []
    env = settings.data()
    if env:
        paths.append(env)
    paths.append(str(DEMO_PATH))
    cache = PROJECT_ROOT / "cache"
    if cache.is_dir():
        paths.extend(str(p) for p in sorted(cache.glob("*.gpkg")))
    unique: list[str] = []
    for p in paths:
        if all(Path(p).resolve() != Path(q).resolve() for q in unique):
            unique.append(p)
    stems = [Path(p).stem for p in unique]
    choices = []
    for p, stem in zip(unique, stems, strict=True):
        # the widget tells choices apart by label: add the folder where two files share a name
        label = stem if stems.count(stem) == 1 else f"{stem} ({Path(p).resolve().parent})"
        choices.append(DatasetChoice(label, p))
    return choices


def _mtime(path: str) -> float:
    try:
        return os.path.getmtime(path)
    except OSError:
        return -1.0


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(path: str, mtime: float) -> Dataset:
    return read_dataset(path)


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_part(key: str, token: str) -> Dataset:
    from ui.city import load_part

    return load_part(key)


def _is_part(path: str) -> bool:
    from ui.city import split_key

    return split_key(path)[2]


def get_dataset(path: str | None = None) -> Dataset:
    """The validated dataset at ``path`` (default: $GRIDATLAS_DATA or the demo), loaded once.

    A key naming part of a city dataset (``ui.city``: ``SPEC#city``,
    ``SPEC#district=NAME``) gives that part.
    """
    path = path or default_data_path()
    if _is_part(path):
        return _load_part(path, dataset_token(path))
    return _load(path, _mtime(path))


def dataset_token(path: str) -> str:
    """A cache key that changes when the file (or the database's current version) changes."""
    if _is_part(path):
        from ui.city import part_token

        return part_token(path)
    return f"{Path(path).resolve()}@{_mtime(path)}"
