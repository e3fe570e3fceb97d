"""Under CI nothing may skip: a skipped test or module is reported as a failure.

A CI run (``CI=true``, as CI services set it) must never pass with part of the suite silently left out: a missing
PostGIS server (``GRIDATLAS_TEST_PG``, which ``make test`` provides through scripts/pg.sh), a missing package
(``pytest.importorskip``), a ``skipif`` whose condition is true there — each is a failure that names the reason.
Outside CI a skip stays a skip (a developer without PostGIS can run the rest). An expected failure (``xfail``) is
not a skip and is left alone.

`tests/conftest.py` takes the two hooks from here; a test can load this module alone as a plugin
(``pytest -p tests.ci_guard``).
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """True when the environment says this is a CI run (``CI`` = true/1/yes, any case)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (file, line, "Skipped: why")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail_skip(report) -> None:
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where nothing may skip: {_reason(report)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test's setup, call or teardown that skipped (skip, skipif, importorskip in a fixture): failed under CI."""
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A module that skipped while being collected (``importorskip`` at its top): failed under CI."""
    outcome = yield
    _fail_skip(outcome.get_result())
