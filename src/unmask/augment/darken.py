"""Dark masks against dark surroundings, for segmenter training and evaluation.

On real photos the segmenter leaves parts of black masks behind where they meet dark clothes,
hair or shadow, and the inpainter then smears those leftovers into the chin. The synthetic
crops rarely show that case: their masks sit on UTKFace faces whose neck and padding are light.
:func:`darken` makes it from any labelled crop. It scales the lower surroundings (below the
nose tip, outside the face outline and the mask: neck, collar, clothes, padding) and
optionally the mask itself, keeping their texture and shading. The labels do not change.
"""

from __future__ import annotations

import numpy as np

from unmask.faces.landmarks import NOSE_TIP, face_outline

#: Ranges of the random gains :func:`darken_batch` draws.
SURROUND_GAIN = (0.08, 0.45)
MASK_GAIN = (0.1, 0.45)


def lower_surroundings(landmarks: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """bool ``S x S``: below the nose tip, outside the face outline and outside ``mask``
    (``S x S``, nonzero = face mask); ``landmarks`` ``(68, 2)`` pixel xy in the crop."""
    side = mask.shape[0]
    below = np.arange(side)[:, None] > landmarks[NOSE_TIP, 1]
    return below & (face_outline(landmarks, side) == 0) & (np.asarray(mask) == 0)


def gain_map(
    landmarks: np.ndarray,
    mask: np.ndarray,
    mask_gain: float,
    surround_gain: float,
    blur_px: float = 0.0,
) -> np.ndarray:
    """float32 ``S x S`` multiplier: ``surround_gain`` on :func:`lower_surroundings`,
    ``mask_gain`` on the mask, 1 elsewhere, softened by a Gaussian of ``blur_px``."""
    import cv2

    g = np.ones(mask.shape, np.float32)
    g[lower_surroundings(landmarks, mask)] = surround_gain
    g[np.asarray(mask) > 0] = mask_gain
    if blur_px > 0:
        g = cv2.GaussianBlur(g, (0, 0), blur_px)
    return g


def darken(
    image: np.ndarray,
    mask: np.ndarray,
    landmarks: np.ndarray,
    mask_gain: float = 0.18,
    surround_gain: float = 0.2,
    blur_px: float = 0.0,
) -> np.ndarray:
    """``image`` (``S x S x 3`` uint8 RGB) with its face mask scaled by ``mask_gain`` and its
    lower surroundings by ``surround_gain`` (1 leaves either as it is). Returns uint8."""
    g = gain_map(np.asarray(landmarks, np.float32), mask, mask_gain, surround_gain, blur_px)
    return np.clip(image * g[..., None] + 0.5, 0, 255).astype(np.uint8)


def darken_batch(x, y, landmarks, prob: float, generator=None, blur_px: float = 1.5):
    """Training augmentation: each sample, with probability ``prob``, gets its lower
    surroundings darkened by a gain drawn from :data:`SURROUND_GAIN`, and half of those also
    their mask by a gain from :data:`MASK_GAIN`.

    Args:
        x: float32 ``N x 3 x S x S`` RGB in [0, 1] (not modified).
        y: ``N x 1 x S x S`` target masks (1 = face mask).
        landmarks: ``N x 68 x 2`` pixel xy in the crop.
        prob: share of samples changed; generator: ``torch.Generator`` for the draws.
    Returns:
        A new tensor like ``x``.
    """
    import torch

    if prob <= 0:
        return x
    n = x.shape[0]
    u = torch.rand(n, 4, generator=generator).numpy()
    gains = np.ones((n, 1) + tuple(x.shape[2:]), np.float32)
    masks, lms = y[:, 0].numpy(), landmarks.numpy()
    for i in np.flatnonzero(u[:, 0] < prob):
        s = SURROUND_GAIN[0] + u[i, 1] * (SURROUND_GAIN[1] - SURROUND_GAIN[0])
        m = MASK_GAIN[0] + u[i, 2] * (MASK_GAIN[1] - MASK_GAIN[0]) if u[i, 3] < 0.5 else 1.0
        gains[i, 0] = gain_map(lms[i], masks[i], m, s, blur_px)
    return x * torch.from_numpy(gains)
