"""Both storage backends for one test: the GeoPackage workspace and a real PostGIS (`make test` starts one).

Fixtures (made available to every test by ``tests/conftest.py``):

- ``backend``: ``"gpkg"`` or ``"postgis"``; a test (or fixture) that asks for it runs once per backend.
- ``store_url``: a new, empty dataset on that backend, as the spec `geo.storage.open_store` takes: a
  GeoPackage path in a workspace of the test's own, or a dataset of its own in the PostGIS test database.
- ``pg_url``: the same for the PostGIS-only tests.

The PostGIS runs need ``GRIDATLAS_TEST_PG`` (exported by ``scripts/pg.sh run -- …``, which ``make test``
uses for the whole pytest run). Without it they are skipped, except under CI (``CI=true``), where a missing
server is a failure: a CI run must never pass with half of the storage tests silently skipped.

Helpers that need to reach below the storage interface (damaging a version, failing a write) are here too,
one implementation per backend, so the tests themselves stay backend-neutral.
"""

from __future__ import annotations

import errno
import os
import sys
import uuid

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

PG = os.environ.get("GRIDATLAS_TEST_PG")  # tests may read the environment (geo.settings is for the app)
BACKENDS = ("gpkg", "postgis")


def require_pg() -> str:
    """The PostGIS test server's URL; skips the test without one, and fails it under CI."""
    if PG:
        return PG
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail("GRIDATLAS_TEST_PG is not set under CI: run the tests through `make test` "
                    "(scripts/pg.sh run -- …), which starts a PostGIS server for them", pytrace=False)
    pytest.skip("no PostGIS server: run through `make test` (scripts/pg.sh)")


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    if request.param == "postgis":
        require_pg()
    return request.param


def _pg_dataset_url() -> str:
    return f"{require_pg()}?dataset=t_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def store_url(backend, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GRIDATLAS_DATA", raising=False)
    if backend == "postgis":
        return _pg_dataset_url()
    return str(tmp_path / "store.gpkg")


@pytest.fixture
def pg_url() -> str:
    return _pg_dataset_url()


@pytest.fixture(scope="session", autouse=True)
def _close_pg_pools():
    yield
    if "geo.postgis" in sys.modules:
        sys.modules["geo.postgis"].close_pools()


# --- reaching below the interface, per backend -------------------------------------------------------------------

def tamper(store, version: int) -> None:
    """Change a stored version behind the store's back (a damaged file, a table edited by hand)."""
    if getattr(store, "kind", "") == "postgis":
        vid, _, schema, _ = store._version(version)
        with store._conn() as con:
            con.execute(f'DELETE FROM "{schema}".facilities WHERE fid = (SELECT min(fid) FROM "{schema}".facilities)')
        return
    path = store.history / f"v{version:04d}" / "layers" / "facilities.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def fail_writes_with_full_disk(store, monkeypatch) -> None:
    """Make the store's next writes of layer data fail as on a full disk (undo with ``monkeypatch.undo()``)."""
    if getattr(store, "kind", "") == "postgis":
        import psycopg.errors

        from geo import postgis

        def full(*args, **kwargs):
            raise psycopg.errors.DiskFull("could not extend file: No space left on device")

        monkeypatch.setattr(postgis, "_copy_frame", full)
        return

    from geo import workspace

    def full_parquet(table, path, *args, **kwargs):
        with open(path, "wb") as fh:  # a part of the file lands, then the disk is full
            fh.write(b"PAR1" + b"\0" * 100)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(workspace, "_write_layer", full_parquet)  # every layer file of a version goes through it


# --- a small dataset, validated as an import would be ------------------------------------------------------------

def small_grids(elderly=(5, 11, 7)) -> gpd.GeoDataFrame:
    from geo.schema import validate_layer

    n = len(elderly)
    return validate_layer(gpd.GeoDataFrame(
        {"grid_id": [f"G{i + 1}" for i in range(n)], "street": ["田心"] * n, "community": ["东门"] * n,
         "households": [10] * n, "population": [30] * n, "elderly": list(elderly)},
        geometry=[box(113.10 + 0.01 * i, 27.80, 113.11 + 0.01 * i, 27.81) for i in range(n)], crs=4326), "grids")


def small_facilities(ids=("F1", "F2"), names=("东门日照中心", "北岭站")) -> gpd.GeoDataFrame:
    from geo.schema import validate_layer

    return validate_layer(gpd.GeoDataFrame(
        {"facility_id": list(ids), "name": list(names), "type": ["day_care"] * len(ids)},
        geometry=[Point(113.105 + 0.01 * i, 27.805) for i in range(len(ids))], crs=4326), "facilities")


def small_dataset():
    from geo.dataset import Dataset

    return Dataset(grids=small_grids(), facilities=small_facilities(), name="测试区", meta=(("as_of", "2019-06-30"),))


