"""Patches of real high-resolution skin, and the upscaling they are restored from.

The detail network (:class:`unmask.models.detail.DetailNet`) learns what a face region looks
like at the photo's resolution when all it is given is the region drawn on a coarser grid and
enlarged. The only real faces here at more than 200 px are the 1024-px masked FFHQ photos, so
the patches come from their visible face (the pixel labels' face class: forehead, eyes, cheeks,
and the nose and mouth of incorrectly worn masks), the photo first shrunk by a random factor so
that faces of many sizes are seen. :func:`degrade` makes the network's input as the pipeline
does: area-shrunk to the model grid, softened as the generator draws, enlarged bilinearly.

Patches are uint8 ``P x P x 3`` RGB; degraded images float32 in [0, 1].
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

FACE_CLASS = 1


@dataclass(frozen=True)
class DetailSampling:
    """How patches are cut and degraded.

    Attributes:
        patch: patch side in photo pixels.
        per_photo: patches cut from each photo.
        shrink: range of the factor each photo is first shrunk by (1 = the 1024-px original,
            whose face is about 600 px across).
        face_share: least share of a patch's pixels that must be visible face.
        scales: range of the upscaling factor (photo pixels per model-grid pixel), drawn
            log-uniformly.
        soften: range of the Gaussian sigma, in model-grid pixels, applied on the grid (the
            generator's own softness).
        noise: largest standard deviation of Gaussian noise added on the grid.
    """

    patch: int = 80
    per_photo: int = 32
    shrink: tuple[float, float] = (0.35, 1.0)
    face_share: float = 0.97
    scales: tuple[float, float] = (1.25, 6.0)
    soften: tuple[float, float] = (0.0, 0.6)
    noise: float = 0.01


def skin_patches(
    src, split: str, how: DetailSampling, seed: int, limit: int | None = None
) -> Iterator[np.ndarray]:
    """Patches (uint8 ``P x P x 3`` RGB) of the visible face of the labelled photos of ``split``
    (:func:`unmask.data.face_sources.photo_split`), ``how.per_photo`` per photo at most."""
    import cv2

    from unmask.data.face_sources import photo_split
    from unmask.data.realseg import decode_labels, list_sources
    from unmask.io import load_image

    rows = [r for r in list_sources(src) if photo_split(r[1]) == split][:limit]
    p = how.patch
    for k, (_, img, lab) in enumerate(rows):
        rng = np.random.default_rng([seed, 11, k])
        photo = load_image(img)
        face = (decode_labels(load_image(lab)) == FACE_CLASS).astype(np.float32)
        f = rng.uniform(*how.shrink)
        size = (round(photo.shape[1] * f), round(photo.shape[0] * f))
        photo = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
        face = cv2.resize(face, size, interpolation=cv2.INTER_AREA)
        # share of face pixels in the patch whose top-left corner is here
        share = cv2.boxFilter(face, -1, (p, p), anchor=(0, 0), normalize=True)
        ys, xs = np.nonzero(share[: size[1] - p + 1, : size[0] - p + 1] >= how.face_share)
        if not len(ys):
            continue
        for j in rng.choice(len(ys), min(how.per_photo, len(ys)), replace=False):
            yield photo[ys[j] : ys[j] + p, xs[j] : xs[j] + p].copy()
        if (k + 1) % 50 == 0:
            log.info("detail patches: %d of %d photos", k + 1, len(rows))


def degrade(patch: np.ndarray, scale: float, soften: float, noise: float, rng) -> np.ndarray:
    """The patch as the pipeline would paste it: shrunk by ``scale`` (area), blurred by
    ``soften`` grid pixels, given Gaussian noise of standard deviation ``noise`` on the grid,
    enlarged back bilinearly. ``patch`` uint8 ``P x P x 3``; returns float32 ``P x P x 3`` in
    [0, 1]."""
    import cv2

    p = patch.shape[0]
    small_side = max(2, round(p / scale))
    x = patch.astype(np.float32) / 255
    small = cv2.resize(x, (small_side, small_side), interpolation=cv2.INTER_AREA)
    if soften > 0:
        small = cv2.GaussianBlur(small, (0, 0), soften)
    if noise > 0:
        small = small + rng.normal(0, noise, small.shape).astype(np.float32)
    up = cv2.resize(small, (p, p), interpolation=cv2.INTER_LINEAR)
    return np.clip(up, 0, 1).astype(np.float32)


def degraded_batch(patches: np.ndarray, how: DetailSampling, rng) -> tuple[np.ndarray, ...]:
    """``(inputs, scales, targets)`` for patches ``N x P x P x 3`` uint8: inputs and targets
    float32 ``N x 3 x P x P`` in [0, 1], scales float32 ``(N,)`` (photo px per grid px), each
    patch with its own draw of scale, softness and noise."""
    lo, hi = np.log(how.scales[0]), np.log(how.scales[1])
    scales = np.exp(rng.uniform(lo, hi, len(patches))).astype(np.float32)
    inputs = [
        degrade(pt, s, rng.uniform(*how.soften), rng.uniform(0, how.noise), rng)
        for pt, s in zip(patches, scales, strict=True)
    ]
    x = np.stack(inputs).transpose(0, 3, 1, 2)
    t = patches.astype(np.float32).transpose(0, 3, 1, 2) / 255
    return np.ascontiguousarray(x), scales, np.ascontiguousarray(t)
