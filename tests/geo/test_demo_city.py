"""The city generator (Wuhan's 13 districts), on a small plan: exact totals, determinism, chunks, both targets."""

from __future__ import annotations

import json
import uuid

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import cli
from commands import data as data_commands
from geo import demo_city
from geo.assign import assign_grid_ids
from geo.dataset import read_dataset
from geo.demo import load_outline
from geo.errors import AnalysisError
from tests.storefixtures import require_pg

SMALL = {"n_grids": 2_000, "n_cases": 40_000}


def test_plan_shares_the_city_exactly():
    plan = demo_city._plan()
    assert plan["population"].sum() == 13_000_000
    assert plan["grids"].sum() == 20_000 and plan["cases"].sum() == 10_000_000
    assert len(plan) == 13 and plan["district"].is_unique
    # in proportion to the census figures (largest remainder: within one unit)
    census = np.array([d.census for d in demo_city.DISTRICTS], dtype=float)
    assert np.abs(plan["grids"] - 20_000 * census / census.sum()).max() < 1
    assert plan.set_index("district").loc["洪山区", "grids"] == plan["grids"].max()


def _build(name, seed=7):
    plan = demo_city._plan(**{"n_grids": SMALL["n_grids"], "n_cases": SMALL["n_cases"]})
    fig = next(f for f in demo_city.DISTRICTS if f.name == name)
    return plan.set_index("district").loc[name], demo_city.build_district(fig, plan.set_index("district").loc[name],
                                                                          seed=seed)


def test_a_district_meets_its_plan_and_lies_in_its_outline():
    row, d = _build("江汉区")
    grids = d.layers["grids"]
    assert len(grids) == row["grids"] and grids["grid_id"].is_unique
    assert grids["population"].sum() == row["population"] and grids["elderly"].sum() == row["elderly"]
    assert (grids["elderly"] <= grids["population"]).all()
    assert set(grids["district"]) == {"江汉区"}
    assert grids["street"].str.startswith("江汉·").all() and grids["street"].nunique() >= 3
    outline = load_outline("江汉区", path=demo_city.OUTLINES_PATH)
    assert shapely.contains(outline.buffer(1e-6), d.layers["facilities"].geometry.values).all()
    assert set(d.layers["facilities"]["type"]) == {"day_care", "elderly_service_center", "nursing_home",
                                                   "elderly_canteen", "health_station", "health_center"}
    assert d.layers["facilities"]["facility_id"].str.startswith("JH-").all()


def test_cases_come_in_chunks_with_their_grid_and_are_deterministic():
    row, d = _build("江汉区")
    parts = list(demo_city.district_cases(d, seed=7, chunk=700))
    assert [len(p) for p in parts[:-1]] == [700] * (len(parts) - 1)
    cases = pd.concat(parts, ignore_index=True)
    assert len(cases) == row["cases"] and cases["case_id"].is_unique
    assert cases["case_id"].iloc[0] == "WH-JH-00000001"
    check = assign_grid_ids(gpd.GeoDataFrame(cases, geometry="geometry", crs=4326), d.layers["grids"])
    pd.testing.assert_series_equal(cases["grid_id"].astype("string"), check, check_names=False)
    assert cases["grid_id"].notna().mean() > 0.99
    assert cases["reported_at"].min() >= pd.Timestamp("2025-01-01")
    assert cases["reported_at"].max() < pd.Timestamp("2026-01-01")
    again = pd.concat(demo_city.district_cases(_build("江汉区")[1], seed=7, chunk=700), ignore_index=True)
    pd.testing.assert_frame_equal(cases.drop(columns="geometry"), again.drop(columns="geometry"))
    assert shapely.equals_exact(cases.geometry.values, again.geometry.values, tolerance=0).all()
    other = next(demo_city.district_cases(_build("江汉区", seed=8)[1], seed=8, chunk=700))
    assert not other["grid_id"].equals(parts[0]["grid_id"])


def test_cli_writes_a_geopackage_the_app_can_read(tmp_path, capsys):
    out = tmp_path / "city.gpkg"
    code = cli.main(["demo", "--scale", "wuhan", "--districts", "江汉区,汉南区", "--grids", "2000",
                     "--cases", "40000", "--seed", "7", "--out", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    plan = demo_city._plan(**SMALL).set_index("district").loc[["江汉区", "汉南区"]]
    assert summary["layers"]["grids"] == plan["grids"].sum() and summary["layers"]["cases"] == plan["cases"].sum()
    assert summary["population"] == plan["population"].sum()
    ds = read_dataset(out)
    assert sorted(ds.grids["district"].unique()) == ["汉南区", "江汉区"]
    assert len(ds.cases) == plan["cases"].sum()
    assert ds.meta_dict["synthetic"] == "true" and ds.meta_dict["as_of"] == "2025-12-31"
    assert set(json.loads(ds.meta_dict["districts"])) == {"江汉区", "汉南区"}


def test_too_small_a_city_is_refused(tmp_path, capsys):
    code = cli.main(["demo", "--scale", "wuhan", "--grids", "100", "--out", str(tmp_path / "x.gpkg")])
    assert code == 2
    assert capsys.readouterr().err.strip() == \
        "error: 城市示例数据至少需要 1 件事件和 208 个网格；现为 10000000 件事件、100 个网格。"
    code = cli.main(["--lang", "en", "demo", "--scale", "wuhan", "--grids", "100", "--out", str(tmp_path / "x.gpkg")])
    assert code == 2
    assert capsys.readouterr().err.strip() == \
        "error: The city needs at least 1 case and 208 grids; got 10000000 cases and 100 grids."
    assert not (tmp_path / "x.gpkg").exists()
    with pytest.raises(AnalysisError, match="give --out a .gpkg path"):
        data_commands._cmd_demo(cli.build_parser().parse_args(["demo", "--scale", "shifeng", "--out", "postgresql://x/y"]))


def test_cli_writes_the_city_into_postgis(capsys):
    from geo.postgis import close_pools, open_store

    url = f"{require_pg()}?dataset=city_{uuid.uuid4().hex[:8]}"
    code = cli.main(["demo", "--scale", "wuhan", "--districts", "汉南区", "--grids", "2000", "--cases", "40000",
                     "--seed", "7", "--out", url])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    store = open_store(url)
    v = store.current()
    assert summary["version"] == v.id and (v.kind, v.user) == ("create", "cli")
    from commands._common import cli_user
    from geo.audit import AuditLog

    entry = AuditLog().entries(action="import", limit=1)[0]  # the app's one audit log (this test's workspace)
    assert (entry.user, entry.target, entry.detail, entry.remote) == \
        (cli_user(), store.name, f"demo --scale wuhan --seed 7; version {v.id}", "cli")
    ds = store.load()
    plan = demo_city._plan(**SMALL).set_index("district").loc["汉南区"]
    assert len(ds.grids) == plan["grids"] and len(ds.cases) == plan["cases"]
    assert store.district_names() == ("汉南区",)
    counts = store.case_counts(("district",))
    assert counts["district"].tolist() == ["汉南区"] and counts["cases"].iloc[0] == ds.cases["grid_id"].notna().sum()
    close_pools()
