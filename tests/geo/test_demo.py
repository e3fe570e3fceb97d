"""The demo generator: exact figures, contiguous non-overlapping grids, valid layers, determinism.

The bundled ``data/shifeng_demo.gpkg`` is read back with `read_dataset` (which
validates every layer) and compared with a fresh build from the same seed.
"""

import json
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

import cli
from geo import _demo_specs as specs
from geo.crs import gcj02_to_wgs84
from geo.dataset import DEMO_PATH, read_dataset
from geo.demo import SYNTHETIC_LABEL, allocate, build_dataset, load_outline, summary
from geo.errors import AnalysisError
from geo.schema import CASE_CATEGORIES, FACILITY_TYPES, LAYER_NAMES, validate_layer


@pytest.fixture(scope="module")
def bundled():
    return read_dataset(DEMO_PATH)


@pytest.fixture(scope="module")
def built():
    return build_dataset("shifeng", seed=2019)


@pytest.fixture(scope="module")
def wuchang_small():
    # the full Wuchang build has 1 M cases; the grid, estate and facility figures do not depend on that
    return build_dataset("wuchang", seed=2019, n_cases=5_000)


def _metric(gdf: gpd.GeoDataFrame, ds) -> gpd.GeoDataFrame:
    return gdf.to_crs(ds.metric_crs)


def _outline_metric(district: str, ds) -> shapely.Geometry:
    return gpd.GeoSeries([load_outline(district)], crs=4326).to_crs(ds.metric_crs).iloc[0]


# --- allocate ----------------------------------------------------------------------------------

def test_allocate_is_exact_and_proportional():
    rng = np.random.default_rng(1)
    w = rng.random(50)
    out = allocate(1_000, w)
    assert out.sum() == 1_000
    assert np.all(np.abs(out - w / w.sum() * 1_000) < 1.0)  # largest remainder: never a whole unit off
    assert allocate(7, [1, 1, 1]).tolist() == [3, 2, 2]


def test_allocate_refuses_bad_weights():
    with pytest.raises(AnalysisError, match="cannot allocate 5 over weights summing to 0"):
        allocate(5, [0.0, 0.0])


# --- the bundled Shifeng demo --------------------------------------------------------------------

def test_bundled_file_is_what_the_generator_builds(bundled, built):
    for name in LAYER_NAMES:
        a, b = bundled.layer(name), built.layer(name)
        assert a is not None and b is not None, name
        assert_geodataframe_equal(a, b[a.columns], check_dtype=False, check_less_precise=True,
                                  normalize=True)
    assert bundled.meta_dict == built.meta_dict
    assert bundled.name == "石峰区"


def test_every_layer_of_the_bundled_file_validates_again(bundled):
    for name in bundled.present_layers():
        layer = bundled.layer(name)
        again = validate_layer(layer, name)
        assert len(again) == len(layer), name


def test_meta_says_synthetic(bundled):
    meta = bundled.meta_dict
    assert meta["synthetic"] == "true"
    assert meta["label"] == SYNTHETIC_LABEL
    assert "模拟" in meta["label"] and "Synthetic" in meta["label"]
    assert meta["name"] == meta["district"] == "石峰区"
    assert meta["scale"] == "shifeng"
    assert meta["seed"] == "2019"
    assert meta["as_of"] == "2019-06-30"


def test_grids_figures_are_exact(bundled):
    g = bundled.grids
    assert len(g) == 232
    assert g["grid_id"].is_unique
    assert g["grid_id"].str.fullmatch(r"SF-(XSL|TTW|QST|TX|JL)-\d{3}").all()
    assert int(g["population"].sum()) == 250_000
    assert int(g["elderly"].sum()) == 45_200
    assert (g["elderly"] <= g["population"]).all()
    assert (g["population"] > 0).all()
    ratio = g["population"].sum() / g["households"].sum()
    assert 2.6 < ratio < 2.8
    assert sorted(g["street"].unique()) == sorted(["响石岭", "铜塘湾", "清水塘", "田心", "井龙"])
    assert len(g[["street", "community"]].drop_duplicates()) == 33
    for name in ("李家冲", "花果山", "北岭", "泉塘湾", "东门", "报亭"):
        assert (g["community"] == name).any(), name
    workers = g["grid_worker"].str.split("、").str.len().sum()
    assert workers == 344


