"""Shared fixtures: real faces from ../shared/data (skip when absent) and a tiny dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import SHARED, SHARED_SKIP, make_tiny_dataset, shared_path

_SHARED_LINE = pytest.StashKey[str]()


@pytest.fixture
def face_files() -> list[Path]:
    """A few real UTKFace crops (skips when the shared data is absent)."""
    root = shared_path("faces-utk")
    return sorted(root.glob("*.jpg"))[::400][:12]


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    return make_tiny_dataset(tmp_path / "ds")


def pytest_terminal_summary(terminalreporter, config) -> None:
    """Count the tests skipped because ../shared/data is absent (printed last, at unconfigure)."""
    skipped = terminalreporter.stats.get("skipped", [])
    shared = sum(SHARED_SKIP in str(getattr(r, "longrepr", "")) for r in skipped)
    config.stash[_SHARED_LINE] = (
        f"{shared} of {len(skipped)} skipped tests need the shared data ({SHARED} is absent): "
        "this run is partial"
        if shared
        else f"no test skipped for want of shared data ({SHARED})"
    )


def pytest_unconfigure(config) -> None:
    line = config.stash.get(_SHARED_LINE, None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if line and reporter is not None:
        reporter.write_line(line, yellow="partial" in line)
