"""Result types of the public API (frozen dataclasses, numpy arrays inside).

Conventions: images RGB uint8 ``H x W x 3``; masks uint8 ``H x W`` in {0, 1} (1 = rebuilt);
landmarks ``(68, 2)`` float32 pixel xy (iBUG order); boxes float32 xyxy pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from unmask.faces.align import Alignment


@dataclass(frozen=True)
class FaceResult:
    """One detected face and what was done to it.

    Attributes:
        box: xyxy in photo pixels; score: detector confidence in [0, 1].
        keypoints: ``(5, 2)`` photo pixels (eyes, nose tip, mouth corners) used for alignment.
        landmarks: ``(68, 2)`` predicted landmarks in photo pixels.
        gender: ``"female"`` or ``"male"``; gender_score: calibrated probability of that gender
            (1.0 when forced by the user); gender_forced: whether the user forced it.
        masked: whether a face mask was found (only masked faces are rebuilt).
        mask_coverage: mask pixels / aligned-crop pixels (after post-processing).
        mask: ``H x W`` uint8 {0, 1} in the photo grid: the hole that was rebuilt (drawn at
            the photo's resolution when ``refined``, else the crop hole warped to the photo).
        alignment: the aligned ``S x S x 3`` input crop and its photo -> crop transform.
        restored: the rebuilt crop (the aligned crop itself when nothing was rebuilt).
        crop_mask: ``S x S`` {0, 1} hole in the crop.
        timings_ms: milliseconds per stage (align, attributes, segment, inpaint; for a rebuilt
            face also refine, paste and finish).
        refined: whether the edge refiner drew ``mask`` (see :mod:`unmask.stages.refine`).
    """

    box: np.ndarray
    score: float
    keypoints: np.ndarray
    landmarks: np.ndarray
    gender: str
    gender_score: float
    gender_forced: bool
    masked: bool
    mask_coverage: float
    mask: np.ndarray
    alignment: Alignment
    restored: np.ndarray
    crop_mask: np.ndarray
    timings_ms: dict = field(default_factory=dict)
    refined: bool = False

    @property
    def aligned(self) -> np.ndarray:
        """The aligned input crop, ``S x S x 3`` uint8 RGB."""
        return self.alignment.crop

    def to_json(self) -> dict:
        """The report fields of this face (the per-face entries of ``report.json``, see
        docs/usage.md)."""
        return {
            "bbox": [round(float(v), 1) for v in self.box],
            "score": round(float(self.score), 4),
            "landmarks": np.round(self.landmarks.astype(float), 1).tolist(),
            "keypoints": np.round(self.keypoints.astype(float), 1).tolist(),
            "gender": self.gender,
            "gender_score": round(float(self.gender_score), 4),
            "gender_forced": self.gender_forced,
            "masked": self.masked,
            "mask_coverage": round(float(self.mask_coverage), 4),
            "timings_ms": {k: round(float(v), 2) for k, v in self.timings_ms.items()},
        }


@dataclass(frozen=True)
class Result:
    """The outcome for one photo.

    Attributes:
        image: ``H x W x 3`` the input photo (RGB uint8, EXIF-rotated).
        restored: ``H x W x 3`` the photo with every masked face rebuilt.
        faces: one :class:`FaceResult` per detected face, by descending score.
        mask: ``H x W`` uint8 {0, 1}: union of the inpainted holes.
        timings_ms: whole-photo timings (detection, total).
    """

    image: np.ndarray
    restored: np.ndarray
    faces: list[FaceResult]
    mask: np.ndarray
    timings_ms: dict = field(default_factory=dict)
    refined: bool = False