def test_street_sums_match_the_street_totals(bundled):
    totals = json.loads(bundled.meta_dict["street_totals"])
    sums = bundled.grids.groupby("street")[["population", "elderly"]].sum()
    for st in specs.SHIFENG.streets:
        assert int(sums.loc[st.name, "population"]) == st.population == totals[st.name]["population"]
        assert int(sums.loc[st.name, "elderly"]) == st.elderly == totals[st.name]["elderly"]


def test_grids_tile_the_outline_without_overlap(bundled):
    g = _metric(bundled.grids, bundled)
    assert g.is_valid.all()
    areas = g.area.to_numpy()
    # pairwise overlaps, checked directly
    tree = shapely.STRtree(g.geometry.values)
    a, b = tree.query(g.geometry.values, predicate="intersects")
    pairs = a < b
    overlap = shapely.area(shapely.intersection(g.geometry.values[a[pairs]], g.geometry.values[b[pairs]]))
    assert overlap.max() < 1e-3  # square metres: shared edges only
    outline = _outline_metric("石峰区", bundled)
    union = shapely.union_all(g.geometry.values)
    assert union.difference(outline.buffer(0.01)).area < 1.0
    assert outline.difference(union).area < 1.0  # no holes: the whole district is gridded
    assert areas.sum() == pytest.approx(outline.area, rel=1e-9)


def test_grids_are_denser_in_town(bundled):
    g = _metric(bundled.grids, bundled)
    density = g["population"] / (g.area / 1e6)
    assert density.max() > 50 * density.min()
    # the rural north (above 27.95 N) is sparse
    north = bundled.grids.geometry.representative_point().y > 27.95
    assert density[north.to_numpy()].median() < density[~north.to_numpy()].median() / 10


def test_streets_and_communities_are_contiguous(bundled):
    g = bundled.grids
    for _, part in g.groupby("street"):
        assert shapely.union_all(part.geometry.values).geom_type == "Polygon"
    for _, part in g.groupby(["street", "community"]):
        assert shapely.union_all(part.geometry.values).geom_type == "Polygon"


def test_facilities_of_every_type(bundled):
    f = bundled.facilities
    counts = f["type"].value_counts()
    assert set(counts.index) == set(FACILITY_TYPES)
    assert counts["health_center"] == 5
    hc = f[f["type"] == "health_center"]
    assert sorted(hc["street"]) == sorted(s.name for s in specs.SHIFENG.streets)
    assert counts["nursing_home"] <= 6
    assert counts["health_station"] >= 5
    # day care in most but not all communities: the community of each day-care station's grid
    joined = gpd.sjoin(f[f["type"] == "day_care"], bundled.grids[["community", "street", "geometry"]],
                       predicate="within")
    names = f.loc[f["type"] == "day_care", "name"].str.replace("社区日间照料中心", "")
    assert 20 < names.nunique() < 33
    assert len(joined) == counts["day_care"]  # every station lies in a grid
    assert set(f["status"]) == {"operating", "planned"}
    assert (f["status"] == "planned").sum() < 0.2 * len(f)
    assert f["capacity"].notna().all() and (f["capacity"] > 0).all()


def test_estates(bundled):
    e = bundled.estates
    assert len(e) == 600
    assert e["estate_id"].is_unique and e["name"].is_unique
    assert int((e["management"] == "unmanaged").sum()) == 182
    assert set(e["management"]) == {"unmanaged", "property_company", "self_governed"}
    for name in ("协力大山地", "都市兰亭", "莱茵小镇", "新新家园", "选矿小区"):
        assert (e["name"] == name).sum() == 1, name
    xx = e[e["name"] == "新新家园"].iloc[0]
    assert xx["street"] == "田心" and xx["built_year"] == 2005 and xx["households"] == 216
    assert e.loc[e["management"] == "self_governed", "committee_formed_on"].notna().all()
    assert e["committee_formed_on"].max() <= pd.Timestamp("2019-06-30")
    # each estate lies inside one grid (so residents are split among the estates of their grid)
    em = _metric(e, bundled)
    gm = _metric(bundled.grids, bundled)
    inside = gpd.sjoin(em, gm[["grid_id", "street", "geometry"]], predicate="within")
    assert inside.index.is_unique and len(inside) == len(e)
    assert (inside["street_left"] == inside["street_right"]).all()
    # and they do not overlap one another
    assert em.area.sum() == pytest.approx(shapely.union_all(em.geometry.values).area, rel=1e-9)


