"""The heavy analyses on a real Dask cluster (scheduler + 2 worker processes) equal the in-process run.

The in-process reference is the code the pages use (`geo.assign.assign_grid_ids`,
`analysis.hotspots.period_counts` / `hot_spots` / `emerging_hot_spots`,
`analysis.coverage.compute_coverage` on the whole district), not the
distributed module run without a client.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from analysis import distributed as dist
from analysis import districts
from analysis.cases import CaseFilter, build_case_table
from analysis.coverage import compute_coverage
from analysis.hotspots import emerging_hot_spots, hot_spots, period_counts, queen_weights
from geo.assign import assign_grid_ids
from geo.dataset import read_dataset
from geo.errors import AnalysisError

DEMO = Path(__file__).resolve().parents[2] / "data" / "shifeng_demo.gpkg"


@pytest.fixture(scope="module")
def client():
    import distributed  # in requirements.txt: without it this fails, never skips

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, worker_dashboard_address=None)
    c = distributed.Client(cluster)
    try:
        assert len(c.scheduler_info()["workers"]) == 2
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO)


def test_assignment_on_cluster_equals_in_process(client, demo):
    cases = demo.cases
    xy = shapely.get_coordinates(cases.geometry.values)
    # a few points off the grids and on a grid corner, to exercise "outside" and the boundary rule
    corner = shapely.get_coordinates(demo.grids.geometry.iloc[7].exterior)[0]
    xs = np.concatenate([xy[:, 0], [0.0, corner[0]]])
    ys = np.concatenate([xy[:, 1], [0.0, corner[1]]])
    pos = dist.assign_points(xs, ys, demo.grids.geometry.values, client=client, chunk_size=2_500)
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=demo.grids.crs)
    ref = assign_grid_ids(pts, demo.grids)
    ids = np.asarray(demo.grids["grid_id"].astype(str))
    got = pd.Series([ids[p] if p >= 0 else None for p in pos], dtype="string")
    pd.testing.assert_series_equal(got, ref.reset_index(drop=True), check_names=False)
    assert pos[-2] == -1 and pos[-1] >= 0
    assert (pos >= 0).sum() == len(xs) - 1 - int(ref.isna().sum()) + 1


def test_grid_week_counts_on_cluster_equal_in_process(client, demo):
    table = build_case_table(demo.cases, demo.grids)
    ref, numbers = period_counts(table, CaseFilter(), period="week")
    got = dist.grid_period_counts(table.grid, table.week, n_grids=table.n_grids, first=int(numbers[0]),
                                  last=int(numbers[-1]), client=client, chunk_size=1_000)
    np.testing.assert_array_equal(got, ref)
    assert got.sum() == (table.grid >= 0).sum() - ((table.grid >= 0) & (table.week > numbers[-1])).sum()


def _two_districts(demo):
    """The demo's grids split in two 'districts' (street groups), each above Gi*'s 30-grid minimum."""
    grids = demo.grids.copy()
    streets = list(pd.unique(grids["street"]))
    grids["district"] = np.where(grids["street"].isin(streets[:2]), "甲区", "乙区")
    return grids


def _district_table(demo, grids, district):
    mine = grids[grids["district"] == district].reset_index(drop=True)
    cases = demo.cases[demo.cases["grid_id"].isin(set(mine["grid_id"]))]
    return mine, build_case_table(cases, mine, as_of=demo.meta_dict["as_of"])


def test_gi_star_and_emerging_per_district_on_cluster_equal_in_process(client, demo):
    grids = _two_districts(demo)
    table = build_case_table(demo.cases, grids, as_of=demo.meta_dict["as_of"])
    _, numbers = period_counts(table, CaseFilter(), period="week")
    counts = dist.grid_period_counts(table.grid, table.week, n_grids=table.n_grids, first=int(numbers[0]),
                                     last=int(numbers[-1]), client=client)
    got = districts.district_hotspots(grids, counts, client=client, permutations=99, seed=3)
    local = districts.district_hotspots(grids, counts, client=None, permutations=99, seed=3)
    assert [g.district for g in got] == list(pd.unique(grids["district"]))
    for part, same in zip(got, local, strict=True):
        pd.testing.assert_frame_equal(part.frame, same.frame)
        mine, sub = _district_table(demo, grids, part.district)
        w = queen_weights(mine)
        hot = hot_spots(sub, w, permutations=99, seed=3).frame
        em = emerging_hot_spots(sub, w).frame
        assert part.frame["grid_id"].tolist() == hot["grid_id"].tolist()
        np.testing.assert_array_equal(part.frame["cases"], hot["cases"])
        np.testing.assert_allclose(part.frame["gi_z"], hot["gi_z"], rtol=0, atol=0)
        np.testing.assert_allclose(part.frame["gi_p_sim"], hot["gi_p_sim"], rtol=0, atol=0)
        np.testing.assert_array_equal(part.frame["gi_bin"], hot["gi_bin"])
        pd.testing.assert_series_equal(part.frame["pattern"], em["pattern"], check_names=False)
        np.testing.assert_allclose(part.frame["trend_z"], em["trend_z"], rtol=0, atol=0)
        np.testing.assert_array_equal(part.frame["hot_periods"], em["hot_periods"])
    assert sum(g.n_cases for g in got) == int(counts.sum())
    assert any((g.frame["gi_bin"] != 0).any() for g in got)  # the comparison is not between empty results


def test_coverage_per_street_on_cluster_equals_whole_district(client, demo):
    layers = {"grids": demo.grids, "facilities": demo.facilities, "estates": demo.estates, "roads": demo.roads}
    got = dist.district_coverage(layers, by="street", client=client, facility_types=("day_care",), radius_m=300.0)
    ref = compute_coverage(demo, facility_types=("day_care",), radius_m=300.0).grids
    pd.testing.assert_frame_equal(got.reset_index(drop=True), ref.reset_index(drop=True), check_dtype=False)
    assert 0 < got["covered_elderly"].sum() < got["elderly"].sum()


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(AnalysisError, match=r"no Dask scheduler answers at tcp://127\.0\.0\.1:9") as info:
        dist.connect("tcp://127.0.0.1:9", timeout_s=1.0)
    assert info.value.code == "analysis.scheduler_unreachable"
    assert dist.connect(None) is None


# a district too small for Gi* and a missing group column: tests/analysis/test_districts.py


def _cli(argv, capsys):
    import json

    import cli

    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_cli_coverage_on_scheduler_writes_the_in_process_table(client, tmp_path, capsys):
    address = client.scheduler.address
    base = ["coverage", "--data", str(DEMO), "--type", "day_care", "--radius-m", "300"]
    code1, local, _ = _cli([*base, "--out", str(tmp_path / "local.csv")], capsys)
    code2, remote, _ = _cli([*base, "--scheduler", address, "--out", str(tmp_path / "dask.csv")], capsys)
    assert code1 == code2 == 0
    assert (tmp_path / "local.csv").read_text() == (tmp_path / "dask.csv").read_text()
    assert remote["scheduler"] == address and remote["covered"] == local["covered"] > 0
    assert {k: v for k, v in remote.items() if k not in ("scheduler", "out")} == \
        {k: v for k, v in local.items() if k not in ("scheduler", "out")}


# hotspots with and without --scheduler, whole and per district: tests/analysis/test_executor_identity.py


def test_siting_curves_per_street_on_cluster_equal_in_process(client, demo):
    from analysis.siting import SitingParams, coverage_curve, siting_problem

    params = SitingParams(facility_type="day_care", radius_m=300.0)
    got = dist.district_siting_curves(demo, params, by="street", max_new=3, client=client)
    local = dist.district_siting_curves(demo, params, by="street", max_new=3, client=None)
    assert [g.district for g in got] == [g.district for g in local] == list(pd.unique(demo.grids["street"]))
    drawn = 0
    for part, same in zip(got, local, strict=True):
        pd.testing.assert_frame_equal(part.frame, same.frame, check_exact=True)
        assert (part.note_code, part.n_candidates) == (same.note_code, same.n_candidates)
        # the reference: the siting page's problem for that street, traced in-process
        try:
            prob = siting_problem(demo, SitingParams(facility_type="day_care", radius_m=300.0, street=part.district))
        except AnalysisError as err:
            assert err.code == "analysis.no_candidates_in_street" and part.note_code == "analysis.no_candidates_in_area"
            continue
        ref = coverage_curve(prob, max_new=min(3, prob.n_candidates)).frame()
        pd.testing.assert_frame_equal(part.frame, ref, check_exact=True)
        assert (part.total_elderly, part.existing_elderly) == (prob.total_elderly, prob.existing_elderly)
        drawn += 1
    assert drawn >= 2 and any(p.frame["exact_elderly"].iloc[-1] > p.existing_elderly for p in got if p.note is None)


def test_cli_site_on_scheduler_writes_the_in_process_curves(client, tmp_path, capsys):
    address = client.scheduler.address
    base = ["--lang", "en", "site", "--data", str(DEMO), "--new", "3", "--radius-m", "300"]
    code1, local, _ = _cli([*base, "--per-district", "--out", str(tmp_path / "local.csv")], capsys)
    code2, remote, err = _cli([*base, "--per-district", "--scheduler", address, "--out", str(tmp_path / "dask.csv")],
                              capsys)
    assert code1 == code2 == 0
    assert (tmp_path / "local.csv").read_text() == (tmp_path / "dask.csv").read_text()
    table = pd.read_csv(tmp_path / "dask.csv")
    assert table.columns.tolist() == ["street", "n_new", "greedy_elderly", "greedy_share", "greedy_site_id",
                                      "exact_elderly", "exact_share", "exact_optimal"]
    assert set(table["n_new"]) == {1, 2, 3} and table["street"].nunique() == remote["districts"] - remote["without_curve"]
    assert remote["scheduler"] == address and local["scheduler"] is None and remote["by"] == "street"
    assert {k: v for k, v in remote.items() if k not in ("scheduler", "out")} == \
        {k: v for k, v in local.items() if k not in ("scheduler", "out")}
    assert remote["covered_elderly_at_most_new"] > remote["existing_elderly"] > 0
    assert err.count("warning: ") == remote["without_curve"]


def test_cli_site_per_district_refuses_a_target_share_and_save(tmp_path, capsys):
    out = str(tmp_path / "x.csv")
    code, _, err = _cli(["--lang", "en", "site", "--data", str(DEMO), "--per-district", "--target-share", "0.5",
                         "--out", out], capsys)
    assert code == 2 and err == ("error: --per-district traces each district's curve for --new N; "
                                 "--target-share runs on the whole dataset.\n")
    code, _, err = _cli(["site", "--data", str(DEMO), "--per-district", "--new", "2", "--save", "甲", "--out", out],
                        capsys)
    assert code == 2 and err == "error: 分区计算（--per-district）为每个区绘制 1 至 N 个新站点（--new N）的覆盖曲线；" \
                                "--save 请不分区计算。\n"
