"""Roads from an OpenStreetMap extract: the walkable ways, clipped to the dataset's extent, imported as the
``roads`` layer; walking distances on them checked against networkx on the same lattice."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, box

from analysis.coverage import compute_coverage
from analysis.network import build_walk_graph, pair_distances, snap_points
from cli import main
from geo.dataset import Dataset
from geo.errors import DataError
from geo.osm import MARGIN_M, extent_of, read_osm_roads, walkable_mask
from geo.readers import read_layer
from geo.workspace import open_store

LON0, LAT0 = 114.300, 30.550
STEP_M = 100.0
DLAT = STEP_M / 111_320.0
DLON = STEP_M / (111_320.0 * math.cos(math.radians(LAT0)))
COLS, ROWS = 6, 5  # lattice nodes (c, r); the river runs between columns 2 and 3
BRIDGE_ROW = 2
UTM = "EPSG:32650"


def lonlat(c: float, r: float) -> tuple[float, float]:
    return LON0 + c * DLON, LAT0 + r * DLAT


@dataclass
class OsmXml:
    """A tiny OSM XML writer: nodes by (c, r) lattice position, ways by tags."""

    nodes: dict[tuple[float, float], int] = field(default_factory=dict)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)

    def node(self, c: float, r: float) -> int:
        return self.nodes.setdefault((c, r), len(self.nodes) + 1)

    def way(self, points: list[tuple[float, float]], **tags: str) -> int:
        wid = 1000 + len(self.ways)
        self.ways.append((wid, [self.node(c, r) for c, r in points], tags))
        return wid

    def text(self) -> str:
        out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
        for (c, r), nid in self.nodes.items():
            lon, lat = lonlat(c, r)
            out.append(f'  <node id="{nid}" version="1" lat="{lat:.9f}" lon="{lon:.9f}"/>')
        for wid, refs, tags in self.ways:
            out.append(f'  <way id="{wid}" version="1">')
            out += [f'    <nd ref="{n}"/>' for n in refs]
            out += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
            out.append("  </way>")
        out.append("</osm>")
        return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Fixture:
    path: Path
    lattice: nx.Graph  # the walkable lattice, built here independently of the import
    excluded: dict[int, str]  # way id -> why it must be absent
    spur_id: int  # a way that runs far past the extent (cut at its edge)


HORIZONTAL = ("residential", "path", "living_street", "steps", "unclassified")


def write_fixture(path: Path) -> Fixture:
    """A lattice of footways/residential streets split by a river, one footbridge across it, and ways to leave out."""
    osm = OsmXml()
    g = nx.Graph()
    for c in range(COLS):  # one vertical way per column, every lattice node on it
        tags = {"highway": "footway" if c % 2 == 0 else "residential"}
        if c == COLS - 1:
            tags = {"highway": "cycleway", "foot": "designated"}  # taken: foot allowed explicitly
        osm.way([(c, r) for r in range(ROWS)], **tags)
        g.add_edges_from(((c, r), (c, r + 1)) for r in range(ROWS - 1))
    for r in range(ROWS):  # horizontals stop at the river on both banks
        osm.way([(c, r) for c in range(3)], highway=HORIZONTAL[r])
        east_tags = {"highway": HORIZONTAL[r]}
        if r == ROWS - 1:
            east_tags |= {"access": "private", "foot": "yes"}  # private, but open to people on foot: taken
        osm.way([(c, r) for c in range(3, COLS)], **east_tags)
        g.add_edges_from(((c, r), (c + 1, r)) for c in range(2))
        g.add_edges_from(((c, r), (c + 1, r)) for c in range(3, COLS - 1))
    osm.way([(2, BRIDGE_ROW), (3, BRIDGE_ROW)], highway="footway", bridge="yes", layer="1")
    g.add_edge((2, BRIDGE_ROW), (3, BRIDGE_ROW))
    osm.way([(2.5, -2), (2.5, ROWS + 1)], waterway="river", name="湘江")
    excluded = {
        osm.way([(0.2, 0.3), (4.8, 3.7)], highway="motorway", ref="G4"): "motorway",
        osm.way([(0.3, 3.6), (4.6, 0.4)], highway="trunk"): "trunk without foot",
        osm.way([(4.8, 3.7), (5.6, 4.6)], highway="motorway_link"): "motorway_link",
        osm.way([(0.5, 4.4), (1.5, -0.4)], highway="footway", foot="no"): "foot=no",
        osm.way([(3.4, 0.5), (4.6, 3.5)], highway="service", access="private"): "access=private",
        osm.way([(0.6, 0.5), (1.4, 3.5)], highway="cycleway"): "cycleway without foot",
        osm.way([(200, 0), (205, 0)], highway="residential", name="远处路"): "outside the extent",
    }
    # a dead end from the lattice's east side to 6 km away: cut at the extent, no lattice distance changes
    spur = osm.way([(COLS - 1, 1), (COLS - 1 + 60, 1)], highway="tertiary", name="长路")
    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    for u, v in g.edges:
        (x1, y1), (x2, y2) = to_utm.transform(*lonlat(*u)), to_utm.transform(*lonlat(*v))
        g.edges[u, v]["length"] = math.hypot(x2 - x1, y2 - y1)
    path.write_text(osm.text(), encoding="utf-8")
    return Fixture(path, g, excluded, spur)


def tiny_dataset(name: str = "osmtown") -> Dataset:
    """Two grids over the two banks, one day-care station at the lattice's corner, estates at lattice nodes."""
    def poly(c0, r0, c1, r1):
        (x0, y0), (x1, y1) = lonlat(c0, r0), lonlat(c1, r1)
        return box(x0, y0, x1, y1)

    grids = gpd.GeoDataFrame({"grid_id": ["G1", "G2"], "street": ["西岸街道", "东岸街道"], "community": ["甲", "乙"],
                              "households": [100, 100], "population": [300, 300], "elderly": [60, 60]},
                             geometry=[poly(-0.2, -0.2, 2.4, ROWS - 0.8), poly(2.6, -0.2, COLS - 0.8, ROWS - 0.8)],
                             crs="EPSG:4326")
    facilities = gpd.GeoDataFrame({"facility_id": ["F1"], "name": ["日照中心"], "type": ["day_care"]},
                                  geometry=[Point(lonlat(0, 0))], crs="EPSG:4326")
    nodes = [(1, 3), (2, 0), (3, 2), (5, 4), (4, 0)]
    estates = gpd.GeoDataFrame({"estate_id": [f"E{c}{r}" for c, r in nodes], "name": [f"小区{c}{r}" for c, r in nodes],
                                "households": [10] * len(nodes), "management": ["property_company"] * len(nodes)},
                               geometry=[Point(lonlat(c, r)) for c, r in nodes], crs="EPSG:4326")
    return Dataset(grids=grids, facilities=facilities, estates=estates, name=name)


