"""`cli.py hotspots`: one row per grid with the documented columns; bad input exits 2 with a message."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import cli
from analysis.cases import build_case_table
from analysis.hotspots import gi_star, queen_weights
from geo.dataset import Dataset, write_dataset
from tests.analysis.case_fixtures import cases_for_counts, lattice_grids

COLUMNS = ["grid_id", "cases", "rate_per_1000", "gi_z", "gi_p", "gi_p_sim", "gi_bin", "pattern"]


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    grids = lattice_grids(12, 12, population=2000)
    rng = np.random.default_rng(0)
    counts = rng.poisson(3, len(grids))
    counts[[5 * 12 + 5, 5 * 12 + 6, 6 * 12 + 5, 6 * 12 + 6]] += 30
    cases = cases_for_counts(grids, counts, start="2024-01-01", days=120)
    cases.loc[0, "category"] = "路灯"
    cases = cases.drop(columns="grid_id")  # assigned when the dataset is read
    facilities = gpd.GeoDataFrame({"facility_id": ["F1"], "name": ["站"], "type": ["day_care"]},
                                  geometry=gpd.points_from_xy([114.305], [30.505]), crs="EPSG:4326")
    ds = Dataset(grids=grids, facilities=facilities, cases=cases, name="test", meta=(("as_of", "2024-04-30"),))
    path = tmp_path_factory.mktemp("hs") / "d.gpkg"
    write_dataset(ds, path)
    return path, grids, counts


def test_hotspots_csv(gpkg, tmp_path, capsys):
    path, grids, counts = gpkg
    out = tmp_path / "hs.csv"
    code = cli.main(["--lang", "en", "hotspots", "--data", str(path), "--permutations", "99", "--seed", "3", "--out", str(out)])
    assert code == 0
    df = pd.read_csv(out)
    assert list(df.columns) == COLUMNS
    assert df["grid_id"].tolist() == grids["grid_id"].tolist()
    assert_array_equal(df["cases"], counts)
    assert_allclose(df["rate_per_1000"], counts / 2.0)
    ref = gi_star(counts.astype(float), queen_weights(grids), permutations=99, seed=3)
    assert_allclose(df["gi_z"], ref.z, atol=1e-6)
    assert_allclose(df["gi_p"], ref.p, atol=1e-6)
    assert_allclose(df["gi_p_sim"], ref.p_sim, atol=1e-4)
    assert_array_equal(df["gi_bin"], ref.bins)
    assert df["pattern"].notna().all()  # 18 weeks: enough for the pattern
    summary = capsys.readouterr().out
    assert '"command": "hotspots"' in summary and '"cases_outside_grids": 0' in summary


def test_short_range_leaves_pattern_empty(gpkg, tmp_path, capsys):
    path, grids, counts = gpkg
    out = tmp_path / "hs.csv"
    code = cli.main(["--lang", "en", "hotspots", "--data", str(path), "--since", "2024-01-01", "--until", "2024-01-31",
                     "--period", "month", "--measure", "rate", "--permutations", "0", "--out", str(out)])
    assert code == 0
    df = pd.read_csv(out)
    assert df["pattern"].isna().all() and df["gi_p_sim"].isna().all()
    err = capsys.readouterr().err
    assert "warning: pattern left empty: emerging hot spots need at least 10 months; the selection spans 1" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "2020-01-01", "--until", "2020-02-01"],
     "error: No cases match (between 2020-01-01 and 2020-02-01); choose a longer period or fewer filters."),
    (["--category", "垃圾"], "error: category “垃圾” does not exist; there are: 市容环境, 路灯."),
    (["--permutations", "-1"], "error: `--permutations` was -1 but must be between 0 and 99,999."),
])
def test_bad_input_exits_2(gpkg, tmp_path, capsys, args, message):
    path, _, _ = gpkg
    code = cli.main(["--lang", "en", "hotspots", "--data", str(path), *args, "--out", str(tmp_path / "x.csv")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_bad_date_and_too_few_grids(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--lang", "en", "hotspots", "--since", "2024-13-01", "--out", str(tmp_path / "x.csv")])
    assert exc.value.code == 2
    assert "'2024-13-01' is not a date in the form YYYY-MM-DD" in capsys.readouterr().err
    grids = lattice_grids(4, 5)
    cases = cases_for_counts(grids, np.arange(20)).drop(columns="grid_id")
    facilities = gpd.GeoDataFrame({"facility_id": ["F1"], "name": ["站"], "type": ["day_care"]},
                                  geometry=gpd.points_from_xy([114.305], [30.505]), crs="EPSG:4326")
    path = write_dataset(Dataset(grids=grids, facilities=facilities, cases=cases), tmp_path / "small.gpkg")
    code = cli.main(["--lang", "en", "hotspots", "--data", str(path), "--out", str(tmp_path / "x.csv")])
    assert code == 2
    assert ("error: Hot spots need at least 30 grids to mean anything; the selection has 20."
            in capsys.readouterr().err)
    assert build_case_table(cases.assign(grid_id=None), grids).outside == len(cases) == 190


def test_row_standardised_weights_on_request(gpkg, tmp_path):
    path, grids, counts = gpkg
    out = tmp_path / "hs_row.csv"
    assert cli.main(["--lang", "en", "hotspots", "--data", str(path), "--permutations", "0", "--weights", "row",
                     "--out", str(out)]) == 0
    df = pd.read_csv(out)
    row = gi_star(counts.astype(float), queen_weights(grids), permutations=0, weights_scheme="row")
    binary = gi_star(counts.astype(float), queen_weights(grids), permutations=0, weights_scheme="binary")
    assert_allclose(df["gi_z"], row.z, atol=1e-6)
    assert np.abs(row.z - binary.z).max() > 0.5  # the choice matters
