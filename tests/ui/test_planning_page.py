"""The coverage page's plan year, equity and what-if (Streamlit's AppTest, no browser), on the bundled demo."""

import pytest
from streamlit.testing.v1 import AppTest

from analysis.coverage import compute_coverage
from analysis.equity import equity_by_grid
from analysis.projection import with_demand
from analysis.whatif import what_if
from geo.dataset import DEMO_PATH, read_dataset
from i18n import t
from tests.e2e.conftest import ROOT

APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO_PATH)


def _coverage_page(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.switch_page("pages/coverage.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("lang", ["zh"])  # the English page: looked at in a browser (README)
def test_a_plan_year_and_the_80_plus_change_the_figures(demo, lang):
    at = _coverage_page(lang)
    today = _metrics(at)[t("coverage.kpi.total", lang=lang, weight=t("coverage.weight.elderly", lang=lang))]
    assert today == "45,200"
    at.number_input(key="cov_plan_year").set_value(2030).run()
    assert not at.exception, [e.value for e in at.exception]
    projected = with_demand(demo, year=2030)
    who = t("planning.who_in_year", lang=lang, who=t("planning.weight.elderly", lang=lang), year=2030)
    got = _metrics(at)
    assert got[t("coverage.kpi.total", lang=lang, weight=who)] == f"{projected.grids['elderly'].sum():,}"
    covered = compute_coverage(projected, radius_m=300)
    assert got[t("coverage.kpi.covered", lang=lang)] == f"{covered.grids['covered_elderly'].sum():,.0f}"
    captions = [c.value for c in at.caption]
    assert any(t("planning.survival.assumption", lang=lang, source="survival_ratios.csv", base=2019) == c
               for c in captions)
    at.toggle(key="cov_equity_on").set_value(True).run()  # today's and 2030's equity side by side
    compare = next(d.value for d in at.dataframe
                   if f"{t('equity.col.gini', lang=lang)} · {who}" in d.value.columns)
    today_who = t("planning.weight.elderly", lang=lang)
    assert compare[f"{t('planning.col.counted', lang=lang)} · {today_who}"].tolist()[-1] == 45200
    assert compare[f"{t('planning.col.counted', lang=lang)} · {who}"].tolist()[-1] == projected.grids["elderly"].sum()
    at.radio(key=f"cov_plan_weight__{lang}").set_value("elderly_80").run()
    eighty = with_demand(demo, year=2030, weight="elderly_80")
    who = t("planning.who_in_year", lang=lang, who=t("planning.weight.elderly_80", lang=lang), year=2030)
    assert _metrics(at)[t("coverage.kpi.total", lang=lang, weight=who)] == f"{eighty.grids['elderly'].sum():,}"
    # the count choice and the gap table name the people counted, not "aged 60+"
    count = at.radio(key=f"cov_weight__{lang}")
    assert count.value == "elderly" and count.format_func("elderly") == who
    gaps = next(d.value for d in at.dataframe if t("coverage.col.uncovered", lang=lang) in d.value.columns)
    assert who in gaps.columns and t("coverage.weight.elderly", lang=lang) not in gaps.columns
    covered80 = compute_coverage(eighty, radius_m=300).grids.set_index("grid_id")
    first = gaps.iloc[0]
    assert first[who] == pytest.approx(covered80.loc[first[t("col.grid_id", lang=lang)], "elderly"])


def test_equity_and_what_if_sections(demo):
    at = _coverage_page()
    at.toggle(key="cov_equity_on").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    want = equity_by_grid(demo, radius_m=300)
    tables = [d.value for d in at.dataframe]
    streets = next(df for df in tables if t("equity.col.gini", lang="zh") in df.columns)
    assert streets[t("equity.col.street", lang="zh")].tolist()[-1] == "全区"
    assert streets[t("planning.weight.elderly", lang="zh")].tolist()[-1] == 45200
    assert streets[t("equity.col.gini", lang="zh")].tolist()[-1] == f"{want.streets['gini'].iloc[-1]:.2f}"
    f = demo.facilities
    fid = str(f[(f["type"] == "day_care") & (f["status"] != "planned")]["facility_id"].iloc[0])
    at.multiselect(key="cov_wi_close").set_value([fid]).run()
    assert not at.exception, [e.value for e in at.exception]
    lost = what_if(demo, close=[fid], radius_m=300).lost
    texts = [m.value for m in at.markdown]
    assert t("planning.whatif.lost", lang="zh", n=len(lost)) in " ".join(texts)


def test_the_siting_page_sites_for_the_plan_year(demo):
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.switch_page("pages/siting.py")
    at.run()
    at.number_input(key="site_plan_year").set_value(2030).run()
    at.button[0].click().run()  # the form's run button
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["siting_run"]
    assert run[0].endswith("@demand:2030:elderly:")  # the run was made for the aged 60+ of 2030
    assert run[1].result.total_elderly == pytest.approx(with_demand(demo, year=2030).grids["elderly"].sum())
    # both objectives' introductions name the people counted
    who = t("planning.who_in_year", lang="zh", who=t("planning.weight.elderly", lang="zh"), year=2030)
    captions = [c.value for c in at.caption]
    assert t("siting.intro", lang="zh", who=who) in captions
    assert t("siting_distance.intro", lang="zh", who=who) in captions
    assert "60 岁以上老人" not in t("siting.intro", lang="zh", who=who)


def test_the_distance_answer_names_the_people_it_counts():
    """The per-street table of a distance answer for the aged 80+ of 2030 heads its people column with them, and
    their count per street equals the projected grids' sum."""
    from analysis.projection import with_demand as project
    from ui.demand import Demand
    from ui.siting_distance import street_frame

    demo = read_dataset(DEMO_PATH)
    eighty = project(demo, year=2030, weight="elderly_80")
    from analysis.coverage import prepare_inputs
    from analysis.siting.pmedian import pmedian_sites

    res = pmedian_sites(eighty, n_new=2, demand=prepare_inputs(eighty).demand)
    frame = street_frame(res, Demand(year=2030, weight="elderly_80"))
    who = t("planning.who_in_year", who=t("planning.weight.elderly_80"), year=2030)
    assert who in frame.columns and t("siting_distance.col.elderly") not in frame.columns
    street_col = t("siting_distance.col.street")
    per_street = eighty.grids.groupby("street")["elderly"].sum().round(0)
    for _, row in frame.iterrows():
        if row[street_col] in per_street.index:
            assert row[who] == pytest.approx(per_street[row[street_col]], abs=1)
    assert t("siting_distance.col.elderly") in street_frame(res).columns  # today's aged 60+: the usual header
