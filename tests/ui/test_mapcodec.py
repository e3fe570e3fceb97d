"""Compact map layers (ui.mapcodec): shared borders kept once, and the same features back after decoding."""

import json

import pytest
import shapely

from ui.mapcodec import FORMAT, decode, encode

S = 100_000  # 1e-5 degree


def _feature(geom, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geom))}


def _q(v: float) -> float:
    return round(v * S) / S


def _grid_fixture() -> list[dict]:
    """Two squares sharing an edge, a third sharing a corner only, a square with a hole whose island fills it,
    a multipolygon, a line and points."""
    k = 1 / S
    a = shapely.box(113.0, 27.0, 113.001, 27.001)
    b = shapely.box(113.001, 27.0, 113.002, 27.001)  # shares a's east edge
    c = shapely.box(113.002, 27.001, 113.003, 27.002)  # touches b at one corner
    outer = shapely.box(113.01, 27.01, 113.02, 27.02)
    hole = shapely.box(113.013, 27.013, 113.017, 27.017)
    holed = shapely.Polygon(outer.exterior.coords, [hole.exterior.coords[::-1]])
    island = shapely.Polygon(hole.exterior.coords)
    multi = shapely.MultiPolygon([shapely.box(113.03, 27.03, 113.031, 27.031),
                                  shapely.Polygon([(113.04, 27.04), (113.041, 27.04), (113.0405, 27.041)])])
    wiggly = shapely.Polygon([(113.0 + i * 7 * k, 27.05 + (i % 3) * 11 * k) for i in range(12)]
                             + [(113.0 + 77 * k, 27.06), (113.0, 27.06)])
    return [
        _feature(a, grid_id="A", street="积玉桥", n=3, share=0.25, ok=True),
        _feature(b, grid_id="B", street="积玉桥", n=None, share=0.5, ok=False),
        _feature(c, grid_id="C", street="<b>中华路</b>", n=7, share=None, ok=True),
        _feature(holed, grid_id="D", street=None, n=1, share=1.0, ok=True),
        _feature(island, grid_id="E", street="积玉桥", n=2, share=0.0, ok=False),
        _feature(multi, grid_id="F", street="中华路", n=0, share=0.1, ok=True),
        _feature(wiggly, grid_id="G", street="中华路", n=5, share=0.2, ok=True),
    ]


def _rings(geometry: dict) -> list[list[tuple[float, float]]]:
    t, c = geometry["type"], geometry["coordinates"]
    polys = [c] if t == "Polygon" else c
    return [[(x, y) for x, y in ring] for poly in polys for ring in poly]


def _is_rotation(got: list, want: list) -> bool:
    """``got`` is ``want`` (closed rings) started at another vertex."""
    g, w = got[:-1], want[:-1]
    if len(g) != len(w) or got[0] != got[-1]:
        return False
    return any(g[i:] + g[:i] == w for i in range(len(g)))


def _undirected_edges(features: list[dict]) -> set[frozenset]:
    edges = set()
    for f in features:
        for ring in _rings(f["geometry"]):
            pts = [(round(x * S), round(y * S)) for x, y in ring]
            edges |= {frozenset(e) for e in zip(pts[:-1], pts[1:], strict=True)}
    return edges


