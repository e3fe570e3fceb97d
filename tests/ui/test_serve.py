"""`python -m ui.serve`: the warm-up loads the first page's code and the dataset, never the map component."""

import os
import subprocess
import sys

from tests.e2e.conftest import ROOT


def _run(code: str, home) -> str:
    env = {**os.environ, "GRIDATLAS_DATA": str(ROOT / "data" / "shifeng_demo.gpkg"), "PYTHONPATH": str(ROOT),
           "GRIDATLAS_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_warm_up_never_declares_the_map_component(tmp_path):
    # a component declared outside a script run is never served: every map would stay blank
    out = _run("from ui import serve; serve.warm(dataset=False); import sys; "
               "print(sorted(m for m in ('streamlit_folium', 'ui.overview', 'ui.sidebar', 'geopandas') "
               "if m in sys.modules))", tmp_path)
    assert out == "['geopandas', 'ui.overview', 'ui.sidebar']"


def test_the_warm_up_loads_the_dataset_the_pages_then_find_in_their_cache(tmp_path):
    out = _run("import sys\nfrom ui import serve; import geo.workspace as ws\n"
               "took = serve.warm()\n"
               "calls = []\n"
               "orig = ws.GpkgStore.load\n"
               "ws.GpkgStore.load = lambda self, *a, **k: calls.append(1) or orig(self, *a, **k)\n"
               "from ui.data import get_dataset\n"
               "ds = get_dataset()\n"
               "print(sorted(took), len(ds.grids), len(calls), 'streamlit_folium' in sys.modules)", tmp_path)
    # loaded by the warm-up, not again by the page; the page data prepared without declaring the map component
    assert out == "['dataset', 'imports', 'overview imports', 'page data'] 232 0 False"


def test_the_overviews_code_leaves_the_meeting_and_scipy_to_the_pages_that_use_them(tmp_path):
    """What the first visit imports (the sidebar, the section boundary, the overview): no meeting brief, scipy or
    matplotlib, which cost about 1 s of its first run on this machine (reports' modules name the brief's type
    only)."""
    out = _run("import sys\nimport ui.sidebar, ui.section, ui.overview, ui.layers, ui.maps, reports.content\n"
               "print(sorted(m for m in ('analysis.meeting', 'scipy', 'matplotlib') if m in sys.modules))", tmp_path)
    assert out == "[]"
