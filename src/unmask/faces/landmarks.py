"""The iBUG 68-point landmark convention and helpers shared by every stage.

Landmarks are ``(68, 2)`` float32 arrays of pixel ``(x, y)`` in iBUG order:
0-16 jaw, 17-26 brows, 27-35 nose, 36-47 eyes, 48-67 mouth. The subject's right eye
(points 36-41) appears on the image's left.

Five-point keypoints (the detector's output and the aligner's input) are ``(5, 2)`` pixel xy in
image order: eye on the image left, eye on the image right, nose tip, mouth corner on the image
left, mouth corner on the image right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

JAW = tuple(range(0, 17))
BROWS = tuple(range(17, 27))
NOSE = tuple(range(27, 36))
EYES = tuple(range(36, 48))
MOUTH = tuple(range(48, 68))
#: The eye on the image's left (the subject's right eye) and the one on the image's right.
EYE_IMAGE_LEFT = tuple(range(36, 42))
EYE_IMAGE_RIGHT = tuple(range(42, 48))
#: The jaw's halves from its end to the chin (image left, image right), the nose ridge (top of
#: the bridge to the tip) and the top of the upper lip.
JAW_HALF_LEFT = tuple(range(0, 9))
JAW_HALF_RIGHT = tuple(range(16, 7, -1))
NOSE_RIDGE = tuple(range(27, 31))
UPPER_LIP_TOP = (50, 51, 52)
#: Single points: the jaw's ends (image left, image right), the chin, the top of the nose
#: bridge, the nose tip, the middle of the nose's base, the outer eye corners, the mouth corners
#: and the middle of the upper lip.
JAW_LEFT, CHIN, JAW_RIGHT = 0, 8, 16
NOSE_BRIDGE = 27
NOSE_TIP = 30
NOSE_BASE = 33
OUTER_EYE_LEFT, OUTER_EYE_RIGHT = 36, 45
MOUTH_LEFT, MOUTH_RIGHT = 48, 54
UPPER_LIP_MID = 51

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

    Examples::

        >>> from unmask.faces.align import MEAN_68
        >>> from unmask.faces.landmarks import five_from_68
        >>> five = five_from_68(MEAN_68 * 256)
        >>> five.shape, bool(five[0, 0] < five[1, 0] and five[3, 0] < five[4, 0])
        ((5, 2), True)
    """
    p = check_landmarks(points)
    eyes = [_eye(p, EYE_IMAGE_LEFT), _eye(p, EYE_IMAGE_RIGHT)]
    return np.stack([*eyes, p[NOSE_TIP], p[MOUTH_LEFT], p[MOUTH_RIGHT]]).astype(np.float32)


def _eye(p: np.ndarray, group: tuple[int, ...]) -> np.ndarray:
    """Centre of one eye's six points."""
    return p[group[0] : group[-1] + 1].mean(0)


@dataclass(frozen=True)
class FaceFrame:
    """The axes of a face in the image, from its eyes.

    Attributes:
        eyes: ``(2, 2)`` eye centres, image left then image right.
        u: unit vector along the eye line, image left to right (``(1, 0)`` for coincident eyes).
        v: unit vector down the face (``u`` turned by 90 degrees).
        eye_dist: distance between the eye centres in pixels.
    """

    eyes: np.ndarray
    u: np.ndarray
    v: np.ndarray
    eye_dist: float


def face_frame(points: np.ndarray) -> FaceFrame:
    """The :class:`FaceFrame` of 68 landmarks (in their own dtype).

    Examples::

        >>> import numpy as np
        >>> from unmask.faces.landmarks import face_frame
        >>> pts = np.zeros((68, 2))
        >>> pts[36:42], pts[42:48] = (10.0, 20.0), (40.0, 20.0)
        >>> f = face_frame(pts)
        >>> f.u.tolist(), f.v.tolist(), f.eye_dist
        ([1.0, 0.0], [-0.0, 1.0], 30.0)
    """
    p = np.asarray(points)
    eyes = np.stack([_eye(p, EYE_IMAGE_LEFT), _eye(p, EYE_IMAGE_RIGHT)])
    d = eyes[1] - eyes[0]
    dist = float(np.hypot(*d))
    u = d / dist if dist > 1e-6 else np.array([1.0, 0.0], p.dtype)
    return FaceFrame(eyes, u, np.array([-u[1], u[0]], u.dtype), dist)


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
    return float(np.linalg.norm(p[OUTER_EYE_LEFT] - p[OUTER_EYE_RIGHT]))


def face_outline(points: np.ndarray, side: int) -> np.ndarray:
    """The face inside the jaw line and the brows, as a uint8 {0, 1} ``side x side`` map
    (the polygon jaw 0-16, then brows 26-17; no forehead above the brows)."""
    import cv2

    p = check_landmarks(points)
    m = np.zeros((side, side), np.uint8)
    cv2.fillPoly(m, [np.round(p[list(JAW) + list(BROWS)[::-1]]).astype(np.int32)], 1)
    return m
