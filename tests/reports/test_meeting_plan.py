"""The meeting for a plan year or the aged 80+: the brief, the deck's labels and equity slide, and `report --year`.

Expected values come from `analysis.coverage` / `analysis.equity` run directly on the grids with the projected
weights (`analysis.projection.project_dataset`), the stations operating at a month's end picked here by hand
from ``opened_on`` (a station counts from its opening day on).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pandas as pd
import pytest
from pptx import Presentation

from analysis.coverage import compute_coverage
from analysis.equity import DISTRICT_ROW, equity_by_grid
from analysis.meeting import meeting_brief
from analysis.projection import project_dataset
from cli import EXIT_BAD_INPUT, EXIT_OK, main
from geo.dataset import DEMO_PATH, read_dataset, write_dataset
from geo.errors import AnalysisError
from i18n import t
from reports.content import fmt_count, fmt_share
from reports.pptx import build_pptx
from reports.xlsx import build_xlsx
from tests.partial import required_only


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO_PATH)


@pytest.fixture(scope="module")
def no_bands(tmp_path_factory):
    """The demo cut to the required columns: no age bands."""
    return write_dataset(required_only(read_dataset(DEMO_PATH)), tmp_path_factory.mktemp("plan") / "nobands.gpkg")


def _projected(ds, year: int, column: str = "elderly_plan"):
    """The demo with its grids' ``elderly`` replaced by the projection's column, rounded to whole persons."""
    proj = project_dataset(ds, year=year).grids.set_index("grid_id")[column]
    grids = ds.grids.copy()
    grids["elderly"] = grids["grid_id"].astype(str).map(proj).round().astype("int64").to_numpy()
    return ds.with_layer("grids", grids)


def _operating(ds, day: dt.date):
    """The facilities operating at the end of ``day``: not planned, opened on or before it."""
    f = ds.facilities
    opened = pd.to_datetime(f["opened_on"])
    keep = (f["status"].astype(str) != "planned") & (opened.isna() | (opened.dt.date <= day))
    return ds.with_layer("facilities", f[keep.to_numpy()])


def _share(ds, street: str | None = None) -> float:
    grids = compute_coverage(ds, facility_types=("day_care",), radius_m=300.0).grids
    if street:
        grids = grids[grids["street"] == street]
    return float(grids["covered_elderly"].sum() / grids["elderly"].sum())


@pytest.mark.parametrize(("year", "weight", "column"), [(2030, "elderly", "elderly_plan"),
                                                         (2027, "elderly_80", "aged_80_plus_plan")])
def test_the_brief_for_a_plan_year_counts_the_projected_people(demo, year, weight, column):
    b = meeting_brief(demo, year=year, weight=weight)
    projected = _projected(demo, year, column)
    assert b.figure("coverage").value == pytest.approx(_share(_operating(projected, b.month_end)), abs=1e-12)
    # the change since last month: the same people, the stations operating at last month's end
    assert b.figure("coverage").previous == pytest.approx(_share(_operating(projected, b.previous_end)), abs=1e-12)
    direct = compute_coverage(_operating(projected, b.month_end), facility_types=("day_care",), radius_m=300.0).grids
    uncovered = (direct["elderly"] - direct["covered_elderly"]).clip(lower=0)
    assert float(b.gaps["uncovered_elderly"].sum()) == pytest.approx(float(uncovered[uncovered > 1e-9].sum()))
    assert int(b.coverage_grids["elderly"].sum()) == int(projected.grids["elderly"].sum())
    league = b.street_league.set_index("street")["covered_share"]
    assert league["田心"] == pytest.approx(_share(_operating(projected, b.month_end), "田心"))
    assert (b.demand_year, b.demand_weight, b.survival.source) == (year, weight, "survival_ratios.csv")
    # the trend stays on today's aged 60+
    pd.testing.assert_frame_equal(b.trend, meeting_brief(demo).trend)


def test_today_s_aged_80_plus_and_one_street(demo):
    b = meeting_brief(demo, street="田心", weight="elderly_80")
    grids = demo.grids.assign(elderly=demo.grids["aged_80_plus"].round().astype("int64"))
    eighty = demo.with_layer("grids", grids)
    assert b.figure("coverage").value == pytest.approx(_share(_operating(eighty, b.month_end), "田心"))
    assert (b.demand_year, b.survival) == (None, None)


def test_today_s_brief_is_the_meeting_s_own(demo):
    b = meeting_brief(demo)
    assert b.demand_is_today and b.survival is None
    assert b.figure("coverage").value == pytest.approx(_share(_operating(demo, b.month_end)))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_deck_says_what_it_counts_and_its_equity_slide_counts_it(demo, lang):
    b = meeting_brief(demo, year=2030, weight="elderly_80")
    who = t("planning.who_in_year", lang=lang, who=t("planning.weight.elderly_80", lang=lang), year=2030)
    prs = Presentation(io.BytesIO(build_pptx(demo, b, lang=lang)))
    texts = [[sh.text_frame.text for sh in s.shapes if sh.has_text_frame] for s in prs.slides]
    assert t("meeting_plan.subtitle.projected", lang=lang, who=who, source="survival_ratios.csv",
             assumption=t("meeting_plan.assumption", lang=lang)) in texts[0][1]
    figures = next(s for s in texts if t("meeting.sec.figures", lang=lang) in s)
    card = t("meeting_plan.card.coverage_year", lang=lang, band="80+", year=2030)
    cover = next(x for x in figures if x.startswith(card))
    assert cover.split("\n")[1] == fmt_share(b.figure("coverage").value)
    gaps_title = t("meeting_plan.sec.with_who", lang=lang, title=t("meeting.sec.gaps", lang=lang), who=who)
    assert any(gaps_title in s for s in texts)
    eq_title = t("meeting_plan.sec.with_who", lang=lang, title=t("meeting.sec.equity", lang=lang), who=who)
    (slide,) = [s for s in prs.slides if any(sh.has_text_frame and sh.text_frame.text == eq_title for sh in s.shapes)]
    (table,) = [sh.table for sh in slide.shapes if sh.has_table]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0][1] == who
    want = equity_by_grid(_projected(demo, 2030, "aged_80_plus_plan"), facility_types=("day_care",),
                          radius_m=300.0).streets.set_index("street")
    district = want.loc[DISTRICT_ROW]
    assert rows[-1][:4] == [t("equity.district", lang=lang), fmt_count(district["elderly"]),
                            fmt_count(district["beyond"]), fmt_share(district["beyond_share"])]
    assert rows[-1][4] == f"{district['gini']:.2f}"
    text = "\n".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    assert t("meeting_plan.equity.definition", lang=lang, radius="300", who=who) in text


def test_the_workbook_names_the_people_counted(demo):
    b = meeting_brief(demo, year=2030)
    who = t("planning.who_in_year", lang="zh", who=t("planning.weight.elderly", lang="zh"), year=2030)
    wb = openpyxl.load_workbook(io.BytesIO(build_xlsx(b, lang="zh")))
    summary = wb["汇总"]
    assert summary["A2"].value == t("meeting_plan.fig.coverage", lang="zh", who=who)
    assert summary["B2"].value == pytest.approx(b.figure("coverage").value)
    gaps = wb[t("meeting.sec.gaps", lang="zh")]
    heads = [c.value for c in gaps[1]]
    assert who in heads and t("meeting_plan.col.uncovered", lang="zh", who=who) in heads
    streets = wb[t("meeting.sec.streets", lang="zh")]
    assert [c.value for c in streets[1]][-1] == t("meeting_plan.fig.coverage", lang="zh", who=who)
    # today's workbook keeps the meeting's own words
    plain = openpyxl.load_workbook(io.BytesIO(build_xlsx(meeting_brief(demo), lang="zh")))
    assert plain["汇总"]["A2"].value == t("meeting.fig.coverage", lang="zh")


def test_the_default_deck_has_the_meeting_s_own_labels(demo):
    b = meeting_brief(demo)
    prs = Presentation(io.BytesIO(build_pptx(demo, b, lang="zh")))
    texts = "\n".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)
    assert "统计对象" not in texts and "2030" not in texts
    assert t("meeting.fig.coverage", lang="zh") in texts
    assert t("equity.definition", lang="zh", radius="300") in texts


@pytest.mark.parametrize(("kwargs", "code", "message"), [
    ({"year": 2010}, "analysis.year_before_base", "the plan year 2010 is before the data's year 2019"),
    ({"year": 2060}, "analysis.year_too_far", "the plan year 2060 is more than 30 years after the data's year 2019"),
])
def test_a_plan_year_outside_the_range_is_refused(demo, kwargs, code, message):
    with pytest.raises(AnalysisError, match=message) as err:
        meeting_brief(demo, **kwargs)
    assert err.value.code == code


# --- the command line ------------------------------------------------------------------------------------------


def _run(args: list[str], capsys) -> tuple[int, dict | None, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == EXIT_OK else None), out.err


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_year_equity_slide_equals_the_equity_command(tmp_path, capsys, lang):
    deck = tmp_path / "plan.pptx"
    code, summary, _ = _run(["--lang", lang, "report", "--out", str(deck), "--year", "2030", "--weight",
                             "elderly_80"], capsys)
    assert code == EXIT_OK
    assert (summary["year"], summary["demand"], summary["survival"]) == (2030, "elderly_80", "survival_ratios.csv")
    streets_csv = tmp_path / "streets.csv"
    code, eq, _ = _run(["equity", "--type", "day_care", "--radius-m", "300", "--year", "2030", "--weight",
                        "elderly_80", "--out", str(streets_csv)], capsys)
    assert code == EXIT_OK
    with streets_csv.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    who = t("planning.who_in_year", lang=lang, who=t("planning.weight.elderly_80", lang=lang), year=2030)
    title = t("meeting_plan.sec.with_who", lang=lang, title=t("meeting.sec.equity", lang=lang), who=who)
    prs = Presentation(str(deck))
    (slide,) = [s for s in prs.slides if any(sh.has_text_frame and sh.text_frame.text == title for sh in s.shapes)]
    (table,) = [sh.table for sh in slide.shapes if sh.has_table]
    shown = [[c.text for c in r.cells] for r in table.rows][1:]
    assert len(shown) == len(rows)
    for got, want in zip(shown, rows, strict=True):
        name = t("equity.district", lang=lang) if want["street"] == DISTRICT_ROW else want["street"]
        assert got[0] == name
        assert got[1] == f"{int(want['elderly']):,}"
        assert got[2] == f"{round(float(want['beyond'])):,}"
        assert got[3] == f"{100 * float(want['beyond_share']):.1f}%"
        assert got[4] == f"{float(want['gini']):.2f}"
    assert shown[-1][1] == f"{eq['elderly']:,}"


def test_report_year_xlsx_coverage_equals_coverage_command(tmp_path, capsys):
    book = tmp_path / "plan.xlsx"
    code, summary, _ = _run(["report", "--out", str(book), "--year", "2030"], capsys)
    assert code == EXIT_OK
    wb = openpyxl.load_workbook(book)
    assert wb["汇总"]["B2"].value == pytest.approx(summary["figures"]["coverage"])
    code, cov, _ = _run(["coverage", "--type", "day_care", "--radius-m", "300", "--year", "2030",
                         "--out", str(tmp_path / "cov.csv")], capsys)
    assert code == EXIT_OK
    # the demo's stations all operate at the as-of day: the month's coverage is the coverage command's
    assert summary["figures"]["coverage"] == pytest.approx(cov["covered_share"], abs=5e-5)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("extra", "code_key"), [
    (["--year", "2030"], "analysis.age_bands_missing"),
    (["--weight", "elderly_80"], "analysis.age_bands_missing"),
])
def test_report_refuses_a_plan_year_without_bands_as_coverage_does(no_bands, tmp_path, capsys, lang, extra,
                                                                   code_key):
    out = tmp_path / "deck.pptx"
    code, _, err = _run(["--lang", lang, "report", "--data", str(no_bands), "--out", str(out), *extra], capsys)
    assert code == EXIT_BAD_INPUT and not out.exists()
    missing = "aged_55_59, aged_60_64, aged_65_69, aged_70_74, aged_75_79, aged_80_plus"
    assert err == f"error: {t(f'err.{code_key}', lang=lang, missing=missing)}\n"
    code, _, cov_err = _run(["--lang", lang, "coverage", "--data", str(no_bands), "--type", "day_care",
                             "--out", str(tmp_path / "c.csv"), *extra], capsys)
    assert code == EXIT_BAD_INPUT and cov_err == err


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_refuses_a_year_before_the_data_as_coverage_does(tmp_path, capsys, lang):
    code, _, err = _run(["--lang", lang, "report", "--out", str(tmp_path / "d.pptx"), "--year", "2010"], capsys)
    assert code == EXIT_BAD_INPUT
    assert err == f"error: {t('err.analysis.year_before_base', lang=lang, year=2010, base=2019)}\n"
    code, _, cov_err = _run(["--lang", lang, "coverage", "--type", "day_care", "--out", str(tmp_path / "c.csv"),
                             "--year", "2010"], capsys)
    assert code == EXIT_BAD_INPUT and cov_err == err


def test_report_without_year_on_a_dataset_without_bands_is_the_default_deck(no_bands, tmp_path, capsys):
    out = tmp_path / "deck.pptx"
    code, summary, _ = _run(["report", "--data", str(no_bands), "--out", str(out)], capsys)
    assert code == EXIT_OK and "year" not in summary
    texts = "\n".join(sh.text_frame.text for s in Presentation(str(out)).slides for sh in s.shapes
                      if sh.has_text_frame)
    assert "统计对象" not in texts and t("meeting.fig.coverage", lang="zh") in texts


def test_report_with_a_survival_table_of_its_own(tmp_path, capsys):
    table = tmp_path / "own.csv"
    table.write_text("band,ratio\naged_55_59,0.99\naged_60_64,0.98\naged_65_69,0.96\naged_70_74,0.93\n"
                     "aged_75_79,0.88\naged_80_plus,0.70\n", encoding="utf-8")
    deck = tmp_path / "own.pptx"
    code, summary, _ = _run(["report", "--out", str(deck), "--year", "2031", "--survival", str(table)], capsys)
    assert code == EXIT_OK
    assert (summary["survival"], summary["survival_assumption"]) == ("own.csv", False)
    code, cov, _ = _run(["coverage", "--type", "day_care", "--radius-m", "300", "--year", "2031", "--survival",
                         str(table), "--out", str(tmp_path / "cov.csv")], capsys)
    assert code == EXIT_OK and cov["total"] != 45200
    assert summary["figures"]["coverage"] == pytest.approx(cov["covered_share"], abs=5e-5)
    who = t("planning.who_in_year", lang="zh", who=t("planning.weight.elderly", lang="zh"), year=2031)
    first = [sh.text_frame.text for sh in Presentation(str(deck)).slides[0].shapes if sh.has_text_frame]
    assert t("meeting_plan.subtitle.projected", lang="zh", who=who, source="own.csv", assumption="") in first[1]


def test_report_refuses_a_bad_survival_table_as_coverage_does(tmp_path, capsys):
    table = tmp_path / "bad.csv"
    table.write_text("band,ratio\naged_55_59,1.5\n", encoding="utf-8")
    code, _, err = _run(["report", "--out", str(tmp_path / "d.xlsx"), "--year", "2030", "--survival", str(table)],
                        capsys)
    assert code == EXIT_BAD_INPUT
    assert err == "error: " + t("err.analysis.survival_bad_ratio", lang="zh", source="bad.csv", band="aged_55_59",
                                value="1.5") + "\n"
    code, _, cov_err = _run(["coverage", "--type", "day_care", "--out", str(tmp_path / "c.csv"), "--year", "2030",
                             "--survival", str(table)], capsys)
    assert code == EXIT_BAD_INPUT and cov_err == err
