"""Shared fixtures: real faces from ../shared/data (skip when absent) and a tiny dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import SHARED, SHARED_SKIP, make_tiny_dataset, shared_path


@pytest.fixture
def face_files() -> list[Path]:
    """A few real UTKFace crops (skips when the shared data is absent)."""
    root = shared_path("faces-utk")
    return sorted(root.glob("*.jpg"))[::400][:12]


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    return make_tiny_dataset(tmp_path / "ds")


def pytest_terminal_summary(terminalreporter) -> None:
    """One line saying how many tests skipped because ../shared/data is absent: a suite run
    without it is partial."""
    skipped = terminalreporter.stats.get("skipped", [])
    shared = sum(SHARED_SKIP in str(getattr(r, "longrepr", "")) for r in skipped)
    if shared:
        terminalreporter.write_line(
            f"{shared} of {len(skipped)} skipped tests need the shared data ({SHARED} is "
            "absent): this run is partial",
            yellow=True,
        )
    elif SHARED.exists():
        terminalreporter.write_line(f"shared data found at {SHARED}: no test skipped for it")
