"""Datasets: ``validate`` a layer file, build a ``demo``, ``import`` a layer as a new version, list ``versions``,
``restore`` one."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from analysis import pagedata
from commands._common import EXIT_OK, add_data_arg, audit, check_seed, print_json, whole_dataset_store
from commands._progress import end_line, finish, terminal_progress
from geo import derive
from geo.crs import COORD_SYSTEMS
from geo.errors import AnalysisError, GridAtlasError
from geo.osm import extent_of, is_osm
from geo.readers import read_layer
from geo.ref import DatasetRef
from geo.schema import LAYER_NAMES
from geo.storage import IMPORT_MODES
from i18n import problem_text, t


def _keep_strip(store) -> list[str]:
    """The overview's sparklines picture in the default language (`reports.loop.keep_strip`: matplotlib, imported
    only by the commands that make a version)."""
    from i18n import DEFAULT_LANG
    from reports.loop import keep_strip

    return keep_strip(store, DEFAULT_LANG)


# --- validate -------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    read = read_layer(args.file, args.layer, coord_sys=args.coord_sys, epsg=args.epsg, sublayer=args.sheet)
    for problem in read.warnings:
        print(f"warning: {problem_text(problem, lang=args.lang)}", file=sys.stderr)
    gdf = read.gdf
    minx, miny, maxx, maxy = (float(v) for v in gdf.total_bounds)
    print_json({"layer": args.layer, "file": str(args.file), "rows": len(gdf), "coord_sys": args.coord_sys,
                "format": read.source.format, "encoding": read.source.encoding, "sublayer": read.source.sublayer,
                "crs": read.crs_used, "columns": [c for c in gdf.columns if c != "geometry"],
                "headers": {k: v for k, v in read.columns.items() if v}, "warnings": len(read.warnings),
                "bounds_wgs84": [round(v, 6) for v in (minx, miny, maxx, maxy)]})
    return EXIT_OK


def add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check one layer file (GeoPackage, GeoJSON, Shapefile or .zip, CSV, XLSX) "
                                        "and report every problem")
    p.add_argument("--layer", required=True, choices=LAYER_NAMES)
    p.add_argument("--coord-sys", default="wgs84", choices=COORD_SYSTEMS,
                   help="datum of plain lon/lat values (gcj02: Amap/Tencent, bd09: Baidu)")
    p.add_argument("--epsg", type=int, default=None,
                   help="coordinate system of coordinates the file does not describe (or overriding its own): "
                        "4326 WGS84, 4490 CGCS2000, 4547 CGCS2000 Gauss-Kruger 114E, any EPSG code")
    p.add_argument("--sheet", default=None, help="GeoPackage layer or Excel sheet to read (default: the layer's "
                                                 "own name, else the first)")
    p.add_argument("file")
    p.set_defaults(func=_cmd_validate)


# --- demo -----------------------------------------------------------------


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.cases is not None and args.cases < 1:
        raise AnalysisError(f"--cases was {args.cases} but must be at least 1", code="analysis.not_whole",
                            params={"name": "--cases", "value": str(args.cases), "min": 1})
    check_seed(args.seed)
    if args.scale == "wuhan":
        from geo import demo_city

        districts = tuple(d.strip() for d in args.districts.split(",") if d.strip()) if args.districts else None
        summary = demo_city.build_and_write(args.out, seed=args.seed, n_cases=args.cases, n_grids=args.grids,
                                            districts=districts, log=lambda m: print(m, file=sys.stderr))
        ref = DatasetRef.parse(args.out)
        from geo.storage import open_store

        store = open_store(ref)  # a GeoPackage is taken in as a version here, as its first open would
        if ref.is_postgis:  # a new version of a stored dataset: in the audit log, as any import
            audit("import", target=store.name,
                  detail=f"demo --scale wuhan --seed {args.seed}; version {summary['version']}")
        prepare_city(store)
        print_json(summary)
        return EXIT_OK
    if DatasetRef.parse(args.out).is_postgis:
        raise AnalysisError("--scale shifeng and wuchang write a GeoPackage; give --out a .gpkg path",
                            code="analysis.needs_geopackage", params={"name": "--out"})
    from geo.demo import build_and_write

    print_json(build_and_write(args.scale, args.out, seed=args.seed, n_cases=args.cases))
    return EXIT_OK


def add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="build a synthetic dataset (deterministic from --seed) into a GeoPackage "
                                    "(or, for wuhan, a postgresql:// database)")
    p.add_argument("--scale", required=True, choices=("shifeng", "wuchang", "wuhan"),
                   help="shifeng: the bundled demo (232 grids); wuchang: the large one (1,811 grids, 1 M cases); "
                        "wuhan: the city's 13 districts (~20,000 grids, ~13 M residents, 10 M cases in 2025)")
    p.add_argument("--seed", type=int, default=2019, help="random seed (default 2019, the bundled demo's)")
    p.add_argument("--cases", type=int, default=None, help="number of cases instead of the scale's own")
    p.add_argument("--grids", type=int, default=None, help="wuhan only: grids in the whole city (default 20,000)")
    p.add_argument("--districts", default=None,
                   help="wuhan only: build only these districts, separated by commas (e.g. 江汉区,青山区)")
    p.add_argument("--out", required=True,
                   help="GeoPackage to write (replaced atomically); for wuhan also a postgresql:// URL "
                        "(imported as a new version of that database's dataset)")
    p.set_defaults(func=_cmd_demo)


# --- import / versions / restore ---------------------------------------------

def prepare_city(store) -> bool:
    """A city's overview, derived as the new version's last step (`analysis.districts.city_overview_of`), so the
    whole city's first visit reads no grid or case layer; False (nothing done) for a district dataset, or when
    the overview cannot be made (its page then says why, as it would without this step)."""
    if len(store.district_names()) < 2:
        return False
    from analysis.districts import city_overview_of

    try:
        city_overview_of(store)
    except GridAtlasError:
        return False
    return True


def _cmd_import(args: argparse.Namespace) -> int:
    store = whole_dataset_store(args, "import")  # a bad name is refused before the file is read
    # an OpenStreetMap extract: its walkable ways within the dataset's grids' bounds plus geo.osm.MARGIN_M
    extent = extent_of(store.load().grids) if is_osm(args.file) else None
    progress = terminal_progress(args.lang)  # a bar on a terminal's stderr; nothing in scripts
    try:
        read = read_layer(args.file, args.layer, coord_sys=args.coord_sys, epsg=args.epsg, sublayer=args.sheet,
                          extent=extent, progress=progress)
        info = store.import_layer(args.layer, read.gdf, mode=args.mode, source=Path(args.file).name,
                                  user=args.user, progress=progress)
    except BaseException:
        end_line(progress)
        raise
    read = dataclasses.replace(read, gdf=None)  # the rows are stored: let them go before what follows reads them
    prepare_city(store)
    page_data = pagedata.prepare_store(store, progress)  # the overview's data, so its first visit waits for none
    page_data += _keep_strip(store)  # and its sparklines' picture
    finish(progress, args.lang)
    for problem in read.warnings:
        print(f"warning: {problem_text(problem, lang=args.lang)}", file=sys.stderr)
    derived = derive.import_warnings(store, args.layer)  # e.g. estates outside every grid (geo/derive.py)
    for problem in derived:
        print(f"warning: {problem_text(problem, lang=args.lang)}", file=sys.stderr)
    audit("import", target=f"{store.name}/{args.layer}", user=args.user,
          detail=f"{Path(args.file).name}; {args.mode}; version {info.id}; +{info.rows_added} ~{info.rows_changed} "
                 f"-{info.rows_removed}")
    print_json({"command": "import", "data": store.spec, "location": store.location, "file": str(args.file),
                "format": read.source.format, "encoding": read.source.encoding, "crs": read.crs_used,
                "warnings": len(read.warnings) + len(derived), "version": info.as_dict(), "page_data": page_data})
    return EXIT_OK


def add_import(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="validate one layer file and store it as a new version of the dataset "
                                      "(nothing changes when the file has a problem)")
    add_data_arg(p)
    p.add_argument("--layer", required=True, choices=LAYER_NAMES)
    p.add_argument("--mode", default="replace", choices=IMPORT_MODES,
                   help="replace the layer whole (default) or upsert: replace rows whose id exists, add new ids")
    p.add_argument("--coord-sys", default="wgs84", choices=COORD_SYSTEMS,
                   help="datum of plain lon/lat values (gcj02: Amap/Tencent, bd09: Baidu)")
    p.add_argument("--epsg", type=int, default=None, help="coordinate system of coordinates the file does not "
                                                          "describe (4490 CGCS2000, 4547 Gauss-Kruger 114E, ...)")
    p.add_argument("--sheet", default=None, help="GeoPackage layer or Excel sheet to read")
    p.add_argument("--user", default=None, help="who imports (recorded with the version)")
    p.add_argument("file", help="the layer's file; for --layer roads also an OpenStreetMap extract (.osm, .osm.pbf): "
                                "its walkable ways within the dataset's grids plus 1 km")
    p.set_defaults(func=_cmd_import)


def _cmd_versions(args: argparse.Namespace) -> int:
    store = whole_dataset_store(args, "versions")
    versions = store.versions()
    print_json({"command": "versions", "data": store.spec, "location": store.location,
                "current": store.current().id, "versions": [v.as_dict() for v in versions],
                "gpkg": _gpkg_state(store, retry=args.retry_gpkg, lang=args.lang)})
    return EXIT_OK


def _gpkg_state(store, *, retry: bool, lang: str) -> dict | None:
    """The GeoPackage workspace's plain copy (written after a large version's commit): still being written,
    the last failed write (with one line on stderr), and whether ``--retry-gpkg`` started a writer. None on
    PostGIS, which has no such copy."""
    if not hasattr(store, "gpkg_failure"):
        return None
    failure = store.gpkg_failure()
    retrying = bool(retry) and store.retry_gpkg()
    if failure is not None:
        killed = failure.code == "storage.gpkg_writer_killed"
        reason = t("err.storage.gpkg_writer_killed", lang=lang) if killed else failure.reason
        print(t("writer.cli_failed", lang=lang, version=failure.version, path=store.location,
                when=failure.failed_at[:19].replace("T", " "), reason=reason), file=sys.stderr)
    if retrying:
        print(t("writer.cli_retrying", lang=lang, version=store.current().id, path=store.location), file=sys.stderr)
    return {"pending": store.gpkg_pending(), "failed": None if failure is None else failure.as_dict(),
            "retrying": retrying}


def add_versions(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("versions", help="list the dataset's versions (oldest first) and the current one")
    add_data_arg(p)
    p.add_argument("--retry-gpkg", action="store_true",
                   help="write the current version's plain GeoPackage again in the background after a failed write")
    p.set_defaults(func=_cmd_versions)


def _cmd_restore(args: argparse.Namespace) -> int:
    store = whole_dataset_store(args, "restore")
    info = store.restore(args.version, user=args.user)
    prepare_city(store)
    page_data = pagedata.prepare_store(store)
    page_data += _keep_strip(store)
    audit("restore", target=f"{store.name}/{args.version}", detail=f"new version {info.id}", user=args.user)
    print_json({"command": "restore", "data": store.spec, "location": store.location, "version": info.as_dict(),
                "page_data": page_data})
    return EXIT_OK


def add_restore(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("restore", help="make an earlier version current again (written as a new version)")
    add_data_arg(p)
    p.add_argument("--version", type=int, required=True, help="the version number to restore (see `versions`)")
    p.add_argument("--user", default=None, help="who restores (recorded with the version)")
    p.set_defaults(func=_cmd_restore)
