"""One pipeline per analysis, executors beneath: each command writes the same bytes with and without
``--scheduler`` (a real two-worker `distributed.LocalCluster`), and the per-district file keeps one column
contract. The in-process file is also checked against the page's own functions, so identity is not between
two wrong answers."""

from __future__ import annotations

import json
from pathlib import Path

import distributed
import numpy as np
import pandas as pd
import pytest

import cli
from analysis.cases import case_table_from_dataset
from analysis.coverage import compute_coverage
from analysis.hotspots import hotspot_report, queen_weights
from analysis.siting import SitingParams, siting_problem, solve_siting
from geo.dataset import read_dataset, write_dataset

DEMO = Path(__file__).resolve().parents[2] / "data" / "shifeng_demo.gpkg"
HOTSPOT_COLUMNS = ["grid_id", "cases", "rate_per_1000", "gi_z", "gi_p", "gi_p_sim", "gi_bin", "pattern"]


@pytest.fixture(scope="module")
def address():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        assert len(client.scheduler_info()["workers"]) == 2
        yield cluster.scheduler_address
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO)


@pytest.fixture(scope="module")
def two_districts(demo, tmp_path_factory):
    """The demo with a district column (two street groups, each above Gi*'s 30 grids), as a GeoPackage."""
    grids = demo.grids.copy()
    streets = list(pd.unique(grids["street"]))
    grids["district"] = np.where(grids["street"].isin(streets[:2]), "甲区", "乙区")
    path = tmp_path_factory.mktemp("city") / "two.gpkg"
    write_dataset(demo.with_layer("grids", grids), path)
    return str(path)


def _run(argv, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out), err


def _both(base, address, capsys, monkeypatch, tmp_path, suffix="csv"):
    local, remote = tmp_path / f"local.{suffix}", tmp_path / f"dask.{suffix}"
    a, _ = _run([*base, "--out", str(local)], capsys, monkeypatch, tmp_path)
    b, _ = _run([*base, "--scheduler", address, "--out", str(remote)], capsys, monkeypatch, tmp_path)
    if suffix == "xlsx":  # a workbook carries the time it was written: its cells are compared instead
        pd.testing.assert_frame_equal(pd.read_excel(local), pd.read_excel(remote), check_exact=True)
    else:
        assert local.read_bytes() == remote.read_bytes()
    if "scheduler" in a:  # site's summary has no such figure
        assert a["scheduler"] is None and b["scheduler"] == address
    return local, a, b


@pytest.mark.parametrize("measure", ["count", "rate"])
def test_hotspots_same_bytes_and_the_page_answer(address, demo, capsys, monkeypatch, tmp_path, measure):
    base = ["hotspots", "--data", str(DEMO), "--permutations", "99", "--seed", "5", "--measure", measure]
    local, a, b = _both(base, address, capsys, monkeypatch, tmp_path)
    got = pd.read_csv(local, dtype={"grid_id": str})
    assert got.columns.tolist() == HOTSPOT_COLUMNS
    # the reference: the cases page's report on the same data
    table = case_table_from_dataset(demo)
    ref = hotspot_report(table, queen_weights(demo.grids), measure=measure, permutations=99, seed=5).frame
    ref_path = tmp_path / "ref.csv"
    ref.to_csv(ref_path, index=False, encoding="utf-8")
    assert local.read_bytes() == ref_path.read_bytes()
    assert (got["gi_bin"] > 0).sum() == a["hot_grids"] == b["hot_grids"] > 0


@pytest.mark.parametrize("measure", ["count", "rate"])
def test_hotspots_per_district_same_bytes_and_one_contract(address, two_districts, capsys, monkeypatch, tmp_path,
                                                           measure):
    base = ["hotspots", "--data", two_districts, "--per-district", "--permutations", "99", "--measure", measure]
    local, a, b = _both(base, address, capsys, monkeypatch, tmp_path)
    got = pd.read_csv(local, dtype={"grid_id": str})
    assert got.columns.tolist() == ["grid_id", "district", *HOTSPOT_COLUMNS[1:]]
    assert a["districts"] == b["districts"] == 2 and set(got["district"]) == {"甲区", "乙区"}
    # each district as a dataset of its own through the page's report gives its rows
    ds = read_dataset(two_districts)
    for name in ("甲区", "乙区"):
        mine = ds.grids[ds.grids["district"] == name].reset_index(drop=True)
        sub = ds.with_layer("grids", mine).with_layer("cases", ds.cases[ds.cases["grid_id"].isin(set(mine["grid_id"]))])
        ref = hotspot_report(case_table_from_dataset(sub), queen_weights(mine), measure=measure, permutations=99,
                             seed=0).frame
        rows = got[got["district"] == name].drop(columns="district").reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, ref.assign(pattern=ref["pattern"].astype(object)), check_dtype=False,
                                      rtol=0, atol=5e-7)
    assert (got["gi_bin"] != 0).any()