# --- a dataset as real exports write it (issue 18): mixed timestamp precision, numeric ids, full-width names ------

REAL_CASE_ROWS = (  # 事件编号, 上报时间, 办结时限 (dates only), 办结时间, 网格编号 (empty: assigned at import), 问题描述
    ("0000120", "2023-08-12 14:30:39", "2023-08-19", "2023-08-13 09:00:00.250", "007301", "路灯不亮（东门　3栋）、已报修"),
    ("0000121", "2025-06-15 07:42:30.831", "2025-06-22", "2025-06-16 18:05:00", "", "占道经营 (早市)"),
    ("0000122", "2024-02-29", "2024-03-07", "2024-03-01T08:15:30.5", "007301", "井盖缺失【急】"),
    ("0000123", "2024-11-03T21:07:45.120", "2024-11-10", "2024-11-04 10:00:00+08:00", "", "油烟扰民　二楼"),
    ("0000124", "2024-12-31 23:59:59.999", "2025-01-07", "2025-01-01T00:00:01Z", "", "邻里纠纷：噪音"),
)
REAL_CASE_ORDERS = {  # row orders of the same export: which precision a parser meets first must not matter
    "fractionless_first": (0, 1, 2, 3, 4),
    "fraction_first": (1, 0, 4, 3, 2),
    "date_only_first": (2, 4, 1, 0, 3),
    "zoned_first": (3, 2, 0, 4, 1),
    "reversed": (4, 3, 2, 1, 0),
}


