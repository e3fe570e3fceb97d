"""The import graph as DESIGN.md draws it, read from the source (ast; nothing is imported).

pages -> ui/ and reports/ -> analysis -> geo, with the string table (i18n/) below ui/ and reports/, and the CLI
(cli.py, commands/) beside the pages, using them all. Every import counts, also one inside a function (a lazy import
still ties the modules together) and one under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "analysis", "i18n", "reports", "ui", "pages", "commands", "bench")
ENTRIES = ("app.py", "cli.py")

# (from these, never into these): the arrows that would run back up the layers.
FORBIDDEN = [
    (("geo", "analysis", "i18n", "reports"), ("ui", "pages")),
    (("geo", "analysis", "i18n"), ("reports",)),
    (("geo", "i18n"), ("analysis",)),
    (("geo", "analysis", "i18n", "reports", "ui"), ("pages",)),
    (("geo", "analysis", "i18n", "reports", "ui", "pages"), ("cli", "commands", "app", "bench")),
    (("cli", "commands"), ("ui", "pages", "app")),  # the CLI runs without Streamlit
]
# Below the UI nothing imports Streamlit or folium (DESIGN.md: geo/ and analysis/ are pure; reports/ has no
# Streamlit), so the CLI, the reports and the tests run without them.
NO_UI_LIBRARIES = (("geo", "analysis", "i18n", "reports", "commands", "cli"), ("streamlit", "folium"))


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files(root: Path = ROOT) -> dict[str, Path]:
    files = [root / e for e in ENTRIES if (root / e).is_file()]
    for package in PACKAGES:
        files += sorted((root / package).rglob("*.py"))
    return {module_name(p, root): p for p in files}


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def imports_of(name: str, path: Path, modules: set[str]) -> dict[str, int]:
    """Every module ``name`` imports, project or not, with the first line that imports it.

    ``from pkg import x`` is an import of the submodule ``pkg.x`` when there is one, else of ``pkg``.
    """
    is_package = path.name == "__init__.py"
    found: dict[str, int] = {}

    def add(target: str, line: int) -> None:
        if target and target != name:
            found.setdefault(target, line)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's own package upward
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                add(sub if sub in modules else source, node.lineno)
    return found


def import_graph(root: Path = ROOT) -> tuple[nx.DiGraph, dict[str, set[str]]]:
    """Project modules and the arrows between them (edge attribute ``line``); and each module's outside imports."""
    files = project_files(root)
    graph = nx.DiGraph()
    graph.add_nodes_from(files)
    outside: dict[str, set[str]] = {}
    for name, path in files.items():
        for target, line in imports_of(name, path, set(files)).items():
            if target in files:
                graph.add_edge(name, target, line=line)
            else:
                outside.setdefault(name, set()).add(_top(target))
    return graph, outside


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module, each sorted, the largest first."""
    groups = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    return sorted(groups, key=lambda c: (-len(c), c))


def upward_arrows(graph: nx.DiGraph) -> list[str]:
    bad = []
    for a, b, data in graph.edges(data=True):
        for lower, upper in FORBIDDEN:
            if _top(a) in lower and _top(b) in upper:
                bad.append(f"{a} -> {b} (line {data['line']})")
    return sorted(bad)


def ui_library_imports(outside: dict[str, set[str]]) -> list[str]:
    packages, libraries = NO_UI_LIBRARIES
    return sorted(f"{m} imports {lib}" for m, libs in outside.items() if _top(m) in packages
                  for lib in sorted(libs & set(libraries)))


@pytest.fixture(scope="module")
def project():
    return import_graph()


def test_the_walk_sees_the_whole_project(project):
    graph, _ = project
    # Modules every layer has: if the walk missed a package (or read nothing), the checks below would pass vacuously.
    for name in ("app", "cli", "commands", "commands.siting", "pages.coverage", "ui.maps", "reports.pptx",
                 "analysis.coverage", "analysis.siting.exact", "geo.storage", "i18n", "i18n.strings.errors"):
        assert name in graph, name
    assert ("cli", "commands") in graph.edges
    assert ("commands.coverage", "analysis.options") in graph.edges
    assert ("analysis.siting", "analysis.siting.exact") in graph.edges  # from a package's __init__
    assert graph.number_of_edges() > 3 * graph.number_of_nodes() // 2


def test_no_import_cycle_among_project_modules(project):
    graph, _ = project
    found = cycles(graph)
    detail = [" <-> ".join(c) + ": " + "; ".join(f"{a} -> {b} (line {graph.edges[a, b]['line']})"
                                                for a in c for b in c if graph.has_edge(a, b)) for c in found]
    assert found == [], "\n".join(detail)


def test_no_arrow_runs_up_the_layers(project):
    graph, _ = project
    assert upward_arrows(graph) == []


def test_nothing_below_the_pages_imports_streamlit_or_folium(project):
    _, outside = project
    assert ui_library_imports(outside) == []


# --- the checker itself, on a small made-up tree ------------------------------------------------------------------

def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_checker_finds_a_lazy_cycle_an_upward_arrow_and_a_ui_library(tmp_path):
    root = _tree(tmp_path, {
        "cli.py": "from commands import main\n",
        "commands/__init__.py": "from commands import data\nmain = None\n",
        "commands/data.py": "import argparse\nfrom geo.storage import open_store\nfrom ui.maps import draw\n",
        "geo/__init__.py": "",
        "geo/storage.py": "def open_store():\n    from geo import scenarios\n",  # lazy: still an arrow
        "geo/scenarios.py": "from .workspace import Workspace\n",  # relative
        "geo/workspace.py": "from geo.storage import open_store\nfrom analysis.coverage import x\n",
        "analysis/__init__.py": "",
        "analysis/coverage.py": "import streamlit as st\nfrom ui import maps\n",
        "ui/__init__.py": "",
        "ui/maps.py": "import folium\nfrom analysis import coverage\n",
        "pages/p.py": "from ui.maps import draw\n",
    })
    graph, outside = import_graph(root)
    assert cycles(graph) == [["geo.scenarios", "geo.storage", "geo.workspace"], ["analysis.coverage", "ui.maps"]]
    assert upward_arrows(graph) == ["analysis.coverage -> ui.maps (line 2)", "commands.data -> ui.maps (line 3)",
                                    "geo.workspace -> analysis.coverage (line 2)"]
    assert ui_library_imports(outside) == ["analysis.coverage imports streamlit"]  # ui/ may use folium
    assert ("commands", "commands.data") in graph.edges and ("ui.maps", "analysis.coverage") in graph.edges
    assert outside["commands.data"] == {"argparse"}


def test_checker_passes_a_tree_drawn_as_designed(tmp_path):
    root = _tree(tmp_path, {
        "pages/p.py": "from ui import maps\nfrom reports import pptx\n",
        "ui/__init__.py": "import i18n\n", "ui/maps.py": "import folium\nfrom analysis.coverage import run\n",
        "reports/__init__.py": "", "reports/pptx.py": "from i18n import t\nfrom analysis import coverage\n",
        "analysis/__init__.py": "", "analysis/coverage.py": "from geo.storage import open_store\n",
        "geo/__init__.py": "", "geo/storage.py": "import pandas\n", "i18n/__init__.py": "from geo.errors import E\n",
    })
    graph, outside = import_graph(root)
    assert (cycles(graph), upward_arrows(graph), ui_library_imports(outside)) == ([], [], [])
    assert graph.number_of_edges() == 7
