"""The load test's figures (bench/bench_load.py): percentiles, per-round aggregation, where the time goes.

Every expected value is worked out by hand from the small records below.
"""

from __future__ import annotations

import math

import pytest

from bench.bench_load import (
    STEPS,
    SessionResult,
    cache_rows,
    cores_busy,
    frame_owner,
    mark_unfinished,
    p95,
    page_rows,
    parse_collapsed,
    peak_rss,
    profile_summary,
    round_figures,
    runs_between,
    section_rows,
    server_cpu_s,
    step_parts,
    step_table,
    worst_p95,
)


def session(index: int, times: dict[str, float], kind: str = "websocket", error: str | None = None) -> SessionResult:
    r = SessionResult(index, kind, f"user{index:03d}", error=error)
    r.times = dict(times)
    return r


@pytest.mark.parametrize(("n", "rank"), [(1, 1), (2, 2), (20, 19), (30, 29), (60, 57), (120, 114)])
def test_p95_is_the_nearest_rank(n, rank):
    # nearest rank: the ceil(0.95 n)-th smallest; values 1..n shuffled, so the answer is the rank itself
    values = [float(v) for v in range(n, 0, -1)]
    assert p95(values) == rank


def test_p95_of_unsorted_values_with_ties():
    values = [0.5, 3.0, 0.5, 9.0, 1.0, 1.0, 2.0, 4.0, 0.1, 7.0]  # sorted: .1 .5 .5 1 1 2 3 4 7 9; ceil(9.5) = 10th
    assert p95(values) == 9.0
    without_top = [v for v in values if v != 9.0]  # 9 values: ceil(8.55) = 9th of .1 .5 .5 1 1 2 3 4 7 -> 7
    assert p95(without_top) == 7.0


def test_round_figures_and_worst_step():
    rs = [session(0, {"sign_in_overview": 1.0, "coverage": 0.2}),
          session(1, {"sign_in_overview": 3.0, "coverage": 0.4}),
          session(2, {"sign_in_overview": 2.0}),  # stopped before coverage: not counted there
          session(3, {"sign_in_overview": 4.0, "coverage": 5.0}, kind="browser")]
    figs = round_figures(rs)
    assert set(figs) == {"sign_in_overview", "coverage"}
    assert figs["sign_in_overview"] == (2.5, 4.0, 4)  # median of 1 2 3 4; nearest rank ceil(3.8) = 4th
    assert figs["coverage"] == (0.4, 5.0, 3)
    assert worst_p95(rs) == (5.0, "coverage")
    assert worst_p95([r for r in rs if r.kind == "websocket"]) == (3.0, "sign_in_overview")
    value, step = worst_p95([])
    assert math.isnan(value) and step == "—"


def test_step_table_has_a_median_and_p95_per_round():
    r1 = [session(0, {"change_street": 1.0}), session(1, {"change_street": 2.0}), session(2, {"change_street": 6.0})]
    r2 = [session(0, {"change_street": 0.5}), session(1, {"change_street": 0.7}, kind="browser")]
    table = step_table([r1, r2]).splitlines()
    assert table[0] == ("| step | round 1 median s | round 1 p95 s | round 2 median s | round 2 p95 s | max s | n |")
    assert "| change street | 2.00 | 6.00 | 0.60 | 0.70 | 6.00 | 5 |" in table
    assert "| coverage | — | — | — | — | — | 0 |" in table
    browsers = step_table([r1, r2], "browser").splitlines()
    assert "| change street | — | — | 0.70 | 0.70 | 0.70 | 1 |" in browsers


def test_unfinished_sessions_count_as_errors_named_by_their_step():
    done = session(0, {s: 0.1 for s in STEPS})
    stopped = session(1, {"sign_in_overview": 0.3, "change_street": 0.2})
    never = session(2, {})
    failed = session(3, {"sign_in_overview": 0.3}, error="change_street: StepError: error box on the page: x")
    mark_unfinished([done, stopped, never, failed])
    assert done.error is None
    assert stopped.error == "coverage: did not finish (steps done: sign_in_overview, change_street)"
    assert never.error == "sign_in_overview: did not finish (steps done: none)"
    assert failed.error == "change_street: StepError: error box on the page: x"


