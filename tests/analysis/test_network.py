"""Walking graph: noding, snapping, multi-source and pairwise distances, isochrones.

Checked by hand on a river with one bridge, and against networkx on a street
lattice built independently (edges split at each snapped point by brute force).
"""

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from analysis.network import build_walk_graph, isochrones, nearest_distances, pair_distances, snap_points
from geo.errors import AnalysisError
from tests.analysis.coverage_fixtures import UTM, at, lattice_roads, line, roads_layer


def _pts(xy) -> gpd.GeoSeries:
    return gpd.GeoSeries([at(x, y) for x, y in xy], crs=UTM)


def _river():
    return build_walk_graph(roads_layer([line((0, -50), (2000, -50)), line((0, 50), (2000, 50)),
                                         line((1000, -50), (1000, 50))]))


def test_river_walk_is_longer_than_the_line():
    g = _river()
    assert (g.n_nodes, g.n_edges, g.n_components) == (6, 5, 1)  # bridge ends split both banks
    assert g.length_m == pytest.approx(4100.0)
    fac = snap_points(g, _pts([(0, -60)]))
    res = snap_points(g, _pts([(0, 60), (100, -55), (1000, 0), (1990, 55)]))
    assert_allclose(res.snap_m, [10, 5, 0, 5])
    dist, who = nearest_distances(g, fac, res, limit_m=5000)
    # 10 + 1000 + 100 + 1000 + 10 across the bridge; 10 + 100 + 5 along the bank; 10 + 1000 + 50 up the bridge;
    # 10 + 1000 + 100 + 990 + 5 to the far end of the north bank.
    assert_allclose(dist, [2120, 115, 1060, 2105])
    assert who.tolist() == [0, 0, 0, 0]
    # A cutoff below the walk: out of reach, no source.
    dist, who = nearest_distances(g, fac, res, limit_m=2000)
    assert np.isinf(dist[[0, 3]]).all() and who[[0, 3]].tolist() == [-1, -1]
    assert_allclose(dist[[1, 2]], [115, 1060])


def test_two_points_on_one_edge_walk_along_it():
    g = build_walk_graph(roads_layer([line((0, 0), (1000, 0))]))
    src = snap_points(g, _pts([(400, 10)]))
    dst = snap_points(g, _pts([(450, -20), (0, 0)]))
    dist, _ = nearest_distances(g, src, dst, limit_m=1000)
    assert_allclose(dist, [10 + 50 + 20, 10 + 400])
    assert_allclose(pair_distances(g, src, dst, limit_m=1000).toarray(), [[80, 410]])


def test_several_points_on_shared_edges():
    g = build_walk_graph(roads_layer([line((0, 0), (1000, 0)), line((1000, 0), (1000, 1000))]))
    src = snap_points(g, _pts([(100, 5), (900, -5), (1005, 500)]))
    dst = snap_points(g, _pts([(200, 0), (950, 10), (995, 600), (1000, 0)]))
    # Along the bottom edge directly, or round the corner at (1000, 0).
    expected = np.array([
        [5 + 100, 5 + 850 + 10, 5 + 900 + 600 + 5, 5 + 900],
        [5 + 700, 5 + 50 + 10, 5 + 100 + 600 + 5, 5 + 100],
        [5 + 500 + 800, 5 + 500 + 50 + 10, 5 + 100 + 5, 5 + 500],
    ], dtype=float)
    assert_allclose(pair_distances(g, src, dst, limit_m=5000).toarray(), expected)
    dist, who = nearest_distances(g, src, dst, limit_m=5000)
    assert_allclose(dist, expected.min(axis=0))
    assert who.tolist() == expected.argmin(axis=0).tolist()


def test_unwalkable_roads_are_left_out_and_disconnected_parts_unreached():
    roads = roads_layer([line((0, 0), (100, 0)), line((100, 0), (200, 0)), line((300, 0), (400, 0))],
                        walkable=[True, False, True])
    g = build_walk_graph(roads)
    assert g.n_components == 2 and g.length_m == pytest.approx(200.0)
    dist, who = nearest_distances(g, snap_points(g, _pts([(0, 0)])), snap_points(g, _pts([(400, 0)])), limit_m=5000)
    assert np.isinf(dist[0]) and who[0] == -1


def test_geographic_roads_refused_unless_converted():
    roads = roads_layer([line((0, 0), (1000, 0))]).to_crs(4326)
    with pytest.raises(AnalysisError, match="roads is in EPSG:4326, whose units are not metres"):
        build_walk_graph(roads)
    g = build_walk_graph(roads, crs=UTM)
    assert g.length_m == pytest.approx(1000.0, abs=1e-3)
    with pytest.raises(AnalysisError, match="points is in EPSG:4326, whose units are not metres"):
        snap_points(g, _pts([(0, 0)]).to_crs(4326))


