"""Compact map layers: what a map sends to the browser instead of GeoJSON, and the way back.

A district map is mostly grid polygons, and GeoJSON spends most of its bytes on
what repeats: every shared border twice (once per grid on either side), every
coordinate as a 20-character decimal, every property name once per feature,
and Chinese names as ``\\uXXXX`` escapes. A compact layer (format 1) keeps the
same features and sends them once:

- coordinates as integers of the layer's quantum (``1/s`` degree; the maps use
  ``s = 100000``, about 1 m, for polygons and lines and ``s = 1000000`` for
  points, the precision GeoJSON had before), relative to an origin ``o``;
- polygon rings and lines as lists of *arcs* (TopoJSON's idea): a ring is cut
  where it meets a third ring (a junction), and an arc two rings share is kept
  once; a ring refers to it by its index ``i``, or by ``~i`` (``-i - 1``) when it
  runs the arc backwards. Arcs are delta-encoded: each point is the difference
  from the one before, the first point of an arc from the last point of the arc
  before it (the very first from the origin);
- properties column by column (``p``): a plain list of values, or for strings
  ``{"d": [distinct values], "i": [index per feature, -1 for null]}``;
- optionally ``k``, one style index per feature (the map's style table).

::

    {"v": 1, "s": 100000, "o": [x0, y0], "a": [[dx, dy, dx, dy, ...], ...],
     "t": 4 | [code per feature], "f": [geometry per feature], "p": {column: ...}, "k": [...]}

Geometry codes and their data: 0 Point ``[x, y]``, 1 MultiPoint ``[x, y, x, y, ...]``,
2 LineString ``[arc refs]``, 3 MultiLineString ``[[arc refs], ...]``, 4 Polygon
``[[arc refs of a ring], ...]``, 5 MultiPolygon ``[[[arc refs], ...], ...]``;
point coordinates are relative to the origin. ``decode`` (and the browser's
``GaGeo.decode``, ``ui/js/ga_geo.js``) give back a GeoJSON FeatureCollection
whose coordinates are the encoded integers divided by ``s``: the same numbers
the rounded GeoJSON carried. A ring may start at another of its vertices (the
junction where its first arc begins); consecutive repeated points are dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

FORMAT = 1
GEOMETRY_CODES = {"Point": 0, "MultiPoint": 1, "LineString": 2, "MultiLineString": 3, "Polygon": 4,
                  "MultiPolygon": 5}
_TYPES = {v: k for k, v in GEOMETRY_CODES.items()}

Pt = tuple[int, int]


def _quantised(coords: Sequence[Sequence[float]], scale: int) -> list[Pt]:
    """Integer points, consecutive repeats dropped."""
    out: list[Pt] = []
    for c in coords:
        p = (round(c[0] * scale), round(c[1] * scale))
        if not out or out[-1] != p:
            out.append(p)
    return out


def _open_ring(coords: Sequence[Sequence[float]], scale: int) -> list[Pt]:
    ring = _quantised(coords, scale)
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    return ring


def _rotated_to_min(ring: list[Pt]) -> list[Pt]:
    k = ring.index(min(ring))
    return ring[k:] + ring[:k]


class _ArcTable:
    """Arcs kept once: a repeated arc (either direction) gets the index of the first."""

    def __init__(self) -> None:
        self.arcs: list[tuple[Pt, ...]] = []
        self._index: dict[tuple[Pt, ...], int] = {}

    def ref(self, arc: tuple[Pt, ...], reverse_key: tuple[Pt, ...] | None = None) -> int:
        got = self._index.get(arc)
        if got is not None:
            return got
        back = self._index.get(arc[::-1] if reverse_key is None else reverse_key)
        if back is not None:
            return ~back
        self._index[arc] = len(self.arcs)
        self.arcs.append(arc)
        return len(self.arcs) - 1


def _junctions(rings: list[list[Pt]]) -> set[Pt]:
    """Points where rings meet and part: a point with more than two distinct neighbours over all rings."""
    neighbours: dict[Pt, set[Pt]] = defaultdict(set)
    for ring in rings:
        n = len(ring)
        for i, p in enumerate(ring):
            s = neighbours[p]
            s.add(ring[i - 1])
            s.add(ring[(i + 1) % n])
    return {p for p, s in neighbours.items() if len(s) > 2}


def _ring_refs(ring: list[Pt], junctions: set[Pt], table: _ArcTable) -> list[int]:
    cuts = [i for i, p in enumerate(ring) if p in junctions]
    if not cuts:  # a ring on its own (or one that another ring follows all round): one closed arc
        r = _rotated_to_min(ring)
        back = _rotated_to_min(r[::-1])
        return [table.ref(tuple(r + r[:1]), tuple(back + back[:1]))]
    r = ring[cuts[0]:] + ring[:cuts[0]]
    r.append(r[0])
    cuts = [i for i, p in enumerate(r) if p in junctions]
    return [table.ref(tuple(r[a:b + 1])) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def _column(values: list[object]) -> object:
    """A property column: strings with repeats as a dictionary and indexes, anything else as a list."""
    if values and all(v is None or isinstance(v, str) for v in values):
        distinct = list(dict.fromkeys(v for v in values if v is not None))
        if len(distinct) < len(values):
            pos = {v: i for i, v in enumerate(distinct)}
            return {"d": distinct, "i": [-1 if v is None else pos[v] for v in values]}
    return values


def encode(features: Sequence[dict], *, scale: int, styles: Sequence[int] | None = None) -> dict:
    """The compact form of GeoJSON ``features`` (module docstring); ``styles``: a style index per feature."""
    polygons: list[list[list[Pt]]] = []  # per feature, its rings (in order), for the polygon types
    points: list[list[Pt]] = []
    kinds: list[int] = []
    for f in features:
        g = f["geometry"]
        code = GEOMETRY_CODES[g["type"]]
        kinds.append(code)
        c = g["coordinates"]
        if code == 0:
            points.append(_quantised([c], scale))
        elif code == 1:
            points.append([(round(x * scale), round(y * scale)) for x, y in c])
        elif code == 2:
            points.append(_quantised(c, scale))
        elif code == 3:
            points.append([p for line in c for p in _quantised(line, scale)])
        elif code == 4:
            polygons.append([_open_ring(r, scale) for r in c])
        else:
            polygons.append([_open_ring(r, scale) for poly in c for r in poly])
    every = [p for rings in polygons for r in rings for p in r] + [p for ps in points for p in ps]
    ox = min((p[0] for p in every), default=0)
    oy = min((p[1] for p in every), default=0)
    table = _ArcTable()
    junctions = _junctions([r for rings in polygons for r in rings])

    def line_ref(coords: Sequence[Sequence[float]]) -> list[int]:
        return [table.ref(tuple(_quantised(coords, scale)))]

    geoms: list[object] = []
    poly_iter = iter(polygons)
    for f, code in zip(features, kinds, strict=True):
        c = f["geometry"]["coordinates"]
        if code == 0:
            x, y = _quantised([c], scale)[0]
            geoms.append([x - ox, y - oy])
        elif code == 1:
            geoms.append([v for x, y in c for v in (round(x * scale) - ox, round(y * scale) - oy)])
        elif code == 2:
            geoms.append(line_ref(c))
        elif code == 3:
            geoms.append([line_ref(line) for line in c])
        elif code == 4:
            geoms.append([_ring_refs(r, junctions, table) for r in next(poly_iter)])
        else:
            rings = iter(next(poly_iter))
            geoms.append([[_ring_refs(next(rings), junctions, table) for _ in poly] for poly in c])
    arcs = []
    px, py = ox, oy
    for arc in table.arcs:
        flat: list[int] = []
        for x, y in arc:
            flat += (x - px, y - py)
            px, py = x, y
        arcs.append(flat)
    keys = list(dict.fromkeys(k for f in features for k in (f.get("properties") or {})))
    props = {k: _column([(f.get("properties") or {}).get(k) for f in features]) for k in keys}
    out: dict = {"v": FORMAT, "s": scale, "o": [ox, oy], "a": arcs,
                 "t": kinds[0] if len(set(kinds)) == 1 else kinds, "f": geoms, "p": props}
    if styles is not None:
        out["k"] = list(styles)
    return out


def _arc_points(enc: dict) -> list[list[tuple[int, int]]]:
    x, y = enc["o"]
    out = []
    for flat in enc["a"]:
        pts = []
        for i in range(0, len(flat), 2):
            x += flat[i]
            y += flat[i + 1]
            pts.append((x, y))
        out.append(pts)
    return out


def decode(enc: dict) -> dict:
    """The GeoJSON FeatureCollection of a compact layer (what ``GaGeo.decode`` gives in the browser)."""
    if enc.get("v") != FORMAT:
        raise ValueError(f"compact layer format {enc.get('v')!r}, expected {FORMAT}")
    s = enc["s"]
    ox, oy = enc["o"]
    arcs = _arc_points(enc)

    def xy(p: tuple[int, int]) -> list[float]:
        return [p[0] / s, p[1] / s]

    def chain(refs: list[int]) -> list[list[float]]:
        pts: list[tuple[int, int]] = []
        for r in refs:
            arc = arcs[r] if r >= 0 else arcs[~r][::-1]
            pts.extend(arc[1:] if pts else arc)
        return [xy(p) for p in pts]

    n = len(enc["f"])
    kinds = enc["t"] if isinstance(enc["t"], list) else [enc["t"]] * n
    columns = {}
    for key, col in enc["p"].items():
        columns[key] = [None if i < 0 else col["d"][i] for i in col["i"]] if isinstance(col, dict) else col
    features = []
    for i, (code, g) in enumerate(zip(kinds, enc["f"], strict=True)):
        if code == 0:
            coords: object = xy((ox + g[0], oy + g[1]))
        elif code == 1:
            coords = [xy((ox + g[j], oy + g[j + 1])) for j in range(0, len(g), 2)]
        elif code == 2:
            coords = chain(g)
        elif code == 3:
            coords = [chain(line) for line in g]
        elif code == 4:
            coords = [chain(ring) for ring in g]
        else:
            coords = [[chain(ring) for ring in poly] for poly in g]
        feature = {"type": "Feature", "properties": {k: v[i] for k, v in columns.items()},
                   "geometry": {"type": _TYPES[code], "coordinates": coords}}
        if "k" in enc:
            feature["_k"] = enc["k"][i]
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}