def test_hotspots_xlsx_same_cells(address, capsys, monkeypatch, tmp_path):
    base = ["hotspots", "--data", str(DEMO), "--permutations", "0", "--period", "month"]
    local, _, _ = _both(base, address, capsys, monkeypatch, tmp_path, suffix="xlsx")
    assert pd.read_excel(local).columns.tolist() == HOTSPOT_COLUMNS


def test_coverage_same_bytes_and_the_page_answer(address, demo, capsys, monkeypatch, tmp_path):
    base = ["coverage", "--data", str(DEMO), "--type", "day_care,elderly_service_center"]
    local, a, b = _both(base, address, capsys, monkeypatch, tmp_path)
    got = pd.read_csv(local, dtype={"grid_id": str})
    ref = compute_coverage(demo, facility_types=("day_care", "elderly_service_center")).grids
    np.testing.assert_allclose(got["covered_elderly"], ref["covered_elderly"].round(2), rtol=0, atol=0)
    np.testing.assert_allclose(got["nearest_m"], ref["nearest_m"].round(1), rtol=0, atol=0)
    assert {k: v for k, v in a.items() if k not in ("scheduler", "out")} == \
        {k: v for k, v in b.items() if k not in ("scheduler", "out")}
    assert 0 < a["covered"] < a["total"]


def test_coverage_per_district_same_bytes(address, two_districts, capsys, monkeypatch, tmp_path):
    base = ["coverage", "--data", two_districts, "--type", "day_care", "--radius-m", "500"]
    _both(base, address, capsys, monkeypatch, tmp_path)


def test_site_same_bytes_and_the_page_answer(address, demo, capsys, monkeypatch, tmp_path):
    base = ["site", "--data", str(DEMO), "--new", "3", "--radius-m", "300"]
    local, a, b = _both(base, address, capsys, monkeypatch, tmp_path)
    ref = solve_siting(siting_problem(demo, SitingParams(facility_type="day_care", radius_m=300.0)), n_new=3)
    got = pd.read_csv(local, dtype={"site_id": str})
    assert got["site_id"].tolist() == list(ref.site_ids)
    assert a["covered_elderly"] == b["covered_elderly"] == round(ref.covered_elderly, 3)


def test_site_target_share_same_bytes(address, capsys, monkeypatch, tmp_path):
    base = ["site", "--data", str(DEMO), "--target-share", "0.45", "--solver", "greedy"]
    _both(base, address, capsys, monkeypatch, tmp_path)


def test_site_per_district_same_bytes(address, two_districts, capsys, monkeypatch, tmp_path):
    base = ["site", "--data", two_districts, "--new", "2", "--per-district"]
    local, a, b = _both(base, address, capsys, monkeypatch, tmp_path)
    got = pd.read_csv(local)
    assert got.columns.tolist()[:2] == ["district", "n_new"] and set(got["district"]) <= {"甲区", "乙区"}
    assert a["districts"] == b["districts"] == 2


def test_an_error_in_a_task_reaches_the_command_whole(address, capsys, monkeypatch, tmp_path):
    """A coded error raised on a worker comes back as itself: exit 2 and the same message as in-process."""
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    base = ["--lang", "en", "site", "--data", str(DEMO), "--new", "999", "--out", str(tmp_path / "x.csv")]
    assert cli.main(base) == 2
    local = capsys.readouterr().err
    assert cli.main([*base, "--scheduler", address]) == 2
    assert capsys.readouterr().err == local
    assert local.startswith("error: Asked for 999 new sites but there are only ")


def test_coded_errors_survive_pickling():
    import pickle

    from geo.errors import AnalysisError, DataError, Problem, StorageError

    err = pickle.loads(pickle.dumps(AnalysisError("Gi* needs at least 30 grids", code="analysis.too_few_grids",
                                                  params={"n": 20, "min": 30})))
    assert type(err) is AnalysisError and err.code == "analysis.too_few_grids" and dict(err.params) == {"n": 20,
                                                                                                        "min": 30}
    assert str(err) == err.message == "Gi* needs at least 30 grids"
    full = pickle.loads(pickle.dumps(StorageError("disk full", code="storage.disk_full")))
    assert isinstance(full, OSError) and full.code == "storage.disk_full" and str(full) == "disk full"
    data = DataError([Problem(layer="cases", message="empty cell", fix="fill it in", row=3, column="status")])
    again = pickle.loads(pickle.dumps(data))
    assert type(again) is DataError and again.problems == data.problems and str(again) == str(data)
