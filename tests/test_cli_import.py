"""cli.py import / versions / restore: exit 0 with a JSON summary, or exit 2 with every problem in the
chosen language and the stored data unchanged (checksum and bytes)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cli import main
from commands._common import cli_user
from geo.audit import AuditLog
from geo.workspace import open_store


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


FACILITIES = ("设施编号,名称,类型,经度,纬度\n"
              "N1,新建日间照料中心,日间照料中心,113.135,27.865\n"
              "N2,新建老年食堂,老年食堂,113.140,27.870\n")


def test_import_versions_restore_round_trip(home, tmp_path, capsys):
    csv = tmp_path / "站点.csv"
    csv.write_text(FACILITIES, encoding="gb18030")
    assert main(["import", "--data", "shifeng_demo", "--layer", "facilities", "--mode", "upsert", str(csv)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["command"] == "import" and out["encoding"].lower() in ("gb18030", "gbk")
    v = out["version"]
    assert (v["id"], v["kind"], v["layer"], v["source"], v["rows_added"], v["rows_changed"], v["rows_removed"]) == \
        (2, "upsert", "facilities", "站点.csv", 2, 0, 0)
    store = open_store("shifeng_demo")
    fac = store.load().facilities
    assert {"N1", "N2"} <= set(fac["facility_id"]) and len(fac) == v["layers"]["facilities"]
    assert fac.set_index("facility_id").loc["N1", "type"] == "day_care"

    assert main(["versions", "--data", "shifeng_demo"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["current"] == 2 and [x["kind"] for x in listed["versions"]] == ["adopt", "upsert"]

    assert main(["restore", "--data", "shifeng_demo", "--version", "1", "--user", "admin"]) == 0
    restored = json.loads(capsys.readouterr().out)["version"]
    assert (restored["id"], restored["restored_from"], restored["user"], restored["rows_removed"]) == (3, 1, "admin", 2)
    assert restored["checksum"] == store.verify(1).checksum
    assert not {"N1", "N2"} & set(open_store("shifeng_demo").load().facilities["facility_id"])
    # both changes are in the app's one audit log, as the Data page records them (the reading commands are not)
    logged = [(e.action, e.user, e.target, e.detail, e.remote, e.ok) for e in reversed(AuditLog(home).entries())]
    assert logged == [("import", cli_user(), "shifeng_demo/facilities", "站点.csv; upsert; version 2; +2 ~0 -0", "cli",
                       True),
                      ("restore", "admin", "shifeng_demo/1", "new version 3", "cli", True)]


def test_bad_file_exits_2_with_every_problem_and_changes_nothing(home, tmp_path, capsys):
    store = open_store("shifeng_demo")
    before = store.current()
    gpkg_sha = _sha(store.location)
    bad = tmp_path / "bad.csv"
    bad.write_text("设施编号,名称,类型,经度,纬度\nN1,甲,日间照料中心,abc,27.86\nN1,乙,游泳馆,113.1,27.86\n",
                   encoding="utf-8")
    assert main(["--lang", "en", "import", "--data", "shifeng_demo", "--layer", "facilities", str(bad)]) == 2
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("error:")]
    assert len(lines) >= 3  # the bad longitude, the duplicate id and the unknown type, all at once
    assert "duplicate" in err and "N1" in err and "游泳馆" in err
    assert main(["import", "--data", "shifeng_demo", "--layer", "facilities", str(bad)]) == 2
    assert "编号重复" in capsys.readouterr().err
    assert open_store("shifeng_demo").current() == before
    assert _sha(store.location) == gpkg_sha
    assert AuditLog(home).entries() == []  # nothing was imported


def test_storage_errors_in_both_languages(home, capsys):
    assert main(["restore", "--data", "shifeng_demo", "--version", "9"]) == 2
    assert capsys.readouterr().err.strip() == "error: 数据集 shifeng_demo 没有第 9 版"
    assert main(["--lang", "en", "restore", "--data", "shifeng_demo", "--version", "9"]) == 2
    assert capsys.readouterr().err.strip() == "error: dataset shifeng_demo has no version 9"
    assert main(["--lang", "en", "versions", "--data", "a b"]) == 2
    assert "dataset name a b is not allowed" in capsys.readouterr().err


def test_checksum_failure_refuses_to_open(home, capsys):
    store = open_store("shifeng_demo")
    store.current()
    path = store.history / "v0001" / "layers" / "grids.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert main(["coverage", "--data", "shifeng_demo", "--type", "day_care", "--out", str(home / "c.csv")]) == 2
    err = capsys.readouterr().err
    assert "数据集 shifeng_demo 的第 1 版与导入时记录的校验值不符" in err
