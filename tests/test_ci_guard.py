"""The CI guard (tests/ci_guard.py): under CI every kind of skip fails the run; outside CI a skip stays a skip."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SKIPPING = '''
import os
import pytest

PG = os.environ.get("NO_SUCH_SERVER_FOR_THIS_TEST")


@pytest.mark.skipif(not PG, reason="no PostGIS server")
def test_skipif():
    pass


def test_importorskip_in_the_body():
    pytest.importorskip("no_such_package_for_this_test")


@pytest.fixture
def needs_server():
    pytest.skip("no server in the fixture")


def test_skip_in_a_fixture(needs_server):
    pass


@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False


def test_runs():
    assert True
'''

SKIPPING_MODULE = '''
import pytest

pytest.importorskip("no_such_package_for_this_test")


def test_never_collected():
    pass
'''


def _pytest(folder: Path, *, ci: str | None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.ci_guard", "-p", "no:randomly", "-p", "no:cacheprovider",
         "-rA", "--rootdir", str(folder), str(folder)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def _summary(out: str) -> dict[str, int]:
    last = [line for line in out.splitlines() if re.search(r"\d+ (passed|failed|skipped|error)", line)][-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", last)}


def _folder(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"test_{name}.py").write_text(text, encoding="utf-8")
    return folder


def test_outside_ci_skips_stay_skips(tmp_path):
    code, out = _pytest(_folder(tmp_path, "skipping", SKIPPING), ci=None)
    assert code == 0, out
    assert _summary(out) == {"passed": 1, "skipped": 3, "xfailed": 1}, out
    code, out = _pytest(_folder(tmp_path, "module", SKIPPING_MODULE), ci=None)
    assert code == 5 and _summary(out) == {"skipped": 1}, out  # 5: pytest's "no test ran"


def test_under_ci_every_skip_fails_and_names_its_reason(tmp_path):
    code, out = _pytest(_folder(tmp_path, "skipping", SKIPPING), ci="true")
    assert code == 1, out
    # a skip at setup (skipif, a fixture) is an error of the test, in its body a failure; an xfail is no skip
    assert _summary(out) == {"failed": 1, "errors": 2, "passed": 1, "xfailed": 1}, out
    assert "ERROR test_skipping.py::test_skipif - skipped under CI, where nothing may skip: no PostGIS server" in out
    assert ("FAILED test_skipping.py::test_importorskip_in_the_body - skipped under CI, where nothing may skip: "
            "could not import 'no_such_package_for_this_test'") in out
    assert ("ERROR test_skipping.py::test_skip_in_a_fixture - skipped under CI, where nothing may skip: "
            "no server in the fixture") in out


def test_under_ci_a_module_that_skips_while_collected_stops_the_run(tmp_path):
    code, out = _pytest(_folder(tmp_path, "module", SKIPPING_MODULE), ci="true")
    assert code == 2, out  # a collection error: pytest runs nothing
    assert ("ERROR test_module.py - skipped under CI, where nothing may skip: "
            "could not import 'no_such_package_for_this_test'") in out


def test_ci_values_that_count(tmp_path):
    folder = _folder(tmp_path, "skipping", SKIPPING)
    for value in ("1", "YES", " True "):
        assert _pytest(folder, ci=value)[0] == 1, value
    for value in ("false", "0", ""):
        assert _pytest(folder, ci=value)[0] == 0, value