@pytest.fixture
def fixture(tmp_path) -> Fixture:
    return write_fixture(tmp_path / "town.osm")


@pytest.fixture
def stored(home):
    store = open_store("osmtown")
    store.import_dataset(tiny_dataset(), source="test")
    return store


def test_walkable_rule_by_tags():
    hw = pd.Series(["footway", "residential", "motorway", "trunk", "trunk", "service", "service", "cycleway",
                    "cycleway", "primary", "path", "construction", None, "steps"])
    foot = pd.Series([None, "no", "yes", None, "yes", None, "yes", None, "designated", "use_sidepath", "private",
                      None, "yes", "permissive"])
    access = pd.Series([None, None, None, None, None, "private", "private", None, None, None, None, None, None, "no"])
    assert walkable_mask(hw, foot, access).tolist() == [True, False, False, False, True, False, True, False, True,
                                                        False, False, False, False, True]


def test_extent_is_the_grids_bounds_plus_the_margin():
    grids = tiny_dataset().grids
    minx, miny, maxx, maxy = grids.total_bounds
    e = extent_of(grids)
    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    # each side moved out by MARGIN_M metres (within 0.5 %: degrees to metres near 30.5°N)
    west = to_utm.transform(minx, (miny + maxy) / 2)[0] - to_utm.transform(e[0], (miny + maxy) / 2)[0]
    south = to_utm.transform(minx, miny)[1] - to_utm.transform(minx, e[1])[1]
    assert west == pytest.approx(MARGIN_M, rel=5e-3) and south == pytest.approx(MARGIN_M, rel=5e-3)
    assert e[2] > maxx and e[3] > maxy


def test_read_takes_the_walkable_ways_and_cuts_at_the_extent(fixture):
    bbox = extent_of(tiny_dataset().grids)
    roads = read_osm_roads(fixture.path, bbox=bbox)
    ids = set(roads["osm_id"].astype(int))
    assert not ids & set(fixture.excluded), {fixture.excluded[i] for i in ids & set(fixture.excluded)}
    assert set(roads["highway"]) == {"footway", "residential", "cycleway", *HORIZONTAL, "tertiary"}
    assert roads["walkable"].tolist() == [True] * len(roads)
    assert set(roads.geom_type) == {"LineString"} and roads.crs.equals("EPSG:4326")
    spur = roads.loc[roads["osm_id"] == str(fixture.spur_id)].geometry.iloc[0]
    assert spur.bounds[2] == pytest.approx(bbox[2], abs=1e-9)  # cut at the extent's east edge
    assert shapely.box(*bbox).buffer(1e-9).contains(roads.union_all())
    whole = read_osm_roads(fixture.path)  # without an extent: the far way is there, the excluded classes are not
    assert set(whole["osm_id"].astype(int)) & set(fixture.excluded) == {max(fixture.excluded)}


