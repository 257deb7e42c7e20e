"""The package's layout: no import cycle between its packages, and the lab stays outside it.

Every ``import unmask.X...`` / ``from unmask.X... import`` in ``src/unmask`` (at module level or
inside a function: a lazy import is still a dependency) is an edge from the importing module's
package to ``X`` (a subpackage such as ``training``, or a top-level module such as ``api``).
The graph of those edges must have no cycle.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import unmask
from support import REPO

SRC = Path(unmask.__file__).resolve().parent


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _node(module: str) -> str:
    """``unmask.training.attr`` -> ``training``; ``unmask.api`` -> ``api``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "unmask"


def _imports(path: Path) -> set[str]:
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            out.add(name)
            # ``from unmask import detection`` imports the subpackage ``unmask.detection``
            if name == "unmask":
                out.update(f"unmask.{a.name}" for a in node.names)
    return out


def package_graph() -> dict[str, dict[str, list[str]]]:
    """``{package: {imported package: [importing modules]}}`` over ``src/unmask``."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(SRC.rglob("*.py")):
        src = _node(_module(path))
        for name in _imports(path):
            if name.startswith("unmask.") and (dst := _node(name)) not in (src, "unmask"):
                graph[src][dst].append(_module(path))
    return graph


def find_cycle(graph: dict[str, dict]) -> list[str] | None:
    """One cycle of ``graph`` as a closed path ``[a, b, ..., a]``, or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, {})):
            if state.get(w) == 1:
                return [*stack[stack.index(w) :], w]
            if w not in state and (found := visit(w)):
                return found
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


def test_no_import_cycle_between_packages() -> None:
    graph = package_graph()
    cycle = find_cycle(graph)
    if cycle:
        edges = [
            f"{a} -> {b} (in {', '.join(sorted(set(graph[a][b])))})"
            for a, b in zip(cycle, cycle[1:], strict=False)
        ]
        raise AssertionError("import cycle between packages:\n" + "\n".join(edges))


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": []}, "b": {}, "c": {"a": []}}) is None


def test_the_package_never_imports_the_lab() -> None:
    for path in SRC.rglob("*.py"):
        bad = {n for n in _imports(path) if n.split(".")[0] in {"research", "tools"}}
        assert not bad, f"{path}: imports {bad}"


#: Work-log numbering ("session 12", "entry 4", "issue #6") and the design notes that are not
#: in the repository: history belongs in docs/history.md only.
WORK_LOG = re.compile(r"\b[Ss]essions? \d|\b[Ee]ntry \d|\b[Ii]ssue #?\d|DESIGN\.md")


def test_no_work_log_numbering_outside_the_history() -> None:
    src = REPO / "src" / "unmask"
    files = [REPO / "README.md", *(REPO / "docs").glob("*.md"), *src.rglob("*.py")]
    files += [*src.rglob("*.md"), *(REPO / "configs").rglob("*.json")]
    found = []
    for path in files:
        rel = str(path.relative_to(REPO))
        if rel == "docs/history.md":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if WORK_LOG.search(line):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
