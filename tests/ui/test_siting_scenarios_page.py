"""The siting page's scenarios (AppTest, no browser): a distance answer saved, the list and comparison with each
scenario's demand and equity, a scenario's site marked opened — on a copy of the demo."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from analysis.equity import equity_by_grid
from analysis.projection import default_survival, with_demand
from analysis.siting import (
    SCENARIO_KIND,
    DistanceRequest,
    DistanceRun,
    PlanDemand,
    SitingParams,
    SitingRequest,
    load_run,
    pmedian_sites,
    run_siting,
    siting_problem,
)
from analysis.whatif import apply_changes
from geo.audit import AuditLog
from geo.dataset import DEMO_PATH, read_dataset
from geo.storage import open_store
from geo.users import UserStore
from i18n import t
from tests.e2e.conftest import ROOT

APP = str(ROOT / "app.py")


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    path = tmp_path / "demo.gpkg"
    path.write_bytes(DEMO_PATH.read_bytes())
    monkeypatch.setenv("GRIDATLAS_DATA", str(path))
    return str(path)


@pytest.fixture
def stored_demo(store_url, monkeypatch):
    """The demo in a new dataset of each store (GeoPackage workspace, PostGIS), opened by the app."""
    open_store(store_url).import_dataset(read_dataset(DEMO_PATH), source="shifeng_demo.gpkg")
    monkeypatch.setenv("GRIDATLAS_DATA", store_url)
    return store_url


def _page(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    if lang != "zh":
        at.session_state["lang"] = lang
    at.switch_page("pages/siting.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _click(at: AppTest, key: str) -> None:
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]


def _listed(at: AppTest):
    return next(df.value for df in at.dataframe if t("siting.scn.saved_at", lang="zh") in df.value.columns)


def test_a_distance_answer_is_saved_from_the_page(stored_demo):
    demo = stored_demo
    at = _page()
    at.number_input(key="sd_n").set_value(3)
    next(b for b in at.button if b.label == "按距离选址").click().run()
    assert not at.exception, [e.value for e in at.exception]
    # no name: refused with the page's message, nothing saved
    _click(at, "sd_scn_save")
    assert "请先填写方案名称。" in [e.value for e in at.error]
    assert open_store(demo).list_scenarios() == []
    at.text_input(key="sd_scn_name").set_value("距离三站")
    _click(at, "sd_scn_save")
    assert "已保存方案“距离三站”。" in [s.value for s in at.success]
    expected = pmedian_sites(open_store(demo).load(), n_new=3)
    [saved] = open_store(demo).list_scenarios(kind=SCENARIO_KIND)
    run = load_run(saved)
    assert isinstance(run, DistanceRun) and run.demand == PlanDemand()
    assert run.result.site_ids == expected.site_ids
    assert (run.request.n_new, run.request.budget, run.request.distance) == (3, None, "euclidean")
    assert run.result.mean_distance_m == pytest.approx(expected.mean_distance_m)
    assert run.result.p90_before_m == pytest.approx(expected.p90_before_m)
    assert [(e.action, e.target) for e in AuditLog().entries()] == [("scenario_save", "距离三站")]
    # listed with its objective, demand and distance figures; the coverage columns say they do not apply
    row = _listed(at).iloc[0]
    assert (row["方案名称"], row["选址目标"], row["按谁的需求"]) == ("距离三站", "最短距离", "60岁以上老人")
    assert (row["平均距离（米）"], row["规划后覆盖率"]) == (f"{expected.mean_distance_m:,.0f}", "—")
    # the same name again is refused unless replaced
    _click(at, "sd_scn_save")
    assert "已有名为“距离三站”的方案；换个名称，或勾选“覆盖同名方案”。" in [e.value for e in at.error]
    assert len(open_store(demo).list_scenarios()) == 1


def _fmt_pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def test_the_comparison_computes_each_scenarios_equity_with_its_own_demand(demo):
    store = open_store(demo)
    ds = store.load()
    req = SitingRequest(params=SitingParams(radius_m=300.0), mode="n", n_new=3, solver="exact", curve_max=3)
    plan = PlanDemand.of(2030, "elderly", default_survival())
    d2030 = with_demand(ds, year=2030, survival=default_survival())
    later = run_siting(siting_problem(d2030, req.params), req)
    today = run_siting(siting_problem(ds, req.params), req)
    store.save_scenario(today.to_scenario("今天三站", dataset="demo"))
    store.save_scenario(later.to_scenario("2030三站", dataset="demo", demand=plan))
    at = _page()
    listed = _listed(at)
    assert listed["按谁的需求"].tolist() == ["60岁以上老人",
                                        "2030年60岁以上老人（生存率表 survival_ratios.csv，模型假设）"]
    assert "注意：两个方案按不同的需求选址" in " ".join(w.value for w in at.warning)
    # A = 今天三站, B = 2030三站: each table is analysis.equity on that scenario's own demand
    tables = [df.value for df in at.dataframe if "指标" in df.value.columns]
    assert len(tables) == 2
    for table, data, run in ((tables[0], ds, today), (tables[1], d2030, later)):
        before = equity_by_grid(data, facility_types=("day_care",), radius_m=300.0).streets.iloc[-1]
        opened = apply_changes(data, open_sites=list(run.result.site_ids))
        after = equity_by_grid(opened, facility_types=("day_care",), radius_m=300.0).streets.iloc[-1]
        assert table["现状"].tolist()[:3] == [f"{before['beyond']:,.0f}", _fmt_pct(before["beyond_share"]),
                                            f"{before['gini']:.3f}"]
        assert table["建成后"].tolist()[:3] == [f"{after['beyond']:,.0f}", _fmt_pct(after["beyond_share"]),
                                             f"{after['gini']:.3f}"]
    assert tables[0]["现状"].iloc[0] != tables[1]["现状"].iloc[0]  # 2030 has more aged 60+ beyond reach


def test_the_list_in_english(demo):
    store = open_store(demo)
    ds = store.load()
    res = pmedian_sites(with_demand(ds, weight="elderly_80"), n_new=2)
    store.save_scenario(DistanceRun.of(DistanceRequest(n_new=2), res, demand=PlanDemand.of(None, "elderly_80"))
                        .to_scenario("two by distance", dataset="demo"))
    at = _page("en")
    row = next(df.value for df in at.dataframe if "Saved" in df.value.columns).iloc[0]
    assert (row["Objective"], row["Sited for"], row["Mean distance (m)"]) == (
        "Shortest distance", "Aged 80+", f"{res.mean_distance_m:,.0f}")
    assert "Shortest distance · Aged 80+" in [c.value for c in at.caption]
    assert "Mark opened" in [b.label for b in at.button]


def test_a_scenarios_site_is_marked_opened_on_the_page(stored_demo):
    demo = stored_demo
    store = open_store(demo)
    ds = store.load()
    req = SitingRequest(params=SitingParams(radius_m=300.0), mode="n", n_new=2, solver="exact", curve_max=2)
    run = run_siting(siting_problem(ds, req.params), req)
    store.save_scenario(run.to_scenario("两站方案", dataset="demo"))
    site = run.result.site_ids[1]
    at = _page()
    at.selectbox(key="scn_open_pick").set_value("两站方案").run()
    at.selectbox(key="scn_open_site_两站方案").set_value(site)
    at.date_input(key="scn_open_day").set_value(dt.date(2019, 5, 10))
    _click(at, "scn_open")
    assert f"站点 {site} 已标记为 2019-05-10 启用（版本 2）。" in [s.value for s in at.success]
    after = open_store(demo).load()
    assert len(after.facilities) == len(ds.facilities) + 1
    new = after.facilities.set_index("facility_id").loc[site]
    cand = ds.candidates.set_index("site_id").loc[site]
    assert (new["name"], new["type"], new["status"]) == (cand["name"], "day_care", "operating")
    assert str(new["opened_on"])[:10] == "2019-05-10"
    [entry] = [e for e in AuditLog().entries() if e.action == "import"]
    assert (entry.target, entry.detail) == (f"{store.name}/facilities",
                                            f"scenario 两站方案: site {site} opened 2019-05-10")
    # the same site again is refused with its message, and no version is made
    at.selectbox(key="scn_open_pick").set_value("两站方案").run()
    at.selectbox(key="scn_open_site_两站方案").set_value(site)
    _click(at, "scn_open")
    assert f"未能标记启用：已有编号为 {site} 的设施。" in [e.value for e in at.error]
    assert len(open_store(demo).versions()) == 2


@pytest.mark.parametrize(("role", "buttons"), [("leader", set()), ("planner", {"scn_save", "scn_delete"}),
                                               ("staff", {"scn_save", "scn_delete", "scn_open"})])
def test_who_may_save_delete_and_mark_opened(demo, tmp_path, role, buttons):
    UserStore(tmp_path / "home").add("someone", "pass word 1", role)
    store = open_store(demo)
    res = pmedian_sites(store.load(), n_new=2)
    store.save_scenario(DistanceRun.of(DistanceRequest(n_new=2), res).to_scenario("距离两站", dataset="demo"))
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.text_input(key="sign_in_name").set_value("someone")
    at.text_input(key="sign_in_password").set_value("pass word 1")
    at.button[0].click().run()
    at.switch_page("pages/siting.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert {b.key for b in at.button} & {"scn_save", "scn_delete", "scn_open"} == buttons
    # everyone sees the list and the comparison with its equity
    assert _listed(at)["方案名称"].tolist() == ["距离两站"]
    assert len([df for df in at.dataframe if "指标" in df.value.columns]) == 2


def test_a_plan_year_scenario_on_data_without_age_bands_says_why_it_has_no_equity(tmp_path, monkeypatch):
    from analysis.siting import scenario_equity
    from geo.dataset import write_dataset
    from geo.errors import AnalysisError
    from i18n import error_text
    from tests.analysis.siting_fixtures import siting_dataset

    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    path = write_dataset(siting_dataset(), tmp_path / "siting.gpkg")
    monkeypatch.setenv("GRIDATLAS_DATA", str(path))
    ds = open_store(str(path)).load()
    req = SitingRequest(params=SitingParams(radius_m=300.0), mode="n", n_new=1, solver="exact", curve_max=1)
    run = run_siting(siting_problem(ds, req.params), req)
    later = run.to_scenario("2030一站", dataset="x", demand=PlanDemand.of(2030))  # saved where bands existed
    open_store(str(path)).save_scenario(later)
    with pytest.raises(AnalysisError) as exc:
        scenario_equity(ds, load_run(later))
    assert exc.value.code == "analysis.age_bands_missing"
    at = _page()
    assert f"无法计算公平性：{error_text(exc.value, lang='zh')}" in [e.value for e in at.error]
    assert _listed(at)["按谁的需求"].tolist() == ["2030年60岁以上老人（生存率表 survival_ratios.csv，模型假设）"]
