"""The overview's light map in a real browser: every grid drawn in its colour, estates brought by the toggle,
and the browser's decoder (ui/js/ga_geo.js, in every map's script) giving what the Python one gives."""

import json
from collections import Counter

import pytest

from geo.dataset import DEMO_PATH, read_dataset
from tests.e2e.conftest import assert_no_exception, wait_for_app, wait_for_map_count
from tests.ui.test_mapcodec import _grid_fixture
from tests.ui.test_maps_light import _expected_fills

pytestmark = pytest.mark.e2e


def test_overview_draws_every_grid_in_its_colour_and_the_toggle_brings_the_estates(app_url, offline_page):
    page = offline_page
    ds = read_dataset(DEMO_PATH)
    page.goto(f"{app_url}/")
    wait_for_app(page)
    frame = wait_for_map_count(page, "path.ga-grid", len(ds.grids))
    fills = frame.eval_on_selector_all("path.ga-grid", "els => els.map(e => e.getAttribute('fill'))")
    assert Counter(fills) == Counter(_expected_fills(ds.grids, ds.metric_crs))
    assert frame.locator("path.ga-street").count() == len(ds.streets)
    assert frame.locator("path.ga-facility").count() == len(ds.facilities)
    assert frame.locator("path.ga-estate").count() == 0  # not sent, not drawn
    page.get_by_text("显示小区图层").click()
    wait_for_app(page)
    frame = wait_for_map_count(page, "path.ga-estate", len(ds.estates))
    assert frame.locator("path.ga-grid").count() == len(ds.grids)
    by_management = Counter(frame.eval_on_selector_all("path.ga-estate", "els => els.map(e => e.getAttribute('fill'))"))
    from ui.maps import MANAGEMENT_COLORS

    assert by_management == Counter(MANAGEMENT_COLORS[v] for v in ds.estates["management"])
    assert_no_exception(page)
    assert page.traffic.blocked == [] and page.js_errors == []


def test_the_browser_decoder_gives_what_the_python_decoder_gives(browser):
    from ui.mapcodec import decode, encode
    from ui.maps import GA_GEO_JS

    features = _grid_fixture()
    encoded = [encode(features, scale=100_000, styles=list(range(len(features)))), encode(features[:3], scale=10**6)]
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        page.add_script_tag(content=GA_GEO_JS)
        for enc in encoded:
            got = page.evaluate("enc => JSON.stringify(GaGeo.decode(enc))", enc)
            assert json.loads(got) == decode(enc)
        with pytest.raises(Exception, match="GaGeo: unknown compact layer format 2"):
            page.evaluate("enc => GaGeo.decode(enc)", {**encoded[0], "v": 2})
    finally:
        page.close()
