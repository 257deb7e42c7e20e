"""Tests for unmask.inputs: folders, globs and names are generated here, in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from unmask.inputs import IMAGE_EXTENSIONS, InputItem, is_image_path, iter_inputs


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_iter_inputs_folder_lists_all_files_sorted(tmp_path: Path) -> None:
    for name in ("b.jpg", "a.png", "notes.txt", ".DS_Store", "._a.jpg", "sub/c.jpg", ".h/d.jpg"):
        _touch(tmp_path / name)
    items = iter_inputs([str(tmp_path)])
    assert [i.path.name for i in items] == ["a.png", "b.jpg", "notes.txt"]
    assert all(i.given == str(tmp_path) for i in items)
    deep = iter_inputs([str(tmp_path)], recursive=True)
    assert [i.path.relative_to(tmp_path).as_posix() for i in deep] == [
        "a.png",
        "b.jpg",
        "notes.txt",
        "sub/c.jpg",
    ]


def test_iter_inputs_order_missing_globs_and_dedupe(tmp_path: Path) -> None:
    a, b = _touch(tmp_path / "a.jpg"), _touch(tmp_path / "b.jpg")
    c = _touch(tmp_path / "sub" / "c.jpg")
    explicit_dot = _touch(tmp_path / ".hidden.jpg")
    given = [
        str(b),
        str(tmp_path / "missing.jpg"),
        str(tmp_path / "*.jpg"),
        str(tmp_path / "sub" / ".." / "a.jpg"),
        str(tmp_path / "nomatch*.png"),
        str(explicit_dot),
    ]
    items = iter_inputs(given)
    assert items == [
        InputItem(str(b), b),
        InputItem(given[1], tmp_path / "missing.jpg"),
        InputItem(given[2], a),
        InputItem(given[4], tmp_path / "nomatch*.png"),
        InputItem(str(explicit_dot), explicit_dot),
    ]
    assert [i.path for i in iter_inputs([str(tmp_path / "**" / "*.jpg")], recursive=True)] == [
        a,
        b,
        c,
    ]
    assert [i.path for i in iter_inputs(str(a))] == [a]  # a bare string is one input


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_iter_inputs_dedupes_symlinks(tmp_path: Path) -> None:
    a = _touch(tmp_path / "a.jpg")
    link = tmp_path / "link.jpg"
    try:
        link.symlink_to(a)
    except OSError:
        pytest.skip("cannot create symlinks here")
    assert [i.path for i in iter_inputs([str(a), str(link)])] == [a]


def test_is_image_path() -> None:
    assert is_image_path("x/Photo.JPG") and is_image_path(Path("a.tiff"))
    assert not is_image_path("notes.txt") and not is_image_path("jpg")
    assert all(e.startswith(".") and e == e.lower() for e in IMAGE_EXTENSIONS)
