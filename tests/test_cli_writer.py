"""cli.py versions reports a failed write of the current version's plain GeoPackage (JSON ``gpkg.failed`` and one
line on stderr, in --lang), starts a writer again with --retry-gpkg, and says nothing once it has succeeded.
The failure is real (a writer under a file-size limit: tests/writerfixtures.py)."""

from __future__ import annotations

import json

import pytest

from cli import main
from tests.writerfixtures import failed_write, wait_for_writer

LINES = {
    "zh": "注意：第 2 版的 QGIS 副本 {path} 于 {when} 未能写出：{reason}。该版本本身完好；"
          "重试：cli.py versions --retry-gpkg（下次导入也会重新写出）。\n",
    "en": "note: the QGIS copy {path} of version 2 could not be written at {when}: {reason}. The version itself is "
          "intact; to retry: cli.py versions --retry-gpkg (the next import writes it too).\n",
}
RETRYING = {
    "zh": "正在后台重新写出第 2 版的 QGIS 副本 {path}。\n",
    "en": "writing the QGIS copy {path} of version 2 again in the background.\n",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_versions_reports_the_failed_write_and_retries_it(home, tmp_path, monkeypatch, capsys, lang):
    store = failed_write(tmp_path / "ds", monkeypatch)
    failure = store.gpkg_failure()
    assert "File too large" in failure.reason
    when = failure.failed_at[:19].replace("T", " ")
    assert main(["--lang", lang, "versions", "--data", store.location]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["current"] == 2 and [v["id"] for v in out["versions"]] == [1, 2]
    assert out["gpkg"] == {"pending": True, "retrying": False,
                           "failed": {"version": 2, "failed_at": failure.failed_at,
                                      "code": "storage.gpkg_write_failed", "reason": failure.reason}}
    line = LINES[lang].format(path=store.location, when=when, reason=failure.reason)
    assert captured.err == line

    assert main(["--lang", lang, "versions", "--data", store.location, "--retry-gpkg"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["gpkg"]["retrying"] is True
    assert captured.err == line + RETRYING[lang].format(path=store.location)
    assert wait_for_writer() == 0

    assert main(["--lang", lang, "versions", "--data", store.location]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["gpkg"] == {"pending": False, "failed": None, "retrying": False}
    assert captured.err == ""
