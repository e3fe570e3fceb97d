"""A GridAtlas dataset: the six layers, read from and written to one GeoPackage."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from geo import settings
from geo.assign import assign_grid_ids
from geo.crs import WGS84, CoordSys, metric_crs
from geo.errors import DataError, Problem, bad_choice
from geo.schema import LAYER_NAMES, LAYERS, validate_layer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_PATH = PROJECT_ROOT / "data" / "shifeng_demo.gpkg"
ENV_VAR = "GRIDATLAS_DATA"


class LazyLayer:
    """A layer read from storage the first time it is used (thread-safe; read once, then kept).

    ``rows`` is known without reading (from the file's footer), so pages can say a
    layer is empty without loading a million cases.
    """

    def __init__(self, load: Callable[[], gpd.GeoDataFrame], rows: int,
                 take: Callable[[np.ndarray, list[str]], pd.DataFrame] | None = None,
                 read: Callable[[list[str]], gpd.GeoDataFrame] | None = None):
        self._load = load
        self.rows = int(rows)
        self._take = take
        self._read = read
        self._frame: gpd.GeoDataFrame | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.rows

    def take_rows(self, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
        """The ``columns`` (those the layer has) of the rows at positions ``rows``, in that order.

        Read from storage without reading the whole layer when it is not read yet: a list of a few thousand
        overdue cases does not bring a million cases into memory.
        """
        if self._frame is None and self._take is not None:
            return self._take(np.asarray(rows, dtype="int64"), list(columns))
        frame = self.get()
        return frame.iloc[rows][[c for c in columns if c in frame.columns]].reset_index(drop=True)

    def read(self, columns: list[str]) -> gpd.GeoDataFrame:
        """The ``columns`` (those the layer has) and the geometry of every row, read without keeping the layer.

        For what is built once from a few columns of a million cases (`analysis.cases.case_table_from_dataset`):
        the server then holds what it built, not the layer it was built from.
        """
        if self._frame is None and self._read is not None:
            return self._read(list(columns))
        frame = self.get()
        return frame[[c for c in columns if c in frame.columns and c != frame.geometry.name] + [frame.geometry.name]]

    def column(self, name: str) -> pd.Series | None:
        """One column of every row (None when the layer has no such column), read alone when possible."""
        got = self.take_rows(np.arange(self.rows), [name])
        return got[name] if name in got.columns else None

    @property
    def loaded(self) -> bool:
        return self._frame is not None

    def get(self) -> gpd.GeoDataFrame:
        if self._frame is None:
            with self._lock:
                if self._frame is None:
                    self._frame = self._load()
        return self._frame


@dataclass(frozen=True)
class Dataset:
    """The layers of one district, in WGS84. Optional layers are ``None`` when absent.

    A layer may be given as a `LazyLayer` (the workspace does so for the cases):
    reading the attribute reads the layer then, once.
    """

    grids: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    estates: gpd.GeoDataFrame | None = None
    cases: gpd.GeoDataFrame | None = None
    candidates: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    name: str = ""
    meta: tuple[tuple[str, str], ...] = ()

    def __getattribute__(self, attr: str):
        value = object.__getattribute__(self, attr)
        if attr in _LAYER_SET and isinstance(value, LazyLayer):
            return value.get()
        return value

    def _raw(self, name: str) -> gpd.GeoDataFrame | LazyLayer | None:
        return object.__getattribute__(self, name)

    def layer(self, name: str) -> gpd.GeoDataFrame | None:
        if name not in LAYER_NAMES:
            raise bad_choice("name", name, LAYER_NAMES)
        return getattr(self, name)

    def rows(self, name: str) -> int:
        """Rows of a layer (0 when absent), without reading a layer that is not read yet."""
        raw = self._raw(name)
        if raw is None:
            return 0
        return raw.rows if isinstance(raw, LazyLayer) else len(raw)

    def lazy_layer(self, name: str) -> gpd.GeoDataFrame | LazyLayer | None:
        """The layer as held: a `LazyLayer` (rows taken without reading it whole) or the frame; None if absent."""
        if name not in LAYER_NAMES:
            raise bad_choice("name", name, LAYER_NAMES)
        return self._raw(name)

    def is_loaded(self, name: str) -> bool:
        raw = self._raw(name)
        return not isinstance(raw, LazyLayer) or raw.loaded

    @property
    def metric_crs(self) -> CRS:
        """The UTM zone the analyses measure in."""
        return metric_crs(self.grids)

    @property
    def streets(self) -> list[str]:
        """The grids' streets, sorted; a new list each call. Worked out once per dataset: every page run of every
        session asks for it, most of them several times (the sidebar, the page, its sections)."""
        try:
            kept = object.__getattribute__(self, "_streets")
        except AttributeError:
            kept = tuple(sorted(self.grids["street"].dropna().unique().tolist()))
            object.__setattr__(self, "_streets", kept)  # not a field: equality, repr and with_layer ignore it
        return list(kept)

    def present_layers(self) -> list[str]:
        return [n for n in LAYER_NAMES if self._raw(n) is not None]

    def with_layer(self, name: str, gdf: gpd.GeoDataFrame | None) -> Dataset:
        raw = {f.name: self._raw(f.name) for f in fields(Dataset)}
        raw[name] = gdf
        return Dataset(**raw)

    @property
    def meta_dict(self) -> dict[str, str]:
        return dict(self.meta)


_LAYER_SET = frozenset(LAYER_NAMES)


def default_data_path() -> str:
    """`GRIDATLAS_DATA` if set (read at call time), else the bundled demo."""
    return settings.data() or str(DEMO_PATH)


def read_meta(path: str | os.PathLike) -> dict[str, str]:
    """The key/value `meta` table of a dataset GeoPackage (empty when absent)."""
    try:
        layers = {row[0] for row in pyogrio.list_layers(path)}
    except Exception:
        return {}
    if "meta" not in layers:
        return {}
    df = pyogrio.read_dataframe(path, layer="meta", read_geometry=False)
    return {str(k): str(v) for k, v in zip(df["key"], df["value"], strict=True)}


def read_dataset(path: str | os.PathLike, *, coord_sys: CoordSys = "wgs84") -> Dataset:
    """Read, validate and normalise every layer of a GeoPackage.

    Problems from all layers are collected and raised together as one
    `DataError`. Cases without a ``grid_id`` get one here, once, by point in
    polygon.
    """
    path = Path(path)
    if not path.exists():
        raise DataError([Problem("dataset", f"file {path} does not exist",
                                 "give the path of a GeoPackage (.gpkg) or set GRIDATLAS_DATA")])
    try:
        present = {row[0] for row in pyogrio.list_layers(path)}
    except Exception as exc:
        raise DataError([Problem("dataset", f"{path.name} cannot be opened as a GeoPackage ({exc})",
                                 "export the data as a GeoPackage (.gpkg)")]) from exc
    problems: list[Problem] = []
    layers: dict[str, gpd.GeoDataFrame | None] = {}
    for name, schema in LAYERS.items():
        if name not in present:
            if schema.required_in_dataset:
                problems.append(Problem(name, "layer is missing from the dataset",
                                        f"add a layer named {name} ({schema.title_zh})"))
            layers[name] = None
            continue
        raw = pyogrio.read_dataframe(path, layer=name, use_arrow=True)
        try:
            layers[name] = validate_layer(raw, name, coord_sys=coord_sys)
        except DataError as err:
            problems.extend(err.problems)
    if problems:
        raise DataError(problems)
    cases = layers["cases"]
    if cases is not None and len(cases) and ("grid_id" not in cases.columns or cases["grid_id"].isna().any()):
        cases = cases.copy()
        if "grid_id" not in cases.columns or cases["grid_id"].isna().all():
            cases["grid_id"] = assign_grid_ids(cases, layers["grids"])
        else:  # only the cases that came without a grid
            missing = cases["grid_id"].isna()
            cases.loc[missing, "grid_id"] = assign_grid_ids(cases[missing], layers["grids"])
        layers["cases"] = cases
    meta = read_meta(path)
    return Dataset(**layers, name=meta.get("name", path.stem), meta=tuple(sorted(meta.items())))


def _copy_extra_tables(src: Path, dst: Path) -> None:
    """Copy the tables of ``src`` that are not dataset layers (nor meta) into ``dst``."""
    if not src.exists():
        return
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(src)]
    except Exception:  # not a GeoPackage (being replaced by one): nothing to keep
        return
    for name in names:
        if name in LAYER_NAMES or name == "meta":
            continue
        table = pyogrio.read_dataframe(src, layer=name)
        pyogrio.write_dataframe(table, dst, layer=name, driver="GPKG")


def write_dataset(ds: Dataset, path: str | os.PathLike) -> Path:
    """Write every present layer (and the meta table) to a new GeoPackage, atomically.

    The file is written beside the target and renamed over it only when
    complete, so a failed write leaves the previous dataset intact. Other
    tables already in the target (such as saved ``scenarios``) are carried over.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.writing.gpkg")
    if tmp.exists():
        tmp.unlink()
    try:
        for f in fields(Dataset):
            if f.name not in LAYER_NAMES:
                continue
            gdf = getattr(ds, f.name)
            if gdf is None:
                continue
            out = gdf.to_crs(WGS84)
            pyogrio.write_dataframe(out, tmp, layer=f.name, driver="GPKG", use_arrow=True)
        meta = {"name": ds.name, **ds.meta_dict}
        pyogrio.write_dataframe(pd.DataFrame({"key": list(meta), "value": list(meta.values())}),
                                tmp, layer="meta", driver="GPKG")
        _copy_extra_tables(path, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return path
