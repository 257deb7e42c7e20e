"""Masks of any colour and print, for attr training.

The built datasets draw masks from a few materials and palettes; real masks come in every colour
and in prints (stripes, checks, dots, patterns). A network that meets a print it never saw can
read the print's edges as facial contours. :func:`repaint_batch` repaints the mask of a share of
the training crops with a random colour or two-colour print while keeping the mask's own
shading (folds, seams, shadow), as :func:`unmask.augment.light_masks.recolour_mask` paints
it. The labels do not change.

Images are float32 ``3 x S x S`` RGB in [0, 1]; masks ``S x S``, nonzero = face mask.
"""

from __future__ import annotations

import colorsys

import numpy as np

from unmask.augment.draws import map_drawn
from unmask.augment.light_masks import recolour_mask

#: Prints :func:`print_pattern` draws, with equal chance.
PRINTS = ("solid", "stripes", "checks", "dots", "blobs")


def random_colour(rng: np.random.Generator) -> np.ndarray:
    """float32 ``(3,)`` RGB in [0, 1]: any hue, saturation in [0, 1], value in [0.12, 0.97]."""
    h, s, v = rng.random(), rng.random(), rng.uniform(0.12, 0.97)
    return np.array(colorsys.hsv_to_rgb(h, s, v), np.float32)


def print_pattern(rng: np.random.Generator, size: int, kind: str | None = None) -> np.ndarray:
    """float32 ``3 x size x size`` RGB print in [0, 1]: one colour (``solid``) or two colours
    laid out as stripes, checks, dots or soft blobs at a random scale and angle."""
    import cv2

    kind = kind or PRINTS[int(rng.integers(len(PRINTS)))]
    a, b = random_colour(rng), random_colour(rng)
    if kind == "solid":
        return np.broadcast_to(a[:, None, None], (3, size, size)).copy()
    period = rng.uniform(0.04, 0.18) * size
    theta = rng.uniform(0, np.pi)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    u = x * np.cos(theta) + y * np.sin(theta)
    v = -x * np.sin(theta) + y * np.cos(theta)
    if kind == "stripes":
        t = (np.mod(u / period, 1.0) < rng.uniform(0.3, 0.7)).astype(np.float32)
    elif kind == "checks":
        t = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    elif kind == "dots":
        du, dv = np.mod(u / period, 1.0) - 0.5, np.mod(v / period, 1.0) - 0.5
        t = (du * du + dv * dv < rng.uniform(0.03, 0.12)).astype(np.float32)
    elif kind == "blobs":
        n = rng.standard_normal((size, size)).astype(np.float32)
        n = cv2.GaussianBlur(n, (0, 0), period / 2)
        t = (n > np.median(n)).astype(np.float32)
    else:
        raise ValueError(f"unknown print {kind!r}: use one of {', '.join(PRINTS)}")
    t = cv2.GaussianBlur(t, (0, 0), 0.6)
    return (t[None] * a[:, None, None] + (1 - t[None]) * b[:, None, None]).astype(np.float32)


def repaint_batch(x, masks, prob: float, generator=None, blur_px: float = 1.0):
    """Training augmentation: each crop of a batch, with probability ``prob``, gets its mask
    repainted with a random :func:`print_pattern`.

    Args:
        x: float tensor ``N x 3 x S x S`` RGB in [0, 1].
        masks: tensor ``N x 1 x S x S`` (or ``N x S x S``), nonzero = face mask.
        prob: share of crops repainted (0 = the batch unchanged).
        generator: ``torch.Generator`` that draws which crops and the prints' seeds.
    Returns:
        A new float tensor (or ``x`` itself when ``prob`` is 0).
    """
    n, size = x.shape[0], x.shape[-1]
    m = masks.reshape(n, size, size).numpy()

    def repaint(i, crop, rng):
        return recolour_mask(crop, m[i], print_pattern(rng, size), blur_px)

    return map_drawn(x, prob, generator, repaint)
