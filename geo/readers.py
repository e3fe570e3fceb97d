"""Reading one layer from the files clerks bring: GeoPackage, GeoJSON, Shapefile, CSV, Excel."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.crs import CoordSys
from geo.errors import DataError, Problem
from geo.schema import validate_layer


def _read_table_file(path: Path) -> pd.DataFrame | gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        for enc in ("utf-8-sig", "gb18030"):
            try:
                return pd.read_csv(path, dtype=str, encoding=enc)
            except UnicodeDecodeError:
                continue
        raise DataError([Problem("file", f"{path.name} is neither UTF-8 nor GB18030 text",
                                 "save the CSV as UTF-8")])
    if suffix in (".xlsx", ".xls"):
        return pd.read_excel(path, dtype=str)
    return pyogrio.read_dataframe(path)


def read_layer_file(path: str | Path, layer: str, *, coord_sys: CoordSys = "wgs84", sublayer: str | None = None):
    """Read one layer from a file (GeoPackage, GeoJSON, Shapefile, CSV, Excel) and validate it."""
    path = Path(path)
    if not path.exists():
        raise DataError([Problem(layer, f"file {path} does not exist", "check the path")])
    try:
        if path.suffix.lower() == ".gpkg":
            names = [row[0] for row in pyogrio.list_layers(path)]
            name = sublayer or (layer if layer in names else names[0])
            raw = pyogrio.read_dataframe(path, layer=name)
        else:
            raw = _read_table_file(path)
    except DataError:
        raise
    except Exception as exc:
        raise DataError([Problem(layer, f"{path.name} cannot be read ({exc})",
                                 "save it as GeoPackage, GeoJSON, Shapefile, CSV (UTF-8) or Excel")]) from exc
    if len(raw) == 0:
        raise DataError([Problem(layer, f"{path.name} has no data rows",
                                 "add at least one row (feature) below the header")])
    return validate_layer(raw, layer, coord_sys=coord_sys)
