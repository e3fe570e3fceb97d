"""The overview's first run after a restart imports only what the overview draws.

A dataset whose stations carry no opening date (``opened_on``) gets one line under the overview's sparklines
saying what that column would add. That line's markdown escaping once came from the meeting page's module, so
the first visit of such a dataset after every restart imported the meeting, the reports and matplotlib: 1–2.7 s
on this machine before the overview's map was sent. Measured in a fresh interpreter, as a restarted server is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from geo.workspace import open_store
from tests.e2e.conftest import ROOT

SPEC = "shifeng_demo"
HEAVY = ("ui.meeting", "reports.maps", "reports.pptx", "matplotlib", "scipy", "analysis.meeting")

CHILD = """
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({app!r}, default_timeout=240)
at.run()
assert not at.exception, [e.value for e in at.exception]
captions = [c.value for c in at.caption]
print(json.dumps({{"captions": captions, "loaded": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


def _overview_in_a_fresh_process(home) -> dict:
    env = {**os.environ, "GRIDATLAS_HOME": str(home), "GRIDATLAS_DATA": SPEC}
    code = CHILD.format(app=str(ROOT / "app.py"), heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_overview_of_stations_without_opening_dates_reads_back_without_the_meeting_code(home):
    from analysis.needs import missing
    from i18n import t
    from reports.content import needs_line
    from ui.text import md

    store = open_store(SPEC)
    facilities = store.load().facilities.drop(columns=["opened_on"])
    store.import_layer("facilities", facilities, source="no_dates.gpkg")
    ds = store.load()
    m = missing(ds, "history.coverage")
    assert m is not None and m.column == "opened_on"

    first = _overview_in_a_fresh_process(home)  # builds and keeps the page data (its pictures need matplotlib)
    assert "matplotlib" in first["loaded"]  # the check below can see it: a first run draws the sparklines
    again = _overview_in_a_fresh_process(home)  # a restarted server: everything is read back
    assert again["loaded"] == []
    line = md(needs_line(m, "zh"))
    assert line in again["captions"] and line in first["captions"]
    assert t("loop.overview.caption", lang="zh") in again["captions"]
