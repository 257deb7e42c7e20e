"""The ``Examples::`` blocks of the package's docstrings run as doctests."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import unmask

SRC = Path(unmask.__file__).resolve().parent
MODULES = sorted(
    ".".join(p.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__")
    for p in SRC.rglob("*.py")
    if "Examples::" in p.read_text()
)


def test_there_are_examples() -> None:
    assert "unmask.registry" in MODULES and "unmask.detection" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name}: Examples:: without a doctest"
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
