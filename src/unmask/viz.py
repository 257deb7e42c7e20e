"""Drawing helpers for previews, comparison sheets and training sample grids.

All functions take and return RGB uint8 ``H x W x 3`` arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unmask.faces.landmarks import HIDDEN


def draw_landmarks(
    image: np.ndarray, landmarks: np.ndarray, radius: int | None = None
) -> np.ndarray:
    """Copy of ``image`` with 68 landmarks drawn: hidden group (nose, mouth, jaw) red, the
    visible group (brows, eyes) green."""
    import cv2

    out = np.ascontiguousarray(image.copy())
    r = radius or max(1, round(image.shape[0] / 128))
    hidden = set(HIDDEN)
    for i, (x, y) in enumerate(np.asarray(landmarks)):
        colour = (255, 40, 40) if i in hidden else (40, 255, 40)
        cv2.circle(out, (int(round(x)), int(round(y))), r, colour, -1, cv2.LINE_AA)
    return out


def mask_to_rgb(mask: np.ndarray) -> np.ndarray:
    """``H x W`` {0,1} or {0,255} mask as a white-on-black RGB image."""
    m = (np.asarray(mask) > 0).astype(np.uint8) * 255
    return np.repeat(m[..., None], 3, axis=2)


def overlay_mask(
    image: np.ndarray, mask: np.ndarray, colour=(255, 0, 255), alpha=0.45
) -> np.ndarray:
    """Tint the mask region of ``image`` with ``colour``."""
    m = (np.asarray(mask) > 0)[..., None]
    tint = image.astype(np.float32) * (1 - alpha) + np.array(colour, np.float32) * alpha
    return np.where(m, tint, image).astype(np.uint8)


def grid(rows: Sequence[Sequence[np.ndarray]], size: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile images into a sheet, each resized to ``size`` x ``size`` (default: first image's).

    Args:
        rows: a list of rows, each a list of RGB uint8 images.
    """
    import cv2

    if not rows or not rows[0]:
        raise ValueError("grid needs at least one image")
    s = size or rows[0][0].shape[0]
    ncol = max(len(r) for r in rows)
    sheet = np.full((len(rows) * (s + pad) + pad, ncol * (s + pad) + pad, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            if img.ndim == 2:
                img = mask_to_rgb(img)
            if img.shape[:2] != (s, s):
                img = cv2.resize(img, (s, s), interpolation=cv2.INTER_AREA)
            y, x = pad + i * (s + pad), pad + j * (s + pad)
            sheet[y : y + s, x : x + s] = img
    return sheet
