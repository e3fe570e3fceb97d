"""Shared test set-up: the project root on sys.path, so tests import geo/, analysis/, ui/ as the app does.

Tests never read or write the developer's workspace (its users would close the
app to the tests): each run gets an empty one unless GRIDATLAS_HOME is set, and
the servers the browser tests start inherit it.
"""

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# a page section that fails raises under the tests (ui.section), so no failure hides behind its message
os.environ["GRIDATLAS_STRICT"] = "1"

if not os.environ.get("GRIDATLAS_HOME"):
    os.environ["GRIDATLAS_HOME"] = tempfile.mkdtemp(prefix="gridatlas-test-home-")

# Under CI (CI=true) nothing may skip: a skipped test or module is a failure (tests/ci_guard.py).
from tests.ci_guard import pytest_make_collect_report, pytest_runtest_makereport  # noqa: E402, F401

# Both storage backends (GeoPackage, PostGIS) for the storage and analysis tests: `backend`, `store_url`, `pg_url`.
from tests.storefixtures import _close_pg_pools, backend, pg_url, store_url  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _store_reads_fresh():
    """Each test starts with nothing kept by `ui.data.briefly` (what a server keeps of the store's token and dataset
    list for a second or two): a test's own imports are then seen as they would be by a fresh server."""
    data = sys.modules.get("ui.data")  # only once a test has imported it (geo/ and analysis/ tests never do)
    if data is not None:
        data.version_committed()


_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _real_main_module():
    """After each test, ``__main__`` is pytest's again. Streamlit's script runner (AppTest) installs the page's script
    as ``sys.modules["__main__"]`` and leaves it there; a process started later by ``spawn`` (a Dask worker of
    tests/analysis/test_distributed.py) would re-run that script (for `AppTest.from_function`, a temporary file
    already deleted) and fail to start."""
    yield
    sys.modules["__main__"] = _MAIN


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh, empty workspace of this test's own (GRIDATLAS_HOME), and no dataset configured (GRIDATLAS_DATA).

    Tests that need users in it, or the workspace at ``tmp_path`` itself, define a ``home`` of their own."""
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GRIDATLAS_DATA", raising=False)
    return tmp_path / "home"
