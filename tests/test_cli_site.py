"""`cli.py site`: the chosen sites as site_id/rank/gain_elderly, a JSON summary, exit 2 on bad input."""

import json

import pandas as pd
import pytest

import cli
from geo.dataset import Dataset, write_dataset
from tests.analysis.siting_fixtures import siting_dataset


@pytest.fixture
def gpkg(tmp_path):
    return str(write_dataset(siting_dataset(), tmp_path / "d.gpkg"))


def test_site_writes_the_chosen_sites_and_prints_the_summary(gpkg, tmp_path, capsys):
    out = tmp_path / "sites.csv"
    code = cli.main(["--lang", "en", "site", "--data", gpkg, "--type", "day_care", "--radius-m", "300", "--new", "2",
                     "--out", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"covered_elderly", "covered_share", "added_elderly", "optimal", "gap", "seconds"}
    # By hand (tests/analysis/test_siting.py): S2 adds 80, S3 60; F1 already covers G1's 100 of 280.
    assert summary["added_elderly"] == pytest.approx(140.0)
    assert summary["covered_elderly"] == pytest.approx(240.0)
    assert summary["covered_share"] == pytest.approx(240.0 / 280.0, abs=1e-6)
    assert summary["optimal"] is True and summary["gap"] == 0.0
    assert summary["seconds"] > 0
    table = pd.read_csv(out, dtype={"site_id": str})
    assert table.columns.tolist() == ["site_id", "rank", "gain_elderly"]
    assert table["site_id"].tolist() == ["S2", "S3"]
    assert table["rank"].tolist() == [1, 2]
    assert table["gain_elderly"].tolist() == pytest.approx([80.0, 60.0])


def test_site_greedy_and_options(gpkg, tmp_path, capsys):
    out = tmp_path / "sites.xlsx"
    code = cli.main(["--lang", "en", "site", "--data", gpkg, "--new", "3", "--solver", "greedy", "--min-spacing-m", "250",
                     "--out", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    table = pd.read_excel(out)
    assert table.columns.tolist() == ["site_id", "rank", "gain_elderly"]
    assert "S1" not in table["site_id"].tolist()  # 71 m from the existing station
    assert table["gain_elderly"].sum() == pytest.approx(summary["added_elderly"], abs=1e-3)


def test_site_bad_input_exits_2_with_a_message(gpkg, tmp_path, capsys):
    out = tmp_path / "sites.csv"
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--new", "9", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "error: Asked for 9 new sites but there are only 5 candidate sites; ask for at most 5." in err
    assert "Traceback" not in err
    assert not out.exists()
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--new", "2", "--distance", "walking", "--out", str(out)]) == 2
    assert "walking distance needs a roads layer" in capsys.readouterr().err
    ds = siting_dataset(candidates=False)
    bare = str(write_dataset(Dataset(grids=ds.grids, facilities=ds.facilities, estates=ds.estates, name="bare"),
                             tmp_path / "bare.gpkg"))
    assert cli.main(["--lang", "en", "site", "--data", bare, "--new", "2", "--out", str(out)]) == 2
    assert "there are no candidate sites" in capsys.readouterr().err
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--new", "0", "--out", str(out)]) == 2
    assert "`n_new` was 0 but must be a whole number of at least 1" in capsys.readouterr().err
