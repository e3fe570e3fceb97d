"""The string table: complete in both languages, one definition per key, used keys exist."""

import re
from pathlib import Path

import pytest

from i18n import TABLE, label_of, t

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
    with pytest.raises(KeyError, match="no string 'nope.nope' in i18n/strings/"):
        t("nope.nope")


def _literal_list(path: Path, name: str) -> list:
    """The value of a module-level list/tuple literal ``name`` in a page (pages cannot be imported)."""
    import ast

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(getattr(tg, "id", None) == name for tg in targets):
            return [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
    raise AssertionError(f"{path.name} has no {name}")


def _domains() -> dict[str, tuple]:
    """Every value each f-string key of the pages can take, by the key's literal prefix."""
    from analysis.coverage import LIFE_CIRCLE_PRESETS_M
    from analysis.hotspots import PATTERNS
    from analysis.options import (
        CANDIDATE_SOURCES,
        DEMAND_WEIGHTS,
        DISTANCES,
        IMPORT_MODES,
        MEASURES,
        PERIODS,
        REPORT_FORMATS,
        ROLES,
        SOLVERS,
        WEIGHTS,
        WEIGHTS_SCHEMES,
    )
    from analysis.siting import MODES
    from geo.audit import ACTIONS, COLUMNS
    from geo.derive import AS_OF_RULES
    from geo.progress import IMPORT_STAGES
    from geo.schema import CASE_STATUS
    from ui.auth import GUARDED_ACTIONS
    from ui.siting_distance import QUESTIONS, STREET_COLUMNS

    return {
        "cases.bin.": tuple(range(-3, 4)), "cases.measure.": MEASURES, "cases.step.": PERIODS,
        "cases.weights.": WEIGHTS_SCHEMES, "cases.tab.": tuple(_literal_list(ROOT / "pages" / "cases.py", "VIEWS")),
        "cases.preset.": tuple(_literal_list(ROOT / "pages" / "cases.py", "PRESETS")),
        "code.case_status.": tuple(CASE_STATUS), "code.case_state.": ("open", "overdue", "closed"),
        "pattern.": PATTERNS, "coverage.distance.": DISTANCES, "coverage.weight.": WEIGHTS,
        "coverage.placement.": ("estates", "area"), "coverage.preset.": ("default", *LIFE_CIRCLE_PRESETS_M, "custom"),
        "siting.distance.": DISTANCES, "siting.candidates.": CANDIDATE_SOURCES, "siting.solver.": SOLVERS,
        "siting.mode.": MODES, "siting.scn.common.": ("more", "less", "same"), "sidebar.basemap.": ("none", "configured"),
        "code.role.": ROLES, "data.mode.": IMPORT_MODES, "meeting.download.": REPORT_FORMATS,
        "code.action.": GUARDED_ACTIONS, "code.audit.": ACTIONS,
        "admin.col.": tuple("name" if c == "user" else c for c in COLUMNS),
        "planning.weight.": DEMAND_WEIGHTS, "progress.": IMPORT_STAGES,
        "sidebar.as_of_derived.": AS_OF_RULES, "siting_distance.question.": QUESTIONS,
        "siting_distance.col.": STREET_COLUMNS,
        "equity.col.": ("street", "elderly", "beyond", "beyond_share", "gini", "palma", "access"),
    }


def _fstring_keys(path: Path) -> list[tuple[str, str]]:
    """(literal prefix, source) of every ``t(f"...")`` call in a file."""
    import ast

    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t" and node.args
                and isinstance(node.args[0], ast.JoinedStr)):
            parts = node.args[0].values
            prefix = parts[0].value if parts and isinstance(parts[0], ast.Constant) else ""
            assert len(parts) == 2, f"{path.name}: {ast.unparse(node.args[0])} — one placeholder, at the end"
            out.append((prefix, ast.unparse(node.args[0])))
    return out


# Files whose f-string keys follow data-driven columns or audit actions; their own tests check them.
OWN_TESTS = {"ui/data_page.py", "ui/auth.py", "ui/admin.py", "ui/estates.py", "pages/estates.py"}


def test_every_key_used_in_code_is_defined():
    used: set[str] = set()
    sources = [*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"]
    domains = _domains()
    undeclared = []
    for path in (p for p in sources if p.name != "i18n.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
        # keys built with f-strings: every value the placeholder can take
        for prefix, source in _fstring_keys(path):
            if prefix in domains:
                used |= {f"{prefix}{v}" for v in domains[prefix]}
            elif str(path.relative_to(ROOT)) not in OWN_TESTS:
                undeclared.append(f"{path.name}: {source}")
    assert undeclared == [], "declare the values of these keys in _domains()"
    missing = sorted(k for k in used if k not in TABLE)
    assert missing == []
    assert {"cases.weights.binary", "cases.weights.row", "siting.solver.greedy", "pattern.new_hot_spot"} <= used
