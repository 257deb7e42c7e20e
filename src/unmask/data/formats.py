"""Readers for the label formats of face collections we build datasets from.

Every reader yields :class:`SourceFace` items: the image path, its path relative to the
collection root (the stable key used for ids and splits) and the labels the format knows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("utk", "celeba", "ffhq", "csv", "none")


@dataclass(frozen=True)
class SourceFace:
    """One face image of a collection.

    Attributes:
        path: the image file.
        key: path relative to the collection root, POSIX style (stable across machines).
        gender: ``"female"``, ``"male"`` or ``None`` when unknown.
        age: age in years or ``None``.
        extra: other labels (JSON-safe), e.g. UTKFace's race.
    """

    path: Path
    key: str
    gender: str | None = None
    age: int | None = None
    extra: dict = field(default_factory=dict)


def _files(root: Path, recursive: bool = False) -> list[Path]:
    """Every regular, non-hidden file (non-images too: the builder reports them as skipped)."""
    pattern = "**/*" if recursive else "*"
    return sorted(
        p
        for p in root.glob(pattern)
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def _gender(value: str | None) -> str | None:
    v = (value or "").strip().lower()
    if v in ("f", "female", "woman", "1"):
        return "female"
    if v in ("m", "male", "man", "0"):
        return "male"
    return None


def _int_or_none(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def read_utk(root: Path) -> Iterator[SourceFace]:
    """UTKFace: ``AGE_GENDER_RACE_DATE.jpg`` with GENDER 0 = male, 1 = female."""
    for p in _files(root):
        parts = p.name.split("_")
        age = _int_or_none(parts[0]) if len(parts) >= 3 else None
        gender = {"0": "male", "1": "female"}.get(parts[1]) if len(parts) >= 3 else None
        race = _int_or_none(parts[2]) if len(parts) >= 4 else None
        yield SourceFace(p, p.name, gender, age, {"race": race} if race is not None else {})


def read_celeba(root: Path) -> Iterator[SourceFace]:
    """CelebA: ``list_attr_celeba.txt`` (``Male`` attribute 1/-1) and ``img_align_celeba/``."""
    attr = root / "list_attr_celeba.txt"
    if not attr.is_file():
        raise FileNotFoundError(f"CelebA needs {attr}")
    img_dir = root / "img_align_celeba"
    if not img_dir.is_dir():
        img_dir = root
    lines = attr.read_text().splitlines()
    names = lines[1].split()
    col = names.index("Male")
    for line in lines[2:]:
        cells = line.split()
        if len(cells) != len(names) + 1:
            continue
        gender = "male" if cells[col + 1] == "1" else "female"
        p = img_dir / cells[0]
        yield SourceFace(p, p.relative_to(root).as_posix(), gender, None, {})


def read_folder(root: Path) -> Iterator[SourceFace]:
    """Any folder of faces (FFHQ's nested folders included), no labels."""
    for p in _files(root, recursive=True):
        yield SourceFace(p, p.relative_to(root).as_posix())


def read_csv(root: Path, csv_path: Path) -> Iterator[SourceFace]:
    """A CSV with a ``file`` column (relative to ``root``) and optional ``gender``, ``age``."""
    with open(csv_path, newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "file" not in reader.fieldnames:
            raise ValueError(f"{csv_path}: the CSV needs a 'file' column")
        for row in reader:
            p = root / row["file"]
            yield SourceFace(
                p,
                Path(row["file"]).as_posix(),
                _gender(row.get("gender")),
                _int_or_none(row.get("age")),
                {},
            )


def read_faces(
    root: str | Path, fmt: str = "none", csv_path: str | Path | None = None
) -> list[SourceFace]:
    """List the faces of a collection in a named label format (see :data:`FORMATS`)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"face folder not found: {root}")
    if fmt == "utk":
        return list(read_utk(root))
    if fmt == "celeba":
        return list(read_celeba(root))
    if fmt in ("ffhq", "none"):
        return list(read_folder(root))
    if fmt == "csv":
        if csv_path is None:
            raise ValueError("--labels csv needs --csv FILE")
        return list(read_csv(root, Path(csv_path)))
    raise ValueError(f"unknown label format {fmt!r}; choose from {', '.join(FORMATS)}")
