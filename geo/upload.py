"""Files brought from outside, staged safely before any reader opens them.

An upload (from the 数据管理 page or a path given to the CLI) is checked for
size, then copied into a fresh temporary folder; a zip archive has every
member checked *before* anything is extracted — no ``..`` or absolute paths,
no links, no more members, bytes or compression than a real shapefile needs —
and only the members a reader needs (shapefile parts, or one data file) are
written, each one counted again while it is written, since the sizes a zip
declares can lie. The folder is removed when the ``with`` block ends, on
error too. Every refusal is a `DataError` whose problems carry ``upload.*``
codes.
"""

from __future__ import annotations

import shutil
import sqlite3
import stat
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geo import settings
from geo.errors import DataError, Problem

# What the readers open, by suffix; a zip may carry a shapefile's parts or one of the data files.
DATA_SUFFIXES: tuple[str, ...] = (".gpkg", ".geojson", ".json", ".shp", ".csv", ".xlsx", ".osm", ".pbf")
SHAPEFILE_PARTS: tuple[str, ...] = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
UPLOAD_SUFFIXES: tuple[str, ...] = (*DATA_SUFFIXES, ".zip", *SHAPEFILE_PARTS[1:])

MAX_MEMBERS = 200  # a zipped shapefile has a handful of parts; an archive of thousands is not an upload
MAX_RATIO = 100  # uncompressed / compressed size of one member; real tables compress 5-20 times
RATIO_FLOOR_BYTES = 1 << 20  # below 1 MB a member's ratio does not matter
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    """Size limits of one upload: the file as sent, and what a zip may unpack to."""

    max_bytes: int
    max_unzipped_bytes: int
    max_ratio: float = MAX_RATIO
    max_members: int = MAX_MEMBERS

    @classmethod
    def from_settings(cls, max_mb: int | None = None) -> Limits:
        """``GRIDATLAS_MAX_UPLOAD_MB`` (read now); a zip may unpack to five times that."""
        mb = settings.max_upload_mb() if max_mb is None else max_mb
        return cls(max_bytes=mb * 1024 * 1024, max_unzipped_bytes=5 * mb * 1024 * 1024)


def _fail(layer: str, code: str, message: str, fix: str, **params) -> DataError:
    return DataError([Problem(layer, message, fix, code=code, params=params,
                              value=str(params.get("name") or params.get("member") or "") or None)])


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}"


def check_size(name: str, size: int, limits: Limits, *, layer: str) -> None:
    """Refuse a file over the upload limit (``upload.too_large``)."""
    if size > limits.max_bytes:
        raise _fail(layer, "upload.too_large", f"{name} is {_mb(size)} MB, over the limit of "
                    f"{_mb(limits.max_bytes)} MB", "split the file or ask the administrator to raise "
                    "GRIDATLAS_MAX_UPLOAD_MB", name=name, size_mb=_mb(size), limit_mb=_mb(limits.max_bytes))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def gpkg_layer_bytes(path: str | Path, table: str) -> int:
    """Bytes a GeoPackage gives to one layer: its table's pages, its indexes' and its R-tree's (SQLite's dbstat).

    What reading that layer reads — not the other layers beside it in the file. Where SQLite has no
    ``dbstat``, the sum of the lengths of the table's values (a little less than its pages).
    """
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as con:
        try:
            geom = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                               (table,)).fetchone()
        except sqlite3.OperationalError:  # not a GeoPackage's tables: the reader will say so
            geom = None
        rtree = f"rtree_{table}_{geom[0]}" if geom else None
        try:
            got = con.execute(
                "SELECT SUM(s.pgsize) FROM dbstat s JOIN sqlite_master m ON s.name = m.name "
                "WHERE m.tbl_name = ? OR m.tbl_name = ? OR m.tbl_name IN (? || '_node', ? || '_parent', ? || '_rowid')",
                (table, rtree, rtree, rtree, rtree)).fetchone()[0]
        except sqlite3.OperationalError:  # no dbstat in this SQLite
            cols = [row[1] for row in con.execute(f"PRAGMA table_info({_quoted(table)})")]
            lengths = " + ".join(f"COALESCE(LENGTH(CAST({_quoted(c)} AS BLOB)), 0)" for c in cols) or "0"
            got = con.execute(f"SELECT SUM({lengths}) FROM {_quoted(table)}").fetchone()[0]
    return int(got or 0)


