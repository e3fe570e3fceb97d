"""The overview map sent light: compact layers with the same grids and colours, estates only once switched on.

Sizes measured on the demo (Shifeng, 232 grids) when this was built: the overview map's script was 0.38 MB
before (GeoJSON, the estates sent hidden), 60 KB after (compact layers, no estates), 99 KB with the estates
switched on.
"""

import json
from collections import Counter

import numpy as np
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from geo.dataset import DEMO_PATH
from tests.e2e.conftest import ROOT

DEMO_SCRIPT_MAX_BYTES = 100_000  # 0.38 MB before; 60 KB after
DEMO_SCRIPT_WITH_ESTATES_MAX_BYTES = 150_000  # 99 KB after


@pytest.fixture(scope="module")
def demo():
    from geo.workspace import open_store

    return open_store(str(DEMO_PATH)).load()


def compact_layers(script: str) -> list[tuple[list[dict], dict]]:
    """Every compact layer of a map script: (its style table, the FeatureCollection `ui.mapcodec.decode` gives)."""
    from ui.mapcodec import decode

    dec = json.JSONDecoder()
    out = []
    pos = 0
    while (start := script.find("GaGeo.decode({", pos)) >= 0:
        enc, end = dec.raw_decode(script, start + len("GaGeo.decode("))
        name = script[script.rfind("var ", 0, start) + 4:].split(" ", 1)[0]
        styles_at = script.find(f"var {name}_styles = ")
        styles = dec.raw_decode(script, styles_at + len(f"var {name}_styles = "))[0] if 0 <= styles_at < start else []
        out.append((styles, decode(enc)))
        pos = end
    return out


def _payload(ds, **kw):
    from ui.layers import build_district_map
    from ui.maps import map_payload

    m, legends = build_district_map(ds, **kw)
    return map_payload(m), legends


def test_the_overview_payload_is_small_and_estates_are_sent_only_when_switched_on(demo):
    plain, legends = _payload(demo)
    with_estates, legends_on = _payload(demo, layers=("estates",))
    assert len(plain.script.encode("utf-8")) < DEMO_SCRIPT_MAX_BYTES
    assert len(with_estates.script.encode("utf-8")) < DEMO_SCRIPT_WITH_ESTATES_MAX_BYTES
    # the legend of the estates is there either way (the page shows it once they are switched on)
    assert legends["estates"] == legends_on["estates"]
    assert sum(int(label.rsplit("(", 1)[1].rstrip(")")) for _, label in legends["estates"]) == len(demo.estates)
    # hidden: not one estate in the map; switched on: every estate, drawn (not hidden in a layer control)
    assert "ga-estate" not in plain.script
    names = Counter(str(n) for n in demo.estates["name"])
    assert not any(n in plain.script for n in list(names)[:20])
    counted = Counter()
    for styles, fc in compact_layers(with_estates.script):
        if any("ga-estate" in s.get("className", "") for s in styles):
            counted.update(f["properties"]["name"] for f in fc["features"])
    assert counted == names
    layers = [len(fc["features"]) for _, fc in compact_layers(plain.script)]
    assert sum(layers) == len(demo.grids) + len(demo.streets) + len(demo.facilities)


def test_unknown_optional_layers_are_refused(demo):
    from ui.layers import build_district_map

    with pytest.raises(ValueError, match=r"`layers` was \['cases'\] but is expected to be among \['estates'\]"):
        build_district_map(demo, layers=("cases",))


def _expected_fills(grids, crs) -> list[str]:
    """Aged-60+ density classes worked out here: six quantile classes of elderly per km² (rounded to 1)."""
    from ui.maps import SEQUENTIAL

    dens = np.round(grids["elderly"].to_numpy() / (grids.to_crs(crs).area.to_numpy() / 1e6), 0)
    edges = np.unique(np.quantile(dens, np.linspace(0, 1, 7)))
    out = []
    for v in dens:
        k = max(i for i in range(len(edges) - 1) if v >= edges[i]) if v < edges[-1] else len(edges) - 2
        out.append(SEQUENTIAL[k])
    return out


def test_the_same_grids_and_colours_are_drawn_each_vertex_within_the_quantum(demo):
    from ui.maps import POLYGON_PRECISION_DEG

    payload, _ = _payload(demo)
    grid_layers = [(s, fc) for s, fc in compact_layers(payload.script) if s and s[0].get("className") == "ga-grid"]
    assert len(grid_layers) == 1
    styles, fc = grid_layers[0]
    feats = fc["features"]
    grids = demo.grids
    assert [f["properties"]["grid_id"] for f in feats] == [str(g) for g in grids["grid_id"]]
    drawn = [styles[f.get("_k", 0)]["fillColor"] for f in feats]
    assert drawn == _expected_fills(grids, demo.metric_crs) == [f["properties"]["_fill"] for f in feats]
    assert {s["fillOpacity"] for s in styles} == {0.65}
    # geometry: the grids simplified by 5 m (as the map does), rounded to the quantum (1e-5 degree)
    q = POLYGON_PRECISION_DEG
    simplified = grids.geometry.to_crs(demo.metric_crs).simplify(5.0, preserve_topology=True).to_crs(grids.crs)
    for f, want in zip(feats, simplified, strict=True):
        polys = [f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Polygon" else f["geometry"]["coordinates"]
        got_rings = [ring for poly in polys for ring in poly]
        want_rings = [r for p in getattr(want, "geoms", [want]) for r in (p.exterior, *p.interiors)]
        assert len(got_rings) == len(want_rings)
        for got, ring in zip(got_rings, want_rings, strict=True):
            exact = [tuple(c) for c in shapely.get_coordinates(ring)][:-1]
            rounded = []
            for x, y in exact:
                p = (round(x / q), round(y / q))
                if not rounded or rounded[-1] != p:
                    rounded.append(p)
            pts = [(round(x / q), round(y / q)) for x, y in got[:-1]]
            assert got[0] == got[-1] and len(pts) == len(rounded)
            start = rounded.index(pts[0])
            assert pts == rounded[start:] + rounded[:start], f["properties"]["grid_id"]
            # every vertex drawn within half a quantum of the grid's own vertex
            for (gx, gy), i in zip(got[:-1], range(start, start + len(pts)), strict=True):
                x, y = exact[i % len(exact)]
                assert abs(gx - x) <= q / 2 + 1e-12 and abs(gy - y) <= q / 2 + 1e-12


def _component_args(at) -> dict:
    def walk(node):
        children = getattr(node, "children", None)
        for c in (children.values() if isinstance(children, dict) else []):
            yield c
            yield from walk(c)

    comps = [e for e in walk(at._tree) if type(e).__name__ == "UnknownElement" and e.type == "component_instance"]
    assert len(comps) == 1
    return json.loads(comps[0].proto.json_args)


def test_the_overview_page_sends_the_estates_once_switched_on():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    off = _component_args(at)
    assert "ga-estate" not in off["script"]
    # the decoder comes with the map's script (no request of its own), ahead of the layers that use it
    assert off["script"].index("root.GaGeo = {decode: decode}") < off["script"].index("GaGeo.decode({")
    assert off["js_links"] == ["/app/static/leaflet/leaflet.js"]
    assert not any("无物业管理" in m.value for m in at.markdown)  # no estates legend either
    at.toggle(key="overview_show_estates").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    on = _component_args(at)
    assert "ga-estate" in on["script"] and len(on["script"]) > len(off["script"])
    assert any("无物业管理" in m.value for m in at.markdown)  # the estates legend, by management
    at.toggle(key="overview_show_estates").set_value(False).run()
    assert _component_args(at)["script"] == off["script"]
