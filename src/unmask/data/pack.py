"""A compact copy of a built dataset (``unmask data pack``).

The copy keeps some splits and masked variants, shrinks every crop to the training side and
re-encodes it (WebP by default, about 2 KB a crop at 128 px), scales the landmarks to match and
gzips the manifest. Any training command reads it like the original. Use it to move a dataset to
another machine (a rented GPU with a small upload limit), or to read fewer bytes while training.

Layout (the same as :mod:`unmask.data.build`'s, see ``docs/dataset.md``)::

    OUT/manifest.jsonl.gz   the kept rows, ``size``, ``landmarks`` and paths rewritten
    OUT/faces/<face_id>.<ext>, OUT/masked/<id>.<ext>, OUT/masks/<id>.png
    OUT/pack.json           source, options and counts
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from unmask.data.manifest import MANIFEST_GZ, load_manifest, read_crop, write_lines

log = logging.getLogger(__name__)

FORMATS = {"webp": "WEBP", "jpg": "JPEG", "png": "PNG"}


@dataclass(frozen=True)
class PackConfig:
    """Options of :func:`pack_dataset`.

    Attributes:
        size: side of the packed crops in pixels (the side the models train at).
        splits: splits to keep.
        variants: masked variants to keep per face (the number after the last ``_`` of a
            row's ``id``); None keeps all.
        image_format: ``webp``, ``jpg`` or ``png`` for the RGB crops (masks are always PNG).
        quality: encoder quality for webp and jpg (1-100).
    """

    size: int = 128
    splits: tuple[str, ...] = ("train", "val")
    variants: tuple[int, ...] | None = None
    image_format: str = "webp"
    quality: int = 85

    def __post_init__(self) -> None:
        if self.image_format not in FORMATS:
            raise ValueError(f"image_format must be one of {', '.join(FORMATS)}")
        if not 1 <= self.quality <= 100 or self.size < 8:
            raise ValueError("quality must be in 1..100 and size at least 8")


def variant_of(row: dict) -> int:
    """The masked-variant index of a manifest row (``<face_id>_<k>`` ids)."""
    return int(str(row["id"]).rsplit("_", 1)[1])


def scale_landmarks(landmarks, src: int, dst: int) -> list[list[float]]:
    """``(68, 2)`` pixel xy at side ``src`` -> side ``dst`` (pixel-centre convention),
    rounded to 0.01 px."""
    lm = (np.asarray(landmarks, np.float64) + 0.5) * (dst / src) - 0.5
    return np.round(lm, 2).tolist()


def _shrink(path: Path, size: int, gray: bool) -> np.ndarray:
    import cv2

    a = read_crop(path, gray)
    if a.shape[0] == size:
        return a
    return cv2.resize(a, (size, size), interpolation=cv2.INTER_AREA)


def _save(a: np.ndarray, path: Path, cfg: PackConfig) -> None:
    from PIL import Image

    fmt = "PNG" if a.ndim == 2 else FORMATS[cfg.image_format]
    kw = {"optimize": True} if fmt == "PNG" else {"quality": cfg.quality}
    Image.fromarray(a).save(path, fmt, **kw)


def pack_dataset(
    src: str | Path, out: str | Path, cfg: PackConfig | None = None, progress=None
) -> dict:
    """Write the compact copy of the built dataset ``src`` into ``out`` (a new or empty
    folder). ``progress``: optional callable wrapping the row iterable (e.g. tqdm).

    Returns the summary written to ``out/pack.json`` (rows, faces, bytes).
    """
    cfg = cfg or PackConfig()
    src, out = Path(src), Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: pack into a new folder")
    rows = [r for s in cfg.splits for r in load_manifest(src, s)]
    if cfg.variants is not None:
        rows = [r for r in rows if variant_of(r) in cfg.variants]
    if not rows:
        raise ValueError(f"no rows of splits {cfg.splits} and variants {cfg.variants} in {src}")
    for sub in ("faces", "masked", "masks", "inside"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    ext, faces_done, packed = cfg.image_format, set(), []
    for r in progress(rows) if progress else rows:
        row = dict(r)
        row["clean"] = f"faces/{r['face_id']}.{ext}"
        row["image"] = f"masked/{r['id']}.{ext}"
        row["mask"] = f"masks/{r['id']}.png"
        row["landmarks"] = scale_landmarks(r["landmarks"], r["size"], cfg.size)
        row["size"] = cfg.size
        if "inside" in r:
            row["inside"] = f"inside/{r['face_id']}.png"
        if r["face_id"] not in faces_done:
            _save(_shrink(src / r["clean"], cfg.size, False), out / row["clean"], cfg)
            if "inside" in r:
                _save(_shrink(src / r["inside"], cfg.size, True), out / row["inside"], cfg)
            faces_done.add(r["face_id"])
        _save(_shrink(src / r["image"], cfg.size, False), out / row["image"], cfg)
        _save(_shrink(src / r["mask"], cfg.size, True), out / row["mask"], cfg)
        packed.append(row)
    write_lines(out / MANIFEST_GZ, packed)
    summary = {
        "source": str(src),
        "config": asdict(cfg),
        "rows": len(packed),
        "faces": len(faces_done),
        "bytes": _bytes(out.rglob("*")),
    }
    (out / "pack.json").write_text(json.dumps(summary, indent=2) + "\n")
    log.info(
        "packed %d rows (%d faces) into %s: %.1f MB",
        len(packed),
        len(faces_done),
        out,
        summary["bytes"] / 1e6,
    )
    return summary


def _bytes(paths: Iterable[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file())
