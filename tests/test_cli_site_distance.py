"""`cli.py site --objective distance`: the chosen sites, the distances before and after, coded refusals."""

import itertools
import json

import numpy as np
import pandas as pd
import pytest

import cli
from analysis.demand import demand_points
from geo.dataset import write_dataset
from tests.analysis.siting_fixtures import siting_dataset


@pytest.fixture
def gpkg(tmp_path):
    ds = siting_dataset()
    ds.candidates["cost"] = [10.0, 30.0, 20.0, 25.0, 15.0]
    return str(write_dataset(ds, tmp_path / "d.gpkg"))


def _brute(n_new=None, budget=None, required=(), excluded=()):
    """Every allowed subset of the five candidates, distances from the demand points by hand (F1 kept, F2 planned)."""
    ds = siting_dataset()
    dem = demand_points(ds.grids, ds.estates, crs=ds.metric_crs)
    xy = np.column_stack([dem.geometry.x, dem.geometry.y])
    w = dem["elderly"].to_numpy()
    cand = ds.candidates.to_crs(ds.metric_crs)
    cxy = {s: (p.x, p.y) for s, p in zip(cand["site_id"], cand.geometry, strict=True)}
    f1 = ds.facilities.to_crs(ds.metric_crs).geometry.iloc[0]
    cost = {"S1": 10.0, "S2": 30.0, "S3": 20.0, "S4": 25.0, "S5": 15.0}
    best = (np.inf, ())
    ids = [s for s in cxy if s not in excluded]
    for size in ([n_new] if n_new else range(len(ids) + 1)):
        for sub in itertools.combinations(ids, size):
            if not set(required) <= set(sub) or (budget is not None and sum(cost[s] for s in sub) > budget):
                continue
            total = 0.0
            for (x, y), wi in zip(xy, w, strict=True):
                near = min([np.hypot(x - f1.x, y - f1.y)] + [np.hypot(x - cxy[s][0], y - cxy[s][1]) for s in sub])
                total += wi * near
            best = min(best, (total, sub))
    return best, float(w.sum())


def test_distance_objective_writes_sites_and_prints_distances(gpkg, tmp_path, capsys):
    out, streets = tmp_path / "sites.csv", tmp_path / "streets.csv"
    code = cli.main(["--lang", "en", "site", "--data", gpkg, "--objective", "distance", "--new", "2",
                     "--out", str(out), "--streets-out", str(streets)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    (total, chosen), elderly = _brute(n_new=2)
    assert summary["total_distance_m"] == pytest.approx(total, abs=1e-3)
    assert summary["mean_distance_m"] == pytest.approx(total / elderly, abs=1e-3)
    assert summary["optimal"] is True and summary["gap"] == 0.0
    table = pd.read_csv(out, dtype={"site_id": str})
    assert table.columns.tolist() == ["site_id", "rank", "saving_m"]
    assert sorted(table["site_id"]) == sorted(chosen)
    assert table["saving_m"].sum() == pytest.approx(summary["total_before_m"] - summary["total_distance_m"], abs=0.01)
    st = pd.read_csv(streets)
    assert st.columns.tolist() == ["street", "elderly", "mean_before_m", "mean_after_m", "p90_before_m", "p90_after_m",
                                   "beyond_before_elderly", "beyond_after_elderly"]
    assert sorted(st["street"]) == ["东街", "西街"] and st["elderly"].sum() == pytest.approx(elderly)
    assert (st["elderly"] * st["mean_after_m"]).sum() == pytest.approx(total, abs=0.5)  # means rounded to mm


def test_distance_required_excluded_budget(gpkg, tmp_path, capsys):
    out = tmp_path / "sites.csv"
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--objective", "distance", "--new", "2",
                     "--required", "S5", "--excluded", "S3,S4", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    (total, chosen), _ = _brute(n_new=2, required=("S5",), excluded=("S3", "S4"))
    assert summary["total_distance_m"] == pytest.approx(total, abs=1e-3)
    assert "S5" in summary["sites"] and not {"S3", "S4"} & set(summary["sites"])
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--objective", "distance", "--budget", "45",
                     "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    (total, chosen), _ = _brute(budget=45.0)
    assert summary["total_distance_m"] == pytest.approx(total, abs=1e-3)
    assert summary["cost"] <= 45.0
    assert pd.read_csv(out).columns.tolist() == ["site_id", "rank", "saving_m", "cost"]


def test_objective_options_are_refused_with_the_other_objective(gpkg, tmp_path, capsys):
    out = tmp_path / "sites.csv"
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--new", "2", "--required", "S1", "--out", str(out)]) == 2
    assert ("error: --required works with --objective distance only; the coverage objective does not take it."
            in capsys.readouterr().err)
    assert cli.main(["--lang", "zh", "site", "--data", gpkg, "--new", "2", "--objective", "distance", "--min-spacing-m",
                     "100", "--out", str(out)]) == 2
    assert "--min-spacing-m 只用于最大覆盖选址（--objective coverage）；按距离选址不支持。" in capsys.readouterr().err
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--objective", "distance", "--new", "1",
                     "--required", "S1,S2", "--out", str(out)]) == 2
    assert ("error: 2 sites are required but only 1 new sites are asked for; ask for at least 2."
            in capsys.readouterr().err)
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--objective", "distance", "--budget", "5",
                     "--out", str(out)]) == 2
    assert "error: The budget 5 buys no candidate site (the cheapest costs 10)." in capsys.readouterr().err
    assert not out.exists()
