"""Paste a restored aligned crop back into the original photo.

Only pixels inside the rebuilt region change: the crop-space hole mask is dilated a little,
feathered, warped to the photo grid with the inverse alignment, and used as the blend alpha.
"""

from __future__ import annotations

import numpy as np

from unmask.faces.align import Alignment


def photo_mask(alignment: Alignment, mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Warp a crop-space binary mask to the photo grid.

    Args:
        alignment: the face's :class:`Alignment`.
        mask: ``S x S`` uint8/bool, 1 = hole.
        shape: photo ``(H, W)``.
    Returns:
        ``H x W`` uint8 in {0, 1}.
    """
    import cv2

    h, w = shape
    warped = cv2.warpAffine(
        mask.astype(np.float32),
        alignment.inverse,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return (warped > 0.5).astype(np.uint8)


def paste_back(
    photo: np.ndarray,
    restored: np.ndarray,
    alignment: Alignment,
    mask: np.ndarray,
    feather: float = 0.02,
    inside: bool = False,
    fill_rim: bool = False,
) -> np.ndarray:
    """Blend ``restored`` into ``photo`` inside ``mask``.

    Args:
        photo: ``H x W x 3`` uint8 RGB original.
        restored: ``S x S x 3`` uint8 RGB rebuilt crop (same alignment as ``mask``).
        alignment: the crop's :class:`Alignment`.
        mask: ``S x S`` uint8/bool, 1 = rebuilt region.
        feather: soft-edge width as a fraction of the crop side; the alpha is 1 on the mask and
            falls to 0 within this distance outside it, so every hole pixel is fully replaced.
        inside: put the soft edge inside the mask instead (the alpha rises from 0 at the mask's
            edge to 1 at ``feather`` inside it), so no pixel outside the mask changes.
        fill_rim: with ``inside``, fade in from the colour of the visible pixels next to the
            hole (:func:`fill_rim_colour`) instead of the photo's own pixels under the soft
            edge, which on a masked face are the mask's rim (a thin line of its colour stays).
    Returns:
        ``H x W x 3`` uint8 RGB; pixels where the warped alpha is 0 are bit-identical to ``photo``.
    """
    import cv2

    size = restored.shape[0]
    m = (np.asarray(mask) > 0).astype(np.uint8)
    r = max(1, int(round(feather * size)))
    if inside:
        dist = cv2.distanceTransform(np.pad(m, 1, constant_values=1), cv2.DIST_L2, 3)[1:-1, 1:-1]
        alpha = np.clip(dist / (r + 1), 0.0, 1.0).astype(np.float32)
    else:
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        dist = cv2.distanceTransform(1 - m, cv2.DIST_L2, 3)
        alpha = np.where(m > 0, 1.0, np.clip(1.0 - dist / r, 0.0, 1.0) * cv2.dilate(m, disk))
        alpha = alpha.astype(np.float32)
    h, w = photo.shape[:2]
    inv = alignment.inverse
    out = photo.copy()
    bx, by, bw, bh = cv2.boundingRect((alpha > 0).astype(np.uint8))
    if bw == 0:
        return out
    # warp only the photo box that the alpha's support reaches (its corners, a pixel more)
    corners = np.array([[bx - 1, by - 1], [bx + bw, by - 1], [bx - 1, by + bh], [bx + bw, by + bh]])
    xy = corners @ inv[:, :2].T + inv[:, 2]
    x1, y1 = np.maximum(np.floor(xy.min(0)).astype(int) - 1, 0)
    x2, y2 = np.minimum(np.ceil(xy.max(0)).astype(int) + 2, [w, h])
    if x2 <= x1 or y2 <= y1:
        return out
    shift = np.array([[1.0, 0, -x1], [0, 1.0, -y1]])
    inv_box = shift @ np.vstack([inv, [0, 0, 1]])
    a = cv2.warpAffine(alpha, inv_box, (x2 - x1, y2 - y1), flags=cv2.INTER_LINEAR, borderValue=0)
    if inside and fill_rim:
        fill_rim_colour(out[y1:y2, x1:x2], a, 1.0 / (r + 1))
    _blend(out, restored, inv, (x1, y1, x2, y2), a)
    return out


def seam_alpha(hole: np.ndarray, outside: float, inside: float) -> np.ndarray:
    """Blend weight of a rebuilt region over the photo, from a photo-resolution hole.

    The weight is 1 on the hole but for its outermost ``inside`` px, and falls to 0 at
    ``outside`` px beyond it, linearly in the signed distance to the hole's edge.

    Args:
        hole: ``h x w`` bool/uint8, nonzero = hole.
    Returns:
        ``h x w`` float32 in [0, 1].
    """
    import cv2

    m = (np.asarray(hole) > 0).astype(np.uint8)
    d_in = cv2.distanceTransform(m, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    d_out = cv2.distanceTransform(1 - m, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    signed = np.where(m > 0, d_in - 1.0, -d_out)  # 0 on the hole's outermost pixels
    return np.clip((signed + outside) / max(outside + inside, 1e-6), 0.0, 1.0).astype(np.float32)


def paste_hole(
    photo: np.ndarray,
    restored: np.ndarray,
    alignment: Alignment,
    hole: np.ndarray,
    outside: float = 2.0,
    inside: float = 0.0,
) -> np.ndarray:
    """Blend ``restored`` into ``photo`` over a hole drawn in the photo's own grid.

    Args:
        photo: ``H x W x 3`` uint8 RGB original.
        restored: ``S x S x 3`` uint8 RGB rebuilt crop; it must be rebuilt wherever the warped
            hole (grown by ``outside``) reaches.
        alignment: the crop's :class:`Alignment`.
        hole: ``H x W`` uint8/bool, nonzero = rebuilt.
        outside, inside: the seam, in photo pixels (see
            :func:`seam_alpha`): the weight falls to 0 at ``outside``
            px beyond the hole and reaches 1 at ``inside`` px within it.
    Returns:
        ``H x W x 3`` uint8 RGB; pixels further than ``outside`` px from the hole are
        bit-identical to ``photo``.
    """
    import cv2

    out = photo.copy()
    bx, by, bw, bh = cv2.boundingRect((np.asarray(hole) > 0).astype(np.uint8))
    if bw == 0:
        return out
    h, w = photo.shape[:2]
    r = int(np.ceil(outside)) + 1
    x1, y1 = max(bx - r, 0), max(by - r, 0)
    x2, y2 = min(bx + bw + r, w), min(by + bh + r, h)
    alpha = seam_alpha(np.asarray(hole)[y1:y2, x1:x2], outside, inside)
    _blend(out, restored, alignment.inverse, (x1, y1, x2, y2), alpha)
    return out


def fill_rim_colour(
    region: np.ndarray, alpha: np.ndarray, full: float = 1.0, sigma: float = 1.5
) -> None:
    """Give the pixels where a seam blends (``0 < alpha < 1``) the colour of the nearby pixels
    it leaves alone (``alpha == 0``), in place: a normalised Gaussian average of those pixels,
    mixed in by ``alpha / full`` (whole from ``alpha >= full``), so that a pixel the seam
    barely touches keeps its own colour.

    Args:
        region: ``h x w x 3`` uint8 RGB, modified in place where the seam blends.
        alpha: ``h x w`` float32 blend weight of the rebuilt face in ``region``.
        full: the weight from which the fill replaces the pixel whole.
        sigma: the average's reach in pixels.
    """
    band = (alpha > 0) & (alpha < 1)
    if not band.any():
        return
    mean, den = local_mean(region.astype(np.float32), (alpha <= 0).astype(np.float32), sigma)
    ok = band & (den > 1e-3)
    w = np.clip(alpha[ok] / full, 0.0, 1.0)[:, None]
    region[ok] = np.clip(region[ok] * (1 - w) + mean[ok] * w + 0.5, 0, 255).astype(np.uint8)


def local_mean(
    image: np.ndarray, weight: np.ndarray, sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """The weighted Gaussian average of ``image`` around each pixel (a normalised
    convolution): only pixels with ``weight`` count.

    Args:
        image: ``h x w x c`` float32.
        weight: ``h x w`` float32 in [0, 1].
        sigma: the Gaussian's sigma in pixels.
    Returns:
        ``(mean, den)``: the ``h x w x c`` average (where no weight reaches, 0) and the ``h x w``
        blurred weight (how much of it reached each pixel).
    """
    import cv2

    num = cv2.GaussianBlur(image * weight[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    return num / np.maximum(den, 1e-6)[..., None], den


def _blend(out: np.ndarray, restored: np.ndarray, inv: np.ndarray, box, alpha: np.ndarray):
    """Warp ``restored`` (crop grid, ``inv``: crop -> photo) onto ``out``'s ``box`` and blend it
    there with ``alpha`` (float32, the box's size), in place."""
    import cv2

    x1, y1, x2, y2 = box
    shift = np.array([[1.0, 0, -x1], [0, 1.0, -y1]])
    inv_box = shift @ np.vstack([inv, [0, 0, 1]])
    face = cv2.warpAffine(
        restored,
        inv_box,
        (x2 - x1, y2 - y1),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    ).astype(np.float32)
    ab = alpha[..., None]
    region = out[y1:y2, x1:x2].astype(np.float32)
    blended = region * (1 - ab) + face * ab
    out[y1:y2, x1:x2] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
