"""The padding of an aligned crop, where the crop reaches outside the photo: which crop pixels
the photo fills (:func:`inside_photo`), the mirrored padding blended towards a blurred copy with
the distance from the photo, and photo pixels kept out of the padding by filling them from
their surroundings first.
"""

from __future__ import annotations

import numpy as np


def _fill_ignored(src: np.ndarray, ignore: np.ndarray) -> np.ndarray:
    """``src`` with the pixels of ``ignore`` (any photo-grid size: resized to ``src``, grown by
    2 px for the anti-aliased edge) filled by Telea inpainting from the rest."""
    import cv2

    h, w = src.shape[:2]
    m = (np.asarray(ignore) > 0).astype(np.uint8)
    if m.shape != (h, w):
        m = (cv2.resize(m * 255, (w, h), interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
    if not m.any():
        return src
    m = cv2.dilate(m, np.ones((5, 5), np.uint8))
    ys, xs = np.nonzero(m)
    y1, y2 = max(0, ys.min() - 8), min(h, ys.max() + 9)
    x1, x2 = max(0, xs.min() - 8), min(w, xs.max() + 9)
    out = src.copy()
    out[y1:y2, x1:x2] = cv2.inpaint(
        np.ascontiguousarray(src[y1:y2, x1:x2]), m[y1:y2, x1:x2], 3, cv2.INPAINT_TELEA
    )
    return out


def inside_photo(shape: tuple[int, int], m: np.ndarray, size: int) -> np.ndarray:
    """``size x size`` uint8 {0, 1}: the crop pixels that the photo-to-crop warp ``m`` fills
    from a photo of ``shape`` (H, W); 0 where the crop is padding."""
    import cv2

    ones = np.ones(shape, np.uint8)
    return cv2.warpAffine(ones, m, (size, size), flags=cv2.INTER_NEAREST, borderValue=0)


def _blur_outside(crop: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Blend mirrored padding towards a blurred copy with the distance from the photo
    (``valid``: ``S x S`` uint8, 1 inside the photo)."""
    import cv2

    size = crop.shape[0]
    dist = cv2.distanceTransform(1 - valid, cv2.DIST_L2, 3)
    w = np.clip(dist / (0.08 * size), 0, 1)[..., None]
    blurred = cv2.GaussianBlur(crop, (0, 0), 0.04 * size)
    mean = crop[valid > 0].mean(0) if valid.any() else crop.reshape(-1, 3).mean(0)
    far = np.clip(dist / (0.3 * size), 0, 1)[..., None] * 0.5
    out = crop * (1 - w) + (blurred * (1 - far) + mean * far) * w
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
