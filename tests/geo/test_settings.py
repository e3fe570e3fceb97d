"""Settings: every GRIDATLAS_* variable validated with a message that names it; the README table is generated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo import settings
from geo.errors import SettingsError
from i18n import error_text

ROOT = Path(__file__).resolve().parents[2]

# One invalid value per setting, with the message and the allowed values it must give.
INVALID = {
    "GRIDATLAS_HOME": ("README.md", "a folder (this is a file)"),
    "GRIDATLAS_DATA": ("mysql://db/grid", "a dataset name, a GeoPackage path or a URL starting with postgresql:// or "
                                          "postgres:// or postgresql+DRIVER://"),
    "GRIDATLAS_TILES": ("tiles.local/{z}/{x}/{y}.png", "a URL starting with http:// or https://"),
    "GRIDATLAS_TILES_DATUM": ("bd09", "one of wgs84, gcj02"),
    "GRIDATLAS_MAX_UPLOAD_MB": ("lots", "a whole number from 1 to 10000"),
    "GRIDATLAS_DASK": ("localhost:8786", "a URL starting with tcp:// or tls:// or inproc:// or ws:// or wss://"),
    "GRIDATLAS_STRICT": ("maybe", "one of 1, true, yes, 0, false, no"),
}
# Free text, shown escaped: no value is invalid.
ANY_TEXT = {"GRIDATLAS_TILES_ATTR"}


def test_every_setting_is_covered():
    assert set(INVALID) | ANY_TEXT == {s.env for s in settings.SETTINGS}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_an_invalid_value_names_the_variable_and_what_is_allowed(name, monkeypatch):
    value, allowed = INVALID[name]
    if name == "GRIDATLAS_HOME":
        value = str(ROOT / value)
    env = {name: value}
    message = f"{name} was {value!r} but must be {allowed}"
    with pytest.raises(SettingsError, match=re.escape(message)) as exc:
        settings.get(name, env=env)
    assert exc.value.code == "settings.invalid"
    assert dict(exc.value.params) == {"name": name, "value": value, "allowed": allowed}
    assert error_text(exc.value, lang="zh") == f"配置项 {name} 的值“{value}”无效，应为：{allowed}。"
    with pytest.raises(SettingsError, match=re.escape(message)):
        settings.check_all(env=env)
    # read from the process environment too (what the app and the CLI do at start)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=re.escape(message)):
        settings.check_all()


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("TRUE", True), (" yes ", True), ("0", False),
                                                ("false", False), ("no", False)])
def test_strict_reads_yes_and_no(value, expected, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_STRICT", value)
    assert settings.strict() is expected


def test_strict_is_off_without_the_variable_and_on_under_the_tests(monkeypatch):
    assert settings.strict() is True  # tests/conftest.py sets it for the whole suite
    monkeypatch.delenv("GRIDATLAS_STRICT")
    assert settings.strict() is False


def test_several_invalid_values_are_reported_together():
    env = {"GRIDATLAS_TILES_DATUM": "bd09", "GRIDATLAS_MAX_UPLOAD_MB": "0"}
    with pytest.raises(SettingsError) as exc:
        settings.check_all(env=env)
    assert exc.value.code == "settings.several"
    assert exc.value.message == ("GRIDATLAS_TILES_DATUM was 'bd09' but must be one of wgs84, gcj02; "
                                 "GRIDATLAS_MAX_UPLOAD_MB was '0' but must be a whole number from 1 to 10000")


def test_valid_values_and_defaults():
    env = {"GRIDATLAS_TILES_DATUM": "GCJ02", "GRIDATLAS_MAX_UPLOAD_MB": " 50 ", "GRIDATLAS_DATA": "postgresql://h/db",
           "GRIDATLAS_TILES_ATTR": "<b>区政务地图</b>"}
    settings.check_all(env=env)
    assert settings.get("GRIDATLAS_TILES_DATUM", env=env) == "gcj02"
    assert settings.get("GRIDATLAS_MAX_UPLOAD_MB", env=env) == 50
    assert settings.get("GRIDATLAS_DATA", env=env) == "postgresql://h/db"
    assert settings.get("GRIDATLAS_DATA", env={"GRIDATLAS_DATA": "data/x.gpkg"}) == "data/x.gpkg"
    assert settings.get("GRIDATLAS_MAX_UPLOAD_MB", env={}) == 200


def test_readme_table_is_generated_from_the_settings():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- settings:begin -->\n(.*?)\n<!-- settings:end -->", text, flags=re.S)
    assert found, "README.md has no settings table markers"
    assert found.group(1) == settings.markdown_table(), "regenerate it: python -m geo.settings"


def test_the_cli_stops_on_an_invalid_setting(monkeypatch, capsys, tmp_path):
    import cli

    monkeypatch.setenv("GRIDATLAS_TILES_DATUM", "bd09")
    out = tmp_path / "x.csv"
    assert cli.main(["--lang", "en", "coverage", "--type", "day_care", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == ("error: GRIDATLAS_TILES_DATUM was “bd09” but must be one of wgs84, "
                                               "gcj02.")
    assert not out.exists()


def test_the_app_stops_on_an_invalid_setting(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GRIDATLAS_MAX_UPLOAD_MB", "huge")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert at.title[0].value == "配置有误 · Invalid configuration"
    assert [e.value for e in at.error] == [
        "配置项 GRIDATLAS_MAX_UPLOAD_MB 的值“huge”无效，应为：a whole number from 1 to 10000。",
        "GRIDATLAS_MAX_UPLOAD_MB was “huge” but must be a whole number from 1 to 10000.",
    ]
