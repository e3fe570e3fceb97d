"""Map readability at district scale: the fit, the grid border style by zoom, markers that shrink (HTML level)."""

import geopandas as gpd
import shapely

from ui.maps import (
    FIT_PADDING_PX,
    GRID_CLASSES,
    POINT_FULL_ZOOM,
    POINT_MIN_FACTOR,
    ZOOMSCALED_CLASS,
    add_points,
    new_map,
)


def _html(m) -> str:
    return m.get_root().render()


def test_new_map_fits_the_bounds_with_a_small_margin():
    page = _html(new_map((113.0, 27.8, 113.3, 28.1)))
    assert "[[27.8, 113.0], [28.1, 113.3]]" in page
    assert f'"padding": [{FIT_PADDING_PX}, {FIT_PADDING_PX}]' in page
    assert '"zoomSnap": 0.1' in page


def test_grid_borders_are_light_when_zoomed_out_and_stronger_zoomed_in():
    page = _html(new_map((113.0, 27.8, 113.3, 28.1)))
    for cls in GRID_CLASSES:
        assert f".ga-zoom-low path.{cls}" in page and f".ga-zoom-high path.{cls}" in page
    assert ".ga-zoom-low path.ga-grid" in page.split("stroke-opacity:0.35")[0]
    assert 'c.toggle("ga-zoom-low", z < 13)' in page and 'c.toggle("ga-zoom-high", z >= 15)' in page


def test_points_are_marked_for_scaling_and_the_script_uses_the_documented_factor():
    m = new_map((113.0, 27.8, 113.3, 28.1))
    pts = gpd.GeoDataFrame({"name": ["<b>站</b>"]}, geometry=[shapely.Point(113.1, 27.9)], crs="EPSG:4326")
    add_points(m, pts, name="x", color="#ff0000", class_name="ga-facility", tooltip=[("name", "名称")])
    page = _html(m)
    assert f'"className": "ga-facility {ZOOMSCALED_CLASS}"' in page
    assert f"Math.max({POINT_MIN_FACTOR}, Math.min(1, Math.pow(2, (z - {POINT_FULL_ZOOM}) / 2)))" in page
    # names escaped (and JSON-encoded in the page): "&lt;b&gt;站&lt;/b&gt;", never a live <b> tag
    assert '"name": "\\u0026lt;b\\u0026gt;\\u7ad9\\u0026lt;/b\\u0026gt;"' in page and "<b>" not in page