def test_every_border_is_stored_once_and_every_ring_comes_back():
    features = _grid_fixture()
    enc = encode(features, scale=S)
    assert enc["v"] == FORMAT and enc["s"] == S
    # the arcs' segments, undecoded by hand (deltas, each arc's first point from the last point before it)
    x, y = enc["o"]
    segments = []
    for flat in enc["a"]:
        pts = []
        for i in range(0, len(flat), 2):
            x, y = x + flat[i], y + flat[i + 1]
            pts.append((x, y))
        segments += [frozenset(e) for e in zip(pts[:-1], pts[1:], strict=True)]
    # brute force: every distinct edge of every ring, counted once; the arcs hold each exactly once
    edges = _undirected_edges(features)
    assert len(segments) == len(set(segments)) == len(edges)
    assert set(segments) == edges
    # a and b share one edge; the hole of D and the island E are one closed arc, run both ways
    refs = enc["f"]
    shared = {r if r >= 0 else ~r for r in _flat(refs[0])} & {r if r >= 0 else ~r for r in _flat(refs[1])}
    assert len(shared) == 1  # run one way by a, the other by b
    (i,) = shared
    assert (i in _flat(refs[0]) and ~i in _flat(refs[1])) or (~i in _flat(refs[0]) and i in _flat(refs[1]))
    hole_ref, island_ref = refs[3][1][0], refs[4][0][0]
    assert len(refs[3][1]) == len(refs[4][0]) == 1 and hole_ref == ~island_ref
    back = decode(json.loads(json.dumps(enc)))
    assert [f["geometry"]["type"] for f in back["features"]] == [f["geometry"]["type"] for f in features]
    for f, g in zip(features, back["features"], strict=True):
        want, got = _rings(f["geometry"]), _rings(g["geometry"])
        assert len(want) == len(got)
        for w, r in zip(want, got, strict=True):
            assert _is_rotation(r, [(_q(a), _q(b)) for a, b in w]), (f["properties"]["grid_id"], r, w)
            assert all(abs(a - c) <= 0.5 / S + 1e-12 and abs(b - d) <= 0.5 / S + 1e-12
                       for (a, b), (c, d) in zip(sorted(r[:-1]), sorted(w[:-1]), strict=True))


def _flat(refs) -> list[int]:
    out = []
    for r in refs:
        out += _flat(r) if isinstance(r, list) else [r]
    return out


def test_properties_come_back_column_by_column_with_nulls_and_repeats():
    features = _grid_fixture()
    enc = encode(features, scale=S, styles=[0, 1, 0, 2, 1, 0, 0])
    assert enc["p"]["street"] == {"d": ["积玉桥", "<b>中华路</b>", "中华路"], "i": [0, 0, 1, -1, 0, 2, 2]}
    assert enc["p"]["grid_id"] == ["A", "B", "C", "D", "E", "F", "G"]  # distinct strings: a plain list
    back = decode(json.loads(json.dumps(enc)))
    assert [f["properties"] for f in back["features"]] == [f["properties"] for f in features]
    assert [f["_k"] for f in back["features"]] == [0, 1, 0, 2, 1, 0, 0]
    assert "_k" not in decode(encode(features, scale=S))["features"][0]


def test_lines_and_points_at_their_own_precision():
    line = shapely.LineString([(113.1, 27.1), (113.10012, 27.10034), (113.1003, 27.1001)])
    multi = shapely.MultiLineString([[(113.2, 27.2), (113.2001, 27.2001)], [(113.3, 27.3), (113.3002, 27.3)]])
    pts = [shapely.Point(113.123456, 27.654321), shapely.Point(113.000001, 27.999999)]
    mp = shapely.MultiPoint([(113.5, 27.5), (113.500002, 27.500003)])
    lines = [_feature(line, id=1), _feature(multi, id=2)]
    back = decode(encode(lines, scale=S))["features"]
    assert back[0]["geometry"]["coordinates"] == [[_q(x), _q(y)] for x, y in line.coords]
    assert back[1]["geometry"]["coordinates"] == [[[_q(x), _q(y)] for x, y in g.coords] for g in multi.geoms]
    s6 = 1_000_000
    points = [_feature(p, name=str(i)) for i, p in enumerate(pts)] + [_feature(mp, name="m")]
    enc = encode(points, scale=s6)
    assert enc["t"] == [0, 0, 1] and enc["a"] == []
    got = decode(enc)["features"]
    for f, p in zip(got[:2], pts, strict=True):
        assert f["geometry"]["coordinates"] == [round(p.x * s6) / s6, round(p.y * s6) / s6]
        assert abs(f["geometry"]["coordinates"][0] - p.x) <= 0.5 / s6 + 1e-12
    assert got[2]["geometry"] == {"type": "MultiPoint", "coordinates": [[113.5, 27.5], [113.500002, 27.500003]]}


def test_an_unknown_format_is_refused():
    enc = encode(_grid_fixture()[:1], scale=S)
    with pytest.raises(ValueError, match="compact layer format 2, expected 1"):
        decode({**enc, "v": 2})
