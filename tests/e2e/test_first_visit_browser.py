"""The first visit after a server start draws the overview, whose page data and map the server's warm-up prepared
(`ui.serve`, the map's component registered with the server by the warm-up itself), and after a restart it is drawn
from what is kept beside the version: nothing is built again."""

from __future__ import annotations

from bench.server import start_server
from geo.workspace import open_store
from tests.e2e.conftest import assert_no_exception, stop_app, wait_for_app, wait_for_map_count

SPEC = "shifeng_demo"


def _visit(page, home) -> tuple[str, str]:
    """Start a server on the workspace ``home``, open the overview, wait for every grid; its first figure and log."""
    server = start_server(SPEC, env_extra={"GRIDATLAS_STRICT": "1", "GRIDATLAS_HOME": str(home)},
                          log_dir=home.parent, timeout_s=90)
    try:
        page.goto(f"{server.url}/")
        wait_for_map_count(page, "path.ga-grid", 232, timeout_ms=120_000)
        wait_for_app(page, timeout_ms=120_000)
        assert_no_exception(page)
        page.locator('[data-testid="stImage"]').first.wait_for(timeout=60_000)  # the sparklines
        figure = page.locator('[data-testid="stMetric"]').first.inner_text()
    finally:
        stop_app(server.proc)
    return figure, server.log.read_text()


def test_the_first_visit_after_a_restart_draws_the_overview_from_the_kept_page_data(offline_page, tmp_path,
                                                                                      monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("GRIDATLAS_HOME", str(home))
    store = open_store(SPEC)  # the workspace with the demo, as version 1
    assert store.derived().names() == []

    first, log = _visit(offline_page, home)
    assert "232" in first  # 网格数
    assert "warm-up done:" in log and "page data" in log
    # the warm-up had the map's component registered and rendered the map before the visit asked for it
    assert "page data ready: figures:, trend:, streets, map:, trend_png:" in log
    kept = {p.name: p.stat().st_mtime_ns for p in store.derived().folder.glob("*.pkl")}
    assert any(n.startswith("overview_figures.v1.") for n in kept)
    assert any(n.startswith("overview_trend_png.v1.") for n in kept)
    assert any(n.startswith("overview_map.v1.") for n in kept)

    again, log = _visit(offline_page, home)  # the server restarted: the same page, read back
    assert again == first and "page data" in log
    assert {p.name: p.stat().st_mtime_ns for p in store.derived().folder.glob("*.pkl")} == kept
    assert not offline_page.traffic.blocked
