"""Siting scenarios remember their demand and objective; distance answers are scenarios too; their equity before
and after is computed with each one's own demand (analysis.siting.scenario)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from analysis.equity import equity_by_grid
from analysis.projection import default_survival, with_demand
from analysis.siting import (
    SCENARIO_KIND,
    DistanceRequest,
    DistanceRun,
    PlanDemand,
    SitingParams,
    SitingRequest,
    SitingRun,
    chosen_sites,
    load_run,
    open_scenario_site,
    pmedian_sites,
    run_siting,
    scenario_equity,
    siting_problem,
)
from geo.dataset import DEMO_PATH, read_dataset
from geo.errors import AnalysisError
from geo.scenarios import Scenario
from geo.storage import open_store
from i18n import error_text
from tests.analysis.siting_fixtures import siting_dataset

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "siting_scenarios_v1.json"


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO_PATH)


def _coverage_run(ds, demand: PlanDemand) -> SitingRun:
    req = SitingRequest(params=SitingParams(radius_m=300.0), mode="n", n_new=2, solver="exact", curve_max=3)
    run = run_siting(siting_problem(demand.dataset(ds), req.params), req)
    return dataclasses.replace(run, demand=demand)  # the demand it was sited for, as a loaded scenario has it


def test_both_kinds_round_trip_through_the_store(store_url):
    store = open_store(store_url)
    store.import_dataset(siting_dataset(), source="fixture")
    ds = store.load()
    plan = PlanDemand.of(2030, "elderly_80", default_survival())
    cov = _coverage_run(ds, PlanDemand())
    req = DistanceRequest(n_new=2, required=("S4",), excluded=("S1",), distance="euclidean")
    res = pmedian_sites(ds, n_new=2, required=["S4"], excluded=["S1"])
    dist = DistanceRun.of(req, res, demand=plan)
    store.save_scenario(cov.to_scenario("覆盖两站", dataset="fixture", demand=plan))
    store.save_scenario(dist.to_scenario("距离两站", dataset="fixture"))
    back = {s.name: s for s in open_store(store_url).list_scenarios(kind=SCENARIO_KIND)}
    assert list(back) == ["覆盖两站", "距离两站"]
    c = load_run(back["覆盖两站"])
    assert isinstance(c, SitingRun) and c.objective == "coverage"
    assert (c.request, c.result, c.demand) == (cov.request, cov.result, plan)
    assert c.curve.to_dict(orient="list") == cov.curve.to_dict(orient="list")
    d = load_run(back["距离两站"])
    assert isinstance(d, DistanceRun) and d.objective == "distance"
    assert d.request == req and d.demand == plan
    # the figures as the solve gave them, with the required site kept and the excluded one not chosen
    assert d.result.site_ids == res.site_ids and "S4" in d.result.site_ids and "S1" not in d.result.site_ids
    assert (d.result.mean_before_m, d.result.mean_distance_m) == (res.mean_before_m, res.mean_distance_m)
    assert (d.result.p90_before_m, d.result.p90_distance_m) == (res.p90_before_m, res.p90_distance_m)
    assert d.result.optimal is True and d.result.n_requested == 2
    pd.testing.assert_frame_equal(d.by_street, res.by_street, check_dtype=False)
    # the demand as stored: year, weight, the table's name and ratios
    stored = back["距离两站"].params["demand"]
    assert stored == {"year": 2030, "weight": "elderly_80", "survival": "survival_ratios.csv",
                      "survival_assumption": True, "survival_ratios": dict(default_survival().ratios)}
    assert back["距离两站"].params["objective"] == "distance"
    assert chosen_sites(back["距离两站"]) == (res.site_ids, "day_care")
    assert chosen_sites(back["覆盖两站"]) == (cov.result.site_ids, "day_care")


def test_an_old_scenario_without_demand_loads_as_todays_coverage():
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for row in rows:
        s = Scenario(name=row["name"], kind=row["kind"], params=json.loads(row["params"]),
                     result=json.loads(row["result"]))
        assert "demand" not in s.params and "objective" not in s.params
        run = load_run(s)
        assert isinstance(run, SitingRun)
        assert run.demand == PlanDemand() and run.demand.is_today
        assert run.demand.dataset(siting_dataset()).grids["elderly"].tolist() == [100, 80, 60, 40]


def test_one_objective_is_not_read_as_the_other():
    ds = siting_dataset()
    dist = DistanceRun.of(DistanceRequest(n_new=1), pmedian_sites(ds, n_new=1)).to_scenario("距离", dataset="x")
    with pytest.raises(AnalysisError, match="^scenario '距离' was sited by distance, not by coverage$") as exc:
        SitingRun.from_scenario(dist)
    assert error_text(exc.value, lang="zh") == "方案“距离”的选址目标是distance，不能按另一种目标读取。"
    cov = _coverage_run(ds, PlanDemand()).to_scenario("覆盖", dataset="x")
    with pytest.raises(AnalysisError, match="^scenario '覆盖' was sited by coverage, not by distance$"):
        DistanceRun.from_scenario(cov)
    bad = Scenario(name="怪", kind=SCENARIO_KIND, params={"objective": "nearest"})
    with pytest.raises(AnalysisError, match="`objective` was 'nearest' but is expected to be one of: coverage, "
                                            "distance"):
        load_run(bad)


def _opened(ds, site_ids, facility_type="day_care"):
    """The dataset with the sites appended as operating stations, built here without analysis.whatif."""
    cand = ds.candidates[ds.candidates["site_id"].isin(site_ids)].to_crs(ds.facilities.crs)
    new = gpd.GeoDataFrame({"facility_id": cand["site_id"].to_numpy(), "name": cand["name"].to_numpy(),
                            "type": facility_type, "status": "operating",
                            "capacity": pd.to_numeric(cand.get("capacity"), errors="coerce").to_numpy()
                            if "capacity" in cand.columns else float("nan")},
                           geometry=cand.geometry.to_numpy(), crs=ds.facilities.crs)
    fac = gpd.GeoDataFrame(pd.concat([ds.facilities, new], ignore_index=True), geometry="geometry",
                           crs=ds.facilities.crs)
    return ds.with_layer("facilities", fac)


def test_equity_of_a_2030_scenario_is_computed_with_its_projected_demand(demo):
    plan = PlanDemand.of(2030, "elderly", default_survival())
    run = _coverage_run(demo, plan)
    before, after = scenario_equity(demo, run)
    d2030 = with_demand(demo, year=2030, survival=default_survival())
    direct_before = equity_by_grid(d2030, facility_types=("day_care",), radius_m=300.0)
    direct_after = equity_by_grid(_opened(d2030, list(run.result.site_ids)), facility_types=("day_care",),
                                  radius_m=300.0)
    pd.testing.assert_frame_equal(before.streets, direct_before.streets, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(after.streets, direct_after.streets, check_exact=False, rtol=1e-9)
    # the district's aged 60+ are those of 2030, not today's, and the new sites bring some within reach
    district = after.streets.set_index("street").loc["全区"]
    assert district["elderly"] == pytest.approx(float(d2030.grids["elderly"].sum()))
    assert district["elderly"] != pytest.approx(float(demo.grids["elderly"].sum()))
    assert district["beyond"] < before.streets.set_index("street").loc["全区", "beyond"]
    # the beyond-reach count falls by what the MCLP says the sites add (same demand, same reach)
    assert (before.streets.set_index("street").loc["全区", "beyond"] - district["beyond"]) == pytest.approx(
        run.result.added_elderly, rel=0.02)


def test_equity_of_a_distance_scenario_uses_its_demand_and_the_life_circle(demo):
    plan = PlanDemand.of(None, "elderly_80")
    res = pmedian_sites(plan.dataset(demo), n_new=3)
    run = DistanceRun.of(DistanceRequest(n_new=3), res, demand=plan)
    before, after = scenario_equity(demo, load_run(run.to_scenario("距离", dataset="demo")))
    d80 = with_demand(demo, weight="elderly_80")
    direct = equity_by_grid(_opened(d80, list(res.site_ids)), facility_types=("day_care",))  # its default radius
    pd.testing.assert_frame_equal(after.streets, direct.streets, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(before.streets, equity_by_grid(d80, facility_types=("day_care",)).streets,
                                  check_exact=False, rtol=1e-9)


def test_a_distance_scenarios_site_is_marked_opened(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    path = tmp_path / "demo.gpkg"
    path.write_bytes(DEMO_PATH.read_bytes())
    store = open_store(str(path))
    ds = store.load()
    res = pmedian_sites(ds, n_new=2)
    scn = DistanceRun.of(DistanceRequest(n_new=2), res).to_scenario("距离两站", dataset="demo")
    info, fac = open_scenario_site(store, scn, res.site_ids[1], opened_on=dt.date(2019, 6, 3), user="张三")
    assert info.id == 2 and len(fac) == len(ds.facilities) + 1
    new = store.load().facilities.set_index("facility_id").loc[res.site_ids[1]]
    assert (new["type"], new["status"], str(new["opened_on"])[:10]) == ("day_care", "operating", "2019-06-03")
    assert store.versions()[-1].source == f"scenario 距离两站: site {res.site_ids[1]} opened 2019-06-03"
    # the equity after the scenario counts the opened site once: the same figures as before it was opened
    again = scenario_equity(store.load(), load_run(scn))[1].streets
    first = scenario_equity(ds, load_run(scn))[1].streets
    pd.testing.assert_frame_equal(again, first, check_exact=False, rtol=1e-9)
    with pytest.raises(AnalysisError) as exc:
        open_scenario_site(store, scn, "SF-S-999", opened_on=dt.date(2019, 6, 3))
    assert str(exc.value) == f"site 'SF-S-999' is not one of scenario '距离两站''s sites ({', '.join(res.site_ids)})"
    assert len(store.versions()) == 2  # refused: no new version


def test_equity_of_a_scenario_with_generated_candidates(demo):
    """Generated sites are not in the candidates layer: they are made again as the run made them, and the
    beyond-reach count falls by exactly what the MCLP says they add (every demo grid has estates)."""
    req = SitingRequest(params=SitingParams(radius_m=300.0, candidates="generated"), n_new=2, curve_max=2)
    run = run_siting(siting_problem(demo, req.params), req)
    assert all(s not in set(demo.candidates["site_id"]) for s in run.result.site_ids)
    before, after = scenario_equity(demo, load_run(run.to_scenario("生成两站", dataset="demo")))
    drop = before.streets.iloc[-1]["beyond"] - after.streets.iloc[-1]["beyond"]
    assert drop == pytest.approx(run.result.added_elderly, rel=1e-9)