def check_layer_size(name: str, sublayer: str, size: int, limits: Limits, *, layer: str) -> None:
    """Refuse one layer of a multi-layer file whose own bytes are over the limit (``upload.layer_too_large``)."""
    if size > limits.max_bytes:
        raise _fail(layer, "upload.layer_too_large", f"layer {sublayer} of {name} is {_mb(size)} MB, over the limit "
                    f"of {_mb(limits.max_bytes)} MB", "import the layer in parts, or ask the administrator to raise "
                    "GRIDATLAS_MAX_UPLOAD_MB", name=name, sublayer=sublayer, size_mb=_mb(size),
                    limit_mb=_mb(limits.max_bytes))


def _check_suffix(name: str, *, layer: str) -> None:
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise _fail(layer, "upload.unsupported_type", f"{name} is not a file GridAtlas reads",
                    "upload a GeoPackage, GeoJSON, zipped Shapefile, CSV or Excel (.xlsx) file",
                    name=name, allowed=", ".join(UPLOAD_SUFFIXES))


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _unsafe(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return name.startswith(("/", "\\")) or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def check_zip(zf: zipfile.ZipFile, limits: Limits, *, layer: str) -> list[zipfile.ZipInfo]:
    """Check every member before extracting anything; return the members worth extracting.

    Refused: paths with ``..`` or absolute (``upload.zip_unsafe_path``), links (``upload.zip_link``),
    too many members, a total over the limit or one member compressed more than ``max_ratio``
    times (``upload.zip_bomb``), no shapefile nor data file inside (``upload.no_shp``).
    """
    infos = zf.infolist()
    problems: list[Problem] = []
    for info in infos:
        if _unsafe(info.filename):
            problems.append(Problem(layer, f"the zip holds a path outside its folder: {info.filename}",
                                    "zip the files themselves, without folders above them",
                                    code="upload.zip_unsafe_path", params={"member": info.filename},
                                    value=info.filename))
        elif _is_link(info):
            problems.append(Problem(layer, f"the zip holds a link: {info.filename}", "zip the files, not links to them",
                                    code="upload.zip_link", params={"member": info.filename}, value=info.filename))
    if problems:
        raise DataError(problems)
    total = sum(i.file_size for i in infos)
    worst = max(infos, key=lambda i: i.file_size / max(i.compress_size, 1), default=None)
    ratio = worst.file_size / max(worst.compress_size, 1) if worst else 0.0
    if (len(infos) > limits.max_members or total > limits.max_unzipped_bytes
            or (worst is not None and worst.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_ratio)):
        raise _fail(layer, "upload.zip_bomb", f"the zip unpacks to {_mb(total)} MB in {len(infos)} files, compressed "
                    f"up to {ratio:.0f} times; at most {_mb(limits.max_unzipped_bytes)} MB, {limits.max_members} "
                    f"files and {limits.max_ratio:.0f} times are accepted", "zip only the layer's files",
                    size_mb=_mb(total), members=len(infos), ratio=f"{ratio:.0f}",
                    limit_mb=_mb(limits.max_unzipped_bytes), max_members=limits.max_members,
                    max_ratio=f"{limits.max_ratio:.0f}")
    wanted = [i for i in infos if not i.is_dir() and not PurePosixPath(i.filename).name.startswith(".")
              and "__MACOSX" not in PurePosixPath(i.filename).parts]
    shp = [i for i in wanted if i.filename.lower().endswith(".shp")]
    if shp:
        stems = {str(PurePosixPath(i.filename).with_suffix("")).lower() for i in shp}
        return [i for i in wanted if PurePosixPath(i.filename).suffix.lower() in SHAPEFILE_PARTS
                and str(PurePosixPath(i.filename).with_suffix("")).lower() in stems]
    data = [i for i in wanted if PurePosixPath(i.filename).suffix.lower() in DATA_SUFFIXES]
    if len(data) == 1:
        return data
    names = ", ".join(i.filename for i in wanted[:10]) or "—"
    raise _fail(layer, "upload.no_shp", f"the zip holds no shapefile (.shp with its .dbf and .shx): {names}",
                "zip the .shp, .shx, .dbf and .prj files of one layer together", members=names)


def _copy_limited(src, dst: Path, budget: int, *, layer: str, name: str) -> int:
    """Copy a stream into ``dst``, refusing it once it passes ``budget`` bytes; return bytes written."""
    written = 0
    with open(dst, "wb") as out:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            if written > budget:
                raise _fail(layer, "upload.zip_bomb", f"{name} unpacks to more than it declared",
                            "zip only the layer's files", size_mb=_mb(written), members=1, ratio="?",
                            limit_mb=_mb(budget), max_members=MAX_MEMBERS, max_ratio=f"{MAX_RATIO}")
            out.write(chunk)
    return written


def extract_zip(path: Path, dest: Path, limits: Limits, *, layer: str) -> list[Path]:
    """Check ``path`` (a zip) and extract the members a reader needs, flat, into ``dest``."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _fail(layer, "data.file_unreadable", f"{path.name} cannot be read ({exc})",
                    "save it as GeoPackage, GeoJSON, zipped Shapefile, CSV or Excel",
                    name=path.name, reason=str(exc)) from exc
    with zf:
        members = check_zip(zf, limits, layer=layer)
        budget = limits.max_unzipped_bytes
        out: list[Path] = []
        for info in members:
            target = dest / PurePosixPath(info.filename.replace("\\", "/")).name
            with zf.open(info) as src:
                budget -= _copy_limited(src, target, min(budget, info.file_size), layer=layer,
                                        name=info.filename)
            out.append(target)
    return out


def _main_file(files: Sequence[Path], *, layer: str) -> Path:
    shp = [f for f in files if f.suffix.lower() == ".shp"]
    if len(shp) > 1:
        names = ", ".join(sorted(f.name for f in shp))
        raise _fail(layer, "upload.several_layers", f"several shapefiles were given: {names}",
                    "upload one layer at a time", members=names)
    if shp:
        return shp[0]
    data = [f for f in files if f.suffix.lower() in DATA_SUFFIXES]
    if len(data) == 1:
        return data[0]
    if not data and any(f.suffix.lower() in SHAPEFILE_PARTS for f in files):
        raise _fail(layer, "upload.no_shp", "the shapefile's .shp part is missing",
                    "upload the .shp, .shx, .dbf and .prj files together (or zipped)",
                    members=", ".join(f.name for f in files))
    names = ", ".join(sorted(f.name for f in data))
    raise _fail(layer, "upload.several_layers", f"several data files were given: {names}",
                "upload one layer at a time", members=names)


@contextmanager
def staged(files: Sequence[tuple[str, bytes]], *, layer: str, limits: Limits | None = None) -> Iterator[Path]:
    """Write uploaded files (name, content) into a temporary folder; yield the one to read.

    A zip is checked and extracted; a shapefile may come as its loose parts. The folder and
    everything in it is removed when the block ends, whatever happens inside.
    """
    limits = limits or Limits.from_settings()
    if not files:
        raise _fail(layer, "upload.no_file", "no file was given", "choose a file to upload")
    for name, content in files:
        _check_suffix(name, layer=layer)
        check_size(name, len(content), limits, layer=layer)
    total = sum(len(c) for _, c in files)
    check_size(" + ".join(n for n, _ in files), total, limits, layer=layer)
    tmp = Path(tempfile.mkdtemp(prefix="gridatlas-upload-"))
    try:
        written: list[Path] = []
        for name, content in files:
            target = tmp / Path(name.replace("\\", "/")).name
            target.write_bytes(content)
            written.append(target)
        zips = [p for p in written if p.suffix.lower() == ".zip"]
        if zips:
            if len(written) > 1:
                raise _fail(layer, "upload.several_layers", "a zip was given with other files",
                            "upload the zip alone", members=", ".join(n for n, _ in files))
            unpacked = tmp / "unzipped"
            unpacked.mkdir()
            written = extract_zip(zips[0], unpacked, limits, layer=layer)
        yield _main_file(written, layer=layer)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def staged_path(path: str | Path, *, layer: str, limits: Limits | None = None) -> Iterator[Path]:
    """A file given by path (the CLI): size checked; a zip extracted as an upload would be.

    A GeoPackage is not checked whole here: a local file may hold many layers, and only the one read
    counts (`check_layer_size`, applied by the reader once it knows the layer). An upload was checked
    whole already (`staged`).
    """
    path = Path(path)
    limits = limits or Limits.from_settings()
    if not path.exists():
        raise _fail(layer, "data.file_missing", f"file {path} does not exist", "check the path", name=str(path))
    if path.suffix.lower() == ".shp":  # a loose shapefile: its parts are read where they are
        check_size(path.name, sum(p.stat().st_size for p in path.parent.glob(path.stem + ".*")), limits, layer=layer)
        yield path
        return
    if path.suffix.lower() != ".gpkg":
        check_size(path.name, path.stat().st_size, limits, layer=layer)
    if path.suffix.lower() != ".zip":
        yield path
        return
    tmp = Path(tempfile.mkdtemp(prefix="gridatlas-upload-"))
    try:
        yield _main_file(extract_zip(path, tmp, limits, layer=layer), layer=layer)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
