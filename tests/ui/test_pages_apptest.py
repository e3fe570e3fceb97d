"""Every page runs to the end without an exception (Streamlit's AppTest, no browser)."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.e2e.conftest import ROOT

APP = str(ROOT / "app.py")


def _pages() -> list[str]:
    import ast

    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "PAGES":
            return [elt.elts[0].value for elt in node.value.elts]
    raise AssertionError("app.py has no PAGES list")


@pytest.mark.parametrize("page", _pages())
def test_page_runs_without_exception(page):
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    if page != _pages()[0]:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.title) >= 1
    if page == "pages/coverage.py":  # the street chart (Vega-Lite), its one chart
        assert len(at.get("vega_lite_chart")) == 1 and not at.get("plotly_chart")


def test_overview_figures_in_both_languages():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    labels = {m.label: m.value for m in at.metric}
    assert labels["网格"] == "232"
    assert labels["60岁以上"] == "45,200"
    at.radio(key="lang").set_value("en").run()
    labels = {m.label: m.value for m in at.metric}
    assert labels["Grids"] == "232"
    assert labels["Unmanaged estates"] == "182"
