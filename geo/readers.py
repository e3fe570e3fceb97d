"""Reading one layer from the files clerks bring, in the formats and datums they come in.

Formats: GeoPackage (the layer named as asked, else the one named like the
GridAtlas layer — ``grids`` or 网格 — else the first with geometry), GeoJSON,
Shapefile (zipped, or loose with its parts beside it; text encoding from the
``.cpg``, else detected), CSV (UTF-8, UTF-8 with BOM, GBK/GB18030 — detected)
Excel ``.xlsx`` (the first sheet or a named one) and, for the ``roads`` layer,
OpenStreetMap extracts (``.osm``, ``.osm.pbf``: the walkable ways inside the
``extent`` given, see `geo.osm`). Tables give points from
lon/lat columns (经度/纬度 and other aliases) or any geometry from a WKT or
GeoJSON text column.

Coordinates: the file's own CRS (``.prj``, GeoPackage), else the one chosen
(``epsg``: WGS84 4326, CGCS2000 4490, a Gauss–Krüger zone such as 4547, any
EPSG code), and for lon/lat the datum (``coord_sys``: GCJ-02 of Amap and
Tencent, BD-09 of Baidu). Everything comes out in WGS84.

`read_table` reads without validating (the 数据管理 page shows the headers for
confirmation first); `read_layer` reads, validates and returns the layer with
the repairs made (`LayerRead.warnings`); `read_layer_file` returns the layer
alone. Every problem is a `DataError` with coded problems (``data.*``,
``upload.*``).
"""

from __future__ import annotations

import codecs
import csv
import warnings as _warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo._memory import give_back
from geo.crs import COORD_SYSTEMS, CoordSys
from geo.errors import DataError, Problem, bad_choice
from geo.osm import Bbox, read_osm_roads
from geo.progress import ProgressFn, progress_or_silent
from geo.schema import LAYERS, check_layer
from geo.upload import Limits, check_layer_size, gpkg_layer_bytes, staged_path

FORMATS: dict[str, str] = {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".shp": "shapefile",
                           ".zip": "shapefile", ".csv": "csv", ".xlsx": "xlsx", ".osm": "osm", ".pbf": "osm"}
TEXT_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030")  # order matters: GB18030 accepts most UTF-8 bytes
_CSV_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Source:
    """Where a table came from: format, encoding, the layer or sheet read, its CRS and the others offered."""

    name: str
    format: str
    encoding: str | None = None
    sublayer: str | None = None
    crs: str | None = None
    sublayers: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawTable:
    """A file's rows as read, before validation: its own headers, geometry if it has one."""

    frame: pd.DataFrame | gpd.GeoDataFrame
    source: Source

    @property
    def headers(self) -> list[str]:
        geom = self.frame.geometry.name if isinstance(self.frame, gpd.GeoDataFrame) else None
        return [str(c) for c in self.frame.columns if c != geom]

    @property
    def has_geometry(self) -> bool:
        return isinstance(self.frame, gpd.GeoDataFrame) and self.frame.geometry.name in self.frame.columns


@dataclass(frozen=True)
class LayerRead:
    """A validated layer in WGS84, the repairs made (warnings) and how the file was read."""

    gdf: gpd.GeoDataFrame
    warnings: tuple[Problem, ...]
    columns: dict[str, str | None]
    source: Source
    crs_used: str | None = None
    coord_sys: str = "wgs84"


def _problem(layer: str, code: str, message: str, fix: str, **params) -> Problem:
    return Problem(layer, message, fix, code=code, params=params)


def _fail(layer: str, code: str, message: str, fix: str, **params) -> DataError:
    return DataError([_problem(layer, code, message, fix, **params)])


def _unreadable(layer: str, path: Path, exc: Exception) -> DataError:
    reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return _fail(layer, "data.file_unreadable", f"{path.name} cannot be read ({reason})",
                 "save it as GeoPackage, GeoJSON, Shapefile, CSV (UTF-8) or Excel", name=path.name, reason=reason)


