"""Every error code the code can raise has its text in both languages, and every placeholder is a param it gives."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from geo.errors import AnalysisError, DataError, Problem, SettingsError
from i18n import TABLE, error_text, problem_text

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"^(analysis|data|storage|settings)\.[a-z0-9_]+$")
ERROR_CLASSES = {"AnalysisError", "StorageError", "SettingsError", "DataError", "GridAtlasError"}
# Files whose codes belong to other areas' string tables and tests (validation, storage, PostGIS, sign-in).
OTHERS = {"geo/schema.py", "geo/readers.py", "geo/dataset.py", "geo/errors.py", "geo/storage.py", "geo/workspace.py",
          "geo/audit.py", "geo/users.py", "geo/sso.py", "geo/personal.py",
          "geo/upload.py", "geo/safe_text.py"}
# The params every check_choice/bad_choice error carries.
CHOICE_PARAMS = {"name", "value", "allowed"}


def _sources() -> list[Path]:
    files = [*ROOT.glob("analysis/**/*.py"), *ROOT.glob("geo/*.py"), ROOT / "cli.py", *ROOT.glob("commands/*.py")]
    return sorted(p for p in files if str(p.relative_to(ROOT)) not in OTHERS)


def _placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def _raise_sites() -> list[tuple[str, str, set[str] | None]]:
    """(where, code pattern, params given or None when not a literal) of every coded raise and Problem."""
    sites = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # helpers that pass their own ``code`` argument on (their callers are the sites)
        relays = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
                  and "code" in {a.arg for a in f.args.args + f.args.kwonlyargs} for n in ast.walk(f)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in relays:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            kw = {k.arg: k.value for k in node.keywords}
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if name in ERROR_CLASSES | {"Problem"} and "code" in kw:
                code = kw["code"]
                params = kw.get("params")
                given = ({k.value for k in params.keys} if isinstance(params, ast.Dict)
                         and all(isinstance(k, ast.Constant) for k in params.keys) else None)
                if params is None:
                    given = set()
                if isinstance(code, ast.Constant):
                    sites.append((where, re.escape(code.value), given))
                elif isinstance(code, ast.JoinedStr):  # f"analysis.too_few_{unit}": every code it can build
                    pattern = "".join(re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z0-9_]+"
                                      for v in code.values)
                    sites.append((where, pattern, given))
                elif isinstance(code, ast.IfExp) and all(isinstance(c, ast.Constant) for c in (code.body, code.orelse)):
                    sites += [(where, re.escape(code.body.value), given), (where, re.escape(code.orelse.value), given)]
                else:
                    sites.append((where, f"<{ast.unparse(code)}: write the code as a literal>", given))
            elif name == "_problem" and len(node.args) >= 3 and isinstance(node.args[2], ast.Constant):
                sites.append((where, re.escape(node.args[2].value), {k.arg for k in node.keywords}))
    return sites


def _all_codes() -> set[str]:
    """Every code string in the sources, including those chosen by a condition (code = "a" if … else "b")."""
    codes = set()
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inside_fstrings = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value)
                    and id(node) not in inside_fstrings):
                codes.add(node.value)
    return codes


def test_every_error_raised_has_a_code():
    missing = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"AnalysisError", "StorageError",
                                                                               "SettingsError"}
                    and "code" not in {k.arg for k in node.keywords}):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"ValueError", "TypeError"}:
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} raises a plain {node.func.id}")
    assert missing == []


def test_every_code_has_both_languages_and_its_placeholders_are_given():
    sites = _raise_sites()
    assert len(sites) > 80
    codes = _all_codes()
    problems = []
    for where, pattern, given in sites:
        keys = [k for k in TABLE if re.fullmatch(r"err\." + pattern, k)]
        if not keys:
            problems.append(f"{where}: no err.<code> for {pattern}")
        for key in keys:
            need = set().union(*(_placeholders(s) for s in TABLE[key]))
            if key == "err.analysis.bad_choice":
                given = CHOICE_PARAMS if given is None else given
            if given is not None:  # ``{measure_label}``: the label i18n adds beside a given ``measure``
                need -= {f"{g}_label" for g in given}
            if given is not None and not need <= given:
                problems.append(f"{where}: {key} needs {sorted(need - given)}")
    for code in codes:
        if f"err.{code}" not in TABLE:
            problems.append(f"no err.{code}")
    assert problems == []
    # codes built by f-strings are there too
    assert {"err.analysis.too_few_weeks", "err.analysis.too_few_months"} <= set(TABLE)


def test_problem_codes_have_their_fix():
    for where, pattern, _ in _raise_sites():
        if pattern.startswith(r"data\."):
            assert any(re.fullmatch(r"fix\." + pattern, k) for k in TABLE), where


def test_error_text_in_both_languages():
    err = AnalysisError("x", code="analysis.too_many_sites",
                        params={"n": 9, "available": 5, "excluded": 0, "spacing": "0"})
    assert error_text(err, lang="zh") == "要求新建 9 个站点，但只有 5 个候选站点；最多填 5。"
    assert error_text(err, lang="en") == ("Asked for 9 new sites but there are only 5 candidate sites; ask for at "
                                          "most 5.")
    bad = SettingsError("x", code="settings.invalid",
                        params={"name": "GRIDATLAS_TILES_DATUM", "value": "bd09", "allowed": "one of wgs84, gcj02"})
    assert error_text(bad, lang="zh") == "配置项 GRIDATLAS_TILES_DATUM 的值“bd09”无效，应为：one of wgs84, gcj02。"
    # an unknown code falls back to the English message
    assert error_text(AnalysisError("plain English", code="analysis.nope"), lang="zh") == "plain English"


def test_scenario_problems_read_by_code(tmp_path):
    from geo.scenarios import check_scenario_name

    with pytest.raises(DataError) as exc:
        check_scenario_name("  ")
    (p,) = exc.value.problems
    assert isinstance(p, Problem) and p.code == "data.scenario_name_empty"
    assert problem_text(p, lang="zh").endswith("方案名称为空。 — 请给方案起个名字。")
    assert problem_text(p, lang="en").endswith("The scenario name is empty. — Give the scenario a name.")


def test_no_plain_value_error_in_analysis_or_geo():
    """Every module of analysis/ and geo/ (those of other areas included) raises coded errors, never a bare ValueError."""
    found = []
    for path in sorted([*ROOT.glob("analysis/**/*.py"), *ROOT.glob("geo/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and getattr(node.exc.func, "id", None) == "ValueError"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
