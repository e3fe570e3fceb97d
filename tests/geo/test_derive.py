"""`geo.derive`: what a district's own files leave out, worked out once (hand-checked fixtures).

Three grids side by side (0.01° squares near Zhuzhou), estates as points and polygons: inside a grid, on the
border of two grids, a polygon across a border, just outside (29 m) and far outside (985 m). Stage dates at
several as-of days, the as-of rule with and without cases.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, box

from geo import derive
from geo.dataset import Dataset
from geo.schema import validate_layer
from i18n import problem_text

COS = 0.88458  # cos(27.805°): 0.0003° of longitude there is 29.5 m, 0.01° is 985 m


def grids3() -> gpd.GeoDataFrame:
    return validate_layer(gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2", "G3"], "street": ["田心", "田心", "清水塘"], "community": ["东门", "北岭", "霞湾"],
         "households": [10, 10, 10], "population": [30, 30, 30], "elderly": [5, 5, 5]},
        geometry=[box(113.10 + 0.01 * i, 27.80, 113.11 + 0.01 * i, 27.81) for i in range(3)], crs=4326), "grids")


ESTATE_GEOMS = {
    "E1": Point(113.105, 27.805),  # inside G1
    "E2": box(113.122, 27.802, 113.126, 27.806),  # a polygon inside G3
    "E3": Point(113.11, 27.805),  # on the border of G1 and G2: the first grid in layer order
    "E4": Point(113.1303, 27.805),  # 29.5 m east of G3: the nearest grid, within 50 m
    "E5": Point(113.14, 27.805),  # 985 m east of G3: left empty, a warning
    "E6": box(113.108, 27.801, 113.118, 27.803),  # across G1|G2, its inner point (x = 113.113) in G2
    "E7": Point(113.115, 27.805),  # in G2, its street given in the file
}
WANT_STREET = {"E1": "田心", "E2": "清水塘", "E3": "田心", "E4": "清水塘", "E5": None, "E6": "田心", "E7": "金山"}
WANT_COMMUNITY = {"E1": "东门", "E2": "霞湾", "E3": "东门", "E4": "霞湾", "E5": None, "E6": "北岭", "E7": "北岭"}


def estates7(*, dates: bool = True, street: bool = True) -> gpd.GeoDataFrame:
    """Required columns, E7's street given; stage dates on E1 (three stages), E4 (managed only), E3 (off the list)."""
    ids = list(ESTATE_GEOMS)
    data = {"estate_id": ids, "name": [f"{i}小区" for i in ids], "households": [100] * 7,
            "management": ["unmanaged", "unmanaged", "property_company", "unmanaged", "unmanaged",
                           "self_governed", "unmanaged"]}
    if street:
        data["street"] = [None] * 6 + ["金山"]
    if dates:
        data["committee_formed_on"] = ["2019-03-10", None, "2019-01-01", None, None, None, None]
        data["rules_adopted_on"] = ["2019-05-20", None, None, None, None, None, None]
        data["fees_started_on"] = ["2019-08-01", None, None, None, None, None, None]
        data["managed_on"] = [None, None, None, "2019-04-30", None, None, None]
    return validate_layer(gpd.GeoDataFrame(data, geometry=list(ESTATE_GEOMS.values()), crs=4326), "estates")


def cases2() -> gpd.GeoDataFrame:
    return validate_layer(gpd.GeoDataFrame(
        {"case_id": ["C1", "C2"], "category": ["市容环境", "路灯"], "status": ["closed", "open"],
         "reported_at": ["2019-06-29 23:59:59", "2019-05-01 08:00:00"],
         "closed_at": ["2019-07-02 09:00:00", None]},
        geometry=[Point(113.105, 27.805), Point(113.125, 27.805)], crs=4326), "cases")


def facilities1() -> gpd.GeoDataFrame:
    return validate_layer(gpd.GeoDataFrame({"facility_id": ["F1"], "name": ["东门日照中心"], "type": ["day_care"]},
                                           geometry=[Point(113.105, 27.806)], crs=4326), "facilities")