def test_import_then_walking_distances_equal_networkx(stored, fixture, capsys):
    assert main(["--lang", "en", "import", "--data", "osmtown", "--layer", "roads", str(fixture.path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["format"], out["crs"], out["version"]["layer"], out["version"]["id"]) == ("osm", "EPSG:4326",
                                                                                          "roads", 2)
    ds = stored.load()
    roads = ds.roads
    assert out["version"]["rows_added"] == len(roads) == 2 * ROWS + COLS + 2  # the spur is the last way taken
    assert not set(roads["osm_id"].astype(int)) & set(fixture.excluded)

    # noded on a 1 cm grid, so the comparison can be tight (the default 0.5 m grid moves each vertex by up to
    # 0.35 m, and a path's length by up to 0.7 m per block: the coverage check below allows for that)
    graph = build_walk_graph(roads, crs=UTM, node_precision_m=0.01)
    nodes = sorted(fixture.lattice.nodes)
    pts = gpd.GeoSeries([Point(lonlat(c, r)) for c, r in nodes], crs="EPSG:4326").to_crs(UTM)
    snap = snap_points(graph, pts)
    got = pair_distances(graph, snap, snap, limit_m=1e6).toarray()
    want = dict(nx.all_pairs_dijkstra_path_length(fixture.lattice, weight="length"))
    expected = np.array([[want[a][b] for b in nodes] for a in nodes])
    np.testing.assert_allclose(got, expected, atol=0.05)
    # across the river only by the bridge: (2,0) to (3,0) is 100 m apart but walks 2 + 1 + 2 blocks
    i, j = nodes.index((2, 0)), nodes.index((3, 0))
    assert got[i, j] == pytest.approx(5 * STEP_M, rel=5e-3)  # UTM scale and 30.5° N

    cov = compute_coverage(ds, facility_types="day_care", radius_m=450, distance="walking")
    dem = cov.demand.set_index("estate_id")
    for eid in tiny_dataset().estates["estate_id"]:
        c, r = int(eid[1]), int(eid[2])
        d = nx.dijkstra_path_length(fixture.lattice, (0, 0), (c, r), weight="length")
        blocks = nx.shortest_path_length(fixture.lattice, (0, 0), (c, r))
        assert dem.loc[eid, "nearest_m"] == pytest.approx(d, abs=0.71 * (blocks + 2))  # the default 0.5 m noding
        assert bool(dem.loc[eid, "covered"]) == (d <= 450)
    assert dem["covered"].sum() == 2  # (1,3) and (2,0) on the west bank; the east bank is past the bridge


def test_no_walkable_way_in_the_extent_is_refused_and_nothing_changes(stored, tmp_path, capsys):
    osm = OsmXml()
    osm.way([(0, 0), (5, 4)], highway="motorway")
    osm.way([(300, 0), (305, 0)], highway="footway")  # walkable, but 30 km away
    path = tmp_path / "elsewhere.osm"
    path.write_text(osm.text(), encoding="utf-8")
    before = stored.current().id
    assert main(["--lang", "en", "import", "--data", "osmtown", "--layer", "roads", str(path)]) == 2
    bbox = ", ".join(f"{v:.4f}" for v in extent_of(tiny_dataset().grids))
    assert capsys.readouterr().err.splitlines() == [
        f"error: layer roads: elsewhere.osm has no walkable way within {bbox} — use an extract that covers the "
        "district (with footways and residential streets), or import the district's own roads file"]
    assert main(["import", "--data", "osmtown", "--layer", "roads", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: 图层 道路: elsewhere.osm 在数据集范围（{bbox}）内没有可步行的道路 — 换用覆盖本区的 OpenStreetMap 数据"
        "（含人行道、街巷），或导入本区自己的道路文件"]
    assert stored.current().id == before


def test_an_osm_file_for_another_layer_or_a_broken_one(fixture, tmp_path):
    with pytest.raises(DataError) as exc:
        read_layer(fixture.path, "facilities")
    (p,) = exc.value.problems
    assert (p.code, str(p)) == ("data.osm_roads_only", "layer facilities: town.osm is an OpenStreetMap extract: only "
                                "the roads layer is read from one — choose the roads layer (道路), or a file of "
                                "this layer")
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all")
    with pytest.raises(DataError) as exc:
        read_layer(broken, "roads")
    (p,) = exc.value.problems
    assert p.code == "data.file_unreadable" and str(p).startswith("layer roads: broken.osm.pbf cannot be read (")


def test_a_chosen_datum_is_not_applied_to_osm(fixture):
    read = read_layer(fixture.path, "roads", coord_sys="gcj02")
    assert [(w.code, str(w)) for w in read.warnings] == [
        ("data.osm_wgs84", "layer roads: OpenStreetMap data is in WGS84; the coordinate system chosen was not used "
         "— leave the coordinate system on the file's own")]
    plain = read_layer(fixture.path, "roads")
    assert read.gdf.geometry.geom_equals_exact(plain.gdf.geometry, tolerance=0).all()
