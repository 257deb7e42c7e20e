"""Array work of the template engine, free of any template state: warping a premultiplied
RGBA template onto the photo by the anchors' homography (:func:`warp`), reading the warped
alpha at landmarks (:func:`alpha_at`), the last-resort hull fill (:func:`force`), tiling a
cloth texture (:func:`tile`) and reading the photo's lighting for the mask to match
(:func:`scene`). Template layers are float32 RGB; points are pixel xy."""

from __future__ import annotations

import cv2
import numpy as np

from unmask.masking.template_fit import face_box

#: Luma weights of RGB (ITU-R BT.601).
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def alpha_at(alpha: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Alpha at the pixels nearest to ``pts`` (``(N, 2)`` xy); -1 for points off the image."""
    h, w = alpha.shape
    xy = np.round(pts.astype(np.float64)).astype(int)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    out = np.full(len(xy), -1.0, np.float32)
    out[inside] = alpha[xy[inside, 1], xy[inside, 0]]
    return out


def scene(image: np.ndarray, lm: np.ndarray) -> tuple[tuple[float, float], np.ndarray, float]:
    """How the photo is lit, for a mask drawn into it.

    Returns:
        Brightness gains for the image-left and image-right ends of the mask (from the median
        luma of each cheek), a colour cast (float32 ``(3,)`` RGB gains near 1, from the
        highlights) and a saturation factor in [0, 1] (0 for a greyscale photo).
    """
    r = max(int(0.06 * face_box(lm)[2]), 1)
    small = image[::4, ::4].reshape(-1, 3).astype(np.float32)
    luma = []
    for i, j in ((2, 31), (14, 35)):
        x, y = (int(round(float(c))) for c in (lm[i] + lm[j]) / 2)
        patch = image[max(y - r, 0) : max(y + r + 1, 0), max(x - r, 0) : max(x + r + 1, 0)]
        luma.append(float(np.median((patch.reshape(-1, 3) if patch.size else small) @ LUMA)))
    mean = max(sum(luma) / 2, 1.0)
    g = float(np.clip((mean / 150.0) ** 0.5, 0.55, 1.15))
    gains = tuple(g * float(np.clip((x / mean) ** 0.7, 0.75, 1.25)) for x in luma)
    high = np.percentile(small, 95, axis=0) + 1.0
    cast = np.clip((high / high.mean()) ** 0.3, 0.9, 1.1).astype(np.float32)
    chroma = float(np.median(small.max(1) - small.min(1)))
    return gains, cast, float(np.clip(chroma / 12.0, 0.0, 1.0))


def tile(tex: np.ndarray, shape: tuple[int, int], period: float, phase: np.ndarray):
    """Tile ``tex`` (float32 RGB) at ``period`` pixels per repeat over ``shape``; ``phase`` in
    [0, 1)^2 shifts the pattern."""
    s = max(period, 4.0) / tex.shape[1]
    size = (max(round(tex.shape[1] * s), 4), max(round(tex.shape[0] * s), 4))
    t = cv2.resize(tex, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    oy, ox = int(phase[0] * t.shape[0]), int(phase[1] * t.shape[1])
    reps = (-(-(shape[0] + oy) // t.shape[0]), -(-(shape[1] + ox) // t.shape[1]), 1)
    return np.tile(t, reps)[oy : oy + shape[0], ox : ox + shape[1]]


def warp(
    prem: np.ndarray,
    anchors: np.ndarray,
    pts: np.ndarray,
    shape: tuple[int, int],
    sigma: float,
    affine: bool = False,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Warp premultiplied RGBA template space onto the image: ``(alpha, layer)``.

    Returns None when the homography is degenerate (the template plane crosses the horizon or
    foreshortens more than 5x), unless ``affine``: then a least-squares affine map is used.
    """
    hom, _ = cv2.findHomography(anchors, pts, 0)
    th, tw = prem.shape[:2]
    box = np.array([[0, 0, 1], [tw, 0, 1], [0, th, 1], [tw, th, 1]], np.float64)
    w = None if hom is None or not np.all(np.isfinite(hom)) else box @ hom[2]
    if w is None or (w := w * np.sign(w[0])).min() <= 1e-9 or w.max() > 5 * w.min():
        if not affine:
            return None
        src = np.hstack([anchors, np.ones((len(anchors), 1))]).astype(np.float64)
        hom = np.vstack([np.linalg.lstsq(src, pts.astype(np.float64), rcond=None)[0].T, [0, 0, 1]])
    corners = box @ hom.T
    xy = corners[:, :2] / corners[:, 2:]
    m = int(3 * sigma) + 2
    x0, y0 = (int(max(np.floor(xy[:, i].min()) - m, 0)) for i in (0, 1))
    x1 = int(min(np.ceil(xy[:, 0].max()) + m + 1, shape[1]))
    y1 = int(min(np.ceil(xy[:, 1].max()) + m + 1, shape[0]))
    alpha = np.zeros(shape, np.float32)
    layer = np.zeros((*shape, 3), np.float32)
    if x1 <= x0 or y1 <= y0:
        return alpha, layer
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64) @ hom
    crop = cv2.warpPerspective(
        prem,
        shift,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    crop = cv2.GaussianBlur(crop, (0, 0), sigma)
    alpha[y0:y1, x0:x1] = np.clip(crop[..., 3], 0, 1)
    layer[y0:y1, x0:x1] = crop[..., :3] / np.maximum(crop[..., 3:], 1e-4)
    return alpha, layer


def force(alpha: np.ndarray, layer: np.ndarray, pts: np.ndarray, fw: float) -> None:
    """Last resort: paint the dilated hull of ``pts`` into ``alpha``/``layer`` (in place)."""
    canvas = np.zeros(alpha.shape, np.uint8)
    cv2.fillConvexPoly(canvas, cv2.convexHull(np.round(pts).astype(np.int32)), 1)
    k = max(3, int(0.08 * fw)) | 1
    canvas = cv2.dilate(canvas, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    solid = alpha > 0.5
    colour = np.median(layer[solid], 0) if solid.any() else np.full(3, 200.0, np.float32)
    fill = (canvas > 0) & ~solid
    layer[fill], alpha[fill] = colour, 1.0
