"""Estates self-governance: stages, plan and progress, league — against a hand-counted fixture.

The fixture (10 campaign estates in two streets, 5 company-run estates) and
every expected figure below were counted by hand from the dates in `_ROWS`;
the plan line for 2019-01..2019-06 (6 monthly milestones) is worked out in
the comments next to each assertion.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.estates import (
    DISTRICT,
    STAGES,
    behind_streets,
    campaign_estates,
    company_league,
    estates_at_stage,
    month_ends,
    plan_dates,
    plan_progress,
    reached_dates,
    stage_counts,
    stage_on,
    street_progress,
)
from geo.errors import AnalysisError
from geo.schema import validate_layer

N = None
# id, street, stage column, committee, rules, managed, fees, management, company, satisfaction
_ROWS = [
    ("a1", "东街", "fees_started", "2018-12-10", "2019-01-20", "2019-02-15", "2019-03-10", "unmanaged", N, N),
    ("a2", "东街", "rules_adopted", "2019-01-05", "2019-02-28", N, N, "unmanaged", N, N),
    ("a3", "东街", "committee_formed", "2019-02-01", N, N, N, "unmanaged", N, N),
    ("a4", "东街", "none", N, N, N, N, "unmanaged", N, N),
    ("a5", "东街", "managed", N, N, "2019-03-31", N, "unmanaged", N, N),  # undated earlier stages
    ("a6", "东街", "committee_formed", "2019-04-02", N, N, N, "unmanaged", N, N),  # after as_of
    ("b1", "西街", "fees_started", "2018-11-01", "2018-12-01", "2018-12-20", "2019-01-31", "unmanaged", N, N),
    ("b2", "西街", "fees_started", "2019-01-10", "2019-01-25", "2019-03-01", "2019-03-30", "unmanaged", N, N),
    ("b3", "西街", "rules_adopted", "2019-02-20", "2019-03-15", N, N, "unmanaged", N, N),
    ("b4", "西街", "committee_formed", N, N, N, N, "unmanaged", N, N),  # stage given, no date
    ("p1", "东街", N, N, N, N, N, "property_company", "甲物业", 90.0),
    ("p2", "东街", N, N, N, N, N, "property_company", "甲物业", 80.0),
    ("p3", "西街", N, N, N, N, N, "property_company", "乙物业", 95.0),
    ("p4", "西街", N, N, N, N, N, "property_company", "乙物业", 93.0),
    ("p5", "西街", N, N, N, N, N, "property_company", "丁物业", 88.0),
]
START, TARGET, AS_OF = "2019-01-01", "2019-06-30", "2019-03-31"


def _estates() -> gpd.GeoDataFrame:
    cols = ["estate_id", "street", "governance_stage", "committee_formed_on", "rules_adopted_on", "managed_on",
            "fees_started_on", "management", "property_company", "satisfaction"]
    df = pd.DataFrame(_ROWS, columns=cols)
    df["name"] = "小区" + df["estate_id"]
    df["households"] = 100
    # 东街 estates in the west grid, 西街 in the east one; small squares along a row
    x0 = np.where(df["street"] == "东街", 114.300, 114.310) + np.arange(len(df)) * 0.0003
    geoms = [shapely.box(x, 30.500, x + 0.0002, 30.5002) for x in x0]
    return validate_layer(gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4326"), "estates")


def _grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "grid_id": ["G1", "G2"], "grid_name": ["东一网格", "西一网格"], "grid_worker": ["张敏", "李强"],
    }, geometry=[shapely.box(114.299, 30.499, 114.3095, 30.502), shapely.box(114.3095, 30.499, 114.320, 30.502)],
        crs="EPSG:4326")


@pytest.fixture(scope="module")
def est() -> gpd.GeoDataFrame:
    return _estates()


def test_campaign_is_the_estates_with_a_stage(est):
    assert sorted(campaign_estates(est)["estate_id"]) == [f"a{i}" for i in range(1, 7)] + [f"b{i}" for i in
                                                                                              range(1, 5)]
    without = est.drop(columns=["governance_stage"])
    assert len(campaign_estates(without)) == 10  # the unmanaged ones
    empty = est.assign(governance_stage=pd.Series(pd.NA, index=est.index, dtype="string"))
    assert len(campaign_estates(empty)) == 10  # a column left empty throughout: the unmanaged ones too
    with pytest.raises(AnalysisError, match="no estate is on the self-governance list") as err:
        campaign_estates(est[est["management"] == "property_company"])
    assert err.value.code == "analysis.estates_none_in_campaign"


def test_missing_dates_come_from_later_stages(est):
    d = reached_dates(est).set_axis(est["estate_id"])
    assert d.loc["a5", "committee_formed"] == pd.Timestamp("2019-03-31")
    assert d.loc["a5", "rules_adopted"] == pd.Timestamp("2019-03-31")
    assert pd.isna(d.loc["a5", "fees_started"])
    assert d.loc["a1", "committee_formed"] == pd.Timestamp("2018-12-10")  # its own date is earlier, kept
    assert d.loc["b4"].isna().all()


def test_stage_now_and_at_a_date(est):
    camp = campaign_estates(est)
    now = dict(zip(camp["estate_id"], stage_on(camp), strict=True))
    assert now == {"a1": "fees_started", "a2": "rules_adopted", "a3": "committee_formed", "a4": "none",
                   "a5": "managed", "a6": "committee_formed", "b1": "fees_started", "b2": "fees_started",
                   "b3": "rules_adopted", "b4": "committee_formed"}
    then = dict(zip(camp["estate_id"], stage_on(camp, AS_OF), strict=True))
    # a6 formed its committee on 04-02 (after), b4's stage has no date, a5 reached `managed` on the day itself
    assert then["a6"] == "none" and then["b4"] == "none" and then["a5"] == "managed"
    assert then["b2"] == "fees_started"  # 03-30


def test_stage_counts_hand_counted(est):
    t = stage_counts(est, as_of=AS_OF).set_index("street")
    assert list(t.index) == ["东街", "西街", DISTRICT]
    assert t.loc["东街", list(STAGES)].tolist() == [2, 1, 1, 1, 1]
    assert t.loc["西街", list(STAGES)].tolist() == [1, 0, 1, 0, 2]
    assert t.loc[DISTRICT, list(STAGES)].tolist() == [3, 1, 2, 1, 3]
    assert t.loc[DISTRICT, "total"] == 10
    assert t.loc["东街", "reached_committee_formed"] == 4 and t.loc["西街", "reached_rules_adopted"] == 3
    assert t.loc[DISTRICT, "done_share"] == pytest.approx(0.3)
    now = stage_counts(est).set_index("street")
    assert now.loc["东街", list(STAGES)].tolist() == [1, 2, 1, 1, 1]
    assert now.loc["西街", list(STAGES)].tolist() == [0, 1, 1, 0, 2]
    whole = stage_counts(est, by=None)
    assert whole["street"].tolist() == [DISTRICT] and whole.loc[0, "total"] == 10
    with pytest.raises(AnalysisError, match="`by` was 'grid' but the estates layer has no such column"):
        stage_counts(est, by="grid")


def test_month_ends():
    assert month_ends(START, TARGET).strftime("%Y-%m-%d").tolist() == [
        "2019-01-31", "2019-02-28", "2019-03-31", "2019-04-30", "2019-05-31", "2019-06-30"]
    # a target inside a month is the last milestone itself
    assert month_ends("2019-01-15", "2019-03-10").strftime("%m-%d").tolist() == ["01-31", "02-28", "03-10"]
    assert month_ends("2019-03-02", "2019-03-20").strftime("%m-%d").tolist() == ["03-20"]
    with pytest.raises(AnalysisError, match="the target date 2018-12-31 is before the plan start 2019-01-01") as e:
        month_ends(START, "2018-12-31")
    assert e.value.code == "analysis.estates_target_before_start"


def _series(plan: pd.DataFrame, street: str, stage: str, col: str) -> list:
    rows = plan[(plan["street"] == street) & (plan["stage"] == stage)].sort_values("month")
    return rows[col].tolist()


def test_plan_line_hand_computed(est):
    plan = plan_progress(est, start=START, target=TARGET, as_of=AS_OF)
    # 东街 committees: N = 6, B = 1 (a1 before 01-01); milestone i = 1 + ceil(5 i / 6)
    assert _series(plan, "东街", "committee_formed", "planned") == [2, 3, 4, 5, 6, 6]
    assert _series(plan, "东街", "committee_formed", "actual")[:3] == [2.0, 3.0, 4.0]  # a2; +a3; +a5 on 03-31
    assert np.isnan(_series(plan, "东街", "committee_formed", "actual")[3:]).all()
    # 东街 fees: N = 6, B = 0: milestone i = i; actual a1 in March
    assert _series(plan, "东街", "fees_started", "planned") == [1, 2, 3, 4, 5, 6]
    assert _series(plan, "东街", "fees_started", "actual")[:3] == [0.0, 0.0, 1.0]
    assert _series(plan, "东街", "fees_started", "remaining_planned") == [5, 4, 3, 2, 1, 0]
    assert _series(plan, "东街", "fees_started", "remaining_actual")[:3] == [6.0, 6.0, 5.0]
    # 西街 fees: N = 4, B = 0: ceil(4 i / 6) = 1, 2, 2, 3, 4, 4; b1 on 01-31, b2 on 03-30
    assert _series(plan, "西街", "fees_started", "planned") == [1, 2, 2, 3, 4, 4]
    assert _series(plan, "西街", "fees_started", "actual")[:3] == [1.0, 1.0, 2.0]
    # 西街 committees: N = 4, B = 1 (b1): 1 + ceil(3 i / 6) = 2, 2, 3, 3, 4, 4 (b4 has no date)
    assert _series(plan, "西街", "committee_formed", "planned") == [2, 2, 3, 3, 4, 4]
    # district fees: N = 10: ceil(10 i / 6) = 2, 4, 5, 7, 9, 10
    assert _series(plan, DISTRICT, "fees_started", "planned") == [2, 4, 5, 7, 9, 10]
    assert _series(plan, DISTRICT, "fees_started", "actual")[:3] == [1.0, 1.0, 3.0]
    assert set(plan["stage"]) == set(STAGES[1:])
    assert len(plan) == 3 * 4 * 6


def test_plan_to_a_target_inside_a_month(est):
    # 东街 fees, target 03-20: milestones 01-31, 02-28, 03-20 (M = 3); N = 6, B = 0: 2, 4, 6
    plan = plan_progress(est, start=START, target="2019-03-20", as_of="2019-03-20", street="东街")
    assert _series(plan, "东街", "fees_started", "planned") == [2, 4, 6]
    assert _series(plan, "东街", "fees_started", "actual") == [0.0, 0.0, 1.0]  # a1 on 03-10
    prog = street_progress(est, start=START, target="2019-03-20", as_of="2019-03-20", stage="fees_started",
                           street="东街").iloc[0]
    assert (prog["planned"], prog["shortfall"], prog["months_left"]) == (6, 5, 0)


def test_plan_mid_month(est):
    plan = plan_progress(est, start=START, target=TARGET, as_of="2019-04-15", street="东街")
    assert set(plan["street"]) == {"东街"}
    # April's row holds the count on 04-15: a6's committee of 04-02 is in
    assert _series(plan, "东街", "committee_formed", "actual")[3] == 5.0
    assert np.isnan(_series(plan, "东街", "committee_formed", "actual")[4])
    prog = street_progress(est, start=START, target=TARGET, as_of="2019-04-15", stage="committee_formed",
                           street="东街").iloc[0]
    # April's milestone is not due before 04-30: March's (4) is; 5 reached
    assert (prog["planned"], prog["actual"], prog["behind"], prog["months_left"]) == (4, 5, False, 3)


def test_street_progress_hand_computed(est):
    p = street_progress(est, start=START, target=TARGET, as_of=AS_OF).set_index(["street", "stage"])
    a = p.loc[("东街", "fees_started")]
    assert (a["total"], a["base"], a["planned"], a["actual"], a["shortfall"], bool(a["behind"])) == \
        (6, 0, 3, 1, 2, True)
    assert (a["months_elapsed"], a["months_left"]) == (3, 3)
    assert a["required_per_month"] == pytest.approx(5 / 3)
    assert a["actual_per_month"] == pytest.approx(1 / 3)
    b = p.loc[("西街", "fees_started")]
    assert (b["planned"], b["actual"], b["shortfall"], bool(b["behind"])) == (2, 2, 0, False)
    assert b["required_per_month"] == pytest.approx(2 / 3)
    c = p.loc[("东街", "committee_formed")]
    assert (c["base"], c["planned"], c["actual"], bool(c["behind"])) == (1, 4, 4, False)
    assert c["actual_per_month"] == pytest.approx(1.0)
    m = p.loc[("西街", "managed")]  # base b1; b2 on 03-01; 1 + ceil(3 * 3 / 6) = 3 due
    assert (m["base"], m["planned"], m["actual"], m["shortfall"]) == (1, 3, 2, 1)
    d = p.loc[(DISTRICT, "fees_started")]
    assert (d["total"], d["planned"], d["actual"], d["shortfall"]) == (10, 5, 3, 2)
    # before the first milestone nothing is due yet
    early = street_progress(est, start=START, target=TARGET, as_of="2019-01-20", stage="fees_started")
    assert early["planned"].tolist() == [0, 0, 0] and not early["behind"].any()
    assert early["actual_per_month"].isna().all()
    # at the target, no month is left: the pace needed is undefined
    late = street_progress(est, start=START, target=TARGET, as_of=TARGET, stage="fees_started")
    assert late["months_left"].tolist() == [0, 0, 0] and late["required_per_month"].isna().all()
    assert late["planned"].tolist() == [6, 4, 10]


def test_behind_streets(est):
    behind = behind_streets(est, start=START, target=TARGET, as_of=AS_OF)
    assert behind[["street", "shortfall"]].values.tolist() == [["东街", 2]]
    managed = behind_streets(est, start=START, target=TARGET, as_of=AS_OF, stage="managed")
    # 东街 managed: B = 0, milestone 3 due, a1 and a5 reached -> 1 short; 西街 1 short: ties by name
    assert managed[["street", "shortfall"]].values.tolist() == [["东街", 1], ["西街", 1]]


def test_errors_are_named(est):
    with pytest.raises(AnalysisError, match="`stage` was 'done' but is expected to be one of") as e:
        estates_at_stage(est, None, "done")
    assert e.value.code == "analysis.estates_unknown_stage"
    with pytest.raises(AnalysisError, match="`none` is where they start"):
        street_progress(est, start=START, target=TARGET, as_of=AS_OF, stage="none")
    with pytest.raises(AnalysisError, match="no estate of the campaign is in street '北街'") as e:
        plan_progress(est, start=START, target=TARGET, as_of=AS_OF, street="北街")
    assert e.value.params["street"] == "北街"
    with pytest.raises(AnalysisError, match="there is no estates layer"):
        stage_counts(None)


def test_estates_at_stage_with_grid_and_worker(est):
    rows = estates_at_stage(est, _grids(), "committee_formed")
    # latest recorded date 04-02 (a6): a3 waited 60 days since 02-01, a6 0 days, b4 undated last
    assert rows["estate_id"].tolist() == ["a3", "a6", "b4"]
    assert rows["days_at_stage"].tolist()[:2] == [60, 0] and pd.isna(rows["days_at_stage"].iloc[2])
    assert rows["grid_id"].tolist() == ["G1", "G1", "G2"]
    assert rows["grid_worker"].tolist() == ["张敏", "张敏", "李强"]
    assert rows["since"].iloc[0] == pd.Timestamp("2019-02-01")
    at = estates_at_stage(est, _grids(), "none", as_of=AS_OF)
    assert sorted(at["estate_id"]) == ["a4", "a6", "b4"]
    west = estates_at_stage(est, _grids(), None, street="西街", as_of=AS_OF)
    assert west["estate_id"].tolist() == ["b4", "b3", "b1", "b2"]  # by stage, then longest waiting
    assert west["days_at_stage"].tolist()[1:] == [16, 59, 1]  # 03-15, 01-31, 03-30 to 03-31
    later = estates_at_stage(est, _grids(), "committee_formed", days_to="2019-04-30")
    assert later["days_at_stage"].tolist()[:2] == [88, 28]  # 02-01 and 04-02 to 04-30
    no_grids = estates_at_stage(est, None, "none")
    assert no_grids["grid_id"].isna().all()


def test_company_league_red_and_black():
    est = _estates()
    extra = est.iloc[[10, 10, 11]].copy()  # 丙物业 three estates, 戊物业 two
    extra["estate_id"] = ["p6", "p7", "p8"]
    extra["property_company"] = ["丙物业", "丙物业", "丙物业"]
    extra["satisfaction"] = [60.0, 70.0, 50.0]
    more = est.iloc[[10, 11]].copy()
    more["estate_id"] = ["p9", "p10"]
    more["property_company"] = "戊物业"
    more["satisfaction"] = [85.0, 85.0]
    data = pd.concat([est, extra, more], ignore_index=True)
    league = company_league(data, min_estates=2, n=1)
    # 乙 94, 甲 85, 戊 85 (tie, shares rank 2), 丙 60; 丁 has one estate: left out
    assert league["property_company"].tolist() == ["乙物业", "戊物业", "甲物业", "丙物业"]
    assert league["rank"].tolist() == [1, 2, 2, 4]
    assert league["mean_satisfaction"].tolist() == [94.0, 85.0, 85.0, 60.0]
    assert league["min_satisfaction"].tolist() == [93.0, 85.0, 80.0, 50.0]
    assert league["estates"].tolist() == [2, 2, 2, 3]
    assert league["households"].tolist() == [200, 200, 200, 300]
    assert league["list"].tolist() == ["red", "", "", "black"]
    wide = company_league(data, min_estates=1, n=5)  # 5 companies: two red, two black, one between
    assert wide["list"].tolist() == ["red", "red", "", "black", "black"]
    assert wide["property_company"].tolist()[1] == "丁物业"
    with pytest.raises(AnalysisError, match="`min_estates` was 0 but must be at least 1"):
        company_league(data, min_estates=0)
    assert company_league(data.drop(columns=["satisfaction"])).empty


def test_plan_dates_from_meta():
    assert plan_dates({"estates_plan_start": "2019-01-01", "estates_target": "2019-12-31", "as_of": "2019-06-30"}) \
        == (pd.Timestamp("2019-01-01"), pd.Timestamp("2019-12-31"), pd.Timestamp("2019-06-30"))
    with pytest.raises(AnalysisError, match="the dataset has no target date") as e:
        plan_dates({"as_of": "2019-06-30"})
    assert e.value.code == "analysis.estates_no_target"
    with pytest.raises(AnalysisError, match="'2019-13-01' is not a date"):
        plan_dates({"estates_target": "2019-13-01", "estates_plan_start": "2019-01-01", "as_of": "2019-06-30"})


def test_validate_accepts_chinese_headers_and_labels():
    df = pd.DataFrame({"小区编号": ["e1", "e2"], "小区名称": ["甲", "乙"], "户数": [10, 20],
                       "管理方式": ["无物业管理", "物业公司"], "治理阶段": ["业委会已成立", "已启动收费"],
                       "规约通过日期": [None, "2019-05-01"], "自治模式": ["院落自治", None],
                       "满意度": [None, 88], "物业公司": [None, "某物业"], "经度": [113.1, 113.2],
                       "纬度": [27.9, 27.9]})
    out = validate_layer(df, "estates")
    assert out["governance_stage"].tolist() == ["committee_formed", "fees_started"]
    assert out["self_gov_model"].tolist()[0] == "courtyard"
    assert out["rules_adopted_on"].iloc[1] == pd.Timestamp("2019-05-01")
    assert out["satisfaction"].iloc[1] == 88


def test_validate_rejects_bad_stage_and_satisfaction():
    df = pd.DataFrame({"estate_id": ["e1", "e2"], "name": ["甲", "乙"], "households": [10, 20],
                       "management": ["unmanaged", "unmanaged"], "governance_stage": ["已完成", "none"],
                       "satisfaction": [101, -1], "lon": [113.1, 113.2], "lat": [27.9, 27.9]})
    from geo.errors import DataError
    from i18n import problem_text
    with pytest.raises(DataError) as e:
        validate_layer(df, "estates")
    found = {(p.code, p.column, p.row, p.params["values"]) for p in e.value.problems}
    assert found == {("data.unknown_value", "governance_stage", 1, "已完成"),
                     ("data.above_maximum", "satisfaction", 1, "101"),
                     ("data.below_minimum", "satisfaction", 2, "-1")}
    stage = next(p for p in e.value.problems if p.code == "data.unknown_value")
    assert stage.params["labels"] == "未启动、业委会已成立、规约已通过、已引入物业或自管、已启动收费"
    assert "未启动、业委会已成立、规约已通过、已引入物业或自管、已启动收费" in problem_text(stage, lang="zh")
    above = next(p for p in e.value.problems if p.code == "data.above_maximum")
    assert problem_text(above, lang="zh").endswith("数值大于 100：101 — 填写不大于 100 的数值")
    assert problem_text(above, lang="en").endswith("value(s) above 100: 101 — enter a value of at most 100")


def test_validate_rejects_stage_dates_out_of_order():
    from geo.errors import DataError
    from i18n import problem_text
    df = pd.DataFrame({"estate_id": ["e1", "e2", "e3"], "name": ["甲", "乙", "丙"], "households": [10, 20, 30],
                       "management": "unmanaged", "业委会成立日期": ["2019-03-01", "2019-03-01", None],
                       "规约通过日期": ["2019-02-01", "2019-04-01", "2019-05-01"],
                       "收费启动日期": [None, "2019-03-15", "2019-04-01"], "lon": 113.1, "lat": 27.9})
    with pytest.raises(DataError) as e:
        validate_layer(df, "estates")
    # row 1: rules before the committee; row 2: fees before rules (managed_on absent: compared with rules);
    # row 3: fees before rules
    found = sorted((p.column, p.params["rows"]) for p in e.value.problems)
    assert found == [("fees_started_on", "2, 3"), ("rules_adopted_on", "1")]
    rules = next(p for p in e.value.problems if p.column == "rules_adopted_on")
    assert problem_text(rules, lang="zh") == (
        "图层 小区，第 1 行，列 规约通过日期 (rules_adopted_on): “规约已通过”的日期（rules_adopted_on）早于“业委会已成立”"
        "的日期（committee_formed_on） — 后一阶段不能早于前一阶段，请核对两个日期")
    ok = validate_layer(df.iloc[[1]].assign(收费启动日期="2019-04-02"), "estates")
    assert ok["fees_started_on"].iloc[0] == pd.Timestamp("2019-04-02")


def test_errors_read_in_both_languages(est):
    from i18n import error_text
    with pytest.raises(AnalysisError) as e:
        plan_progress(est, start=START, target="2018-06-30", as_of=AS_OF)
    assert error_text(e.value, lang="zh") == "目标日期 2018-06-30 早于计划开始 2019-01-01"
    assert error_text(e.value, lang="en") == "The target date 2018-06-30 is before the plan start 2019-01-01"
    with pytest.raises(AnalysisError) as e:
        street_progress(est, start=START, target=TARGET, as_of=AS_OF, street="北街")
    assert error_text(e.value, lang="zh") == "街道“北街”没有列入推进的小区"
