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

    def full_parquet(self, path, *args, **kwargs):
        with open(path, "wb") as fh:  # a part of the file lands, then the disk is full
            fh.write(b"PAR1" + b"\0" * 100)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(gpd.GeoDataFrame, "to_parquet", full_parquet)


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
