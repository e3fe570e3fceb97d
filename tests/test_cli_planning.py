"""project, equity, and coverage with --year/--weight/--close/--open: round trips through files, exit 2 on bad
input with the message in the language asked for."""

import json

import pandas as pd
import pytest

import cli
from analysis.equity import DISTRICT_ROW, equity_by_grid
from analysis.projection import with_demand
from geo.dataset import Dataset, write_dataset
from geo.schema import AGE_BANDS, validate_layer
from tests.analysis.coverage_fixtures import at, facilities_layer, river_district

# S: 55-59 … 80+ = 30, 20, 20, 20, 10, 10 (60+ = 80); N: 40, 40, 30, 20, 20, 10 (60+ = 120)
BANDS = {"S": (30, 20, 20, 20, 10, 10), "N": (40, 40, 30, 20, 20, 10)}
HALF = "band,ratio\n" + "".join(f"{b},0.5\n" for b in AGE_BANDS)


def _banded() -> Dataset:
    """The river district with age bands, as of 2019, and a second station F2 far from everyone (1,900 m east)."""
    ds = river_district()
    grids = ds.grids.copy()
    for j, band in enumerate(AGE_BANDS):
        grids[band] = [BANDS[g][j] for g in grids["grid_id"]]
    fac = validate_layer(facilities_layer([at(0, -60), at(1900, 300)], types=["day_care", "day_care"]), "facilities")
    return Dataset(grids=grids, facilities=fac, estates=ds.estates, roads=ds.roads, name="river",
                   meta=(("as_of", "2019-12-31"),))


@pytest.fixture
def river(tmp_path):
    return write_dataset(_banded(), tmp_path / "river.gpkg")


def test_project_round_trip_by_hand(river, tmp_path, capsys):
    survival = tmp_path / "half.csv"
    survival.write_text(HALF, encoding="utf-8")
    out = tmp_path / "p.csv"
    assert cli.main(["project", "--data", str(river), "--year", "2022", "--survival", str(survival),
                     "--out", str(out)]) == 0
    # every ratio 0.5, 3 of 5 years: S after 5 years 15, 10, 10, 10, 5 + 5 = 10 -> 60+ 55, 80+ 10;
    #   2022: 80 + 0.6·(55 − 80) = 65, 80+ 10 + 0.6·(10 − 10) = 10
    # N after 5 years 20, 20, 15, 10, 10 + 5 = 15 -> 60+ 80, 80+ 15; 2022: 120 − 0.6·40 = 96, 10 + 0.6·5 = 13
    table = pd.read_csv(out)
    assert list(table.columns) == ["grid_id", "elderly", "elderly_2022", "aged_80_plus_2022"]
    assert table.to_dict(orient="list") == {"grid_id": ["S", "N"], "elderly": [80, 120], "elderly_2022": [65.0, 96.0],
                                            "aged_80_plus_2022": [10.0, 13.0]}
    summary = json.loads(capsys.readouterr().out)
    assert summary["base_year"] == 2019 and summary["elderly_2022"] == 161.0
    assert summary["survival"] == "half.csv" and summary["survival_assumption"] is False


def test_project_without_bands_exits_2_in_both_languages(tmp_path, capsys):
    path = write_dataset(Dataset(grids=river_district().grids, facilities=river_district().facilities,
                                 meta=(("as_of", "2019-12-31"),)), tmp_path / "plain.gpkg")
    assert cli.main(["project", "--data", str(path), "--year", "2030", "--out", str(tmp_path / "x.csv")]) == 2
    assert capsys.readouterr().err.strip() == ("error: 预测需要网格的年龄段列，缺少：aged_55_59, aged_60_64, aged_65_69, "
                                               "aged_70_74, aged_75_79, aged_80_plus。请导入带 55-59岁 … 80岁及以上 各列的网格图层")
    assert cli.main(["--lang", "en", "project", "--data", str(path), "--year", "2030",
                     "--out", str(tmp_path / "x.csv")]) == 2
    assert capsys.readouterr().err.strip().startswith("error: projecting needs the grids' age bands; missing: "
                                                      "aged_55_59")
    assert not (tmp_path / "x.csv").exists()


def test_equity_round_trip(river, tmp_path, capsys):
    out, grids_out = tmp_path / "streets.csv", tmp_path / "grids.csv"
    assert cli.main(["equity", "--data", str(river), "--type", "day_care", "--radius-m", "300", "--year", "2024",
                     "--out", str(out), "--grids-out", str(grids_out)]) == 0
    streets, grids = pd.read_csv(out), pd.read_csv(grids_out)
    assert list(streets.columns) == ["street", "elderly", "beyond", "beyond_share", "gini", "palma"]
    assert list(grids.columns) == ["grid_id", "street", "elderly", "covered_elderly", "access"]
    assert streets["street"].tolist()[-1] == DISTRICT_ROW
    want = equity_by_grid(with_demand(_banded(), year=2024), radius_m=300)
    assert grids["elderly"].tolist() == want.grids["elderly"].astype(int).tolist()
    assert grids["access"].tolist() == pytest.approx(want.grids["access"].round(4).tolist())
    assert streets["gini"].fillna(-1).tolist() == pytest.approx(want.streets["gini"].round(4).fillna(-1).tolist())
    summary = json.loads(capsys.readouterr().out)
    assert summary["year"] == 2024 and summary["survival_assumption"] is True
    assert summary["elderly"] == int(want.grids["elderly"].sum())


