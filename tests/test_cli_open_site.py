"""A station of a saved siting scenario marked opened (scenarios --open): a new version with the facility and its
opening date, so coverage at month ends counts it from that day."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from analysis.history import coverage_history, operating_mask
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


def test_a_chosen_site_opens_as_a_facility_with_its_date(demo, capsys, tmp_path):
    code, _, err = _run(capsys, "site", "--data", demo, "--new", "2", "--save", "两站方案", "--out",
                        str(tmp_path / "sites.csv"))
    assert code == 0, err
    site = open_store(demo).list_scenarios()[0].result["site_ids"][0]
    before = open_store(demo).load()
    code, opened, err = _run(capsys, "scenarios", "--data", demo, "--open", site, "--name", "两站方案",
                             "--on", "2019-05-10")
    assert code == 0, err
    assert (opened["site"], opened["opened_on"], opened["version"]) == (site, "2019-05-10", 2)
    after = open_store(demo).load()
    assert len(after.facilities) == len(before.facilities) + 1
    new = after.facilities[after.facilities["facility_id"] == site].iloc[0]
    cand = before.candidates[before.candidates["site_id"] == site].iloc[0]
    assert (new["name"], new["type"], new["status"]) == (cand["name"], "day_care", "operating")
    assert str(new["opened_on"])[:10] == "2019-05-10"
    # operating from its day: at 05-09's end not, at 05-10's end yes; coverage rises on that day
    fac = after.facilities[after.facilities["facility_id"] == site]
    assert operating_mask(fac, dt.date(2019, 5, 9)).tolist() == [False]
    assert operating_mask(fac, dt.date(2019, 5, 10)).tolist() == [True]
    hist = coverage_history(after, [dt.date(2019, 5, 9), dt.date(2019, 5, 10)])
    assert hist["stations"].diff().iloc[1] == 1
    assert hist["covered_share"].iloc[1] > hist["covered_share"].iloc[0]
    assert [e.action for e in AuditLog().entries()][:1] == ["import"]
    # the same site again, and a site the scenario did not choose, are refused with their messages
    code, _, err = _run(capsys, "scenarios", "--data", demo, "--open", site, "--name", "两站方案", "--on",
                        "2019-05-11")
    assert code == 2 and err.strip() == f"error: 已有编号为 {site} 的设施。"
    code, _, err = _run(capsys, "--lang", "en", "scenarios", "--data", demo, "--open", "SF-S-999", "--name",
                        "两站方案", "--on", "2019-05-11")
    assert code == 2 and err.startswith("error: Site SF-S-999 is not one of scenario “两站方案”'s sites (")
