"""The `gridatlas` console script that `make setup` installs runs the same CLI as `python cli.py`."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from geo.dataset import write_dataset
from tests.analysis.coverage_fixtures import river_district

ROOT = Path(__file__).resolve().parents[1]


def _script() -> Path:
    eps = [ep for ep in importlib.metadata.entry_points(group="console_scripts") if ep.name == "gridatlas"]
    assert [ep.value for ep in eps] == ["cli:main"], "the project is not installed: run `make setup`"
    exe = Path(sys.executable).parent / "gridatlas"
    assert exe.is_file(), f"{exe} is missing: run `make setup`"
    return exe


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # This checkout's modules first (the environment may be shared with other checkouts).
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GRIDATLAS_DATA", None)
    return subprocess.run([str(_script()), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def test_gridatlas_coverage_runs_from_any_folder(tmp_path):
    gpkg = write_dataset(river_district(), tmp_path / "river.gpkg")
    out = tmp_path / "cov.csv"
    proc = _run("coverage", "--data", str(gpkg), "--type", "day_care", "--radius-m", "300", "--out", str(out),
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    totals = json.loads(proc.stdout)
    # Two grids, 80 and 120 aged 60+, both within 300 m of the station in a straight line (tests/test_cli_coverage.py)
    assert (totals["total"], totals["covered"], totals["distance"]) == (200.0, 200.0, "euclidean")
    assert pd.read_csv(out)["grid_id"].tolist() == ["S", "N"]


def test_gridatlas_bad_input_exits_2_in_the_chosen_language(tmp_path):
    gpkg = write_dataset(river_district(), tmp_path / "river.gpkg")
    args = ("coverage", "--data", str(gpkg), "--type", "day_care", "--radius-m", "0", "--out", str(tmp_path / "x.csv"))
    zh = _run(*args, cwd=tmp_path)
    assert zh.returncode == 2
    assert zh.stderr.strip() == "error: 参数 radius_m 的值 0.0 无效，必须大于 0。"
    en = _run("--lang", "en", *args, cwd=tmp_path)
    assert en.returncode == 2
    assert en.stderr.strip() == "error: `radius_m` was 0.0 but must be greater than 0."
    assert not (tmp_path / "x.csv").exists()
