"""The dataset manifest: one JSON line per masked sample (schema in ``docs/dataset.md``)."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

MANIFEST = "manifest.jsonl"
MANIFEST_GZ = MANIFEST + ".gz"  # the same, gzipped (``unmask data pack`` writes it)
SPLITS = ("train", "val", "test")


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same on every machine and Python run."""
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:8], "big")


def face_id(key: str) -> str:
    """Short stable id of a source face from its collection-relative path."""
    return f"{stable_hash(key):016x}"[:12]


def split_of(key: str, val: float = 0.1, test: float = 0.1) -> str:
    """Assign ``train`` / ``val`` / ``test`` by a stable hash of the source key."""
    u = (stable_hash("split:" + key) % 1_000_000) / 1_000_000
    if u < test:
        return "test"
    if u < test + val:
        return "val"
    return "train"


def _open_text(path: Path, mode: str, gz: bool):
    return gzip.open(path, mode + "t") if gz else open(path, mode)


def write_lines(path: Path, rows: Iterable[dict]) -> None:
    """Write rows as JSON lines (atomically: temp file, then rename; gzipped when ``path``
    ends in ``.gz``)."""
    tmp = path.with_name(path.name + ".tmp")
    with _open_text(tmp, "w", path.suffix == ".gz") as fh:
        for row in rows:
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")
    tmp.replace(path)


def iter_lines(path: Path) -> Iterator[dict]:
    """Read JSON lines (gzipped when ``path`` ends in ``.gz``), ignoring a torn last line
    (from an interrupted append)."""
    with _open_text(path, "r", Path(path).suffix == ".gz") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def manifest_path(dataset: str | Path) -> Path:
    """The manifest of a built dataset: ``manifest.jsonl``, else ``manifest.jsonl.gz``."""
    for name in (MANIFEST, MANIFEST_GZ):
        if (Path(dataset) / name).is_file():
            return Path(dataset) / name
    raise FileNotFoundError(f"no {MANIFEST} in {dataset}: build it with `unmask data build`")


def load_manifest(
    dataset: str | Path, split: str | None = None, exclude_kinds: Iterable[str] = ()
) -> list[dict]:
    """Rows of a built dataset's manifest, optionally one split and without some mask kinds.

    Paths in rows (``image``, ``mask``, ``clean``) stay relative to ``dataset``.
    """
    path = manifest_path(dataset)
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    skip = set(exclude_kinds)
    return [
        r
        for r in iter_lines(path)
        if (split is None or r["split"] == split) and r["mask_type"] not in skip
    ]


def read_crop(path: Path, gray: bool = False):
    """A dataset crop as a uint8 array: ``S x S x 3`` RGB, or ``S x S`` with ``gray`` (masks)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("L" if gray else "RGB"))
