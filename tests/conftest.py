"""Shared test set-up: the project root on sys.path, so tests import geo/, analysis/, ui/ as the app does.

The workspace (GRIDATLAS_HOME) is a temporary folder for the whole run, so no test writes into the
checkout's ``workspace/``; the app servers the browser tests start inherit it.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_HOME = tempfile.mkdtemp(prefix="gridatlas-home-")
os.environ["GRIDATLAS_HOME"] = _HOME
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