def test_server_cpu_and_peak_memory_within_a_round():
    samples = [{"t": 0.0, "rss": 100, "cpu_s": 10.0}, {"t": 5.0, "rss": 300, "cpu_s": 12.0},
               {"t": 10.0, "rss": 200, "cpu_s": 25.0}, {"t": 20.0, "rss": 900, "cpu_s": 40.0}]
    assert cores_busy(samples, 0.0, 10.0) == pytest.approx(1.5)  # (25 - 10) / (10 - 0)
    assert cores_busy(samples, 5.0, 20.0) == pytest.approx(28 / 15)
    assert cores_busy(samples, 11.0, 19.0) is None  # no two samples inside
    assert server_cpu_s(samples, 0.0, 10.0) == pytest.approx(15.0)
    assert server_cpu_s(samples, 5.0, 30.0) == pytest.approx(28.0)
    assert server_cpu_s(samples, 11.0, 19.0) is None
    assert peak_rss(samples, 0.0, 10.0) == 300
    assert peak_rss(samples, 21.0, 30.0) is None


RUNS = [
    # session a: a step sent at 100.0, drawn at 102.0: request reached the server at 100.1, ran 100.3-101.8
    {"session": "a", "page": "overview", "requested": 100.1, "start": 100.3, "end": 101.8, "cpu_s": 0.5,
     "sections": [["overview.map", 1.0, None], ["overview.figures", 0.2, None]],
     "caches": [["ui.data._derived", 0.9, 0.6], ["ui.maps.payload", 0.1, 0.0]]},
    # session a: a download's GET 110.0-110.2, then the click's rerun requested at 110.21 (after the GET)
    {"session": "a", "page": "cases", "requested": 110.21, "start": 110.22, "end": 110.24, "cpu_s": 0.01,
     "sections": [], "caches": []},
    # session b: the same step, two runs (the script asked for a rerun), 200.0 -> 203.0
    {"session": "b", "page": "overview", "requested": 200.5, "start": 201.0, "end": 201.5, "cpu_s": 0.2,
     "sections": [["overview.map", 0.3, None]], "caches": [["ui.data._derived", 0.2, 0.2]]},
    {"session": "b", "page": "overview", "requested": None, "start": 201.5, "end": 202.5, "cpu_s": 0.4,
     "sections": [], "caches": []},
    # before sign-in: no page yet
    {"session": "c", "page": "", "requested": 50.0, "start": 50.0, "end": 50.1, "cpu_s": 0.05,
     "sections": [], "caches": []},
]


def test_runs_per_page():
    rows = {r["page"]: r for r in page_rows(RUNS)}
    assert [r["page"] for r in page_rows(RUNS)] == ["overview", "(sign-in)", "cases"]  # by wall time in all
    ov = rows["overview"]
    assert ov["runs"] == 3
    assert ov["wall_s"] == pytest.approx(1.5 + 0.5 + 1.0)
    assert ov["median_s"] == pytest.approx(1.0)
    assert ov["p95_s"] == pytest.approx(1.5)
    assert ov["cpu_s"] == pytest.approx(1.1)
    assert ov["queue_median_s"] == pytest.approx(0.35)  # waits 0.2 and 0.5 (the second run has no request)
    assert rows["(sign-in)"]["wall_s"] == pytest.approx(0.1)
    assert runs_between(RUNS, 100.0, 111.0) == RUNS[:2]


def test_sections_and_the_rest_of_each_run():
    rows = {r["section"]: r for r in section_rows(RUNS)}
    assert rows["overview.map"]["n"] == 2
    assert rows["overview.map"]["wall_s"] == pytest.approx(1.3)
    assert rows["overview.map"]["median_s"] == pytest.approx(0.65)
    rest = rows["(overview: outside sections)"]
    # run 1: 1.5 - 1.2 = 0.3; run 3: 0.5 - 0.3 = 0.2; run 4: 1.0
    assert rest["n"] == 3
    assert rest["wall_s"] == pytest.approx(1.5)
    assert rest["median_s"] == pytest.approx(0.3)
    assert rest["p95_s"] == pytest.approx(1.0)
    assert rows["(sign-in: outside sections)"]["wall_s"] == pytest.approx(0.1)


