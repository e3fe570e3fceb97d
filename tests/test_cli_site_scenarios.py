"""`site --save` records the demand and objective; `site --objective distance --save` keeps a distance answer;
`scenarios` lists both with their demand and figures; `scenarios --open` opens a distance scenario's site."""

from __future__ import annotations

import json

import pytest

from analysis.projection import default_survival, with_demand
from analysis.siting import pmedian_sites
from cli import main
from geo.audit import AuditLog
from geo.dataset import DEMO_PATH
from geo.storage import open_store


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    path = tmp_path / "demo.gpkg"
    path.write_bytes(DEMO_PATH.read_bytes())
    return str(path)


def _run(capsys, *argv) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, json.loads(out.out) if code == 0 else None, out.err


def test_distance_and_coverage_scenarios_with_their_demand(demo, capsys, tmp_path):
    code, dist, err = _run(capsys, "site", "--data", demo, "--objective", "distance", "--new", "3", "--year", "2030",
                           "--required", "SF-S-001", "--save", "2030距离三站", "--out", str(tmp_path / "d.csv"))
    assert code == 0, err
    assert dist["saved"] == "2030距离三站"
    # the answer the CLI saved is the p-median of the 2030 demand
    ds = open_store(demo).load()
    expected = pmedian_sites(with_demand(ds, year=2030, survival=default_survival()), n_new=3, required=["SF-S-001"])
    assert dist["sites"] == list(expected.site_ids) and "SF-S-001" in dist["sites"]
    code, cov, err = _run(capsys, "site", "--data", demo, "--new", "2", "--weight", "elderly_80", "--save", "八十岁两站",
                          "--curve-max", "2", "--out", str(tmp_path / "c.csv"))
    assert code == 0, err
    code, listed, err = _run(capsys, "scenarios", "--data", demo)
    assert code == 0, err
    d, c = listed["scenarios"]
    assert (d["name"], d["objective"], d["year"], d["weight"], d["survival"], d["survival_assumption"]) == (
        "2030距离三站", "distance", 2030, "elderly", "survival_ratios.csv", True)
    assert (d["n_new"], d["budget"], d["required"], d["excluded"], d["distance"]) == (3, None, ["SF-S-001"], [],
                                                                                      "euclidean")
    assert d["sites"] == dist["sites"]
    for k in ("mean_before_m", "mean_distance_m", "p90_before_m", "p90_distance_m", "optimal", "gap"):
        assert d[k] == dist[k], k
    assert (c["name"], c["objective"], c["year"], c["weight"], c["survival"]) == (
        "八十岁两站", "coverage", None, "elderly_80", None)
    assert (c["covered_share"], c["added_elderly"]) == (cov["covered_share"], cov["added_elderly"])
    # newest first
    assert [(e.action, e.target) for e in AuditLog().entries()] == [("scenario_save", "八十岁两站"),
                                                                     ("scenario_save", "2030距离三站")]
    # a distance scenario's site opens as a facility (the same code as the page's 标记启用)
    code, opened, err = _run(capsys, "scenarios", "--data", demo, "--open", dist["sites"][1], "--name", "2030距离三站",
                             "--on", "2030-03-01")
    assert code == 0, err
    assert (opened["site"], opened["version"], opened["facilities"]) == (dist["sites"][1], 2, len(ds.facilities) + 1)
    fac = open_store(demo).load().facilities.set_index("facility_id")
    assert str(fac.loc[dist["sites"][1], "opened_on"])[:10] == "2030-03-01"


def test_distance_save_refusals(demo, capsys, tmp_path):
    out = str(tmp_path / "d.csv")
    code, _, err = _run(capsys, "site", "--data", demo, "--objective", "distance", "--new", "2", "--save", "  ",
                        "--out", out)
    assert code == 2 and err.strip() == "error: 图层 scenarios: 方案名称为空。 — 请给方案起个名字。"
    assert open_store(demo).list_scenarios() == []
    base = ["site", "--data", demo, "--objective", "distance", "--new", "2", "--save", "两站", "--out", out]
    assert _run(capsys, *base)[0] == 0
    code, _, err = _run(capsys, "--lang", "en", *base)
    assert code == 2
    assert err.strip() == ("error: layer scenarios: A scenario named “两站” already exists. — Choose another name or "
                           "replace it.")
    code, again, err = _run(capsys, *base, "--overwrite")
    assert code == 0 and again["saved"] == "两站"
    assert [s.name for s in open_store(demo).list_scenarios()] == ["两站"]


def test_opening_a_districts_site_keeps_the_other_districts_facilities(backend, store_url, tmp_path, capsys):
    """In a city, `scenarios --district D --open` adds the site to the whole city's facilities layer (a district's
    part alone once replaced the city's layer, dropping the other districts' stations)."""
    from tests.storefixtures import small_city

    city = small_city()
    open_store(store_url).import_dataset(city, source="city.gpkg")
    code, east, err = _run(capsys, "site", "--data", store_url, "--district", "东区", "--objective", "distance",
                           "--new", "1", "--save", "东区一站", "--out", str(tmp_path / "e.csv"))
    assert code == 0, err
    site = east["sites"][0]
    code, opened, err = _run(capsys, "scenarios", "--data", store_url, "--district", "东区", "--open", site,
                             "--name", "东区一站", "--on", "2024-01-05")
    assert code == 0, err
    after = open_store(store_url).load().facilities
    assert sorted(after["facility_id"]) == sorted([*city.facilities["facility_id"], site])
    assert opened["facilities"] == len(city.facilities) + 1