def real_export_layers(order=(0, 1, 2, 3, 4)) -> dict[str, gpd.GeoDataFrame]:
    """The raw layers of a district's first export, as readers hand them to validation: Chinese headers,
    one grid whose id is text with leading zeros, facility ids read as int64 (Excel), candidate ids read as
    float64, cases with mixed timestamp precision in the given row order and no open case, full-width names,
    an estates layer with its columns and no row."""
    import pandas as pd

    grids = gpd.GeoDataFrame(
        {"网格编号": ["007301"], "街道": ["田心街道"], "社区": ["东门（一）社区"], "户数": [420], "人口": [1130],
         "老年人口": [260], "网格名称": ["东门　第一网格 (A区)"], "网格员": ["欧阳 小红"]},
        geometry=[box(113.10, 27.80, 113.12, 27.82)], crs=4326)
    facilities = gpd.GeoDataFrame(
        {"设施编号": pd.array([3, 41], dtype="int64"), "名称": ["东门日间照料中心（二号楼）", "北岭 老年食堂、助餐点　(试运营)"],
         "类型": ["日间照料中心", "老年食堂"]},
        geometry=[Point(113.105, 27.805), Point(113.115, 27.815)], crs=4326)
    candidates = gpd.GeoDataFrame(
        {"站点编号": [1.0, 20.0], "站点名称": ["党群服务中心［一楼］", "原 粮站（东）"]},
        geometry=[Point(113.106, 27.806), Point(113.111, 27.811)], crs=4326)
    estates = gpd.GeoDataFrame(
        {"小区编号": pd.Series([], dtype="int64"), "小区名称": pd.Series([], dtype=object),
         "户数": pd.Series([], dtype="int64"), "管理方式": pd.Series([], dtype=object),
         "业委会成立日期": pd.Series([], dtype=object)}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    rows = [REAL_CASE_ROWS[i] for i in order]
    cases = gpd.GeoDataFrame(
        {"事件编号": [r[0] for r in rows], "事件类别": ["路灯"] * len(rows), "上报时间": [r[1] for r in rows],
         "状态": ["已办结"] * len(rows), "办结时限": [r[2] for r in rows], "办结时间": [r[3] for r in rows],
         "网格编号": [r[4] for r in rows], "责任单位": ["田心街道 城管中队（二）"] * len(rows),
         "问题描述": [r[5] for r in rows]},
        geometry=[Point(113.101 + 0.004 * int(r[0][-1]), 27.803) for r in rows], crs=4326)
    return {"grids": grids, "facilities": facilities, "candidates": candidates, "estates": estates, "cases": cases}


def real_export_dataset(order=(0, 1, 2, 3, 4)):
    """`real_export_layers` validated as an import validates them, as one dataset."""
    from geo.dataset import Dataset
    from geo.schema import validate_layer

    layers = {name: validate_layer(raw, name) for name, raw in real_export_layers(order).items()}
    return Dataset(**layers, name="田心街道（试点）", meta=(("as_of", "2025-06-30"),))


# --- a small city: two districts, every layer, cases whose state at a day is known by hand ------------------------

CITY_AS_OF = "2024-03-10"
# grid -> (district, street); grid i is the box 113.10 + 0.01 i .. + 0.01, 27.80 .. 27.81
CITY_GRIDS = {"G1": ("东区", "甲街"), "G2": ("东区", "甲街"), "G3": ("东区", "乙街"),
              "G4": ("西区", "丙街"), "G5": ("西区", "丙街"), "G6": ("西区", "丁街")}
# case_id, grid it lies in (None: outside every grid), reported_at, status, deadline, closed_at, category, unit
CITY_CASES = (
    ("C1", "G1", "2024-03-01 08:00", "open", "2024-03-05", None, "路灯", "城管"),  # open, overdue
    ("C2", "G1", "2024-03-04 09:00", "closed", "2024-03-05", "2024-03-06 10:00", "油烟", "城管"),  # closed late
    ("C3", "G2", "2024-03-05 10:00", "closed", "2024-03-08", "2024-03-12 10:00", "路灯", "街道"),  # closed after as_of
    ("C4", "G3", "2024-03-09 11:00", "open", None, None, "油烟", None),  # open, no deadline: never overdue
    ("C5", "G4", "2024-03-11 12:00", "open", "2024-03-12", None, "路灯", "城管"),  # reported after as_of
    ("C6", "G5", "2024-02-26 13:00", "closed", None, None, "路灯", "街道"),  # closed, no closing time
    ("C7", "G6", "2024-03-10 23:00", "open", "2024-03-10 12:00", None, "油烟", "街道"),  # overdue on the day
    ("C8", None, "2024-03-02 14:00", "open", "2024-03-03", None, "路灯", "城管"),  # outside every grid
    ("C9", "G4", "2024-03-03 15:00", "open", "2024-03-11", None, "路灯", None),  # deadline after as_of
)


def _grid_box(grid_id: str):
    i = int(grid_id[1:]) - 1
    return box(113.10 + 0.01 * i, 27.80, 113.11 + 0.01 * i, 27.81)


def _inside(grid_id: str | None, dx: float = 0.004) -> Point:
    if grid_id is None:
        return Point(113.05, 27.75)
    i = int(grid_id[1:]) - 1
    return Point(113.10 + 0.01 * i + dx, 27.805)


def small_city(*, as_of: str | None = CITY_AS_OF):
    """Six grids in two districts (东区: G1-G3, 西区: G4-G6) with facilities, estates, candidates and `CITY_CASES`."""
    import pandas as pd

    from geo.dataset import Dataset
    from geo.schema import validate_layer

    ids = list(CITY_GRIDS)
    grids = validate_layer(gpd.GeoDataFrame(
        {"grid_id": ids, "district": [CITY_GRIDS[g][0] for g in ids], "street": [CITY_GRIDS[g][1] for g in ids],
         "community": ["一社区"] * 6, "households": [100] * 6, "population": [300] * 6,
         "elderly": [40, 60, 20, 50, 30, 10]}, geometry=[_grid_box(g) for g in ids], crs=4326), "grids")
    facilities = validate_layer(gpd.GeoDataFrame(
        {"facility_id": ["F1", "F2", "F3"], "name": ["东一站", "西二站", "东三站"], "type": ["day_care"] * 3},
        geometry=[_inside("G1"), _inside("G5"), _inside("G2")], crs=4326), "facilities")
    estates = validate_layer(gpd.GeoDataFrame(
        {"estate_id": ["E1", "E2"], "name": ["西苑", "东苑"], "households": [80, 60],
         "management": ["unmanaged", "property_company"]},
        geometry=[_inside("G4").buffer(0.001), _inside("G3").buffer(0.001)], crs=4326), "estates")
    candidates = validate_layer(gpd.GeoDataFrame(
        {"site_id": ["S1", "S2", "S3"], "name": ["东候选", "西候选", "东候选二"]},
        geometry=[_inside("G3", 0.002), _inside("G6"), _inside("G1", 0.008)], crs=4326), "candidates")
    cases = validate_layer(gpd.GeoDataFrame(
        {"case_id": [c[0] for c in CITY_CASES], "grid_id": pd.Series([c[1] for c in CITY_CASES], dtype=object),
         "category": [c[6] for c in CITY_CASES],
         "reported_at": [c[2] for c in CITY_CASES], "status": [c[3] for c in CITY_CASES],
         "deadline": pd.Series([c[4] for c in CITY_CASES], dtype=object),
         "closed_at": pd.Series([c[5] for c in CITY_CASES], dtype=object),
         "responsible_unit": pd.Series([c[7] for c in CITY_CASES], dtype=object)},
        geometry=[_inside(c[1], 0.005) for c in CITY_CASES], crs=4326), "cases")
    meta = (("as_of", as_of),) if as_of else ()
    return Dataset(grids=grids, facilities=facilities, estates=estates, candidates=candidates, cases=cases,
                   name="小城", meta=meta)
