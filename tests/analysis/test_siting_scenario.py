"""The siting scenario format below the UI: request/run round trip, old-format scenarios, run_siting."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from analysis.siting import (
    SCENARIO_KIND,
    SitingParams,
    SitingRequest,
    SitingRun,
    run_siting,
    siting_problem,
)
from geo.dataset import write_dataset
from geo.errors import AnalysisError
from geo.scenarios import Scenario
from geo.storage import open_store
from tests.analysis.siting_fixtures import siting_dataset

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "siting_scenarios_v1.json"


@pytest.fixture
def gpkg(tmp_path):
    return write_dataset(siting_dataset(), tmp_path / "siting.gpkg")


def _store_raw(path, rows):
    """Put scenario rows into the file's own table exactly as an earlier version stored them (no district column);
    opening the file as a store takes them in."""
    con = sqlite3.connect(path)
    con.execute('CREATE TABLE "scenarios" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "name" TEXT NOT NULL, '
                '"kind" TEXT, "saved_at" TEXT, "params" TEXT, "result" TEXT)')
    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
                "VALUES ('scenarios', 'attributes', 'scenarios', '', '2024-01-01T00:00:00.000Z', 0)")
    con.executemany('INSERT INTO "scenarios" (name, kind, saved_at, params, result) VALUES (?, ?, ?, ?, ?)',
                    [(r["name"], r["kind"], r["saved_at"], r["params"], r["result"]) for r in rows])
    con.commit()
    con.close()


def test_old_format_scenarios_still_load(gpkg):
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))
    _store_raw(gpkg, rows)
    runs = [SitingRun.from_scenario(s) for s in open_store(gpkg).list_scenarios(kind=SCENARIO_KIND)]
    assert [r.request.mode for r in runs] == ["n", "target"]
    first, second = runs
    # Four grids of 100/80/60/40 aged 60+ (two estates each, 50 households), the station at (200, 200)
    # reaches G1's two estates (100); S2 at (600, 200) reaches G2's (80), S3 at (1000, 200) G3's (60).
    assert first.request.params == SitingParams(radius_m=300.0)
    assert (first.request.n_new, first.request.solver, first.request.curve_max) == (2, "exact", 3)
    assert first.result.site_ids == ("S2", "S3")
    assert first.result.gains_elderly == (80.0, 60.0)
    assert (first.result.total_elderly, first.result.existing_elderly) == (280.0, 100.0)
    assert first.result.covered_share == pytest.approx(240 / 280)
    assert first.result.optimal is True
    assert first.curve["exact_elderly"].tolist() == [180.0, 240.0, 280.0]
    assert second.request.params.street == "东街" and second.request.params.min_spacing_m == 100.0
    assert second.request.target_share == 0.9 and second.request.solver == "greedy"
    # 东街 is G1+G2 (180 aged 60+): the station covers 100, S2 the other 80, so one site reaches 100 %.
    assert second.result.site_ids == ("S2",) and second.result.target_share == 0.9
    assert second.result.covered_share == 1.0


def test_old_scenarios_rerun_to_the_same_answer():
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))
    ds = siting_dataset()
    for row in rows:
        saved = SitingRun.from_scenario(Scenario(name=row["name"], kind=row["kind"], params=json.loads(row["params"]),
                                                 result=json.loads(row["result"])))
        again = run_siting(siting_problem(ds, saved.request.params), saved.request)
        assert again.result.site_ids == saved.result.site_ids
        assert again.result.gains_elderly == saved.result.gains_elderly
        assert again.curve.to_dict(orient="list") == saved.curve.to_dict(orient="list")


def test_run_round_trips_through_the_dataset(gpkg):
    req = SitingRequest(params=SitingParams(radius_m=300.0), mode="n", n_new=1, solver="exact", curve_max=4)
    calls = []
    run = run_siting(siting_problem(siting_dataset(), req.params), req,
                     on_solved=lambda d, k: calls.append(("solved", d, k)),
                     on_progress=lambda d, k: calls.append(("curve", d, k)))
    # Candidates S1..S5: S1 (250, 250) reaches only G1 (already covered); S2 adds G2's 80 — the best single site.
    assert run.result.site_ids == ("S2",)
    # The curve runs to curve_max (4, below the 5 candidates), whatever N was asked.
    assert run.curve["n_new"].tolist() == [1, 2, 3, 4]
    assert calls == [("solved", 0, 4), ("curve", 1, 4), ("curve", 2, 4), ("curve", 3, 4), ("curve", 4, 4)]
    open_store(gpkg).save_scenario(run.to_scenario("一个新站", dataset="测试"))
    (back,) = open_store(gpkg).list_scenarios(kind=SCENARIO_KIND)
    assert back.params["dataset"] == "测试"
    loaded = SitingRun.from_scenario(back)
    assert loaded.request == req
    assert loaded.result == run.result
    assert loaded.curve.to_dict(orient="list") == run.curve.to_dict(orient="list")


@pytest.mark.parametrize(("field", "value", "allowed"), [("mode", "all", "n, target"),
                                                         ("solver", "fast", "exact, greedy")])
def test_request_refuses_unknown_choices(field, value, allowed):
    kw = {"params": SitingParams(), field: value}
    with pytest.raises(AnalysisError, match=f"`{field}` was '{value}' but is expected to be one of: {allowed}") as exc:
        SitingRequest(**kw)
    assert exc.value.code == "analysis.bad_choice"
    assert dict(exc.value.params) == {"name": field, "value": value, "allowed": allowed}
