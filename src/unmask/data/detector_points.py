"""The face detector's five keypoints on every masked sample of a built dataset, so that
training can cut crops the way photo mode does: aligned on the detector's points, with their
errors, instead of the teacher's (see :class:`~unmask.data.dataset.FaceMaskDataset`'s
``detector_align``).

Stored as ``<dataset>/detector_points.json``: ``{image path: [[x, y] * 5] or null}`` in the
stored crop's pixels (``null`` when the detector found no face there).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from unmask.data.manifest import load_manifest, read_crop

FILE = "detector_points.json"


def nearest_detection(detections, teacher5: np.ndarray, eye_dist: float):
    """The keypoints ``(5, 2)`` of the detection nearest the teacher's five points, or ``None``
    when none lies within half an eye distance of them on average."""
    best, err = None, 0.5 * eye_dist
    for d in detections:
        e = float(np.linalg.norm(np.asarray(d.keypoints) - teacher5, axis=1).mean())
        if e < err:
            best, err = np.asarray(d.keypoints, np.float32), e
    return best


def build(
    dataset: str | Path,
    detector,
    splits: Iterable[str] = ("train", "val"),
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Detect the faces of every masked sample of ``splits`` and write :data:`FILE`.

    Args:
        detector: anything with ``detect(image) -> [Detection]`` (``Unmasker().detector``).
    Returns:
        The written mapping.
    """
    from unmask.faces.landmarks import five_from_68

    root = Path(dataset)
    rows = [r for s in splits for r in load_manifest(root, s)]
    out = {}
    for i, r in enumerate(rows):
        t5 = five_from_68(np.asarray(r["landmarks"], np.float32))
        kp = nearest_detection(
            detector.detect(read_crop(root / r["image"])), t5, float(np.linalg.norm(t5[0] - t5[1]))
        )
        out[r["image"]] = None if kp is None else np.round(kp, 2).tolist()
        if progress:
            progress(i + 1, len(rows))
    tmp = root / (FILE + ".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(root / FILE)
    return out


def load(dataset: str | Path) -> dict:
    """The mapping written by :func:`build`; ``FileNotFoundError`` says how to make it."""
    path = Path(dataset) / FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `unmask data detector-points {dataset}`")
    return json.loads(path.read_text())
