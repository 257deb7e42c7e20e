"""Shared fixtures: real faces from ../shared/data (skip when absent) and a tiny dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import make_tiny_dataset, shared_path


@pytest.fixture
def face_files() -> list[Path]:
    """A few real UTKFace crops (skips when the shared data is absent)."""
    root = shared_path("faces-utk")
    return sorted(root.glob("*.jpg"))[::400][:12]


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    return make_tiny_dataset(tmp_path / "ds")
