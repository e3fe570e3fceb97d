"""The CLI's import shows its stages as a bar on a terminal's stderr, and nothing when stderr is a pipe."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

from commands._progress import end_line, finish, terminal_progress
from geo.progress import IMPORT_STAGES, overall
from tests.conftest import ROOT


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_is_drawn_on_a_terminal_only():
    assert terminal_progress("zh", io.StringIO()) is None  # a pipe or a file: nothing
    finish(None, "zh")
    end_line(None)
    out = _Tty()
    bar = terminal_progress("en", out)
    bar("read", 0.0)
    bar("write", 0.5)
    finish(bar, "en", out)
    text = out.getvalue()
    assert "reading the file" in text and "writing the new version" in text and "import finished" in text
    assert f"{overall('write', 0.5) * 100:3.0f}%" in text and text.endswith("\n")
    # the stages add up to the whole bar, in order
    shares = [overall(s, 0.0) for s in IMPORT_STAGES] + [overall("derive", 1.0)]
    assert shares == sorted(shares) and shares[0] == 0.0 and abs(shares[-1] - 1.0) < 1e-9


def _import(tmp_path, stderr_tty: bool) -> str:
    tmp_path.mkdir()
    csv = tmp_path / "cases.csv"
    csv.write_text("case_id,category,reported_at,status,经度,纬度\nC1,道路破损,2019-05-01 09:30,open,113.15,27.87\n",
                   encoding="utf-8")
    env = {**os.environ, "GRIDATLAS_HOME": str(tmp_path / "home")}
    env.pop("GRIDATLAS_DATA", None)
    cmd = [sys.executable, str(ROOT / "cli.py"), "--lang", "en", "import", "--layer", "cases", "--mode", "upsert",
           str(csv)]
    if not stderr_tty:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stderr
    main, child = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=child, env=env, cwd=ROOT)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=300) == 0
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def test_the_cli_import_draws_on_a_terminal_and_stays_quiet_in_a_pipe(tmp_path):
    piped = _import(tmp_path / "a", stderr_tty=False)
    assert "%" not in piped and "reading the file" not in piped
    shown = _import(tmp_path / "b", stderr_tty=True)
    for label in ("reading the file", "validating", "assigning grids", "comparing with the current version",
                  "writing the new version", "import finished"):
        assert label in shown
    assert shown.index("reading the file") < shown.index("validating") < shown.index("writing the new version")


def test_an_unknown_stage_is_refused_by_name():
    import pytest

    from geo.errors import AnalysisError

    with pytest.raises(AnalysisError, match="`stage` was 'upload' but is expected to be one of: read, validate"):
        overall("upload")
