"""Coverage by grid: exact area shares, estates, walking vs straight line, totals, reach matrix, bad input."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

from analysis.accessibility import accessibility_by_grid
from analysis.coverage import (
    DEFAULT_RADIUS_M,
    compute_coverage,
    coverage_by_grid,
    district_totals,
    gap_list,
    grid_columns,
    prepare_inputs,
    service_areas,
    source_target_reach,
    street_totals,
)
from analysis.network import build_walk_graph
from geo.errors import AnalysisError
from tests.analysis.coverage_fixtures import (
    UTM,
    at,
    dataset,
    estates_layer,
    facilities_layer,
    grids_layer,
    raster_share,
    rect,
    river_district,
)


def _area_district():
    """Nine area grids (no estates) of 300 m, one L-shaped and one triangular; three day-care stations."""
    geoms, ids, streets = [], [], []
    for j in range(3):
        for i in range(3):
            geoms.append(rect(300 * i, 300 * j, 300 * i + 300, 300 * j + 300))
            ids.append(f"G{j}{i}")
            streets.append("甲街道" if i < 2 else "乙街道")
    geoms[4] = shapely.difference(geoms[4], rect(450, 450, 600, 600))  # L shape
    geoms.append(shapely.Polygon([at(900, 0).coords[0], at(1200, 0).coords[0], at(900, 300).coords[0]]))
    ids.append("T")
    streets.append("乙街道")
    elderly = [100, 200, 300, 400, 500, 600, 700, 800, 900, 50]
    grids = grids_layer(geoms, ids=ids, streets=streets, elderly=elderly)
    fac = facilities_layer([at(150, 150), at(620, 410), at(1000, 100), at(450, 800)],
                           types=["day_care", "day_care", "day_care", "health_center"],
                           status=["operating", "operating", "planned", "operating"])
    return dataset(grids, fac), grids


def test_exact_quarter_circle_by_hand():
    grids = grids_layer([rect(0, 0, 400, 400)], ids=["A"], streets=["s"], elderly=[1000])
    fac = facilities_layer([at(0, 0)], types=["day_care"])
    t = coverage_by_grid(dataset(grids, fac), radius_m=200)
    share = np.pi * 200**2 / 4 / 400**2  # a quarter circle in the corner
    assert t["placement"].tolist() == ["area"]
    assert t["covered_share"].iloc[0] == pytest.approx(share, rel=2e-4)
    assert t["covered_elderly"].iloc[0] == pytest.approx(1000 * share, rel=2e-4)


@pytest.mark.parametrize("radius_m", [150.0, 300.0, 420.0])
def test_area_share_matches_a_brute_force_raster(radius_m):
    ds, grids = _area_district()
    t = coverage_by_grid(ds, radius_m=radius_m)
    centres = np.array([[p.x, p.y] for p in [at(150, 150), at(620, 410)]])  # operating day-care only
    for k, poly in enumerate(grids.geometry):
        expected = raster_share(poly, centres, np.full(2, radius_m), step_m=1.5)
        assert t["covered_share"].iloc[k] == pytest.approx(expected, abs=3e-3), t["grid_id"].iloc[k]
    assert_allclose(t["covered_elderly"], t["covered_share"] * grids["elderly"].to_numpy(), rtol=1e-9)
    assert_allclose(t["uncovered_elderly"] + t["covered_elderly"], grids["elderly"].to_numpy())


def test_planned_and_several_types_with_their_own_radii():
    ds, grids = _area_district()
    radii = {"day_care": 250.0, "health_center": 400.0}
    t = coverage_by_grid(ds, facility_types=("day_care", "health_center"), radius_m=radii, include_planned=True)
    pts = [at(150, 150), at(620, 410), at(1000, 100), at(450, 800)]
    centres = np.array([[p.x, p.y] for p in pts])
    r = np.array([250.0, 250.0, 250.0, 400.0])
    for k, poly in enumerate(grids.geometry):
        assert t["covered_share"].iloc[k] == pytest.approx(raster_share(poly, centres, r, step_m=1.5), abs=3e-3)
    # Without the planned station the triangle (which holds it) is covered less.
    t2 = coverage_by_grid(ds, facility_types=("day_care", "health_center"), radius_m=radii)
    tri = t["grid_id"] == "T"
    assert t2.loc[tri, "covered_share"].iloc[0] < t.loc[tri, "covered_share"].iloc[0]


def test_estate_grids_count_households_weights():
    # One grid, two estates: 30 and 70 households; only the first within 200 m of the station.
    grids = grids_layer([rect(0, 0, 1000, 1000)], ids=["A"], streets=["s"], elderly=[50], population=[400])
    estates = estates_layer([rect(90, 90, 110, 110), at(800, 800)], households=[30, 70])
    fac = facilities_layer([at(0, 0)], types=["day_care"])
    res = compute_coverage(dataset(grids, fac, estates=estates), radius_m=200)
    row = res.grids.iloc[0]
    assert row["placement"] == "estates"
    assert row["covered_elderly"] == pytest.approx(50 * 0.3)
    assert row["covered_share"] == pytest.approx(0.3)
    # Mean distance of the residents: 30 % at ~141 m, 70 % at ~1131 m.
    assert row["nearest_m"] == pytest.approx(0.3 * np.hypot(100, 100) + 0.7 * np.hypot(800, 800), rel=1e-6)
    est = res.estates()
    assert est["estate_id"].tolist() == ["E1", "E2"] and est["covered"].tolist() == [True, False]
    pop = coverage_by_grid(dataset(grids, fac, estates=estates), radius_m=200, weight="population")
    assert list(pop.columns) == list(grid_columns("population"))
    assert pop["covered_population"].iloc[0] == pytest.approx(400 * 0.3)


def test_walking_across_a_river_is_longer_than_the_line():
    ds = river_district()
    line = coverage_by_grid(ds, radius_m=300).set_index("grid_id")
    walk = coverage_by_grid(ds, radius_m=300, distance="walking").set_index("grid_id")
    assert line.loc["N", "covered_share"] == 1.0  # 120 m away in a straight line
    assert walk.loc["N", "covered_share"] == 0.0  # but 2,120 m on foot over the bridge
    assert walk.loc["N", "nearest_m"] == pytest.approx(2120.0, abs=0.5)
    assert line.loc["N", "nearest_m"] == pytest.approx(120.0, abs=0.5)
    far = coverage_by_grid(ds, radius_m=2200, distance="walking").set_index("grid_id")
    assert far.loc["N", "covered_elderly"] == pytest.approx(120.0)
    # A graph built once and passed in gives the same answer.
    g = build_walk_graph(prepare_inputs(ds).roads)
    again = coverage_by_grid(ds, radius_m=300, distance="walking", graph=g).set_index("grid_id")
    pd.testing.assert_frame_equal(again, walk)


def test_walking_coverage_of_area_grids_counts_lattice_points():
    ds = river_district()
    no_estates = dataset(ds.grids.to_crs(UTM), ds.facilities.to_crs(UTM), roads=ds.roads.to_crs(UTM))
    res = compute_coverage(no_estates, radius_m=500, distance="walking")
    d = res.demand
    assert (d["source"] == "area").all()
    for gid, grp in d.groupby("grid_id"):
        expected = float((grp["nearest_m"] <= 500).mean())
        assert res.grids.set_index("grid_id").loc[gid, "covered_share"] == pytest.approx(expected)


def test_totals_streets_and_gaps_add_up():
    ds, grids = _area_district()
    t = coverage_by_grid(ds, radius_m=300)
    tot = district_totals(t)
    assert tot.total == grids["elderly"].sum()
    assert tot.covered == pytest.approx(t["covered_elderly"].sum())
    assert tot.covered_share == pytest.approx(t["covered_elderly"].sum() / grids["elderly"].sum())
    assert tot.grids == 10 and tot.streets == 2
    s = street_totals(t)
    assert s["street"].tolist() == sorted(s["street"], key=lambda x: s.set_index("street").loc[x, "covered_share"])
    for _, row in s.iterrows():
        part = t[t["street"] == row["street"]]
        assert row["grids"] == len(part)
        assert row["covered_elderly"] == pytest.approx(part["covered_elderly"].sum())
        assert row["covered_share"] == pytest.approx(part["covered_elderly"].sum() / part["elderly"].sum())
    g = gap_list(t)
    assert g["rank"].tolist() == list(range(1, len(g) + 1))
    assert (np.diff(g["uncovered_elderly"].to_numpy()) <= 0).all()
    assert set(g["grid_id"]) == set(t.loc[t["uncovered_elderly"] >= 0.5, "grid_id"])
    assert tot.as_dict()["covered_share"] == round(tot.covered_share, 4)


def test_geographic_layers_are_converted_and_degrees_refused_where_measured():
    ds, grids = _area_district()
    # Dataset layers are WGS84: converted to the UTM zone before measuring.
    inputs = prepare_inputs(ds)
    assert inputs.crs.to_epsg() == 32649
    assert inputs.grids.crs.to_epsg() == 32649 and inputs.demand.crs.to_epsg() == 32649
    # The same layers handed over in metres give the same table.
    metric = {"grids": ds.grids.to_crs(UTM), "facilities": ds.facilities.to_crs(UTM)}
    pd.testing.assert_frame_equal(coverage_by_grid(metric, radius_m=300), coverage_by_grid(ds, radius_m=300))
    # The low-level reach matrix refuses degrees outright.
    with pytest.raises(AnalysisError, match="sources is in EPSG:4326, whose units are not metres"):
        source_target_reach(ds.facilities, inputs.demand, radius_m=300)
    with pytest.raises(AnalysisError, match="the grids layer has no CRS"):
        coverage_by_grid({"grids": ds.grids.set_crs(None, allow_override=True), "facilities": ds.facilities})


def test_source_target_reach_matches_brute_force_and_walking_graph():
    rng = np.random.default_rng(5)
    src = gpd.GeoSeries([at(x, y) for x, y in rng.uniform(0, 1000, (7, 2))], crs=UTM)
    dst = gpd.GeoSeries([at(x, y) for x, y in rng.uniform(0, 1000, (60, 2))], crs=UTM)
    rm = source_target_reach(src, dst, radius_m=300)
    a = np.array([[p.x, p.y] for p in src])
    b = np.array([[p.x, p.y] for p in dst])
    d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    assert (rm.covers.toarray() == (d <= 300)).all()
    assert_allclose(rm.distance_m.toarray()[d <= 300], d[d <= 300])
    # A point on a facility is reached at 0 m, and stays stored.
    same = source_target_reach(src, src, radius_m=10)
    assert same.covers.diagonal().all() and same.distance_m.nnz == 7

    ds = river_district()
    inputs = prepare_inputs(ds)
    g = build_walk_graph(inputs.roads)
    walk = source_target_reach(inputs.facilities, inputs.demand, radius_m=2500, distance="walking", graph=g)
    est = inputs.demand["estate_id"].astype(str).tolist()
    assert walk.distance_m[0, est.index("E1")] == pytest.approx(2120.0, abs=0.5)
    with pytest.raises(AnalysisError, match="walking reach needs the walking graph"):
        source_target_reach(inputs.facilities, inputs.demand, radius_m=300, distance="walking")


def test_service_areas_circles_and_isochrones():
    ds = river_district()
    circles = service_areas(ds, radius_m=300)
    assert circles["facility_id"].tolist() == ["F1"]
    assert circles.area.iloc[0] == pytest.approx(np.pi * 300**2, rel=3e-3)
    iso = service_areas(ds, radius_m=1100, distance="walking", corridor_m=20)
    poly = iso.geometry.iloc[0]
    assert poly.contains(at(1000, 20))  # up the bridge (90 m of it)
    assert not poly.contains(at(0, 60))  # the north bank beyond it
    assert poly.area < circles.area.iloc[0] * (1100 / 300) ** 2


@pytest.mark.parametrize(
    ("kwargs", "message", "code", "params"),
    [
        ({"facility_types": "nursing_home"}, r"facility type 'nursing_home' \(养老院\) is not in the data; "
                                             r"types present: day_care", "analysis.type_not_in_data",
         {"type": "nursing_home", "present": "day_care"}),
        ({"facility_types": "school"}, r"`facility_type` was 'school' but is expected to be one of: day_care, ",
         "analysis.bad_choice", {"name": "facility_type", "value": "school",
                                 "allowed": "day_care, elderly_service_center, nursing_home, elderly_canteen, "
                                            "health_station, health_center"}),
        ({"facility_types": ()}, r"choose at least one facility type", "analysis.no_facility_type", {}),
        ({"radius_m": 0}, r"`radius_m` was 0 but must be greater than 0 m", "analysis.not_positive",
         {"name": "radius_m", "value": "0"}),
        ({"radius_m": -50}, r"`radius_m` was -50 but must be greater than 0 m", "analysis.not_positive",
         {"name": "radius_m", "value": "-50"}),
        ({"radius_m": float("nan")}, r"`radius_m` was nan but must be greater than 0 m", "analysis.not_positive",
         {"name": "radius_m", "value": "nan"}),
        ({"radius_m": 8000}, r"`radius_m` was 8000 m but must be at most 5000 m", "analysis.radius_out_of_range",
         {"name": "radius_m", "value": "8000", "max": "5000"}),
        ({"radius_m": "far"}, r"`radius_m` was 'far' but must be a number of metres", "analysis.not_a_number",
         {"name": "radius_m", "value": "far"}),
        ({"radius_m": {"day_care": 0}}, r"`radius_m\[day_care\]` was 0 but must be greater than 0 m",
         "analysis.not_positive", {"name": "radius_m[day_care]", "value": "0"}),
        ({"distance": "driving"}, r"`distance` was 'driving' but is expected to be one of: euclidean, walking",
         "analysis.bad_choice", {"name": "distance", "value": "driving", "allowed": "euclidean, walking"}),
        ({"weight": "children"}, r"`weight` was 'children' but is expected to be one of: elderly, population",
         "analysis.bad_choice", {"name": "weight", "value": "children", "allowed": "elderly, population"}),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, message, code, params):
    with pytest.raises(AnalysisError, match=message) as exc:
        coverage_by_grid(river_district(), **kwargs)
    assert exc.value.code == code
    assert dict(exc.value.params) == params


def test_old_method_keyword_is_only_a_cli_alias():
    # One name per concept inside (analysis/options.py): `--method` stays at the CLI (tests/analysis/test_options.py).
    ds = river_district()
    for fn in (coverage_by_grid, compute_coverage, service_areas, accessibility_by_grid):
        with pytest.raises(TypeError, match="unexpected keyword argument 'method'"):
            fn(ds, radius_m=300, method="walking")


def test_walking_without_roads_is_a_clear_error():
    ds = river_district().with_layer("roads", None)
    with pytest.raises(AnalysisError, match=r"walking distance needs a roads layer \(道路\), and this dataset has "
                                            "none; import one or use straight-line distance") as exc:
        coverage_by_grid(ds, distance="walking")
    assert exc.value.code == "analysis.no_roads"
    with pytest.raises(AnalysisError, match="walking distance needs a roads layer"):
        service_areas(ds, distance="walking")


def test_default_radius_follows_the_life_circles():
    ds = river_district()
    assert DEFAULT_RADIUS_M["day_care"] == 300.0 and DEFAULT_RADIUS_M["health_center"] == 1000.0
    pd.testing.assert_frame_equal(coverage_by_grid(ds), coverage_by_grid(ds, radius_m=300))


def test_inputs_are_not_modified():
    ds = river_district()
    before = {n: ds.layer(n).copy() for n in ds.present_layers()}
    compute_coverage(ds, radius_m=500, distance="walking")
    service_areas(ds, radius_m=500, distance="walking")
    for n, layer in before.items():
        pd.testing.assert_frame_equal(pd.DataFrame(ds.layer(n)), pd.DataFrame(layer))


def test_a_resident_exactly_at_the_radius_is_within_reach():
    # Layers handed over in the metric CRS, so the distances are exact: 300 m and 5,000 m (the largest radius).
    grids = grids_layer([rect(0, 0, 6000, 1000)], ids=["A"], streets=["s"], elderly=[100])
    fac = facilities_layer([at(500, 500)], types=["day_care"])
    near = {"grids": grids, "facilities": fac, "estates": estates_layer([at(800, 500)], households=[10])}
    far = {"grids": grids, "facilities": fac, "estates": estates_layer([at(5500, 500)], households=[10])}
    for data, radius_m in ((near, 300.0), (far, 5000.0)):
        for limit in (radius_m, 5000.0):
            res = compute_coverage(data, radius_m=radius_m, search_limit_m=limit)
            assert res.demand["nearest_m"].iloc[0] == pytest.approx(radius_m), (radius_m, limit)
            assert res.demand["covered"].iloc[0], (radius_m, limit)
            assert res.grids["covered_share"].iloc[0] == 1.0
        # the reach matrix (siting's definition) agrees
        inputs = prepare_inputs(data)
        assert source_target_reach(inputs.facilities, inputs.demand, radius_m=radius_m).covers[0, 0]


def test_multipolygon_empty_grid_point_estates_and_stations_outside_the_grids():
    # M: two separate 200 m squares (no estates) -> exact area share; Z: nobody lives there -> share of its area;
    # P: two estates drawn as points; both stations stand outside every grid.
    mp = shapely.MultiPolygon([rect(0, 0, 200, 200), rect(600, 0, 800, 200)])
    grids = grids_layer([mp, rect(0, 400, 400, 800), rect(400, 400, 800, 800)], ids=["M", "Z", "P"],
                        streets=["s"] * 3, elderly=[100, 0, 60], population=[400, 0, 200])
    estates = estates_layer([at(500, 500), at(700, 700)], households=[10, 30])
    stations = [at(-100, 100), at(900, 600)]
    fac = facilities_layer(stations, types=["day_care", "day_care"])
    t = coverage_by_grid(dataset(grids, fac, estates=estates), radius_m=250).set_index("grid_id")
    centres = np.array([[p.x, p.y] for p in stations])
    m_share = raster_share(grids.geometry.iloc[0], centres, np.full(2, 250.0), step_m=1.0)
    assert 0.2 < m_share < 0.5
    assert t.loc["M", "placement"] == "area"
    assert t.loc["M", "covered_share"] == pytest.approx(m_share, abs=2e-3)
    assert t.loc["M", "covered_elderly"] == pytest.approx(100 * m_share, abs=0.2)
    z_share = raster_share(grids.geometry.iloc[1], centres, np.full(2, 250.0), step_m=1.0)
    assert t.loc["Z", "covered_elderly"] == 0.0 and t.loc["Z", "uncovered_elderly"] == 0.0
    assert t.loc["Z", "covered_share"] == pytest.approx(z_share, abs=2e-3)
    # P: the estate at (700, 700) is 223.6 m from (900, 600), the one at (500, 500) 412.3 m: 30 of 40 households.
    assert t.loc["P", "placement"] == "estates"
    assert t.loc["P", "covered_elderly"] == pytest.approx(60 * 30 / 40)
    assert t.loc["P", "nearest_m"] == pytest.approx((10 * np.hypot(400, 100) + 30 * np.hypot(200, 100)) / 40, rel=1e-6)
