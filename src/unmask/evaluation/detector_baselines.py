"""The dlib baselines of the detector evaluation: dlib's HOG and CNN detectors as predict
functions, and their metrics on the held-out sets (cached on disk, since dlib's CNN takes
seconds a photo).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from unmask.metrics.detection import (
    Predict,
    negatives_metrics,
    real_photo_metrics,
    synthetic_metrics,
)

if TYPE_CHECKING:
    from unmask.evaluation.detector import HeldOut

log = logging.getLogger(__name__)


def dlib_predict(kind: str, max_side: int = 800, upsample: int = 1) -> Predict:
    """A predict function for dlib's ``hog`` / ``cnn`` detector: photos larger than
    ``max_side`` are shrunk first; every detection dlib reports is kept (scores are dlib's own
    and ignore the threshold); keypoints are NaN (not measured)."""
    import cv2

    from unmask.faces import teacher

    def predict(image: np.ndarray, threshold: float = 0.0):
        f = min(1.0, max_side / max(image.shape[:2]))
        img = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else image
        dets = teacher.detect_dlib(img, kind, upsample)
        boxes = np.array([b for b, _ in dets], np.float32).reshape(-1, 4) / f
        scores = np.full(len(dets), 1.0, np.float32)
        return boxes, scores, np.full((len(dets), 5, 2), np.nan, np.float32)

    return predict


def baselines(
    sets: HeldOut,
    kinds: Sequence[str] = ("hog", "cnn"),
    images: int = 100,
    cache: str | Path | None = "data/cache/detector_baselines.json",
) -> dict:
    """dlib on the first ``images`` scenes (masked and unmasked) and face-free pictures and on
    every real photo: ``{kind: {"masked", "unmasked", "negatives", "real_dev"}}``.

    Results are cached in the JSON file ``cache``, keyed by detector, set and a digest of the
    pictures (so changed scenes are measured again), because dlib's CNN takes seconds a photo.
    """
    import json

    path = Path(cache) if cache else None
    store = json.loads(path.read_text()) if path and path.is_file() else {}
    k = min(images, len(sets.scenes))
    pics = {
        "masked": [s.image for s in sets.scenes[:k]],
        "unmasked": [s.image for s in sets.bare[:k]],
        "negatives": sets.negatives[:k],
        "real_dev": sets.dev,
    }
    digest = {name: _digest(v) for name, v in pics.items()}
    out: dict = {}
    for kind in kinds:
        pred = dlib_predict(kind)
        jobs = {}
        if sets.dev:
            jobs["real_dev"] = lambda p=pred: real_photo_metrics(p, sets.dev, 0.0)
        jobs["masked"] = lambda p=pred: synthetic_metrics(p, sets.scenes[:k], (0.0,))
        jobs["unmasked"] = lambda p=pred: synthetic_metrics(p, sets.bare[:k], (0.0,))
        jobs["negatives"] = lambda p=pred: negatives_metrics(p, sets.negatives[:k], (0.0,))
        out[kind] = {}
        for name, fn in jobs.items():
            key = f"{kind}|{name}|{len(pics[name])}|{digest[name]}"
            if key not in store:
                log.info("dlib %s on %s", kind, name)
                store[key] = fn()
                if path:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(store, indent=1))
            out[kind][name] = store[key]
    return out


def _digest(images: Sequence[np.ndarray]) -> str:
    """Short SHA-1 of a list of pictures (shapes and pixels)."""
    import hashlib

    h = hashlib.sha1()
    for img in images:
        h.update(str(img.shape).encode())
        h.update(np.ascontiguousarray(img).tobytes())
    return h.hexdigest()[:12]