def _by_id(frame: pd.DataFrame, column: str) -> dict[str, object]:
    return {str(k): (None if pd.isna(v) else v) for k, v in zip(frame["estate_id"], frame[column], strict=True)}


# --- street and community from the grid ----------------------------------------------------------------------------

def test_street_and_community_come_from_the_grid_of_the_representative_point():
    got = derive.derive_version(grids=grids3(), estates=estates7(), meta={"as_of": "2019-06-30"},
                                latest_report=None, made_on="2019-07-01")
    assert _by_id(got.estates, "street") == WANT_STREET
    assert _by_id(got.estates, "community") == WANT_COMMUNITY
    assert got.estates_changed and got.meta[derive.OUTSIDE_KEY] == "E5"
    assert [p.code for p in got.warnings] == ["data.estate_outside_grids"]
    assert got.warnings[0].params == {"count": 1, "values": "E5", "distance_m": "50"}
    assert problem_text(got.warnings[0], lang="en") == (
        "layer estates, column street: 1 estate(s) lie in no grid and more than 50 m from every grid, so their "
        "street and community stay empty: E5 — check their positions, or fill in their street and community columns")
    assert problem_text(got.warnings[0], lang="zh").startswith("图层 小区")
    assert got.estates["street"].dtype == "string" and list(got.estates.columns)[-1] == "geometry"


def test_location_matches_a_brute_force_loop_with_geodesic_distances():
    """Every estate against every grid: covers() for the inside test, the geodesic distance (pyproj.Geod) for the
    rest; the nearest within 50 m, else none."""
    grids, estates = grids3(), estates7()
    geod = Geod(ellps="WGS84")
    want = []
    for geom in estates.geometry:
        p = geom if geom.geom_type == "Point" else geom.point_on_surface()
        inside = [i for i, g in enumerate(grids.geometry) if g.covers(p)]
        if inside:
            want.append(inside[0])
            continue
        best = None
        for i, g in enumerate(grids.geometry):
            q = shapely.ops.nearest_points(g.boundary, p)[0]
            d = geod.inv(p.x, p.y, q.x, q.y)[2]
            if d <= 50 and (best is None or d < best[0]):
                best = (d, i)
        want.append(-1 if best is None else best[1])
    assert derive.locate_estates(estates, grids).tolist() == want == [0, 2, 0, 2, -1, 1, 1]


def test_the_nearest_distance_is_the_documented_one():
    assert derive.NEAREST_GRID_MAX_M == 50.0
    grids = grids3()
    just_in = gpd.GeoDataFrame({"estate_id": ["A"]}, geometry=[Point(113.13 + 45 / (111_320 * COS), 27.805)],
                               crs=4326)
    just_out = gpd.GeoDataFrame({"estate_id": ["B"]}, geometry=[Point(113.13 + 56 / (111_320 * COS), 27.805)],
                                crs=4326)
    assert derive.locate_estates(just_in, grids).tolist() == [2]
    assert derive.locate_estates(just_out, grids).tolist() == [-1]
    assert derive.locate_estates(just_out, grids, max_distance_m=60).tolist() == [2]


def test_values_the_file_has_are_kept_and_a_complete_layer_is_unchanged():
    full = estates7()
    full["street"] = pd.array(["甲", "乙", "丙", "丁", "戊", "己", "庚"], dtype="string")
    full["community"] = pd.array(["a", "b", "c", "d", "e", "f", "g"], dtype="string")
    full["governance_stage"] = pd.array(["none", None, None, "managed", None, None, None], dtype="string")
    got = derive.derive_version(grids=grids3(), estates=full, meta={"as_of": "2019-06-30"}, latest_report=None,
                                made_on="2019-07-01")
    assert not got.estates_changed and got.meta == {"as_of": "2019-06-30"} and got.warnings == ()
    assert got.estates is full


# --- the campaign and the stage from dates -------------------------------------------------------------------------

