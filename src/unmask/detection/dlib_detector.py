"""dlib's HOG and CNN face detectors behind the :class:`~unmask.detection.base.Detector`
protocol (teacher models; poor on masked faces). Their five keypoints come from dlib's
68-point predictor, so they are unreliable under a mask."""

from __future__ import annotations

import numpy as np

from unmask.detection.base import Detection
from unmask.faces.landmarks import five_from_68


class DlibDetector:
    """dlib HOG or CNN detector with keypoints from dlib's 68-point predictor."""

    def __init__(self, kind: str = "hog", upsample: int = 1) -> None:
        if kind not in ("hog", "cnn"):
            raise ValueError(f"unknown dlib detector {kind!r}")
        from unmask.faces import teacher

        teacher.require()  # fail now, with install advice, if dlib is missing
        self.name = kind
        self.upsample = int(upsample)

    def detect(self, image: np.ndarray) -> list[Detection]:
        from unmask.faces import teacher

        out = []
        for box, score in teacher.detect_dlib(image, self.name, self.upsample):
            pts = teacher.shape(image, box, 68)
            prob = 1.0 / (1.0 + np.exp(-2.0 * score)) if self.name == "hog" else min(score, 1.0)
            out.append(Detection(box, float(prob), five_from_68(pts)))
        return out
