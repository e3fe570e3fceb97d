"""Partial datasets as districts really bring them, drawn at random from the demo.

A district's first files carry the required columns and little else: numeric ids, one street, no open case, no
candidates, estates as points. `draw(seed)` takes the bundled demo and, from the seed alone:

- drops each optional layer (estates, cases, candidates, roads) with some chance, or leaves it with no rows;
- drops optional columns (each by chance, or all of a layer's at once);
- switches ids to numbers (written as integers, as a spreadsheet export has them) or to zero-padded text;
- turns estates into points (their representative points) or keeps polygons;
- cuts the district to one street, or to one grid;
- closes every case, or leaves none in the as-of month;
- drops ``as_of`` from the dataset's meta.

`Draw.write(path)` writes the draw as a GeoPackage that the CLI and the app open like any district's file, and
`Draw.missing` says what was taken away, so tests can expect the matching "needs …" notes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.dataset import DEMO_PATH, Dataset, read_dataset, write_dataset
from geo.schema import ELDERLY_BANDS, LAYERS
from tests.partial import OPTIONAL_LAYERS, partial_dataset, required_only

ID_COLUMNS = {"grids": "grid_id", "facilities": "facility_id", "estates": "estate_id", "cases": "case_id",
              "candidates": "site_id"}

_BASE: Dataset | None = None


def base() -> Dataset:
    """The demo, read once per test process (draws never change it: every step copies)."""
    global _BASE
    if _BASE is None:
        _BASE = read_dataset(DEMO_PATH)
    return _BASE


def optional_columns(layer: str, frame: pd.DataFrame) -> list[str]:
    """The layer's columns that the schema does not require (extra columns of the file included)."""
    required = set(LAYERS[layer].required_columns)
    return [c for c in frame.columns if c != frame.geometry.name and c not in required]


@dataclasses.dataclass(frozen=True)
class Draw:
    """One partial dataset and what was done to it."""

    seed: int
    ds: Dataset
    dropped_layers: tuple[str, ...]
    empty_layers: tuple[str, ...]
    dropped_columns: dict[str, tuple[str, ...]]
    numeric_ids: bool
    padded_ids: bool
    estate_points: bool
    one_street: bool
    one_grid: bool
    all_closed: bool
    no_as_of: bool

    def write(self, path: str | Path) -> Path:
        return write_dataset(self.ds, path)

    def has(self, layer: str, column: str | None = None) -> bool:
        """Whether the draw kept ``layer`` with rows (and ``column`` in it)."""
        frame = self.ds.layer(layer)
        if frame is None or len(frame) == 0:
            return False
        return column is None or column in frame.columns

    def describe(self) -> str:
        flags = [k for k in ("numeric_ids", "padded_ids", "estate_points", "one_street", "one_grid", "all_closed",
                             "no_as_of") if getattr(self, k)]
        return json.dumps({"seed": self.seed, "dropped_layers": self.dropped_layers, "empty": self.empty_layers,
                           "dropped_columns": self.dropped_columns, "flags": flags}, ensure_ascii=False)


def _renumber(frame: pd.DataFrame, col: str, mapping: dict[str, object]) -> pd.DataFrame:
    out = frame.copy()
    out[col] = out[col].astype(str).map(mapping)
    return out