def test_the_campaign_is_the_staged_estates_else_the_unmanaged_ones():
    e = estates7()
    assert derive.campaign_mask(e).tolist() == [True, True, False, True, True, False, True]
    e["governance_stage"] = pd.array([None, "none", None, None, None, None, None], dtype="string")
    assert derive.campaign_mask(e).tolist() == [False, True, False, False, False, False, False]
    e["governance_stage"] = pd.array([None] * 7, dtype="string")  # empty throughout: as if absent
    assert derive.campaign_mask(e).tolist() == [True, True, False, True, True, False, True]
    assert derive.campaign_mask(e.drop(columns=["management", "governance_stage"])).tolist() == [False] * 7


@pytest.mark.parametrize(("as_of", "e1", "e4"), [
    ("2019-03-09", "none", "none"),
    ("2019-03-10", "committee_formed", "none"),  # a date on the as-of day counts (the whole day)
    ("2019-04-30", "committee_formed", "managed"),  # E4: only managed_on, so the furthest stage is managed
    ("2019-06-30", "rules_adopted", "managed"),
    ("2019-08-01", "fees_started", "managed"),
])
def test_stage_from_dates_is_the_furthest_stage_dated_on_or_before_as_of(as_of, e1, e4):
    got = derive.derive_version(grids=grids3(), estates=estates7(), meta={"as_of": as_of}, latest_report=None,
                                made_on="2019-09-01")
    # E2, E5, E7: unmanaged without dates; E3 (dated, but a property company) and E6 are off the list
    assert _by_id(got.estates, "governance_stage") == {"E1": e1, "E2": "none", "E3": None, "E4": e4, "E5": "none",
                                                       "E6": None, "E7": "none"}
    assert got.meta["governance_stage_derived"] == "stage_dates"
    assert derive.stage_from_dates(estates7(), as_of).tolist()[0] == e1


def test_the_stage_agrees_with_the_estates_analysis_on_those_days():
    """`analysis.estates.stage_on` (its own reading of the dates) gives the same stage for the listed estates."""
    from analysis.estates import stage_on

    for day in ("2019-03-09", "2019-03-10", "2019-04-30", "2019-06-30", "2019-08-01"):
        got = derive.derive_version(grids=grids3(), estates=estates7(), meta={"as_of": day}, latest_report=None,
                                    made_on="2019-09-01").estates
        listed = got[got["governance_stage"].notna()]
        assert listed["governance_stage"].tolist() == stage_on(listed.drop(columns=["governance_stage"]),
                                                               day).tolist()


def test_a_stage_column_from_the_file_is_kept_and_a_derived_one_is_derived_again():
    e = estates7()
    e["governance_stage"] = pd.array(["managed", None, None, None, None, None, None], dtype="string")
    got = derive.derive_version(grids=grids3(), estates=e, meta={"as_of": "2019-03-09"}, latest_report=None,
                                made_on="2019-09-01")
    assert _by_id(got.estates, "governance_stage")["E1"] == "managed" and "governance_stage_derived" not in got.meta
    first = derive.derive_version(grids=grids3(), estates=estates7(), meta={}, latest_report="2019-03-10",
                                  made_on="2019-09-01")
    assert first.meta["as_of"] == "2019-03-10" and _by_id(first.estates, "governance_stage")["E1"] == "committee_formed"
    # the next version's cases move the derived as-of: the derived stage follows it
    again = derive.derive_version(grids=grids3(), estates=first.estates, meta=first.meta,
                                  latest_report=pd.Series(pd.to_datetime(["2019-06-30 10:00"])), made_on="2019-09-01")
    assert again.meta["as_of"] == "2019-06-30" and _by_id(again.estates, "governance_stage")["E1"] == "rules_adopted"
    assert again.estates_changed
    # the same data again: nothing changes
    same = derive.derive_version(grids=grids3(), estates=again.estates, meta=again.meta,
                                 latest_report="2019-06-30 10:00", made_on="2020-01-01")
    assert not same.estates_changed and same.meta == again.meta
    # an import that brings the column itself ends the derivation
    brought = again.estates.copy()
    brought["governance_stage"] = pd.array(["none"] * 7, dtype="string")
    own = derive.derive_version(grids=grids3(), estates=brought, meta=again.meta, latest_report="2019-06-30",
                                made_on="2020-01-01", imported={"estates": brought})
    assert own.estates["governance_stage"].tolist() == ["none"] * 7 and "governance_stage_derived" not in own.meta


