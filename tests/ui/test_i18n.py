"""The string table: complete in both languages, one definition per key, used keys exist."""

import re
from pathlib import Path

import pytest

from ui.i18n import TABLE, label_of, t

ROOT = Path(__file__).resolve().parents[2]


def test_every_key_has_chinese_and_english():
    for key, (zh, en) in TABLE.items():
        assert zh.strip() and en.strip(), key
        # the Chinese side really is Chinese for page text (codes and units excepted)
    zh_keys = [k for k, (zh, _) in TABLE.items() if re.search(r"[\u4e00-\u9fff]", zh)]
    assert len(zh_keys) > 0.9 * len(TABLE)


def test_lookup_and_formatting():
    assert t("nav.overview", lang="zh") == "总览"
    assert t("nav.overview", lang="en") == "Overview"
    assert t("sidebar.as_of", lang="en", date="2019-06-30") == "Data as of 2019-06-30"
    assert label_of("facility", "day_care", lang="zh") == "日间照料中心"
    assert label_of("facility", "unknown_code", lang="zh") == "unknown_code"
    with pytest.raises(KeyError, match="no string 'nope.nope' in ui/strings/"):
        t("nope.nope")


def test_every_key_used_in_code_is_defined():
    used: set[str] = set()
    sources = [*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"]
    for path in (p for p in sources if p.name != "i18n.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in TABLE)
    assert missing == []
