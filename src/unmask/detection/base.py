"""What every detector backend returns (:class:`Detection`) and the protocol it follows
(:class:`Detector`), and the ``"aligned"`` backend: the input already is a canonical crop, so
one face covers it with the template keypoints (no detection)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from unmask.faces.align import template


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


class AlignedInput:
    """Treats the whole image as one canonically aligned face (``--aligned``)."""

    name = "aligned"

    def detect(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        if h != w:
            raise ValueError(f"an aligned crop must be square, got {w}x{h}")
        box = np.array([0, 0, w, h], np.float32)
        return [Detection(box, 1.0, template(w))]
