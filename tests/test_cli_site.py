"""`cli.py site`: the chosen sites as site_id/rank/gain_elderly, a JSON summary, exit 2 on bad input."""

import json

import pandas as pd
import pytest

import cli
from geo.dataset import Dataset, write_dataset
from tests.analysis.siting_fixtures import siting_dataset


@pytest.fixture
def gpkg(tmp_path):
    return str(write_dataset(siting_dataset(), tmp_path / "d.gpkg"))


def test_site_writes_the_chosen_sites_and_prints_the_summary(gpkg, tmp_path, capsys):
    out = tmp_path / "sites.csv"
    code = cli.main(["--lang", "en", "site", "--data", gpkg, "--type", "day_care", "--radius-m", "300", "--new", "2",
                     "--out", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"covered_elderly", "covered_share", "added_elderly", "optimal", "gap", "seconds",
                            "candidates"}
    assert summary["candidates"] == "layer"
    # By hand (tests/analysis/test_siting.py): S2 adds 80, S3 60; F1 already covers G1's 100 of 280.
    assert summary["added_elderly"] == pytest.approx(140.0)
    assert summary["covered_elderly"] == pytest.approx(240.0)
    assert summary["covered_share"] == pytest.approx(240.0 / 280.0, abs=1e-6)
    assert summary["optimal"] is True and summary["gap"] == 0.0
    assert summary["seconds"] > 0
    table = pd.read_csv(out, dtype={"site_id": str})
    assert table.columns.tolist() == ["site_id", "rank", "gain_elderly"]
    assert table["site_id"].tolist() == ["S2", "S3"]
    assert table["rank"].tolist() == [1, 2]
    assert table["gain_elderly"].tolist() == pytest.approx([80.0, 60.0])


def test_site_greedy_and_options(gpkg, tmp_path, capsys):
    out = tmp_path / "sites.xlsx"
    code = cli.main(["--lang", "en", "site", "--data", gpkg, "--new", "3", "--solver", "greedy", "--min-spacing-m", "250",
                     "--out", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    table = pd.read_excel(out)
    assert table.columns.tolist() == ["site_id", "rank", "gain_elderly"]
    assert "S1" not in table["site_id"].tolist()  # 71 m from the existing station
    assert table["gain_elderly"].sum() == pytest.approx(summary["added_elderly"], abs=1e-3)


def test_site_bad_input_exits_2_with_a_message(gpkg, tmp_path, capsys):
    out = tmp_path / "sites.csv"
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--new", "9", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "error: Asked for 9 new sites but there are only 5 candidate sites; ask for at most 5." in err
    assert "Traceback" not in err
    assert not out.exists()
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--new", "2", "--distance", "walking", "--out", str(out)]) == 2
    assert "error: Walking distance needs a roads layer, and this dataset has none" in capsys.readouterr().err
    ds = siting_dataset(candidates=False)
    bare = str(write_dataset(Dataset(grids=ds.grids, facilities=ds.facilities, estates=ds.estates, name="bare"),
                             tmp_path / "bare.gpkg"))
    assert cli.main(["--lang", "en", "site", "--data", bare, "--new", "2", "--candidates", "layer",
                     "--out", str(out)]) == 2
    assert capsys.readouterr().err == ("error: The dataset has no candidate sites layer; import one or choose "
                                       "“generated” candidates.\n")
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--new", "0", "--out", str(out)]) == 2
    assert "error: `n_new` was 0 but must be a whole number of at least 1." in capsys.readouterr().err
    assert cli.main(["site", "--data", gpkg, "--new", "0", "--out", str(out)]) == 2  # Chinese by default
    assert capsys.readouterr().err == "error: 参数 n_new 的值 0 无效，必须是不小于 1 的整数。\n"


def test_site_without_candidates_layer_generates_them_and_says_so(tmp_path, home, capsys):
    """A district's own files often have no candidates layer: ``site`` then chooses among generated points (as the
    page does), says so in one line on stderr, and names the source in its summary."""
    ds = siting_dataset(candidates=False)
    bare = str(write_dataset(Dataset(grids=ds.grids, facilities=ds.facilities, estates=ds.estates, name="bare"),
                             tmp_path / "bare.gpkg"))
    out = tmp_path / "sites.csv"
    assert cli.main(["--lang", "en", "site", "--data", bare, "--new", "2", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "note: The dataset has no candidates layer: candidates are generated.\n"
    assert json.loads(captured.out)["candidates"] == "generated"
    assert len(pd.read_csv(out)) == 2
    explicit = tmp_path / "explicit.csv"  # the same as asking for generated candidates outright
    assert cli.main(["--lang", "en", "site", "--data", bare, "--new", "2", "--candidates", "generated",
                     "--out", str(explicit)]) == 0
    assert capsys.readouterr().err == ""
    assert out.read_text() == explicit.read_text()


def test_site_save_is_in_the_audit_log(gpkg, home, tmp_path, capsys):
    """A scenario saved from the command line is in the app's one audit log, as one saved on the page is."""
    from commands._common import cli_user
    from geo.audit import AuditLog

    args = ["site", "--data", gpkg, "--new", "1", "--solver", "greedy", "--curve-max", "1",
            "--out", str(tmp_path / "s.csv")]
    assert cli.main(args) == 0  # without --save nothing is recorded
    assert cli.main([*args, "--save", "一个新站"]) == 0
    assert cli.main([*args, "--save", "一个新站"]) == 2  # the name is taken: refused, not recorded
    assert cli.main([*args, "--save", "一个新站", "--overwrite"]) == 0
    capsys.readouterr()
    logged = [(e.action, e.user, e.target, e.detail, e.remote) for e in reversed(AuditLog(home).entries())]
    # detail: the dataset's name (siting_dataset's "fixture") and the overwrite flag, as the siting page writes it
    assert logged == [("scenario_save", cli_user(), "一个新站", "fixture; overwrite=False", "cli"),
                      ("scenario_save", cli_user(), "一个新站", "fixture; overwrite=True", "cli")]


def test_scenario_round_trips_between_the_cli_and_the_page(gpkg, tmp_path, capsys, monkeypatch):
    """`site --save` writes a scenario the siting page lists; one the page saves, `scenarios` lists."""
    from streamlit.testing.v1 import AppTest

    from i18n import t
    from tests.e2e.conftest import ROOT

    assert cli.main(["site", "--data", gpkg, "--new", "2", "--save", "两个新站", "--curve-max", "3",
                     "--out", str(tmp_path / "s.csv")]) == 0
    assert json.loads(capsys.readouterr().out)["saved"] == "两个新站"
    # the same name again is refused unless --overwrite, and nothing changes
    assert cli.main(["--lang", "en", "site", "--data", gpkg, "--new", "1", "--save", "两个新站",
                     "--out", str(tmp_path / "s.csv")]) == 2
    assert "A scenario named “两个新站” already exists. — Choose another name or replace it." in capsys.readouterr().err

    monkeypatch.setenv("GRIDATLAS_DATA", gpkg)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/siting.py").run()
    assert not at.exception, [e.value for e in at.exception]
    listed = at.dataframe[0].value
    assert listed[t("siting.scn.name", lang="zh")].tolist() == ["两个新站"]
    assert listed[t("siting.kpi.after", lang="zh")].tolist() == ["85.7%"]  # (100 + 80 + 60) / 280

    # the page answers N = 1 (greedy) and saves it under another name
    at.number_input(key="site_n").set_value(1)
    at.radio(key="site_solver__zh").set_value("greedy")
    next(b for b in at.button if b.label == t("siting.run", lang="zh")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="scn_name").set_value("页面方案").run()
    at.button(key="scn_save").click().run()
    assert not at.exception, [e.value for e in at.exception]

    assert cli.main(["scenarios", "--data", gpkg]) == 0
    rows = json.loads(capsys.readouterr().out)["scenarios"]
    assert [(r["name"], r["mode"], r["n_new"], r["solver"], r["sites"]) for r in rows] == [
        ("两个新站", "n", 2, "exact", ["S2", "S3"]), ("页面方案", "n", 1, "greedy", ["S2"])]
    assert rows[1]["covered_share"] == pytest.approx(180 / 280, abs=1e-6)


def test_site_save_and_scenarios_work_on_both_backends(backend, store_url, tmp_path, capsys):
    """A postgresql:// dataset keeps its scenarios in the database, as the page does; the CLI uses the same place."""
    from geo.storage import open_store

    if backend == "postgis":
        open_store(store_url).import_dataset(siting_dataset(), source="test")
    else:
        write_dataset(siting_dataset(), store_url)
    args = ["site", "--data", store_url, "--new", "2", "--save", "两个新站", "--curve-max", "3",
            "--out", str(tmp_path / "s.csv")]
    assert cli.main(args) == 0
    assert json.loads(capsys.readouterr().out)["saved"] == "两个新站"
    assert cli.main(["--lang", "en", *args]) == 2  # the same name again: refused, nothing changed
    assert "A scenario named “两个新站” already exists. — Choose another name or replace it." in capsys.readouterr().err
    assert cli.main(["scenarios", "--data", store_url]) == 0
    rows = json.loads(capsys.readouterr().out)["scenarios"]
    assert [(r["name"], r["n_new"], r["mode"]) for r in rows] == [("两个新站", 2, "n")]
    if backend == "postgis":  # in the database's own scenarios table, where the siting page looks
        assert [s.name for s in open_store(store_url).list_scenarios()] == ["两个新站"]
