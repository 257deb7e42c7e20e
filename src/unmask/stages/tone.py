"""The tone step of the photo-resolution finishing: the visible skin's low-frequency colour
carried across a rebuilt hole's edge (a Poisson-style membrane fill in CIELAB).

Images are ``H x W x 3`` uint8 RGB; masks ``H x W`` with nonzero = hole.
"""

from __future__ import annotations

import numpy as np


def pull_push(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Smoothly fill where ``weights`` is 0 from where it is positive (a pyramid membrane).

    Args:
        values: ``H x W x C`` float32.
        weights: ``H x W`` float32 >= 0 (0 = unknown).
    Returns:
        ``H x W x C`` float32: known pixels keep their value, unknown ones blend the coarser
        levels' weighted means.
    """
    import cv2

    w = np.clip(weights.astype(np.float32), 0, None)
    v = values.astype(np.float32) * w[..., None]
    levels = [(v, w)]
    while min(w.shape) > 2:
        v, w = cv2.pyrDown(v), cv2.pyrDown(w)
        levels.append((v.reshape(*w.shape, -1), w))
    # normalised means per level, then push from coarse to fine
    means = [vv / np.maximum(ww, 1e-6)[..., None] for vv, ww in levels]
    out = means[-1]
    for (_, ww), mean in zip(reversed(levels[:-1]), reversed(means[:-1]), strict=True):
        h, wd = ww.shape
        up = cv2.resize(out, (wd, h), interpolation=cv2.INTER_LINEAR)
        if up.ndim == 2:
            up = up[..., None]
        a = np.clip(ww, 0, 1)[..., None]
        out = a * mean + (1 - a) * up
    return out


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """``H x W x 3`` RGB (uint8 or float in 0-255) -> float32 CIELAB (L in 0-100)."""
    import cv2

    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def from_lab(lab: np.ndarray) -> np.ndarray:
    """float32 CIELAB -> ``H x W x 3`` float32 RGB in 0-255 (not clipped or rounded)."""
    import cv2

    return cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB) * 255.0


def boundary_step(
    original: np.ndarray, rebuilt: np.ndarray, hole: np.ndarray, band: int, skin=None
) -> tuple[np.ndarray, np.ndarray]:
    """The colour step across a hole's edge: local CIELAB mean of the visible pixels just
    outside minus that of the rebuilt pixels just inside.

    Args:
        original: ``H x W x 3`` uint8 RGB photo (its pixels outside ``hole`` are the truth).
        rebuilt: the same photo with the hole rebuilt.
        hole: ``H x W`` uint8, 1 = rebuilt.
        band: width in pixels of the bands whose means are compared.
        skin: ``H x W`` bool; when given only edge stretches that meet visible skin count
            (hair, background and clothing around the hole do not).
    Returns:
        ``(step, edge)``: ``H x W x 3`` float32 Lab step, and ``H x W`` float32 weights, 1 on the
        hole's edge pixels where the step is defined, else 0.
    """
    import cv2

    m = (hole > 0).astype(np.uint8)
    outer = ((m == 0) & (cv2.distanceTransform(1 - m, cv2.DIST_L2, 3) <= band)).astype(np.float32)
    if skin is not None:
        outer *= np.asarray(skin) > 0
    inside = cv2.distanceTransform(np.pad(m, 1, constant_values=1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    inner = ((m > 0) & (inside <= band)).astype(np.float32)
    sigma = max(1.0, band)

    from unmask.faces.paste import local_mean

    step = (
        local_mean(to_lab(original), outer, sigma)[0] - local_mean(to_lab(rebuilt), inner, sigma)[0]
    )
    edge = ((m > 0) & (inside < 1.5)).astype(np.float32)
    edge *= cv2.GaussianBlur(outer, (0, 0), sigma) > 0.2  # stretches with skin outside
    return step, edge


def tone_offset(
    original: np.ndarray, rebuilt: np.ndarray, hole: np.ndarray, band: int, skin=None
) -> np.ndarray:
    """The CIELAB offset field that carries the visible skin's tone into the hole: the
    :func:`boundary_step` on the edge, spread over the hole by :func:`pull_push`.

    Returns:
        ``H x W x 3`` float32 Lab offset to add inside the hole.
    """
    step, edge = boundary_step(original, rebuilt, hole, band, skin)
    if edge.sum() == 0:
        return np.zeros_like(step)
    return pull_push(step, edge)
