"""Light and skin-toned masks, for segmenter training.

A segmenter that has seen unmasked faces with empty targets learns that a light, skin-toned
lower face is skin; on real photos it then leaves parts of white and beige masks
unmarked. :func:`recolour_mask` makes such masks from any
labelled crop: it paints the mask in a new tone while keeping its shading (folds, seams,
shadow), softened at the edge. The labels do not change.
"""

from __future__ import annotations

import numpy as np

from unmask.faces.landmarks import face_outline

#: The tones :func:`light_mask_batch` draws from, float RGB in [0, 1]: white, off-white, beige.
TONES = np.array([[0.95, 0.95, 0.95], [0.88, 0.88, 0.84], [0.84, 0.74, 0.62]], np.float32)
#: Shading kept from the original mask: ``tone * (1 + SHADING * (luma / mean - 1))``.
SHADING = 0.8


def skin_tone(image: np.ndarray, mask: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """float32 ``(3,)``: the median colour of the face outside the mask (``image`` float
    ``3 x S x S`` RGB in [0, 1]; ``mask`` ``S x S``, nonzero = face mask; ``landmarks`` ``(68,
    2)`` pixel xy). Mid-grey when no skin is visible."""
    skin = (face_outline(landmarks, mask.shape[0]) > 0) & (np.asarray(mask) == 0)
    if skin.sum() < 16:
        return np.full(3, 0.6, np.float32)
    return np.median(image[:, skin], axis=1).astype(np.float32)


def recolour_mask(image: np.ndarray, mask: np.ndarray, tone, blur_px: float = 1.0) -> np.ndarray:
    """``image`` (float32 ``3 x S x S`` RGB in [0, 1]) with the mask (``S x S``, nonzero =
    mask) painted in ``tone`` (RGB in [0, 1]: one colour ``(3,)`` or a print ``3 x S x S``), its
    relative shading kept, the edge softened by a Gaussian of ``blur_px``. Returns a new float32
    array; pixels away from the mask keep their values."""
    import cv2

    m = (np.asarray(mask) > 0).astype(np.float32)
    if not m.any():
        return image.copy()
    luma = image.mean(0)
    shade = 1 + SHADING * (luma / max(float(luma[m > 0].mean()), 1e-3) - 1)
    tone = np.asarray(tone, np.float32)
    tone = tone[:, None, None] if tone.ndim == 1 else tone
    painted = tone * np.clip(shade, 0.3, 1.5)[None]
    alpha = cv2.GaussianBlur(m, (0, 0), blur_px) if blur_px > 0 else m
    return np.clip(alpha * painted + (1 - alpha) * image, 0, 1).astype(np.float32)


def light_mask_batch(x, y, landmarks, prob: float, generator=None, blur_px: float = 1.0):
    """Training augmentation: each sample, with probability ``prob``, gets its mask repainted
    in a light tone: half of them in the face's own skin tone (times a gain in [0.9, 1.1]), the
    rest in one of :data:`TONES`.

    Arguments and result as :func:`unmask.augment.darken.darken_batch`.
    """
    import torch

    if prob <= 0:
        return x
    u = torch.rand(x.shape[0], 3, generator=generator).numpy()
    out = x.numpy().copy()
    masks, lms = y[:, 0].numpy(), landmarks.numpy()
    for i in np.flatnonzero(u[:, 0] < prob):
        if u[i, 1] < 0.5:
            tone = skin_tone(out[i], masks[i], lms[i]) * (0.9 + 0.2 * u[i, 2])
        else:
            tone = TONES[min(int(u[i, 2] * len(TONES)), len(TONES) - 1)]
        out[i] = recolour_mask(out[i], masks[i], np.clip(tone, 0, 1), blur_px)
    return torch.from_numpy(out)
