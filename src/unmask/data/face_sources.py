"""Faces the detector composites are made of, and the canonical face box.

Two sources:

* **crop faces** — rows of a built dataset (``unmask data build``): aligned crops wearing a
  synthetic mask, their unmasked originals and the teacher's 68 landmarks (crop pixels);
* **photo faces** — whole photos with a mask already on (``masked-seg-train``: FFHQ faces in
  their real surroundings). Their photo-level 68 points come from dlib on the masked face
  (:func:`unmask.data.realseg.find_face_68`; the hidden points are guesses), computed once and
  cached in a JSON file.

The canonical face box (:func:`canonical_box`) is what the detector learns to output.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unmask.data.manifest import iter_lines, manifest_path, split_of

log = logging.getLogger(__name__)

#: The box extends above the highest brow point by this share of the brow-to-chin height.
BROW_MARGIN = 0.12


@dataclass(frozen=True)
class FaceSource:
    """One face image a scene can show.

    Attributes:
        image: the picture of the face (wearing a mask when ``masked``).
        clean: the same face without a mask in the same pixel grid, or ``None``.
        landmarks: float32 ``(68, 2)`` pixel xy in ``image``, iBUG order.
        masked: whether ``image`` shows a mask.
        split: ``train`` / ``val`` / ``test``.
    """

    image: Path
    clean: Path | None
    landmarks: np.ndarray
    masked: bool
    split: str


def canonical_box(landmarks: np.ndarray) -> np.ndarray:
    """The face box from 68 landmarks: jaw to jaw across, from :data:`BROW_MARGIN` above the
    brows down to the chin (the axis-aligned bounds of the points, brows raised).

    Args:
        landmarks: ``(68, 2)`` pixel xy.
    Returns:
        float32 ``(4,)`` xyxy pixels.
    """
    p = np.asarray(landmarks, np.float32)
    x1, x2 = p[:, 0].min(), p[:, 0].max()
    top, bottom = p[:, 1].min(), p[:, 1].max()
    return np.array([x1, top - BROW_MARGIN * (bottom - top), x2, bottom], np.float32)


def crop_faces(dataset: str | Path, splits: tuple[str, ...] = ("train",)) -> list[FaceSource]:
    """Masked samples of a built dataset as faces, one per manifest row of ``splits``.

    While a build is still running (no manifest yet) the rows finished so far are read from
    its ``progress.jsonl``.
    """
    root = Path(dataset)
    try:
        rows = list(iter_lines(manifest_path(root)))
    except FileNotFoundError:
        if not (root / "progress.jsonl").is_file():
            raise
        rows = [r for res in iter_lines(root / "progress.jsonl") for r in res.get("rows") or []]
        log.warning("%s has no manifest yet: using %d rows of progress.jsonl", root, len(rows))
    out = [
        FaceSource(
            root / r["image"],
            root / r["clean"] if r["clean"] != r["image"] else None,
            np.asarray(r["landmarks"], np.float32),
            True,
            r["split"],
        )
        for r in rows
        if r["split"] in splits
    ]
    if not out:
        raise ValueError(f"no faces of splits {splits} in {root}")
    return out


def split_photos(folder: str | Path, split: str, limit: int | None = None) -> list[Path]:
    """The ``.jpg`` / ``.png`` photos of ``folder`` in ``split`` (by
    :func:`~unmask.data.manifest.split_of` of the file name, the dataset builder's rule), sorted
    by name, at most ``limit``."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".png"))
    chosen = [p for p in files if split_of(p.name) == split]
    return chosen[:limit] if limit else chosen


def photo_split(path: Path) -> str:
    """Split of a masked-seg photo by its number (the rule of :mod:`unmask.data.realseg`, so
    CWM and IWM copies of one face share a split)."""
    from unmask.data.realseg import TEST_SHARE, VAL_SHARE

    return split_of(Path(path).stem, val=VAL_SHARE, test=TEST_SHARE)


def photo_faces(
    src: str | Path, cache: str | Path, splits: tuple[str, ...] | None = None, compute: bool = True
) -> list[FaceSource]:
    """Masked photos under ``src/*/images`` with photo-level landmarks.

    Landmarks are computed with dlib on first use and cached in the JSON file ``cache``
    (``{relative path: 68 x [x, y] or null}``), saved every 20 photos so an interrupted run
    resumes. Photos where no face is found (or, with ``compute=False``, not yet cached) are
    left out.
    """
    src, cache = Path(src), Path(cache)
    images = sorted(p for p in src.glob("*/images/*") if p.suffix.lower() in {".jpg", ".png"})
    found: dict = json.loads(cache.read_text()) if cache.is_file() else {}
    todo = [p for p in images if str(p.relative_to(src)) not in found]
    if todo and compute:
        from unmask.data.realseg import find_face_68
        from unmask.io import load_image

        log.info("finding faces in %d photos of %s (cached in %s)", len(todo), src, cache)
        cache.parent.mkdir(parents=True, exist_ok=True)
        for k, p in enumerate(todo, 1):
            face = find_face_68(load_image(p))
            found[str(p.relative_to(src))] = (
                None if face is None else np.round(face.landmarks, 2).tolist()
            )
            if k % 20 == 0 or k == len(todo):
                tmp = cache.with_suffix(".tmp")
                tmp.write_text(json.dumps(found))
                tmp.replace(cache)
    out = []
    for p in images:
        lm = found.get(str(p.relative_to(src)))
        split = photo_split(p)
        if lm is not None and (splits is None or split in splits):
            out.append(FaceSource(p, None, np.asarray(lm, np.float32), True, split))
    return out
