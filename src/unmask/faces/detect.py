"""Face detection behind one protocol, with backends chosen by name.

Backends:
    ``"hog"`` / ``"cnn"``: dlib's detectors (teacher models; poor on masked faces). Their five
        keypoints come from dlib's 68-point predictor, so they are unreliable under a mask.
    ``"aligned"``: the input already is a canonical crop; returns one face covering it with the
        template keypoints (no detection).
    Trained detectors register themselves with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from unmask.faces.align import template
from unmask.faces.landmarks import five_from_68


@dataclass(frozen=True)
class Detection:
    """One face found in a photo.

    Attributes:
        box: float32 ``(4,)`` xyxy pixels.
        score: confidence in [0, 1] (dlib HOG margins are squashed with a logistic).
        keypoints: float32 ``(5, 2)`` pixel xy (eyes, nose tip, mouth corners).
    """

    box: np.ndarray
    score: float
    keypoints: np.ndarray


class Detector(Protocol):
    """Finds faces in an ``H x W x 3`` uint8 RGB image, sorted by score descending."""

    name: str

    def detect(self, image: np.ndarray) -> list[Detection]: ...


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


class AlignedInput:
    """Treats the whole image as one canonically aligned face (``--aligned``)."""

    name = "aligned"

    def detect(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        if h != w:
            raise ValueError(f"an aligned crop must be square, got {w}x{h}")
        box = np.array([0, 0, w, h], np.float32)
        return [Detection(box, 1.0, template(w))]


def _trained(**kwargs) -> Detector:
    from unmask.stages.detector import NetDetector

    return NetDetector.from_weights(**kwargs)


_REGISTRY: dict[str, Callable[..., Detector]] = {
    "unmask": _trained,
    "hog": lambda **kw: DlibDetector("hog", **kw),
    "cnn": lambda **kw: DlibDetector("cnn", **kw),
    "aligned": lambda **kw: AlignedInput(),
}


def register(name: str, factory: Callable[..., Detector]) -> None:
    """Make a detector backend selectable by ``name``."""
    _REGISTRY[name] = factory


def available() -> list[str]:
    """Names of the registered detector backends."""
    return sorted(_REGISTRY)


def create(name: str, **kwargs) -> Detector:
    """Build the detector backend called ``name`` (see :func:`available`)."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown detector {name!r}; choose from {', '.join(available())}"
        ) from None
    return factory(**kwargs)
