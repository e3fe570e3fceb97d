"""Every page in a real browser on three partial datasets, as districts bring them on their first day.

- ``required``: every layer with its required columns only (estates as points: no street, stage or dates; cases
  without deadline, closing time, unit or grid);
- ``numeric``: the same with numeric ids (written as integers, as a spreadsheet exports them);
- ``street``: required columns of one street only.

Each page must render with no exception and no error box, never show Streamlit's English "empty", and say in one
line what a missing column would add where a section needs it. Screenshots go to tests/e2e/screens/partial_*.png.
"""

from __future__ import annotations

import pytest

from geo.dataset import write_dataset
from i18n import TABLE
from tests.e2e.conftest import assert_no_exception, map_frame, screenshot, start_app, stop_app, wait_for_app
from tests.partial_draws import fixed_partial

pytestmark = pytest.mark.e2e


def _pages() -> list[tuple[str, str]]:
    """(script, url path) of every page, read from app.py's PAGES without running the app."""
    import ast

    from tests.e2e.conftest import ROOT

    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "PAGES":
            return [(elt.elts[0].value, elt.elts[3].value) for elt in node.value.elts]
    raise AssertionError("app.py has no PAGES list")


PAGES = _pages()
MAPS = {"overview": 1, "coverage": 1, "cases": 1, "estates": 1}  # maps each page draws on these datasets

SHAPES = {
    "required": {},
    "numeric": {"numeric_ids": True},
    "street": {"one_street": True},
}


@pytest.fixture(scope="module", params=list(SHAPES))
def partial_app(request, tmp_path_factory):
    path = tmp_path_factory.mktemp(f"partial-{request.param}") / f"{request.param}.gpkg"
    write_dataset(fixed_partial(**SHAPES[request.param]), path)
    proc, url = start_app(str(path))
    yield request.param, url
    stop_app(proc)


def _needs_texts() -> list[str]:
    """The Chinese text before the first placeholder of every "needs" note (the string table's ``needs.*``)."""
    return [zh.split("{")[0] for key, (zh, _en) in TABLE.items() if key.startswith("needs.") and zh.split("{")[0]]


@pytest.mark.parametrize("url_path", [p[1] for p in PAGES])
def test_page_renders_on_partial_data(partial_app, offline_page, url_path):
    shape, url = partial_app
    page = offline_page
    page.goto(f"{url}/{url_path}")
    wait_for_app(page, timeout_ms=120_000)
    page.wait_for_timeout(1500)
    wait_for_app(page, timeout_ms=120_000)
    for i in range(MAPS.get(url_path, 0)):  # the page's maps draw their layers: no blank map
        map_frame(page, index=i, timeout_ms=120_000).wait_for_selector(".leaflet-interactive", timeout=120_000)
    if url_path in ("estates", "meeting") and shape != "street":
        # estates without stage or dates: the section that needs them says so in one line
        page.wait_for_function("texts => texts.some(t => document.body.innerText.includes(t))",
                               arg=_needs_texts(), timeout=60_000)
    screenshot(page, f"partial_{shape}_{url_path}")
    assert_no_exception(page)
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.first.inner_text()
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "empty" not in main.lower().split(), f"Streamlit's 'empty' on {url_path}"
    assert not page.js_errors, page.js_errors
    assert not page.traffic.blocked, page.traffic.blocked