def _detect_encoding(path: Path, *, layer: str) -> str:
    """A CSV's encoding: UTF-8 (with or without BOM) if every byte decodes, else GB18030 (a superset of GBK).

    Decoded chunk by chunk and thrown away, so a large file is never held as text twice.
    """
    with open(path, "rb") as fh:
        head = fh.read(3)
    for enc in TEXT_ENCODINGS:
        decoder = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return "utf-8-sig" if enc == "utf-8-sig" and head == codecs.BOM_UTF8 else ("utf-8" if enc == "utf-8-sig"
                                                                                   else enc)
    raise _fail(layer, "data.encoding_unknown", f"{path.name} is neither UTF-8 nor GBK/GB18030 text",
                "save the CSV as UTF-8 (Excel: CSV UTF-8)", name=path.name)


def _read_csv(path: Path, *, layer: str) -> RawTable:
    # UTF-8 first, read in columns by pyarrow, which checks that every cell is UTF-8: no decoding pass of its own
    with open(path, "rb") as fh:
        head = fh.readline()
    try:
        first = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        first = ""
    if first.strip():
        frame = _read_csv_arrow(path, _delimiter(first))
        if frame is not None:
            return RawTable(frame, Source(path.name, "csv", encoding="utf-8-sig" if head.startswith(codecs.BOM_UTF8)
                                          else "utf-8"))
    encoding = _detect_encoding(path, layer=layer)
    with open(path, encoding=encoding) as fh:
        first = fh.readline()
    if not first.strip():
        raise _fail(layer, "data.file_empty", f"{path.name} is empty", "add a header row and at least one data row",
                    name=path.name)
    delimiter = _delimiter(first)
    try:
        frame = pd.read_csv(path, dtype=str, sep=delimiter, skipinitialspace=True, encoding=encoding,
                            keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _unreadable(layer, path, exc) from exc
    return RawTable(frame, Source(path.name, "csv", encoding=encoding))


def _delimiter(first: str) -> str:
    try:
        return csv.Sniffer().sniff(first, delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _read_csv_arrow(path: Path, delimiter: str) -> pd.DataFrame | None:
    """A UTF-8 CSV read in columns by pyarrow (threads, no Python per row), every cell as text as pandas
    reads it (leading spaces dropped, an empty cell missing); None when pyarrow cannot read it, and pandas
    (which names the problem) reads it instead."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        names = pacsv.open_csv(path, parse_options=pacsv.ParseOptions(delimiter=delimiter)).schema.names
        table = pacsv.read_csv(
            path, parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        return None
    if len(set(table.column_names)) != len(table.column_names):  # pandas renames repeated headers
        return None
    columns = {}
    for name in table.column_names:
        text = pc.utf8_ltrim(table.column(name), characters=" ")
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.large_string()), text)
        columns[name.lstrip(" ")] = text
    text_dtype = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' own ``str``, as read_csv(dtype=str) gives
    frame = pa.table(columns).to_pandas(types_mapper={pa.large_string(): text_dtype}.get, self_destruct=True)
    del table, columns, text
    give_back()  # the parser's buffers and the untrimmed columns (a few hundred MB for a million rows)
    return frame


def _read_xlsx(path: Path, *, layer: str, sheet: str | None) -> RawTable:
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors
        raise _unreadable(layer, path, exc) from exc
    with book:
        sheets = tuple(str(s) for s in book.sheet_names)
        if sheet is not None and sheet not in sheets:
            raise _fail(layer, "data.layer_not_found", f"{path.name} has no sheet {sheet!r} (it has {', '.join(sheets)})",
                        "choose one of the sheets the file has", name=sheet, available=", ".join(sheets))
        name = sheet if sheet is not None else sheets[0]
        frame = book.parse(name, dtype=str)
    frame = frame.dropna(how="all")
    return RawTable(frame.reset_index(drop=True), Source(path.name, "xlsx", sublayer=name, sublayers=sheets))


def _pick_gpkg_layer(path: Path, layer: str, sublayer: str | None) -> tuple[str, tuple[str, ...]]:
    listed = pyogrio.list_layers(path)
    names = tuple(str(row[0]) for row in listed)
    if sublayer is not None:
        if sublayer not in names:
            raise _fail(layer, "data.layer_not_found", f"{path.name} has no layer {sublayer!r} "
                        f"(it has {', '.join(names) or 'none'})", "choose one of the layers the file has",
                        name=sublayer, available=", ".join(names))
        return sublayer, names
    title = LAYERS[layer].title_zh
    for wanted in (layer, title):
        if wanted in names:
            return wanted, names
    spatial = [str(row[0]) for row in listed if row[1]]
    if not names:
        raise _fail(layer, "data.file_empty", f"{path.name} has no layers", "export the layer into the GeoPackage",
                    name=path.name)
    return (spatial or list(names))[0], names


def _shapefile_encoding(path: Path) -> str:
    """The .dbf's text encoding: the .cpg's if Python knows it, else UTF-8 if every byte decodes, else GB18030."""
    cpg = path.with_suffix(".cpg")
    if not cpg.exists():
        cpg = next((p for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() == ".cpg"), cpg)
    if cpg.exists():
        declared = cpg.read_text(encoding="ascii", errors="ignore").strip()
        aliases = {"936": "gbk", "54936": "gb18030", "65001": "utf-8", "ansi 936": "gbk"}
        name = aliases.get(declared.lower(), declared)
        try:
            return codecs.lookup(name).name
        except LookupError:
            pass
    dbf = next((p for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() == ".dbf"), None)
    if dbf is None:
        return "utf-8"
    data = dbf.read_bytes()
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _read_ogr(path: Path, *, layer: str, fmt: str, sublayer: str | None, limits: Limits, shown: str) -> RawTable:
    kwargs: dict = {}
    names: tuple[str, ...] = ()
    encoding = None
    if fmt == "gpkg":
        name, names = _pick_gpkg_layer(path, layer, sublayer)
        check_layer_size(shown, name, gpkg_layer_bytes(path, name), limits, layer=layer)
        kwargs["layer"] = name
    elif fmt == "shapefile":
        encoding = _shapefile_encoding(path)
        kwargs["encoding"] = encoding
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # GDAL's notes about measured geometry or field widths
        frame = pyogrio.read_dataframe(path, **kwargs)
    crs = frame.crs.to_string() if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None else None
    return RawTable(frame, Source(path.name, fmt, encoding=encoding, sublayer=kwargs.get("layer"), crs=crs,
                                  sublayers=names))


def _read_osm(path: Path, *, layer: str, name: str, extent: Bbox | None) -> RawTable:
    if layer != "roads":
        raise _fail(layer, "data.osm_roads_only", f"{name} is an OpenStreetMap extract: only the roads layer is "
                    "read from one", "choose the roads layer (道路), or a file of this layer", name=name)
    frame = read_osm_roads(path, bbox=extent, name=name)
    return RawTable(frame, Source(name, "osm", crs="EPSG:4326"))


def read_table(path: str | Path, layer: str, *, sublayer: str | None = None, limits: Limits | None = None,
               extent: Bbox | None = None) -> RawTable:
    """Read a file's rows as they are (no validation): the layer or sheet ``sublayer``, else the best match.

    A zip is checked and extracted into a temporary folder that is removed afterwards. The size limit
    applies to the bytes read: the file, or the chosen layer of a GeoPackage. ``extent`` (WGS84
    degrees, `geo.osm.extent_of`): where the ways of an OpenStreetMap extract are taken (None: all).
    """
    if layer not in LAYERS:
        raise bad_choice("layer", layer, tuple(LAYERS))
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise _fail(layer, "upload.unsupported_type", f"{path.name} is not a file GridAtlas reads",
                    "upload a GeoPackage, GeoJSON, zipped Shapefile, CSV or Excel (.xlsx) file",
                    name=path.name, allowed=", ".join(FORMATS))
    limits = limits or Limits.from_settings()
    with staged_path(path, layer=layer, limits=limits) as real:
        if path.stat().st_size == 0:
            raise _fail(layer, "data.file_empty", f"{path.name} is empty", "add a header row and at least one data row",
                        name=path.name)
        real_fmt = FORMATS.get(real.suffix.lower(), fmt)
        try:
            if real_fmt == "csv":
                raw = _read_csv(real, layer=layer)
            elif real_fmt == "xlsx":
                raw = _read_xlsx(real, layer=layer, sheet=sublayer)
            elif real_fmt == "osm":
                raw = _read_osm(real, layer=layer, name=path.name, extent=extent)
            else:
                raw = _read_ogr(real, layer=layer, fmt=real_fmt, sublayer=sublayer, limits=limits, shown=path.name)
        except DataError:
            raise
        except Exception as exc:  # pyogrio, openpyxl and pandas raise many kinds for a broken file
            raise _unreadable(layer, path, exc) from exc
    if len(raw.frame) == 0:
        raise _fail(layer, "data.file_empty", f"{path.name} has no data rows",
                    "add at least one row (feature) below the header", name=path.name)
    return RawTable(raw.frame, Source(path.name, raw.source.format, raw.source.encoding, raw.source.sublayer,
                                      raw.source.crs, raw.source.sublayers))


def resolve_crs(epsg: int | str | None, *, layer: str) -> CRS | None:
    """The CRS a clerk chose (an EPSG code), or None; an unknown code is a ``data.crs_unknown`` problem."""
    if epsg in (None, ""):
        return None
    try:
        return CRS.from_epsg(int(epsg))
    except (CRSError, ValueError, TypeError) as exc:
        raise _fail(layer, "data.crs_unknown", f"EPSG:{epsg} is not a known coordinate system",
                    "choose a code such as 4326 (WGS84), 4490 (CGCS2000) or 4547 (CGCS2000 / 3-degree Gauss-Kruger "
                    "CM 114E)", epsg=str(epsg)) from exc


def check_table(raw: RawTable, layer: str, *, coord_sys: CoordSys = "wgs84", epsg: int | str | None = None,
                columns: dict[str, str | None] | None = None) -> LayerRead:
    """Validate rows read by `read_table` (with the header mapping a clerk confirmed, if any)."""
    if coord_sys not in COORD_SYSTEMS:
        raise bad_choice("coord_sys", coord_sys, COORD_SYSTEMS)
    chosen = resolve_crs(epsg, layer=layer)
    notes: list[Problem] = []
    if raw.source.format == "osm" and (coord_sys != "wgs84" or (chosen is not None and chosen.to_epsg() != 4326)):
        notes.append(_problem(layer, "data.osm_wgs84", "OpenStreetMap data is in WGS84; the coordinate system chosen "
                              "was not used", "leave the coordinate system on the file's own"))
        coord_sys, chosen = "wgs84", None
    if chosen is not None and raw.source.crs is not None and not CRS.from_user_input(raw.source.crs).equals(chosen):
        notes.append(_problem(layer, "data.crs_overridden", f"the file says {raw.source.crs}; EPSG:{chosen.to_epsg()} "
                              "was chosen and used instead", "leave the choice empty to use the file's own",
                              file_crs=raw.source.crs, chosen=f"EPSG:{chosen.to_epsg()}"))
    checked = check_layer(raw.frame, layer, coord_sys=coord_sys, crs=chosen, columns=columns)
    used = chosen.to_string() if chosen is not None else raw.source.crs
    return LayerRead(checked.gdf, checked.warnings + tuple(notes), checked.columns, raw.source, used, coord_sys)


def read_layer(path: str | Path, layer: str, *, coord_sys: CoordSys = "wgs84", epsg: int | str | None = None,
               sublayer: str | None = None, columns: dict[str, str | None] | None = None,
               limits: Limits | None = None, extent: Bbox | None = None,
               progress: ProgressFn | None = None) -> LayerRead:
    """Read and validate one layer from a file; raise `DataError` with every problem found.

    ``progress`` hears the stages ``read`` and ``validate`` (`geo.progress`)."""
    report = progress_or_silent(progress)
    report("read", 0.0)
    raw = read_table(path, layer, sublayer=sublayer, limits=limits, extent=extent)
    report("validate", 0.0)
    checked = check_table(raw, layer, coord_sys=coord_sys, epsg=epsg, columns=columns)
    del raw  # the file's cells the layer does not keep (lon/lat, times as text)
    give_back()
    return checked


def read_layer_file(path: str | Path, layer: str, *, coord_sys: CoordSys = "wgs84", sublayer: str | None = None,
                    epsg: int | str | None = None) -> gpd.GeoDataFrame:
    """Read one layer from a file (GeoPackage, GeoJSON, Shapefile, CSV, Excel) and validate it."""
    return read_layer(path, layer, coord_sys=coord_sys, epsg=epsg, sublayer=sublayer).gdf