def test_cache_misses_built_and_waited():
    rows = cache_rows(RUNS)
    assert [r["cache"] for r in rows] == ["ui.data._derived", "ui.maps.payload"]
    d = rows[0]
    assert (d["misses"], d["waited_n"]) == (2, 2)
    assert d["waited_s"] == pytest.approx(0.8)
    assert d["built_s"] == pytest.approx(0.3)  # (0.9 - 0.6) + (0.2 - 0.2)
    assert d["max_s"] == pytest.approx(0.9)
    assert (rows[1]["misses"], rows[1]["waited_n"], rows[1]["built_s"]) == (1, 0, pytest.approx(0.1))


def test_steps_cut_at_the_servers_timestamps():
    a = session(0, {"sign_in_overview": 2.0, "download": 0.2})
    a.session_id, a.spans = "a", {"sign_in_overview": (100.0, 102.0), "download": (110.0, 110.2)}
    b = session(1, {"sign_in_overview": 3.0})
    b.session_id, b.spans = "b", {"sign_in_overview": (200.0, 203.0)}
    browser = session(2, {"sign_in_overview": 9.0}, kind="browser")
    browser.session_id, browser.spans = "c", {"sign_in_overview": (49.9, 50.2)}
    parts = step_parts([a, b, browser], RUNS)
    assert set(parts) == {"sign_in_overview"}  # the download's rerun was asked for after its file arrived
    p = parts["sign_in_overview"]
    assert p["to_server"] == pytest.approx([0.1, 0.5])
    assert p["queue"] == pytest.approx([0.2, 0.5])
    assert p["run"] == pytest.approx([1.5, 1.5])  # b: both runs of the step, 0.5 + 1.0
    assert p["run_cpu"] == pytest.approx([0.5, 0.6])
    assert p["back"] == pytest.approx([0.2, 0.5])  # a: 102.0 - 101.8; b: 203.0 - 202.5
    # the parts add up to the step as the client measured it
    for i, total in enumerate((2.0, 3.0)):
        assert p["to_server"][i] + p["queue"][i] + p["back"][i] + p["run"][i] == pytest.approx(total)


SITE = "/work/main/.venv/lib/python3.11/site-packages"
STD = "/root/.pyenv/versions/3.11.7/lib/python3.11"
PROFILE = f"""\
Thread._bootstrap ({STD}/threading.py:1002);ScriptRunner._run_script ({SITE}/streamlit/runtime/scriptrunner/script_runner.py:961);<module> (/work/main/pages/overview.py:69);trend_strip (/work/main/ui/overview.py:40);frame_sum ({SITE}/pandas/core/frame.py:11) 6
Thread._bootstrap ({STD}/threading.py:1002);ScriptRunner._run_script ({SITE}/streamlit/runtime/scriptrunner/script_runner.py:961);<module> (/work/main/pages/overview.py:72);map_payload (/work/main/ui/maps.py:90);dumps ({STD}/json/__init__.py:231) 3
main (/work/main/ui/serve.py:230);run ({SITE}/uvicorn/server.py:60);select ({STD}/selectors.py:468) 1
Thread._bootstrap ({STD}/threading.py:1002);_sample_forever (/work/main/bench/_load_server.py:240) 2
not a line
"""


def test_profile_collapsed_stacks_by_owner_and_project_function():
    stacks = parse_collapsed(PROFILE)
    assert [n for _, n in stacks] == [6, 3, 1, 2]
    assert stacks[1][0][-1] == f"dumps ({STD}/json/__init__.py:231)"
    assert frame_owner(stacks[0][0][-1]) == "pandas"
    assert frame_owner(stacks[0][0][-2]) == "ui/overview.py"
    assert frame_owner(stacks[1][0][-1]) == "stdlib"
    assert frame_owner("<module> (/work/main/app.py:20)") == "app.py"
    summary = profile_summary(stacks)
    assert summary["samples"] == 12
    assert dict(summary["by_owner"]) == {"pandas": 6, "stdlib": 4, "bench": 2}
    assert dict(summary["by_project"]) == {"ui/overview.py: trend_strip": 6, "ui/maps.py: map_payload": 3,
                                           "ui/serve.py: main": 1, "(no project code on the stack)": 2}
