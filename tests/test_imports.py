"""The package has no import circle: every `import` (at the top or inside a function) points
from one module to another that does not import it back, directly or through others; and
tests/conftest.py leaves importing the package to its fixtures."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"


def module_files() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


@cache
def parsed(path: Path) -> ast.Module:
    """The module's syntax tree, parsed once per run for the tests below (none changes it)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets.add(base)
                targets.update(f"{base}.{alias.name}" for alias in node.names)
        # A module importing its own parent package is how Python imports submodules, not a circle.
        ancestors = {name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)}
        graph[name] = {t for t in targets if t in modules and t != name and t not in ancestors}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_package_has_no_import_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_cycle_finder_sees_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_the_vector_store_imports_faiss():
    # The storage seam: index.py reads and writes vectors through assistant/vector_store.py, and
    # nothing above it (retrieval, answering, the scope decision) touches FAISS itself.
    importers = sorted(name for name, path in module_files().items() if "faiss" in imported_roots(path))
    assert importers == ["assistant.vector_store"]


def test_only_lexical_imports_jieba_and_no_module_reaches_its_private_names():
    # One home for the Chinese segmenter: the others call lexical.jieba_segmenter(), which loads
    # the dictionary once (a private helper imported from outside had no such promise).
    importers = sorted(name for name, path in module_files().items() if "jieba" in imported_roots(path))
    assert importers == ["assistant.lexical"]
    private = sorted(
        f"{name}: {alias.name}" for name, path in module_files().items()
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.ImportFrom) and node.module == "assistant.lexical"
        for alias in node.names if alias.name.startswith("_")
    )
    assert private == []


def test_clause_rows_are_read_through_the_loaded_index_s_methods():
    # The storage seam: which rows belong to a clause is the index's business (passage_rows,
    # sentence_rows), so a store that keeps them otherwise changes index.py alone.
    fields = {"passage_rows_by_clause", "sentence_rows_by_clause"}
    readers = sorted(
        name for name, path in module_files().items() if name != "assistant.index"
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.Attribute) and node.attr in fields
    )
    assert readers == []


def test_the_conftest_imports_the_package_only_in_its_fixtures():
    # With -n the controlling process loads tests/conftest.py and runs no test: a package import
    # at its top made that process load jieba's dictionary too (docs/benchmarks.md, v5-fast).
    tree = ast.parse((Path(__file__).parent / "conftest.py").read_text(encoding="utf-8"))
    at_top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    named = [alias.name for node in at_top if isinstance(node, ast.Import) for alias in node.names]
    named += [node.module or "" for node in at_top if isinstance(node, ast.ImportFrom)]
    assert "pytest" in named  # the check sees the imports
    assert not [name for name in named if name.split(".")[0] in ("assistant", "tests")]


@pytest.mark.system
def test_importing_the_service_and_the_api_loads_no_segmenter():
    # jieba's dictionary is loaded by the first tokenisation, not by an
    # import: parts.py tokenised its courtesy words at import (docs/benchmarks.md, w4-fast).
    code = ("import sys, assistant.api.app, assistant.cli, assistant.service; "
            "print('jieba' in sys.modules, 'pypinyin' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=PACKAGE.parent, env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
