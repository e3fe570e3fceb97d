"""The coverage command: one row per grid, district totals as one JSON line, exit 2 on bad input."""

import json

import pandas as pd
import pytest

import cli
from analysis.coverage import coverage_by_grid
from geo.dataset import write_dataset
from tests.analysis.coverage_fixtures import river_district


@pytest.fixture
def river_gpkg(tmp_path):
    return write_dataset(river_district(), tmp_path / "river.gpkg")


def test_coverage_writes_the_grid_table_and_prints_totals(river_gpkg, tmp_path, capsys):
    out = tmp_path / "cov.csv"
    assert cli.main(["--lang", "en", "coverage", "--data", str(river_gpkg), "--type", "day_care", "--radius-m", "300",
                     "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["grid_id", "street", "elderly", "covered_elderly", "covered_share", "nearest_m"]
    assert table["grid_id"].tolist() == ["S", "N"]
    assert table["elderly"].tolist() == [80, 120]
    assert table["covered_elderly"].tolist() == [80.0, 120.0]  # the far bank is 120 m away in a straight line
    totals = json.loads(capsys.readouterr().out)
    assert totals["total"] == 200.0 and totals["covered"] == 200.0 and totals["covered_share"] == 1.0
    assert totals["distance"] == "euclidean" and totals["radius_m"] == {"day_care": 300.0}


def test_walking_and_population_weight(river_gpkg, tmp_path, capsys):
    out = tmp_path / "walk.csv"
    assert cli.main(["--lang", "en", "coverage", "--data", str(river_gpkg), "--type", "day_care", "--radius-m", "300",
                     "--distance", "walking", "--weight", "population", "--out", str(out)]) == 0
    table = pd.read_csv(out).set_index("grid_id")
    assert list(table.columns) == ["street", "population", "covered_population", "covered_share", "nearest_m"]
    assert table.loc["N", "covered_population"] == 0.0  # 2,120 m round by the bridge
    assert table.loc["N", "nearest_m"] == pytest.approx(2120.2, abs=0.6)
    expected = coverage_by_grid(river_district(), radius_m=300, distance="walking", weight="population")
    assert table["covered_share"].tolist() == expected["covered_share"].round(4).tolist()
    totals = json.loads(capsys.readouterr().out)
    assert totals["weight"] == "population" and totals["covered_share"] == pytest.approx(
        expected["covered_population"].sum() / expected["population"].sum(), abs=1e-4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "nursing_home"], "error: There are no facilities of type “nursing_home” in the data; "
                                     "types present: day_care"),
        (["--type", "day_care", "--radius-m", "0"], "error: `radius_m` was 0.0 but must be greater than 0."),
        (["--type", "day_care", "--radius-m", "-3"], "error: `radius_m` was -3.0 but must be greater than 0."),
        (["--type", "day_care", "--radius-m", "99999"], "error: The threshold of 99999 m is too large: at most 5000 m"),
    ],
)
def test_bad_input_exits_2_with_a_message(river_gpkg, tmp_path, capsys, args, message):
    out = tmp_path / "x.csv"
    assert cli.main(["--lang", "en", "coverage", "--data", str(river_gpkg), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and "Traceback" not in err
    assert not out.exists()


def test_walking_without_roads_exits_2(tmp_path, capsys):
    path = write_dataset(river_district().with_layer("roads", None), tmp_path / "noroads.gpkg")
    assert cli.main(["--lang", "en", "coverage", "--data", str(path), "--type", "day_care", "--distance", "walking",
                     "--out", str(tmp_path / "x.csv")]) == 2
    assert ("error: Walking distance needs a roads layer, and this dataset has none; import one or use "
            "straight-line distance." in capsys.readouterr().err)