_DATES = ("committee_formed_on", "rules_adopted_on", "managed_on", "fees_started_on")
_STAGES = ("none", "committee_formed", "rules_adopted", "managed", "fees_started")


def _check_campaign(e: pd.DataFrame, meta: dict) -> None:
    """The campaign history of a generated estates layer, checked row by row without the analysis module."""
    as_of = pd.Timestamp(meta["as_of"])
    camp = e[e["management"] == "unmanaged"]
    assert camp["governance_stage"].notna().all()
    assert e.loc[e["management"] != "unmanaged", "governance_stage"].isna().all()
    for _, row in camp.iterrows():
        dates = [row[c] for c in _DATES]
        reached = [pd.notna(d) for d in dates]
        # dated stages form a prefix, in order, none after as_of, and the stage is the last one reached
        assert reached == sorted(reached, reverse=True), row["estate_id"]
        known = [d for d in dates if pd.notna(d)]
        assert known == sorted(known) and all(d <= as_of for d in known), row["estate_id"]
        assert row["governance_stage"] == _STAGES[sum(reached)], row["estate_id"]
    # the managed ones are run by a company or by the owners under one of the four models
    managed = camp[camp["governance_stage"].isin(["managed", "fees_started"])]
    assert (managed["property_company"].notna() ^ managed["self_gov_model"].notna()).all()
    assert e.loc[e["management"] == "self_governed", "self_gov_model"].notna().all()
    assert set(e["self_gov_model"].dropna()) == {"estate", "courtyard", "building", "scattered"}
    run = e[e["management"] == "property_company"]
    assert run["property_company"].notna().all() and run["satisfaction"].between(0, 100).all()
    assert e["satisfaction"].notna().eq(e["property_company"].notna()).all()
    assert pd.Timestamp(meta["estates_plan_start"]) < as_of < pd.Timestamp(meta["estates_target"])


