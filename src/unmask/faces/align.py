"""Similarity alignment of a face to the package's canonical template, and its inverse.

The canonical template places five keypoints (see :mod:`unmask.faces.landmarks`) in a square
crop of side ``S``: eye centres at ``y = 0.37 S`` with an eye distance of ``0.25 S``, so the whole
face from brows to under the chin and both jaw sides lie inside the crop with margin. The same
template is used at every size: crops of different sizes differ only by scale. The padding of
a crop that reaches outside the photo is made by :mod:`unmask.faces.padding`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unmask.faces.padding import _blur_outside, _fill_ignored, inside_photo

#: Five keypoints in units of the crop side (x, y).
_EYE_Y, _EYE_DIST = 0.37, 0.25
_UNIT = np.array(  # ArcFace-style relative layout in eye-distance units, eye midpoint at origin
    [[-0.5, 0.0], [0.5, 0.0], [0.0, 0.571], [-0.412, 1.157], [0.416, 1.152]], dtype=np.float64
)
TEMPLATE_5 = (_UNIT * _EYE_DIST + np.array([0.5, _EYE_Y])).astype(np.float32)

DEFAULT_SIZE = 256


#: Mean 68-point shape of UTKFace faces aligned to the canonical template, in units of the crop
#: side (multiply by the crop size for pixels). Measured with the dlib teacher on 292 faces.
MEAN_68 = np.array(
    [
        [0.2087, 0.3895],
        [0.2119, 0.4653],
        [0.2206, 0.5403],
        [0.2343, 0.6138],
        [0.2615, 0.6823],
        [0.3072, 0.7407],
        [0.3654, 0.7873],
        [0.4293, 0.8235],
        [0.5016, 0.8332],
        [0.5738, 0.8229],
        [0.6381, 0.7872],
        [0.6971, 0.7410],
        [0.7436, 0.6831],
        [0.7720, 0.6144],
        [0.7862, 0.5401],
        [0.7952, 0.4653],
        [0.7996, 0.3890],
        [0.2568, 0.3305],
        [0.2935, 0.2966],
        [0.3451, 0.2863],
        [0.3989, 0.2934],
        [0.4489, 0.3129],
        [0.5488, 0.3111],
        [0.6007, 0.2914],
        [0.6549, 0.2846],
        [0.7072, 0.2954],
        [0.7443, 0.3289],
        [0.4995, 0.3755],
        [0.4994, 0.4232],
        [0.4991, 0.4703],
        [0.4990, 0.5188],
        [0.4407, 0.5552],
        [0.4692, 0.5646],
        [0.4990, 0.5726],
        [0.5294, 0.5642],
        [0.5576, 0.5554],
        [0.3168, 0.3842],
        [0.3497, 0.3646],
        [0.3889, 0.3655],
        [0.4222, 0.3919],
        [0.3867, 0.3982],
        [0.3475, 0.3975],
        [0.5776, 0.3916],
        [0.6119, 0.3646],
        [0.6506, 0.3641],
        [0.6831, 0.3835],
        [0.6535, 0.3965],
        [0.6148, 0.3978],
        [0.3830, 0.6426],
        [0.4273, 0.6266],
        [0.4701, 0.6180],
        [0.4991, 0.6250],
        [0.5301, 0.6181],
        [0.5738, 0.6268],
        [0.6184, 0.6419],
        [0.5753, 0.6819],
        [0.5326, 0.6995],
        [0.4991, 0.7029],
        [0.4674, 0.6998],
        [0.4252, 0.6827],
        [0.4004, 0.6448],
        [0.4695, 0.6420],
        [0.4990, 0.6450],
        [0.5306, 0.6416],
        [0.6007, 0.6443],
        [0.5311, 0.6643],
        [0.4989, 0.6677],
        [0.4688, 0.6645],
    ],
    dtype=np.float32,
)


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


def align(
    image: np.ndarray,
    five: np.ndarray,
    size: int = DEFAULT_SIZE,
    border: str = "blur",
    ignore: np.ndarray | None = None,
) -> Alignment:
    """Warp the face with keypoints ``five`` onto the canonical template.

    Args:
        image: ``H x W x 3`` uint8 RGB photo.
        five: ``(5, 2)`` pixel xy keypoints (order of :mod:`unmask.faces.landmarks`).
        size: output side in pixels.
        border: how pixels outside the photo are filled: ``"blur"`` (mirrored and increasingly
            blurred away from the photo, like FFHQ's alignment) or ``"replicate"`` (edge
            pixels). Every crop network was trained on ``"blur"`` crops; on test faces
            re-aligned with ``"replicate"`` padding the attr landmark NME rises from 3.3 % to
            5.3 % and the inpainter loses 4 dB in the hole (``research/padding_check.py``).
        ignore: optional ``H x W`` uint8/bool photo mask (1 = the face mask) whose pixels
            must not be mirrored into the padding: they are filled from their surroundings
            (OpenCV Telea) before the padding is made. Crop pixels inside the photo keep their
            values; only the padding changes. A mask mirrored below the chin is a context no
            training crop shows: ``unmask data build`` pads the crops this way too.
    Returns:
        :class:`Alignment`.
    """
    five = np.asarray(five, np.float64)
    if five.shape != (5, 2) or not np.all(np.isfinite(five)):
        raise ValueError(f"expected finite (5, 2) keypoints, got shape {five.shape}")
    if np.ptp(five, axis=0).max() < 1.0:
        raise ValueError("degenerate keypoints: all five lie within one pixel")
    return warp_to_crop(image, umeyama(five, template(size)), size, border, ignore)


def warp_to_crop(
    image: np.ndarray,
    matrix: np.ndarray,
    size: int,
    border: str = "blur",
    ignore: np.ndarray | None = None,
) -> Alignment:
    """Warp ``image`` with the photo -> crop similarity ``matrix`` (``2 x 3``) into a
    ``size``-pixel crop; ``border`` and ``ignore`` as in :func:`align`."""
    import cv2

    if border not in ("replicate", "blur"):
        raise ValueError(f"unknown border mode {border!r}")
    m0 = m = np.asarray(matrix, np.float64)
    # Downscaling by a large factor aliases: pre-shrink with a pyramid first.
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    src = image
    while scale < 0.5 and min(src.shape[:2]) > 2 * size:
        src = cv2.pyrDown(src)
        m = m @ np.array([[2.0, 0, 0], [0, 2.0, 0], [0, 0, 1]])
        scale *= 2
    mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_REFLECT_101
    crop = cv2.warpAffine(src, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=mode)
    inside = inside_photo(src.shape[:2], m, size)
    if inside.all():
        return Alignment(crop=crop, matrix=m0, size=size)
    pad = crop
    if ignore is not None:  # padding (its blur and mean colour too) from the filled photo
        filled = _fill_ignored(src, ignore)
        pad = cv2.warpAffine(filled, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=mode)
    if border == "blur":
        pad = _blur_outside(pad, inside)
    return Alignment(crop=np.where(inside[..., None] > 0, crop, pad), matrix=m0, size=size)


def repad(image: np.ndarray, alignment: Alignment, hole: np.ndarray) -> np.ndarray:
    """The aligned crop of ``image`` with its padding made as if the ``hole`` were not there.

    Args:
        image: ``H x W x 3`` uint8 RGB photo the ``alignment`` was made from.
        alignment: its :class:`Alignment` (``"blur"`` border).
        hole: ``S x S`` uint8/bool crop-space mask, 1 = the face mask (or the hole around it).
    Returns:
        ``S x S x 3`` uint8 RGB: pixels inside the photo as in ``alignment.crop``; the padding
        mirrors the photo with the hole's pixels filled from their surroundings, so a mask that
        reaches the photo's edge is not mirrored below the chin (see :func:`align`).
    """
    from unmask.faces.paste import photo_mask

    pm = photo_mask(alignment, hole, image.shape[:2])
    return warp_to_crop(image, alignment.matrix, alignment.size, "blur", ignore=pm).crop
