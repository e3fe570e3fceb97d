"""Map readability at district scale: the fit, the grid border style by zoom, markers that shrink (HTML level)."""

import copy

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
    # names escaped (and JSON-encoded in the page, by column: ui.mapcodec): "&lt;b&gt;站&lt;/b&gt;", never a live tag
    assert '"name":["\\u0026lt;b\\u0026gt;站\\u0026lt;/b\\u0026gt;"]' in page and "<b>" not in page


def _sample_map():
    m = new_map((113.0, 27.8, 113.3, 28.1))
    pts = gpd.GeoDataFrame({"name": ["<b>站</b>", "二"]}, geometry=[shapely.Point(113.1, 27.9),
                                                                 shapely.Point(113.2, 28.0)], crs="EPSG:4326")
    add_points(m, pts, name="x", color="#ff0000", class_name="ga-facility", tooltip=[("name", "名称")])
    return m


def _component_args(monkeypatch, draw) -> dict:
    """What the map component receives when ``draw`` runs (the component call captured, not sent)."""
    import streamlit_folium

    got: dict = {}

    def capture(**kwargs):
        got.update(kwargs)
        return None

    monkeypatch.setattr(streamlit_folium, "_component_func", capture)
    draw()
    return got


def test_a_rendered_payload_gives_the_component_exactly_what_st_folium_gives(monkeypatch):
    import pickle

    import streamlit_folium

    from ui.maps import localize_assets, map_payload, show_payload

    m = _sample_map()
    for returned in ([], ["last_active_drawing", "bounds", "zoom"]):
        def reference(returned=returned):
            ref = copy.deepcopy(m)
            localize_assets(ref)
            streamlit_folium.st_folium(ref, key="k", height=480, use_container_width=True, returned_objects=returned)

        expected = _component_args(monkeypatch, reference)
        payload = pickle.loads(pickle.dumps(map_payload(m)))  # kept on disk beside a version: it must pickle
        ours = _component_args(monkeypatch, lambda p=payload, r=returned: show_payload(p, key="k", height=480,
                                                                                       returned_objects=r))
        assert set(ours) == set(expected)
        for name in expected:
            if name == "on_change":
                continue
            if name in ("script", "header", "html", "id"):  # folium numbers its elements: compare without ids
                assert _no_ids(ours[name]) == _no_ids(expected[name]), name
            elif name == "key":
                assert len(ours[name]) == 64 and ours[name] == payload.component_key("k")
            else:
                assert ours[name] == expected[name], name
    assert "/app/static/" in " ".join(payload.js_links) and not any("//" in u.split("/app/")[0] for u in
                                                                   payload.js_links + payload.css_links)


def _no_ids(text: str) -> str:
    import re

    return re.sub(r"_[0-9a-f]{32}", "_ID", text)


def test_the_same_map_drawn_twice_has_the_same_component_key():
    from ui.maps import map_payload

    a, b = map_payload(_sample_map()), map_payload(_sample_map())
    assert a.component_key("overview_map") == b.component_key("overview_map")
    assert a.component_key("overview_map") != a.component_key("coverage_map")


def test_a_payload_with_dynamic_layers_gives_the_component_what_st_folium_gives(monkeypatch):
    import folium
    import streamlit_folium

    from ui.maps import localize_assets, map_payload, show_payload

    m = new_map((113.0, 27.8, 113.3, 28.1))
    group = folium.FeatureGroup(name="覆盖")
    pts = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(113.1, 27.9)], crs="EPSG:4326")
    add_points(group, pts, name="x", color="#ff0000", class_name="ga-facility", tooltip=[("name", "名称")])

    def reference():
        ref = copy.deepcopy(m)
        localize_assets(ref)
        g = copy.deepcopy(group)
        localize_assets(g)
        streamlit_folium.st_folium(ref, key="k", height=480, use_container_width=True, returned_objects=[],
                                   feature_group_to_add=[g], layer_control=folium.LayerControl(collapsed=False))

    expected = _component_args(monkeypatch, reference)
    payload = map_payload(m, [group])
    ours = _component_args(monkeypatch, lambda: show_payload(payload, key="k", height=480))
    assert expected["feature_group"] and expected["layer_control"]
    for name in ("script", "header", "html", "feature_group", "layer_control"):
        assert _no_ids(ours[name]) == _no_ids(expected[name]), name
    for name in ("css_links", "js_links", "default", "height", "width", "returned_objects"):
        assert ours[name] == expected[name], name


def test_plain_text_kept_as_text_renders_exactly_as_jinja_renders_it():
    import jinja2

    from ui.maps import _template, _Text

    samples = ["", "\n", "abc", "abc\n", "abc\n\n", "  var x = {\"a\": [1, 2]};\n  ", "网格 <b>站</b>\n",
               "a\r\nb", "{{ 1 + 1 }}", "{% if true %}x{% endif %}\n", "{# note #}y", "{ {x} }\n"]
    for text in samples:
        assert _template(text).render(this=None, kwargs={}) == jinja2.Template(text).render(this=None, kwargs={}), text
    assert isinstance(_template("var a = {};\n"), _Text)
    for text in ("{{ 1 }}", "{% raw %}{% endraw %}", "{# c #}", "a\rb"):  # Jinja syntax (or "\r"): compiled
        assert isinstance(_template(text), jinja2.Template), text


def test_rendering_a_payload_leaves_the_map_its_layers_and_branca_as_they_were():
    import branca.element
    import folium
    import jinja2

    from ui.maps import add_polygons, map_payload, render_copy

    def sample():
        m = new_map((113.0, 27.8, 113.3, 28.1))
        polys = gpd.GeoDataFrame({"name": ["甲", "<i>乙</i>"]},
                                 geometry=[shapely.box(113.0, 27.8, 113.1, 27.9), shapely.box(113.1, 27.9, 113.2, 28.0)],
                                 crs="EPSG:4326")
        group = folium.FeatureGroup(name="层")
        add_polygons(group, polys, name="grids", fill=["#ff0000", "#00ff00"], tooltip=[("name", "名称")])
        return m, group

    m, group = sample()
    before_m, before_g = copy.deepcopy(m), copy.deepcopy(group)
    data = next(c for c in group._children.values() if isinstance(c, folium.GeoJson)).data
    data_before = copy.deepcopy(data)
    first, second = map_payload(m, [group]), map_payload(m, [group])
    assert _no_ids(first.script) == _no_ids(second.script) and first.feature_group == second.feature_group
    assert list(m._children) == list(before_m._children) and list(group._children) == list(before_g._children)
    assert group._parent is None and data == data_before
    assert _no_ids(_html(m)) == _no_ids(_html(before_m))  # the kept map still renders as it did
    assert branca.element.Template is jinja2.Template  # the switch is undone once rendering is over
    # a copy is a new tree of new elements around the same layer data
    c = render_copy(group)
    copied = next(e for e in c._children.values() if isinstance(e, folium.GeoJson))
    assert c is not group and copied._parent is c and copied.data == data and copied.data["features"] is data["features"]
