"""Similarity alignment of a face to the package's canonical template, and its inverse.

The canonical template places five keypoints (see :mod:`unmask.faces.landmarks`) in a square
crop of side ``S``: eye centres at ``y = 0.37 S`` with an eye distance of ``0.25 S``, so the whole
face from brows to under the chin and both jaw sides lie inside the crop with margin. The same
template is used at every size: crops of different sizes differ only by scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Five keypoints in units of the crop side (x, y).
_EYE_Y, _EYE_DIST = 0.37, 0.25
_UNIT = np.array(  # ArcFace-style relative layout in eye-distance units, eye midpoint at origin
    [[-0.5, 0.0], [0.5, 0.0], [0.0, 0.571], [-0.412, 1.157], [0.416, 1.152]], dtype=np.float64
)
TEMPLATE_5 = (_UNIT * _EYE_DIST + np.array([0.5, _EYE_Y])).astype(np.float32)

DEFAULT_SIZE = 256


def template(size: int = DEFAULT_SIZE) -> np.ndarray:
    """Canonical five keypoints for an ``size x size`` crop, float32 ``(5, 2)`` pixel xy."""
    return TEMPLATE_5 * np.float32(size)


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale, translation) src -> dst.

    Args:
        src, dst: ``(N, 2)`` point sets, N >= 2.
    Returns:
        ``2 x 3`` float64 affine matrix ``M`` with ``dst ~= M @ [x, y, 1]``.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rot = u @ sign @ vt
    var = (s**2).sum() / len(src)
    scale = (sig * np.diag(sign)).sum() / max(var, 1e-12)
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def invert(m: np.ndarray) -> np.ndarray:
    """Inverse of a ``2 x 3`` affine matrix."""
    full = np.vstack([m, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def transform_points(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a ``2 x 3`` affine ``m`` to ``(N, 2)`` points; returns float32."""
    p = np.asarray(points, np.float64)
    return (p @ m[:, :2].T + m[:, 2]).astype(np.float32)


@dataclass(frozen=True)
class Alignment:
    """An aligned crop and the transform that made it.

    Attributes:
        crop: ``size x size x 3`` uint8 RGB.
        matrix: ``2 x 3`` float64, photo pixel xy -> crop pixel xy.
        size: crop side in pixels.
    """

    crop: np.ndarray
    matrix: np.ndarray
    size: int

    @property
    def inverse(self) -> np.ndarray:
        """``2 x 3`` float64, crop pixel xy -> photo pixel xy."""
        return invert(self.matrix)

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Photo pixel xy -> crop pixel xy."""
        return transform_points(points, self.matrix)

    def to_photo(self, points: np.ndarray) -> np.ndarray:
        """Crop pixel xy -> photo pixel xy."""
        return transform_points(points, self.inverse)


def align(image: np.ndarray, five: np.ndarray, size: int = DEFAULT_SIZE) -> Alignment:
    """Warp the face with keypoints ``five`` onto the canonical template.

    Args:
        image: ``H x W x 3`` uint8 RGB photo.
        five: ``(5, 2)`` pixel xy keypoints (order of :mod:`unmask.faces.landmarks`).
        size: output side in pixels.
    Returns:
        :class:`Alignment`; pixels outside the photo replicate its border.
    """
    import cv2

    five = np.asarray(five, np.float64)
    if five.shape != (5, 2) or not np.all(np.isfinite(five)):
        raise ValueError(f"expected finite (5, 2) keypoints, got shape {five.shape}")
    m0 = m = umeyama(five, template(size))
    # Downscaling by a large factor aliases: pre-blur with INTER_AREA via a pyramid.
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    src = image
    while scale < 0.5 and min(src.shape[:2]) > 2 * size:
        src = cv2.pyrDown(src)
        m = m @ np.array([[2.0, 0, 0], [0, 2.0, 0], [0, 0, 1]])
        scale *= 2
    crop = cv2.warpAffine(
        src, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return Alignment(crop=crop, matrix=m0, size=size)
