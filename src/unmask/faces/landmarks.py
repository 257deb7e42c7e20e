"""The iBUG 68-point landmark convention and helpers shared by every stage.

Landmarks are ``(68, 2)`` float32 arrays of pixel ``(x, y)`` in iBUG order:
0-16 jaw, 17-26 brows, 27-35 nose, 36-47 eyes, 48-67 mouth. The subject's right eye
(points 36-41) appears on the image's left.

Five-point keypoints (the detector's output and the aligner's input) are ``(5, 2)`` pixel xy in
image order: eye on the image left, eye on the image right, nose tip, mouth corner on the image
left, mouth corner on the image right.
"""

from __future__ import annotations

import numpy as np

JAW = tuple(range(0, 17))
BROWS = tuple(range(17, 27))
NOSE = tuple(range(27, 36))
EYES = tuple(range(36, 48))
MOUTH = tuple(range(48, 68))
NOSE_TIP = 30

#: Points a face mask hides (nose, mouth, jaw): the "hidden" group in landmark metrics.
HIDDEN = JAW + NOSE + MOUTH
#: Points a face mask leaves visible (brows and eyes).
VISIBLE = BROWS + EYES

#: Index permutation that maps landmarks of a face to those of its horizontal mirror image.
FLIP_68 = np.array(
    list(range(16, -1, -1))  # jaw
    + list(range(26, 16, -1))  # brows
    + [27, 28, 29, 30, 35, 34, 33, 32, 31]  # nose
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]  # eyes
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lips
    + [64, 63, 62, 61, 60, 67, 66, 65],  # inner lips
    dtype=np.int64,
)

#: Permutation for the five keypoints under a horizontal flip.
FLIP_5 = np.array([1, 0, 2, 4, 3], dtype=np.int64)


def check_landmarks(points: np.ndarray, n: int = 68) -> np.ndarray:
    """Return ``points`` as a float32 ``(n, 2)`` array or raise ``ValueError``."""
    arr = np.asarray(points, dtype=np.float32)
    if arr.shape != (n, 2):
        raise ValueError(f"expected landmarks of shape ({n}, 2), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("landmarks contain NaN or infinite values")
    return arr


def five_from_68(points: np.ndarray) -> np.ndarray:
    """Five keypoints (eye centres, nose tip, mouth corners) from 68 iBUG landmarks.

    Args:
        points: ``(68, 2)`` pixel xy.
    Returns:
        ``(5, 2)`` float32 pixel xy in the five-point order of this module.
    """
    p = check_landmarks(points)
    return np.stack([p[36:42].mean(0), p[42:48].mean(0), p[NOSE_TIP], p[48], p[54]]).astype(
        np.float32
    )


def flip_landmarks(points: np.ndarray, width: int) -> np.ndarray:
    """Landmarks of the horizontally mirrored image (pixel-centre convention).

    Args:
        points: ``(68, 2)`` or ``(5, 2)`` pixel xy.
        width: image width in pixels.
    """
    p = np.asarray(points, dtype=np.float32).copy()
    perm = FLIP_68 if len(p) == 68 else FLIP_5
    p[:, 0] = (width - 1) - p[:, 0]
    return p[perm]


def interocular(points: np.ndarray) -> float:
    """Outer-eye-corner distance (points 36 and 45): the NME normaliser."""
    p = check_landmarks(points)
    return float(np.linalg.norm(p[36] - p[45]))


def face_outline(points: np.ndarray, side: int) -> np.ndarray:
    """The face inside the jaw line and the brows, as a uint8 {0, 1} ``side x side`` map
    (the polygon jaw 0-16, then brows 26-17; no forehead above the brows)."""
    import cv2

    p = check_landmarks(points)
    m = np.zeros((side, side), np.uint8)
    cv2.fillPoly(m, [np.round(p[list(JAW) + list(BROWS)[::-1]]).astype(np.int32)], 1)
    return m