def test_no_walkable_line_is_an_error():
    roads = roads_layer([line((0, 0), (100, 0))], walkable=[False])
    with pytest.raises(AnalysisError, match="the roads layer has no walkable line"):
        build_walk_graph(roads)
    with pytest.raises(AnalysisError, match="`limit_m` was -1 but must be a finite distance"):
        g = build_walk_graph(roads_layer([line((0, 0), (100, 0))]))
        nearest_distances(g, snap_points(g, _pts([(0, 0)])), snap_points(g, _pts([(0, 0)])), limit_m=-1)


def _nx_reference(kept, sources_xy, targets_xy):
    """Distances by networkx on the lattice edges, each point inserted on its nearest edge by brute force."""
    G = nx.Graph()
    for a, b in kept:
        G.add_edge(a, b, weight=float(np.hypot(b[0] - a[0], b[1] - a[1])))
    segs = [shapely.LineString(e) for e in kept]

    def insert(name, xy):
        p = shapely.Point(xy)
        d = [s.distance(p) for s in segs]
        k = int(np.argmin(d))
        a, b = kept[k]
        t = segs[k].project(p)
        node = ("p", name)
        G.add_edge(node, a, weight=t, key=k)
        G.add_edge(node, b, weight=segs[k].length - t, key=k)
        G.add_edge(name, node, weight=d[k])
        return k, node

    src_edges = [insert(("s", i), xy) for i, xy in enumerate(sources_xy)]
    tgt_edges = [insert(("t", j), xy) for j, xy in enumerate(targets_xy)]
    # Points on the same lattice edge can walk along it directly.
    for i, (ks, ns) in enumerate(src_edges):
        for j, (kt, nt) in enumerate(tgt_edges):
            if ks == kt:
                ps = segs[ks].project(shapely.Point(sources_xy[i]))
                pt = segs[kt].project(shapely.Point(targets_xy[j]))
                G.add_edge(ns, nt, weight=abs(ps - pt))
    return G


def test_lattice_distances_match_networkx():
    roads, kept = lattice_roads(size=6, step_m=100.0, seed=3, drop=10)
    g = build_walk_graph(roads)
    assert g.length_m == pytest.approx(100.0 * len(kept))
    rng = np.random.default_rng(11)
    sources_xy = rng.uniform(-20, 520, size=(4, 2))
    targets_xy = rng.uniform(-20, 520, size=(30, 2))
    G = _nx_reference(kept, sources_xy, targets_xy)
    src = snap_points(g, _pts(sources_xy))
    dst = snap_points(g, _pts(targets_xy))

    # Pairwise against single-source networkx runs.
    pairs = pair_distances(g, src, dst, limit_m=800).toarray()
    pairs[pairs == 0] = np.inf
    for i in range(len(sources_xy)):
        ref = nx.single_source_dijkstra_path_length(G, ("s", i), weight="weight")
        expected = np.array([ref.get(("t", j), np.inf) for j in range(len(targets_xy))])
        expected[expected > 800] = np.inf
        assert_allclose(pairs[i], expected, atol=1e-6)

    # Nearest source against networkx's multi-source Dijkstra.
    dist, who = nearest_distances(g, src, dst, limit_m=5000)
    ref = nx.multi_source_dijkstra_path_length(G, [("s", i) for i in range(len(sources_xy))], weight="weight")
    assert_allclose(dist, [ref[("t", j)] for j in range(len(targets_xy))], atol=1e-6)
    full = pair_distances(g, src, dst, limit_m=5000).toarray()
    assert_allclose(full[who, np.arange(len(targets_xy))], dist, atol=1e-6)


def test_isochrone_cuts_roads_where_the_distance_runs_out():
    g = build_walk_graph(roads_layer([line((0, -50), (2000, -50)), line((0, 50), (2000, 50)),
                                      line((1000, -50), (1000, 50)), line((500, -100), (500, 0))]))
    iso = isochrones(g, snap_points(g, _pts([(0, -60), (1990, 60)])), limit_m=1100, corridor_m=10)
    # 1090 m along the south bank, 50 + 50 of the side street, 90 m up the bridge.
    assert shapely.union_all(shapely.get_parts(iso.reach_lines.iloc[0])).length == pytest.approx(1280.0)
    # From (1990, 60): 10 m to the north bank, then 1090 m west to x = 900 and 10 m east to its end;
    # the bridge's north end is 1000 m away, leaving just its 100 m.
    assert shapely.union_all(shapely.get_parts(iso.reach_lines.iloc[1])).length == pytest.approx(1100 + 100)
    assert iso.geometry.iloc[0].contains(at(1000, 30))
    assert not iso.geometry.iloc[0].contains(at(1000, 60))
    assert iso.crs == g.crs