def test_coverage_for_the_80_plus_and_with_a_closure(river, tmp_path, capsys):
    out = tmp_path / "c.csv"
    assert cli.main(["coverage", "--data", str(river), "--type", "day_care", "--radius-m", "300",
                     "--weight", "elderly_80", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["grid_id", "street", "elderly_80", "covered_elderly_80", "covered_share",
                                   "nearest_m"]
    assert table["elderly_80"].tolist() == [10, 10]
    assert table["covered_elderly_80"].tolist() == [10.0, 10.0]
    assert json.loads(capsys.readouterr().out)["weight"] == "elderly_80"
    fid = "F1"
    assert cli.main(["coverage", "--data", str(river), "--type", "day_care", "--radius-m", "300",
                     "--close", fid, "--out", str(out)]) == 0
    assert pd.read_csv(out)["covered_elderly"].tolist() == [0.0, 0.0]
    summary = json.loads(capsys.readouterr().out)
    assert summary["close"] == [fid] and summary["covered"] == 0.0


@pytest.mark.parametrize(("args", "zh", "en"), [
    (["coverage", "--type", "day_care", "--close", "F-9"], "error: 数据中没有编号为 F-9 的服务设施",
     "error: no facility with id F-9 in the data"),
    (["coverage", "--type", "day_care", "--weight", "population", "--year", "2030"],
     "error: --year 只预测60岁以上老年人口；请去掉 --weight population",
     "error: --year projects the aged 60+ only; leave out --weight population"),
    (["equity", "--type", "day_care", "--year", "2010"], "error: 规划年份 2010 早于数据年份 2019",
     "error: the plan year 2010 is before the data's year 2019"),
])
def test_bad_input_exits_2(river, tmp_path, capsys, args, zh, en):
    out = tmp_path / "x.csv"
    assert cli.main([*args, "--data", str(river), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == zh
    assert cli.main(["--lang", "en", *args, "--data", str(river), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == en
    assert not out.exists()


def test_site_for_the_80_plus_in_a_plan_year_agrees_with_coverage_of_its_sites(tmp_path, capsys):
    """The stations ``site --year --weight elderly_80`` chooses, opened with ``coverage --open``, cover what it says."""
    import shutil

    from geo.dataset import DEMO_PATH

    demo = shutil.copy(DEMO_PATH, tmp_path / "demo.gpkg")
    sites = tmp_path / "sites.csv"
    assert cli.main(["site", "--data", str(demo), "--new", "3", "--year", "2030", "--weight", "elderly_80",
                     "--out", str(sites)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["year"] == 2030 and answer["demand"] == "elderly_80" and answer["survival_assumption"] is True
    chosen = pd.read_csv(sites)["site_id"].astype(str).tolist()
    assert len(chosen) == 3
    out = tmp_path / "cov.csv"
    assert cli.main(["coverage", "--data", str(demo), "--type", "day_care", "--radius-m", "300", "--year", "2030",
                     "--weight", "elderly_80", "--open", ",".join(chosen), "--out", str(out)]) == 0
    cov = json.loads(capsys.readouterr().out)
    assert cov["open"] == chosen
    assert cov["covered"] == pytest.approx(answer["covered_elderly"], abs=0.1)
    assert cov["total"] == pytest.approx(answer["covered_elderly"] / answer["covered_share"], abs=1)


def test_a_what_if_saved_in_the_store_is_listed_by_scenarios(river, capsys):
    from analysis.whatif import what_if, whatif_scenario
    from geo.ref import DatasetRef
    from geo.storage import open_store

    store = open_store(DatasetRef.parse(str(river)))
    result = what_if(store.load(), close=["F1"], radius_m=300)
    store.save_scenario(whatif_scenario("close F1", result, demand={"year": 2024, "weight": "elderly"}))
    (saved,) = store.list_scenarios(kind="whatif")
    assert saved.params["close"] == ["F1"] and saved.params["year"] == 2024
    assert saved.result["streets"][-1]["covered_after"] == 0.0
    assert cli.main(["scenarios", "--data", str(river), "--kind", "whatif"]) == 0
    listed = json.loads(capsys.readouterr().out)["scenarios"]
    assert [(s["name"], s["kind"]) for s in listed] == [("close F1", "whatif")]
