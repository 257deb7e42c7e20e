"""Masks of other shapes and poses, for attr training.

The built datasets draw every mask from the face's own landmarks: centred, level, its top edge on
the nose bridge and its bottom under the chin. Real masks are worn crooked, pulled down under the
nose, shifted sideways, or reach higher (gaiters, scarves) and lower (bandanas, snoods).
:func:`reshape_mask` moves the mask of one training crop as a whole layer over the crop's
unmasked original: it is rotated about its centre, shifted, stretched up or down from its bottom
or top edge and widened or narrowed. Where the mask leaves the face the true skin shows (the
unmasked original); it never rises above the lower eyelids. The face, and so the labels, do not
change.

Images are float32 ``3 x S x S`` RGB in [0, 1]; masks ``S x S``, nonzero = face mask; landmarks
``(68, 2)`` pixel xy at side S, iBUG order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unmask.augment.draws import drawn_crops
from unmask.faces.landmarks import EYES


@dataclass(frozen=True)
class Reach:
    """Ranges that :func:`reshape_mask` draws from (each uniform).

    Attributes:
        rotate_deg: largest rotation about the mask's centre, either way.
        shift: largest sideways and vertical shift, as a fraction of the mask's width.
        up: stretch of the mask's height from its bottom edge (top edge moves), low and high;
            below 1 the mask is pulled down (nose out), above 1 it reaches towards the eyes.
        down: stretch from the top edge (bottom edge moves), low and high.
        widen: horizontal stretch about the mask's centre, low and high.
        eye_gap: the mask's top stays this fraction of the crop below the lowest eyelid point.
    """

    rotate_deg: float = 20.0
    shift: float = 0.08
    up: tuple[float, float] = (0.8, 1.45)
    down: tuple[float, float] = (1.0, 1.3)
    widen: tuple[float, float] = (0.9, 1.15)
    eye_gap: float = 0.02


def reshape_mask(
    masked: np.ndarray,
    clean: np.ndarray,
    mask: np.ndarray,
    landmarks: np.ndarray,
    rng: np.random.Generator,
    reach: Reach = Reach(),
) -> tuple[np.ndarray, np.ndarray]:
    """One crop with its mask moved and reshaped (see the module docstring).

    Args:
        masked: float32 ``3 x S x S`` RGB, the masked crop.
        clean: float32 ``3 x S x S`` RGB, the same crop unmasked (same transform).
        mask: ``S x S``, nonzero = face mask in ``masked``.
        landmarks: ``(68, 2)`` pixel xy of the face.
        rng: draws the transform.
        reach: the transform's ranges.
    Returns:
        ``(image, mask)``: float32 ``3 x S x S`` RGB and uint8 ``S x S`` (1 = mask), new arrays.
        Without a mask pixel, copies of ``masked`` and ``mask``.
    """
    import cv2

    m = (np.asarray(mask) > 0).astype(np.float32)
    size = m.shape[0]
    ys, xs = np.nonzero(m)
    if len(ys) == 0:
        return masked.copy(), (m > 0).astype(np.uint8)
    top, bottom, cx = float(ys.min()), float(ys.max()), float(xs.mean())
    width = float(xs.max() - xs.min() + 1)
    # vertical stretch: from the bottom edge (the top moves) or from the top edge
    if rng.random() < 0.5:
        sy, anchor = rng.uniform(*reach.up), bottom
    else:
        sy, anchor = rng.uniform(*reach.down), top
    sx = rng.uniform(*reach.widen)
    stretch = np.array([[sx, 0, cx * (1 - sx)], [0, sy, anchor * (1 - sy)], [0, 0, 1]])
    cy = 0.5 * (top + bottom)
    turn = cv2.getRotationMatrix2D((cx, cy), rng.uniform(-1, 1) * reach.rotate_deg, 1.0)
    turn[:, 2] += rng.uniform(-1, 1, 2) * reach.shift * width
    affine = (np.vstack([turn, [0, 0, 1]]) @ stretch)[:2].astype(np.float32)

    def warp(a: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(a, affine, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)

    alpha = warp(m)
    layer = np.stack([warp(np.ascontiguousarray(c * m)) for c in masked])
    layer /= np.maximum(alpha, 1e-3)[None]  # un-premultiply: the mask's own colour at its edge
    # never over the eyes: a soft cut below the lowest eyelid point
    lid = float(np.asarray(landmarks, np.float32)[list(EYES), 1].max()) + reach.eye_gap * size
    rows = np.arange(size, dtype=np.float32)[:, None]
    alpha *= np.clip(rows - lid, 0, 1)
    alpha = np.clip(alpha, 0, 1)
    out = clean * (1 - alpha)[None] + np.clip(layer, 0, 1) * alpha[None]
    return out.astype(np.float32), (alpha > 0.5).astype(np.uint8)


def reshape_batch(batch: dict, prob: float, generator=None, reach: Reach = Reach()):
    """Training augmentation: each crop of a batch, with probability ``prob``, gets its mask
    moved and reshaped by :func:`reshape_mask`.

    Args:
        batch: a batch of :class:`unmask.data.dataset.FaceMaskDataset` (``masked``, ``clean``:
            ``N x 3 x S x S``; ``mask``: ``N x 1 x S x S``; ``landmarks``: ``N x 68 x 2``).
        prob: share of crops reshaped (0 = ``batch["masked"]`` unchanged).
        generator: ``torch.Generator`` that draws which crops and the transforms' seeds.
    Returns:
        ``(masked, mask)``: new tensors shaped as the batch's (or the batch's own when ``prob``
        is 0).
    """
    import torch

    x, masks = batch["masked"], batch["mask"]
    if prob <= 0:
        return x, masks
    n, size = x.shape[0], x.shape[-1]
    out, new = x.numpy().copy(), masks.numpy().copy()
    clean, lms = batch["clean"].numpy(), batch["landmarks"].numpy()
    m = masks.reshape(n, size, size).numpy()
    for i, rng in drawn_crops(n, prob, generator):
        out[i], shaped = reshape_mask(out[i], clean[i], m[i], lms[i], rng, reach)
        new[i] = shaped.reshape(new[i].shape)
    return torch.from_numpy(out), torch.from_numpy(new)
