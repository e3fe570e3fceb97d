"""The 小区自治 page without a browser (Streamlit's AppTest): figures, a bad plan, a dataset without a target."""

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from geo.dataset import DEMO_PATH, Dataset, read_dataset, write_dataset
from tests.e2e.conftest import ROOT

APP = str(ROOT / "app.py")


def _estates_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("pages/estates.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_figures_and_streets_behind():
    at = _estates_page()
    m = _metrics(at)
    ds = read_dataset(DEMO_PATH)
    stages = ds.estates["governance_stage"].value_counts()
    assert m["列入推进的小区"] == "182"
    assert m["未启动"] == str(stages["none"]) and m["已启动收费"] == str(stages["fees_started"])
    assert m["落后街道"] == "2"
    assert any("落后于计划：清水塘（差 10 个）、井龙（差 2 个）" in w.value for w in at.warning)
    # tracking committees instead: every street is ahead of that plan
    at.radio(key="estates_stage_tracked__zh").set_value("committee_formed").run()
    assert _metrics(at)["落后街道"] == "0"
    assert any("各街道均达到本月计划" in s.value for s in at.success)


def test_a_target_before_the_start_is_explained_in_the_page_language():
    at = _estates_page()
    at.date_input(key="estates_plan_target").set_value(dt.date(2018, 12, 31)).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["目标日期 2018-12-31 早于计划开始 2019-01-01"]


@pytest.fixture
def without_target(tmp_path, monkeypatch):
    ds = read_dataset(DEMO_PATH)
    meta = tuple((k, v) for k, v in ds.meta if not k.startswith("estates_"))
    path = write_dataset(Dataset(grids=ds.grids, facilities=ds.facilities, estates=ds.estates, name=ds.name,
                                 meta=meta), tmp_path / "no_target.gpkg")
    monkeypatch.setenv("GRIDATLAS_DATA", str(path))
    return path


def test_without_a_target_the_page_asks_for_one_and_plans_the_calendar_year(without_target):
    at = _estates_page()
    assert any("数据集未给出目标日期" in w.value for w in at.warning)
    assert at.date_input(key="estates_plan_target").value == dt.date(2019, 12, 31)
    assert at.date_input(key="estates_plan_start").value == dt.date(2019, 1, 1)
    assert _metrics(at)["落后街道"] == "2"  # the same plan as the demo's meta gives


def test_burn_down_panels_escape_street_names_and_mark_who_is_behind():
    import pandas as pd

    from analysis.estates import plan_progress, street_progress
    from ui.estates import Plan, burn_down

    df = pd.DataFrame({"estate_id": ["a", "b"], "name": ["甲", "乙"], "households": [1, 1],
                       "management": "unmanaged", "street": ["<a href='javascript:alert(1)'>东</a>", "西街"],
                       "governance_stage": ["none", "committee_formed"], "committee_formed_on": [None, "2019-02-01"]})
    kw = {"start": "2019-01-01", "target": "2019-06-30", "as_of": "2019-03-31"}
    rows = plan_progress(df, **kw)
    fig = burn_down(rows[rows["stage"] == "committee_formed"], street_progress(df, stage="committee_formed", **kw),
                    Plan(*(pd.Timestamp(v) for v in kw.values()), True), stage="committee_formed", lang="zh")
    # each street has one estate: ceil(1 * 3 / 6) = 1 due by March; the district: ceil(2 * 3 / 6) = 1, 1 done
    assert [a.text for a in fig.layout.annotations] == [
        "&lt;a href=&#x27;javascript:alert(1)&#x27;&gt;东&lt;/a&gt; · 落后 −1", "西街 · 按计划", "全部街道 · 按计划"]
    # the pace needed: from 1 left on 03-31 to none on 06-30, drawn only where something is left (not 西街)
    needed = [tr for tr in fig.data if tr.name == "按期完成所需进度"]
    assert [(tr.xaxis, list(tr.y)) for tr in needed] == [("x", [1, 0]), ("x3", [1, 0])]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_red_and_black_lists_show_the_rank_as_their_first_column(lang, monkeypatch):
    import i18n
    from i18n import t

    monkeypatch.setattr(i18n, "current_lang", lambda: lang)  # AppTest formats the sidebar outside the page's run
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["lang"] = lang
    at.switch_page("pages/estates.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    rank, company = t("estates.col.rank", lang=lang), t("col.property_company", lang=lang)
    assert rank == {"zh": "名次", "en": "Rank"}[lang]
    red, black = [tb.value for tb in at.table if company in tb.value.columns][:2]
    # independent: the demo's scored estates grouped by company (at least 2 each, the page's default), best mean
    # first; ties share the better rank; 3 companies on each list (the page's default), the black list worst first
    ds = read_dataset(DEMO_PATH)
    scored = ds.estates.dropna(subset=["property_company", "satisfaction"])
    means = scored.groupby("property_company")["satisfaction"].agg(["mean", "size"])
    means = means[means["size"] >= 2].sort_values("mean", ascending=False, kind="stable")
    ranks = [1 + int((means["mean"] > m).sum()) for m in means["mean"]]
    names = means.index.tolist()
    for shown in (red, black):
        assert shown.columns[0] == rank and shown.columns[1] == company
    assert red[rank].astype(int).tolist() == ranks[:3] == [1, 2, 3]
    assert red[company].tolist() == names[:3]
    assert black[rank].astype(int).tolist() == ranks[::-1][:3] == [len(names), len(names) - 1, len(names) - 2]
    assert black[company].tolist() == names[::-1][:3]
