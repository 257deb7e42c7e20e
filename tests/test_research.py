"""The research scripts (``research/``) stay runnable against the package: each compiles, and
every name it imports from ``unmask`` exists (a moved or renamed module fails here)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

from support import REPO

SCRIPTS = sorted((REPO / "research").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_research_script_imports_resolve(script: Path) -> None:
    tree = ast.parse(script.read_text(), str(script))
    compile(tree, str(script), "exec")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("unmask"):
            mod = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(mod, alias.name) or importlib.util.find_spec(
                    f"{node.module}.{alias.name}"
                ), f"{script.name}: {node.module} has no {alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("unmask"):
                    importlib.import_module(alias.name)
