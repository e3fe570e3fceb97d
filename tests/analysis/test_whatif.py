"""What-if: a closure equals coverage recomputed without the facility, an opening equals it with the site added."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from analysis.accessibility import accessibility_by_grid
from analysis.coverage import compute_coverage
from analysis.equity import DISTRICT_ROW
from analysis.whatif import SCENARIO_KIND, apply_changes, what_if, whatif_scenario
from geo.dataset import DEMO_PATH, read_dataset
from geo.errors import AnalysisError
from i18n import error_text


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO_PATH)


def _day_care(ds):
    f = ds.facilities
    return f[(f["type"] == "day_care") & (f["status"] != "planned")]


def test_closing_a_station_equals_coverage_without_it(demo):
    fid = str(_day_care(demo)["facility_id"].iloc[0])
    r = what_if(demo, close=[fid], radius_m=300)
    without = demo.with_layer("facilities", demo.facilities[demo.facilities["facility_id"] != fid])
    cov = compute_coverage(without, radius_m=300).grids
    np.testing.assert_allclose(r.grids["covered_after"], cov["covered_elderly"], rtol=0, atol=1e-9)
    acc = accessibility_by_grid(without, radius_m=300).grids
    np.testing.assert_allclose(r.grids["access_after"], acc["per_1000"], rtol=0, atol=1e-9)
    before = compute_coverage(demo, radius_m=300).grids
    np.testing.assert_allclose(r.grids["covered_before"], before["covered_elderly"], rtol=0, atol=1e-9)
    assert (r.grids["covered_change"] <= 1e-9).all() and len(r.lost) > 0 and len(r.gained) == 0
    district = r.streets.set_index("street").loc[DISTRICT_ROW]
    assert district["covered_change"] == pytest.approx(cov["covered_elderly"].sum() - before["covered_elderly"].sum())


def test_opening_a_site_equals_coverage_with_a_station_there(demo):
    site = demo.candidates.iloc[[0]]
    sid = str(site["site_id"].iloc[0])
    r = what_if(demo, open_sites=sid, radius_m=300)
    added = gpd.GeoDataFrame({"facility_id": [sid], "name": ["x"], "type": ["day_care"], "status": ["operating"]},
                             geometry=site.geometry.to_numpy(), crs=demo.facilities.crs)
    with_site = demo.with_layer("facilities", pd.concat([demo.facilities, added], ignore_index=True))
    cov = compute_coverage(with_site, radius_m=300).grids
    np.testing.assert_allclose(r.grids["covered_after"], cov["covered_elderly"], rtol=0, atol=1e-9)
    assert (r.grids["covered_change"] >= -1e-9).all() and len(r.gained) > 0


def test_a_capacity_changes_access_not_coverage(demo):
    f = _day_care(demo).iloc[0]
    r = what_if(demo, capacity={str(f["facility_id"]): float(f["capacity"]) * 2}, radius_m=300)
    assert (r.grids["covered_change"] == 0).all()
    changed = r.grids[r.grids["access_change"].abs() > 1e-9]
    assert len(changed) > 0
    # doubling the only station in reach doubles the score there
    only = changed[np.isclose(changed["access_before"] * 2, changed["access_after"])]
    assert len(only) > 0


def test_the_input_is_not_changed_and_unknown_ids_are_refused(demo):
    n = len(demo.facilities)
    apply_changes(demo, close=[str(demo.facilities["facility_id"].iloc[0])])
    assert len(demo.facilities) == n
    with pytest.raises(AnalysisError) as exc:
        apply_changes(demo, close=["NOPE-1", "NOPE-2"])
    assert (exc.value.code, dict(exc.value.params)) == ("analysis.unknown_facilities", {"ids": "NOPE-1, NOPE-2"})
    assert error_text(exc.value, lang="en") == "no facility with id NOPE-1, NOPE-2 in the data"
    assert error_text(exc.value, lang="zh") == "数据中没有编号为 NOPE-1, NOPE-2 的服务设施"
    with pytest.raises(AnalysisError) as exc:
        apply_changes(demo, open_sites="S-X")
    assert exc.value.code == "analysis.unknown_sites"
    assert error_text(exc.value, lang="zh") == "站点编号不在候选站点中：S-X。"


def test_a_what_if_becomes_a_scenario(demo):
    fid = str(_day_care(demo)["facility_id"].iloc[0])
    r = what_if(demo, close=[fid], radius_m=300)
    s = whatif_scenario("close one", r, demand={"year": 2030, "weight": "elderly"})
    assert s.kind == SCENARIO_KIND == "whatif"
    assert s.params["close"] == [fid] and s.params["year"] == 2030
    assert s.result["streets"][-1]["street"] == DISTRICT_ROW


def test_closing_every_station_of_the_type_leaves_nobody_in_reach(demo):
    ids = demo.facilities.loc[demo.facilities["type"] == "day_care", "facility_id"].astype(str).tolist()
    r = what_if(demo, close=ids, radius_m=300)
    assert (r.grids["covered_after"] == 0).all() and (r.grids["access_after"] == 0).all()
    assert r.streets.set_index("street").loc[DISTRICT_ROW, "covered_change"] == pytest.approx(
        -compute_coverage(demo, radius_m=300).grids["covered_elderly"].sum())