def test_estates_campaign(bundled):
    e = bundled.estates
    _check_campaign(e, bundled.meta_dict)
    assert bundled.meta_dict["estates_plan_start"] == "2019-01-01"
    assert bundled.meta_dict["estates_target"] == "2019-12-31"
    assert e.loc[e["name"] == "选矿小区", "governance_stage"].item() == "none"
    assert 8 <= e["property_company"].nunique() <= 14
    # two streets lag on fees (the plan: ceil(N * 6 / 12) due at the end of June, counted by hand here)
    camp = e[e["management"] == "unmanaged"]
    fees = camp.groupby("street")["fees_started_on"].count()
    base = camp[camp["fees_started_on"] < pd.Timestamp("2019-01-01")].groupby("street").size()
    total = camp.groupby("street").size()
    due = {s: int(base.get(s, 0)) + -(-(int(total[s]) - int(base.get(s, 0))) * 6 // 12) for s in total.index}
    behind = sorted(s for s in total.index if fees[s] < due[s])
    assert behind == ["井龙", "清水塘"]


def _cutoff(ds) -> pd.Timestamp:
    return pd.Timestamp(ds.meta_dict["as_of"]) + pd.Timedelta(days=1)


def test_cases_handling(bundled):
    c = bundled.cases
    cutoff = _cutoff(bundled)
    assert len(c) == 12_000
    assert c["case_id"].is_unique
    assert set(c["category"]) == set(CASE_CATEGORIES)
    assert set(c["source"]) == {"微信群", "随手拍", "网格员巡查", "12345热线"}
    assert c["responsible_unit"].notna().all() and c["description"].notna().all()
    assert c["reported_at"].min() >= pd.Timestamp("2018-01-01")
    assert c["reported_at"].max() < cutoff
    assert (c["deadline"] > c["reported_at"]).all()
    closed = c["status"] == "closed"
    assert c.loc[closed, "closed_at"].notna().all() and c.loc[~closed, "closed_at"].isna().all()
    assert (c.loc[closed, "closed_at"] >= c.loc[closed, "reported_at"]).all()
    assert (c.loc[closed, "closed_at"] < cutoff).all()
    overdue = ~closed & (c["deadline"] < cutoff)
    assert int(overdue.sum()) == 93  # the article's open overdue cases
    late = closed & (c["closed_at"] > c["deadline"])
    assert 0.03 < late.mean() < 0.3
    assert closed.mean() > 0.95
    # deadlines depend on the category
    days = ((c["deadline"] - c["reported_at"]).dt.total_seconds() / 86400).groupby(c["category"]).first()
    for cat, d in specs.CASE_DEADLINE_DAYS.items():
        assert days[cat] == d
    phones = c["reporter_phone"]
    assert phones[c["source"] == "网格员巡查"].isna().all()
    assert phones[c["source"] != "网格员巡查"].str.fullmatch(r"1\d{10}").all()


def test_cases_are_seasonal_and_clustered(bundled):
    c = bundled.cases
    month = c["reported_at"].dt.month
    fumes = c["category"] == "油烟"
    summer = (fumes & month.isin([6, 7, 8])).sum() / month.isin([6, 7, 8]).sum()
    winter = (fumes & month.isin([12, 1, 2])).sum() / month.isin([12, 1, 2]).sum()
    assert summer > 1.5 * winter
    lamps = c["category"] == "路灯"
    assert (lamps & month.isin([11, 12, 1])).sum() / month.isin([11, 12, 1]).sum() > \
        (lamps & month.isin([5, 6, 7])).sum() / month.isin([5, 6, 7]).sum()
    # clustered: the busiest grids per resident stand far above the typical grid
    per_1000 = c.groupby("grid_id").size().reindex(bundled.grids["grid_id"], fill_value=0) / \
        bundled.grids.set_index("grid_id")["population"] * 1000
    assert per_1000.max() > 5 * per_1000.median()
    # the building site in 铜塘湾 appears only from March 2019
    site = c["description"].str.startswith("铜塘湾新工地")
    assert site.sum() > 200
    assert c.loc[site, "reported_at"].min() >= pd.Timestamp("2019-03-01")


def test_case_grid_ids_match_an_independent_spatial_join(bundled):
    c = bundled.cases
    assert c["grid_id"].notna().all()
    sample = c.sample(2_000, random_state=3)
    joined = gpd.sjoin(sample[["case_id", "geometry"]], bundled.grids[["grid_id", "geometry"]],
                       predicate="within", how="left")
    assert joined.index.is_unique
    assert (joined["grid_id"].to_numpy() == sample["grid_id"].to_numpy()).all()


def test_roads_cross_the_railway_only_at_crossings(bundled):
    r = bundled.roads
    assert set(r.geom_type) == {"LineString"}
    assert r["walkable"].any() and not r["walkable"].all()
    spec = specs.SHIFENG
    lon, lat = gcj02_to_wgs84([p[0] for p in spec.barrier], [p[1] for p in spec.barrier])
    rail = gpd.GeoSeries([shapely.linestrings(np.column_stack([lon, lat]))], crs=4326).to_crs(bundled.metric_crs)
    clon, clat = gcj02_to_wgs84([p[0] for p in spec.crossings], [p[1] for p in spec.crossings])
    crossings = gpd.GeoSeries(gpd.points_from_xy(clon, clat), crs=4326).to_crs(bundled.metric_crs)
    walk = _metric(r[r["walkable"]], bundled)
    crossing = walk[walk.intersects(rail.iloc[0])]
    assert 4 <= len(crossing) <= 20
    dist = np.array([crossings.distance(geom).min() for geom in crossing.geometry])
    assert (dist < spec.road_spacing_m).all()
    # walkable roads stay inside the district
    outline = _outline_metric("石峰区", bundled).buffer(0.01)
    assert walk.within(outline).all()


def test_candidates(bundled):
    s = bundled.candidates
    assert len(s) == 150
    assert s["site_id"].is_unique and s["name"].is_unique
    assert (s["capacity"] > 0).all() and (s["cost"] > 0).all()
    inside = gpd.sjoin(s, bundled.grids[["grid_id", "geometry"]], predicate="within")
    assert len(inside) == len(s)


def test_summary_counts(bundled):
    out = summary(bundled)
    assert out["layers"]["grids"] == 232
    assert out["population"] == 250_000 and out["elderly"] == 45_200
    assert out["unmanaged_estates"] == 182 and out["overdue_cases"] == 93
    assert out["facilities_by_type"]["health_center"] == 5


# --- determinism -------------------------------------------------------------------------------

def test_same_seed_same_layers_other_seed_other_layers(built):
    again = build_dataset("shifeng", seed=2019)
    for name in LAYER_NAMES:
        assert_geodataframe_equal(built.layer(name), again.layer(name))
    other = build_dataset("shifeng", seed=7)
    assert not other.grids.geometry.geom_equals(built.grids.geometry).all()
    assert not other.cases["reported_at"].equals(built.cases["reported_at"])
    # the figures the article gives stay the same
    assert int(other.grids["elderly"].sum()) == 45_200
    assert int((other.estates["management"] == "unmanaged").sum()) == 182


def test_bad_arguments():
    with pytest.raises(AnalysisError, match=r"`scale` was 'paris' but is expected to be one of \('shifeng', 'wuchang'\)"):
        build_dataset("paris")  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="`n_cases` was 0 but must be at least 1"):
        build_dataset("shifeng", n_cases=0)
    with pytest.raises(AnalysisError, match="`district` was '天元区' but the outline file has only 石峰区, 武昌区"):
        load_outline("天元区")


# --- Wuchang scale (cases reduced) -------------------------------------------------------------

def test_wuchang_figures(wuchang_small):
    ds = wuchang_small
    g = ds.grids
    assert len(g) == 1_811
    assert g["grid_id"].is_unique
    assert g["street"].nunique() == 14
    assert len(g[["street", "community"]].drop_duplicates()) == 140
    assert int(g["population"].sum()) == 1_086_411
    share = g["elderly"].sum() / g["population"].sum()
    assert 0.19 < share < 0.21
    sums = g.groupby("street")["population"].sum()
    for st in specs.WUCHANG.streets:
        assert int(sums.loc[st.name]) == st.population
    counts = ds.facilities["type"].value_counts()
    assert counts["health_center"] == 19 and counts["health_station"] == 25
    assert counts["nursing_home"] == 35 and counts["elderly_service_center"] == 74
    assert len(ds.facilities) >= 200
    assert len(ds.candidates) == 500
    assert len(ds.cases) == 5_000
    assert ds.cases["grid_id"].notna().all()
    assert ds.cases["reported_at"].min() >= pd.Timestamp("2014-01-01")
    assert ds.cases["reported_at"].max() < pd.Timestamp("2017-01-01")
    assert ds.meta_dict["name"] == "武昌区" and ds.meta_dict["as_of"] == "2016-12-31"
    _check_campaign(ds.estates, ds.meta_dict)
    for name in ds.present_layers():
        assert len(validate_layer(ds.layer(name), name)) == len(ds.layer(name))


def test_wuchang_grids_tile_without_overlap(wuchang_small):
    ds = wuchang_small
    g = _metric(ds.grids, ds)
    union = shapely.union_all(g.geometry.values)
    assert g.area.sum() == pytest.approx(union.area, rel=1e-9)
    outline = _outline_metric("武昌区", ds)
    assert union.difference(outline.buffer(0.01)).area < 1.0
    for _, part in ds.grids.groupby("street"):
        assert shapely.union_all(part.geometry.values).geom_type == "Polygon"


# --- the CLI -----------------------------------------------------------------------------------

def test_cli_demo_writes_a_dataset(tmp_path, capsys):
    out = tmp_path / "d.gpkg"
    t0 = time.perf_counter()
    code = cli.main(["demo", "--scale", "shifeng", "--seed", "5", "--cases", "300", "--out", str(out)])
    wall_s = time.perf_counter() - t0
    assert code == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["layers"]["grids"] == 232 and line["layers"]["cases"] == 300
    assert line["population"] == 250_000 and line["elderly"] == 45_200 and line["seed"] == 5
    # the reported time is the build, in seconds: some of the wall time this test measured around the call
    assert 0 < line["elapsed_s"] <= wall_s
    ds = read_dataset(out)
    assert len(ds.cases) == 300 and ds.meta_dict["seed"] == "5"


def test_cli_demo_refuses_zero_cases(tmp_path, capsys):
    code = cli.main(["--lang", "en", "demo", "--scale", "shifeng", "--cases", "0", "--out", str(tmp_path / "d.gpkg")])
    assert code == 2
    assert capsys.readouterr().err == "error: `--cases` was 0 but must be a whole number of at least 1.\n"
    assert not (tmp_path / "d.gpkg").exists()
