"""Input listing: which file names are images, and the expansion of files, folders and glob
patterns into a de-duplicated list of :class:`InputItem`."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from glob import glob
from pathlib import Path

log = logging.getLogger(__name__)
StrPath = str | os.PathLike[str]

_EXTS = ".jpg .jpeg .jpe .jfif .png .bmp .dib .webp .tif .tiff .gif .avif .ppm .pgm .pbm .pnm .tga"
IMAGE_EXTENSIONS = frozenset(_EXTS.split())


@dataclass(frozen=True)
class InputItem:
    """One input: ``given`` is the argument that produced it, ``path`` the file (may not exist)."""

    given: str
    path: Path


def is_image_path(path: StrPath) -> bool:
    """True if the file name has one of :data:`IMAGE_EXTENSIONS` (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def iter_inputs(inputs: Sequence[StrPath], recursive: bool = False) -> list[InputItem]:
    """Expand files, folders and glob patterns into a list of :class:`InputItem`, in given order.

    A folder yields every regular file in it (sorted; subfolders only if ``recursive``), image or
    not, so the caller can report skipped files; dotfiles and dot-folders (``.DS_Store``, macOS
    ``._x.jpg`` sidecars) are left out of folder listings but kept when named explicitly. Glob
    patterns use :func:`glob.glob` (``**`` needs ``recursive``); matched folders are expanded. A
    missing path, or a pattern matching nothing, is returned as-is for a "file not found" report.
    Entries resolving to the same file are kept once (first occurrence wins).
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    items: list[InputItem] = []
    seen: set[str] = set()

    def add(given: str, path: Path) -> None:
        key = os.path.normcase(str(path.resolve()))
        if key not in seen:
            seen.add(key)
            items.append(InputItem(given, path))

    def expand(given: str, path: Path) -> None:
        for p in _list_folder(path, recursive) if path.is_dir() else [path]:
            add(given, p)

    for raw in inputs:
        given = os.fspath(raw)
        path = Path(given).expanduser()
        if path.exists() or not any(c in given for c in "*?["):
            expand(given, path)
            continue
        matches = sorted(glob(os.path.expanduser(given), recursive=recursive))
        for m in matches or [given]:
            expand(given, Path(m))
    return items


def _list_folder(folder: Path, recursive: bool) -> list[Path]:
    def on_error(e: OSError) -> None:
        log.warning("cannot list %s: %s", e.filename, e.strerror or e)

    files = []
    for root, dirs, names in os.walk(folder, onerror=on_error):
        dirs[:] = [d for d in dirs if not d.startswith(".")] if recursive else []
        files += [Path(root, n) for n in names if not n.startswith(".")]
    return sorted(p for p in files if p.is_file())