# --- as_of -----------------------------------------------------------------------------------------------------------

def test_as_of_is_the_day_of_the_latest_report():
    got = derive.derive_version(grids=grids3(), estates=estates7(), meta={}, latest_report=cases2()["reported_at"],
                                made_on="2026-12-07T10:00:00+08:00")
    # closed_at (2019-07-02) is not a report: the rule reads reported_at only, as geo.calendar's fallback does
    assert (got.meta["as_of"], got.meta["as_of_derived"]) == ("2019-06-29", "cases")
    from geo.calendar import resolve_as_of

    assert resolve_as_of({}, cases2()["reported_at"]) == pd.Timestamp(got.meta["as_of"])


def test_as_of_without_cases_is_the_latest_stage_date_else_the_import_day():
    got = derive.derive_version(grids=grids3(), estates=estates7(), meta={}, latest_report=None,
                                made_on="2026-12-07T10:00:00+08:00")
    assert (got.meta["as_of"], got.meta["as_of_derived"]) == ("2019-08-01", "stage_dates")
    assert _by_id(got.estates, "governance_stage")["E1"] == "fees_started"
    bare = derive.derive_version(grids=grids3(), estates=estates7(dates=False), meta={}, latest_report=None,
                                 made_on="2026-12-07T10:00:00+08:00")
    assert (bare.meta["as_of"], bare.meta["as_of_derived"]) == ("2026-12-07", "import_day")
    none = derive.derive_version(grids=grids3(), estates=None, meta={"name": "x"}, latest_report=None,
                                 made_on="2026-12-07")
    assert none.meta == {"name": "x", "as_of": "2026-12-07", "as_of_derived": "import_day"}
    assert none.estates is None and not none.estates_changed


def test_a_given_as_of_is_kept():
    got = derive.derive_version(grids=grids3(), estates=None, meta={"as_of": "2019-06-30"},
                                latest_report="2025-01-01", made_on="2026-12-07")
    assert got.meta == {"as_of": "2019-06-30"}


def test_a_whole_dataset_and_the_warnings_kept_in_its_meta():
    ds = Dataset(grids=grids3(), facilities=facilities1(), estates=estates7(), cases=cases2(), name="测试区")
    out, warnings = derive.derive_dataset(ds, made_on="2026-12-07")
    assert out.meta_dict["as_of"] == "2019-06-29" and _by_id(out.estates, "street") == WANT_STREET
    assert out.cases is ds.cases and out.grids is ds.grids
    assert [w.code for w in warnings] == ["data.estate_outside_grids"]
    assert derive.warnings(out.meta_dict) == warnings
    assert derive.warnings({"as_of": "2019-06-30"}) == ()
    assert not derive.needs_derivation(out.meta_dict, out.estates)
    assert derive.needs_derivation(ds.meta_dict, ds.estates)


def test_every_as_of_rule_is_named_in_both_languages():
    from i18n import TABLE

    assert derive.AS_OF_RULES == ("cases", "stage_dates", "import_day")
    for rule in derive.AS_OF_RULES:
        zh, en = TABLE[f"sidebar.as_of_derived.{rule}"]
        assert zh.startswith("（文件未给出截至日期") and en.startswith("(no date in the files")


def test_the_cases_are_read_only_when_as_of_is_missing_or_derived():
    assert not derive.wants_latest_report({"as_of": "2019-06-30"})
    assert derive.wants_latest_report({"as_of": "2019-06-29", "as_of_derived": "cases"})
    assert derive.wants_latest_report({}) and derive.wants_latest_report({"as_of": ""})