def draw(seed: int, *, max_cases: int = 2500) -> Draw:
    """The partial dataset of ``seed`` (deterministic)."""
    rng = np.random.default_rng(seed)
    src = base()
    layers: dict[str, gpd.GeoDataFrame | None] = {name: src.layer(name) for name in LAYERS}
    meta = dict(src.meta_dict)

    one_grid = bool(rng.random() < 0.04)
    one_street = one_grid or bool(rng.random() < 0.3)
    grids = layers["grids"]
    if one_street:
        street = sorted(grids["street"].unique())[int(rng.integers(grids["street"].nunique()))]
        grids = grids[grids["street"] == street]
        if one_grid:
            grids = grids.iloc[[int(rng.integers(len(grids)))]]
        area = grids.union_all()
        for name in ("facilities", "estates", "cases", "candidates"):
            frame = layers[name]
            if frame is not None:
                layers[name] = frame[frame.geometry.representative_point().within(area.buffer(0.002))]
        if one_grid and len(layers["facilities"]) == 0:  # facilities are required: keep the nearest ones
            fac = src.layer("facilities")
            d = fac.to_crs(3857).geometry.distance(gpd.GeoSeries([area.centroid], crs=fac.crs).to_crs(3857).iloc[0])
            layers["facilities"] = fac.loc[d.nsmallest(3).index]
        if layers["roads"] is not None:
            roads = layers["roads"]
            layers["roads"] = roads[roads.intersects(area.buffer(0.005))]
    layers["grids"] = grids

    cases = layers["cases"]
    if cases is not None:
        cases = cases[cases["grid_id"].isin(grids["grid_id"])]
        if len(cases) > max_cases:  # keep the latest months whole: the meeting looks at the as-of month
            cases = cases.sort_values("reported_at").iloc[-max_cases:]
        layers["cases"] = cases

    all_closed = bool(rng.random() < 0.2)
    if all_closed and layers["cases"] is not None:
        cases = layers["cases"].copy()
        cases["status"] = "closed"
        if "closed_at" in cases.columns:
            later = cases["reported_at"] + pd.to_timedelta(rng.integers(1, 72, len(cases)), unit="h")
            cases["closed_at"] = cases["closed_at"].fillna(later)
        layers["cases"] = cases

    dropped_layers = tuple(n for n in OPTIONAL_LAYERS if rng.random() < 0.25)
    for n in dropped_layers:
        layers[n] = None
    empty_layers = tuple(n for n in ("estates", "cases", "candidates")
                         if layers[n] is not None and rng.random() < 0.06)
    for n in empty_layers:
        layers[n] = layers[n].iloc[0:0]

    estate_points = bool(rng.random() < 0.5)
    if estate_points and layers["estates"] is not None:
        est = layers["estates"].copy()
        est.geometry = est.geometry.representative_point()
        layers["estates"] = est

    all_optional = bool(rng.random() < 0.3)
    dropped_columns: dict[str, tuple[str, ...]] = {}
    for name, frame in layers.items():
        if frame is None:
            continue
        cols = [c for c in optional_columns(name, frame) if c not in ELDERLY_BANDS
                and (all_optional or rng.random() < 0.5)]
        bands = [c for c in ELDERLY_BANDS if c in frame.columns]
        if bands and (all_optional or rng.random() < 0.5):  # the 60+ bands come all together or not at all
            cols += bands
        if name == "cases" and "grid_id" in cols:
            cols.remove("grid_id")  # assigned at import anyway; dropping it is the all-optional case below
            if all_optional:
                cols.append("grid_id")
        if cols:
            dropped_columns[name] = tuple(cols)

    kept = partial_dataset(Dataset(**layers, name=src.name), drop_columns=dropped_columns)
    layers = {name: kept.layer(name) for name in LAYERS}

    numeric_ids = bool(rng.random() < 0.35)
    padded_ids = not numeric_ids and bool(rng.random() < 0.3)
    if numeric_ids or padded_ids:
        for name, col in ID_COLUMNS.items():
            frame = layers[name]
            if frame is None:
                continue
            start = int(rng.integers(1, 5000))
            ids = frame[col].astype(str)
            mapping = {old: (start + i if numeric_ids else f"{start + i:07d}") for i, old in enumerate(ids)}
            layers[name] = _renumber(frame, col, mapping)
            if name == "grids":
                grid_map = mapping
        cases = layers["cases"]
        if cases is not None and "grid_id" in cases.columns:
            layers["cases"] = _renumber(cases, "grid_id", grid_map)

    no_as_of = bool(rng.random() < 0.3)
    if no_as_of:
        meta.pop("as_of", None)
    if one_street or layers["estates"] is None:
        meta.pop("street_totals", None)

    ds = Dataset(**layers, name=src.name, meta=tuple(sorted(meta.items())))
    return Draw(seed=seed, ds=ds, dropped_layers=dropped_layers, empty_layers=empty_layers,
                dropped_columns=dropped_columns, numeric_ids=numeric_ids, padded_ids=padded_ids,
                estate_points=estate_points, one_street=one_street, one_grid=one_grid, all_closed=all_closed,
                no_as_of=no_as_of)


def fixed_partial(*, numeric_ids: bool = False, one_street: bool = False) -> Dataset:
    """The fixed partial datasets of the browser tests: `tests.partial.required_only` of the demo (estates as
    points), optionally with numeric ids (integers, as a spreadsheet exports them) or cut to its first street."""
    ds = required_only(base())
    layers: dict[str, gpd.GeoDataFrame | None] = {name: ds.layer(name) for name in LAYERS}
    if one_street:
        grids = layers["grids"]
        layers["grids"] = grids = grids[grids["street"] == sorted(grids["street"].unique())[0]]
        area = grids.union_all().buffer(0.002)
        for name in ("facilities", "estates", "cases"):
            frame = layers[name]
            layers[name] = frame[frame.geometry.representative_point().within(area)]
        layers["cases"] = layers["cases"][layers["cases"]["grid_id"].isin(grids["grid_id"])]
    est = layers["estates"].copy()
    est.geometry = est.geometry.representative_point()
    layers["estates"] = est
    if numeric_ids:
        grid_map = {old: i + 1 for i, old in enumerate(layers["grids"]["grid_id"].astype(str))}
        layers["grids"] = _renumber(layers["grids"], "grid_id", grid_map)
        layers["cases"] = _renumber(layers["cases"], "grid_id", grid_map)
        for name in ("facilities", "estates", "cases"):
            col = ID_COLUMNS[name]
            frame = layers[name]
            layers[name] = _renumber(frame, col, {o: 100000 + i for i, o in enumerate(frame[col].astype(str))})
    meta = {k: v for k, v in ds.meta_dict.items() if k in ("name", "district", "city", "label", "synthetic")}
    return Dataset(**layers, name=ds.name, meta=tuple(sorted(meta.items())))
