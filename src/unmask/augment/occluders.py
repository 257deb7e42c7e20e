"""Occluders beyond masks, for attr training.

Real masked faces are also partly hidden by things no mask generator draws: a hand over the
mouth or chin, a scarf pulled up over the mask, a phone held to the cheek, hair across one side
of the face. A landmark network that never saw them reads their edges as the face's contours.
:func:`occlude` draws one such occluder over a crop as an opaque layer with a soft edge, its own
shading and a faint cast shadow. Hands take the face's own skin tone; scarves a random colour or
print; hands, scarves and phones stay below the eyes, hair may cross one eye. The face, and so
the labels, do not change: the landmarks stay the true points under the occluder.

Images are float32 ``3 x S x S`` RGB in [0, 1]; masks ``S x S``, nonzero = face mask; landmarks
``(68, 2)`` pixel xy at side S, iBUG order.
"""

from __future__ import annotations

import numpy as np

from unmask.augment.draws import map_drawn
from unmask.augment.light_masks import skin_tone
from unmask.augment.mask_prints import print_pattern, random_colour
from unmask.faces.landmarks import EYES, JAW, MOUTH

#: Occluders :func:`occlude` draws, with equal chance.
OCCLUDERS = ("hand", "scarf", "phone", "hair")
#: Hair colours, float RGB in [0, 1]: black, dark brown, brown, auburn, blond, grey.
HAIR = np.array(
    [[0.06, 0.05, 0.05], [0.2, 0.13, 0.08], [0.36, 0.24, 0.14], [0.45, 0.2, 0.1],
     [0.78, 0.64, 0.4], [0.62, 0.62, 0.6]],
    np.float32,
)  # fmt: skip


def _disc(shape, centre, axes, angle_deg: float) -> np.ndarray:
    import cv2

    out = np.zeros(shape, np.uint8)
    c = tuple(int(round(v * 4)) for v in centre)
    a = tuple(max(int(round(v * 4)), 1) for v in axes)
    cv2.ellipse(out, c, a, angle_deg, 0, 360, 255, -1, cv2.LINE_AA, shift=2)
    return out


def _stroke(out: np.ndarray, p0, p1, width: float) -> None:
    import cv2

    a = tuple(int(round(v * 4)) for v in p0)
    b = tuple(int(round(v * 4)) for v in p1)
    cv2.line(out, a, b, 255, max(int(round(width)), 1), cv2.LINE_AA, shift=2)


def _hand(lm: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A palm over the mouth, chin or one cheek with four fingers and a thumb."""
    face_w = float(np.ptp(lm[list(JAW), 0]))
    spot = [lm[list(MOUTH)].mean(0), lm[8], lm[3], lm[13]][int(rng.integers(4))]
    centre = spot + rng.normal(0, 0.05 * face_w, 2)
    palm = face_w * rng.uniform(0.22, 0.32)
    towards = rng.uniform(-np.pi, 0)  # fingers point up-ish: the hand comes from below
    d = np.array([np.cos(towards), np.sin(towards)])
    side = np.array([-d[1], d[0]])
    m = _disc((size, size), centre, (palm * 0.8, palm), np.degrees(towards) + 90)
    finger_w = palm * 0.3
    for k, off in enumerate((-0.66, -0.22, 0.22, 0.66)):
        base = centre + d * palm * 0.7 + side * off * palm
        tip = base + d * palm * rng.uniform(1.0, 1.5) * (0.85 if k in (0, 3) else 1.0)
        _stroke(m, base, tip, finger_w)
    thumb = centre + side * palm * 0.9 * (1 if rng.random() < 0.5 else -1)
    _stroke(m, centre, thumb + d * palm * 0.6, finger_w * 1.1)
    return m.astype(np.float32) / 255


def _phone(lm: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A rounded rectangle held upright against one cheek."""
    import cv2

    face_w = float(np.ptp(lm[list(JAW), 0]))
    spot = lm[int(rng.choice([2, 3, 4, 12, 13, 14]))]
    w, h = face_w * rng.uniform(0.25, 0.35), face_w * rng.uniform(0.55, 0.75)
    box = ((float(spot[0]), float(spot[1])), (w, h), float(rng.uniform(-25, 25)))
    pts = cv2.boxPoints(box)
    m = np.zeros((size, size), np.uint8)
    cv2.fillPoly(m, [np.round(pts * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
    r = max(int(round(0.15 * w)), 1)
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (r, r)))
    return m.astype(np.float32) / 255


def _scarf(lm: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Everything below a wavy, tilted edge between the nose tip and halfway from the lower
    lip to the chin."""
    top = float(rng.uniform(lm[33, 1], 0.5 * (lm[57, 1] + lm[8, 1])))
    x = np.arange(size, dtype=np.float32)
    period = rng.uniform(0.3, 1.0) * size
    edge = top + rng.uniform(-0.15, 0.15) * (x - size / 2)
    edge += rng.uniform(0, 0.03) * size * np.sin(2 * np.pi * x / period + rng.uniform(0, 6.3))
    rows = np.arange(size, dtype=np.float32)[:, None]
    return np.clip(rows - edge[None] + 0.5, 0, 1).astype(np.float32)


def _hair(lm: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Strands from the crop's top edge down over one side of the face."""
    face_w = float(np.ptp(lm[list(JAW), 0]))
    right = rng.random() < 0.5
    eye = lm[list(EYES[6:] if right else EYES[:6])].mean(0)
    out = 1 if right else -1  # image right: the face's left side
    m = np.zeros((size, size), np.uint8)
    bottom = float(rng.uniform(lm[30, 1], lm[57, 1]))
    for _ in range(int(rng.integers(6, 14))):
        x0 = eye[0] + out * rng.uniform(-0.15, 0.25) * face_w
        x1 = x0 + out * rng.uniform(0, 0.2) * face_w
        pts = np.linspace(0, 1, 8)[:, None]
        ys = pts[:, 0] * bottom * rng.uniform(0.8, 1.0)
        xs = x0 + (x1 - x0) * pts[:, 0] ** 2
        curve = np.stack([xs, ys], 1)
        width = face_w * rng.uniform(0.02, 0.06)
        for a, b in zip(curve[:-1], curve[1:], strict=True):
            _stroke(m, a, b, width)
    return m.astype(np.float32) / 255


_SHAPES = {"hand": _hand, "scarf": _scarf, "phone": _phone, "hair": _hair}


def _colour(kind, image, mask, lm, rng) -> np.ndarray:
    size = image.shape[-1]
    if kind == "hand":
        tone = skin_tone(image, mask, lm) * rng.uniform(0.85, 1.1) + rng.normal(0, 0.02, 3)
        return np.broadcast_to(tone[:, None, None], (3, size, size))
    if kind == "scarf":
        return print_pattern(rng, size)
    if kind == "phone":
        dark = rng.random() < 0.6
        tone = np.full(3, rng.uniform(0.03, 0.25)) if dark else random_colour(rng)
        return np.broadcast_to(tone[:, None, None], (3, size, size))
    tone = HAIR[int(rng.integers(len(HAIR)))] * rng.uniform(0.85, 1.15)
    return np.broadcast_to(tone[:, None, None], (3, size, size))


def occlude(
    image: np.ndarray,
    mask: np.ndarray,
    landmarks: np.ndarray,
    rng: np.random.Generator,
    kind: str | None = None,
) -> np.ndarray:
    """One crop with an occluder drawn over it (see the module docstring).

    Args:
        image: float32 ``3 x S x S`` RGB in [0, 1], a masked or clean crop.
        mask: ``S x S``, nonzero = face mask in ``image`` (for the skin tone of hands).
        landmarks: ``(68, 2)`` pixel xy of the face.
        rng: draws the occluder.
        kind: one of :data:`OCCLUDERS`, or None for a random one.
    Returns:
        A new float32 ``3 x S x S`` RGB array in [0, 1].
    """
    import cv2

    kind = kind or OCCLUDERS[int(rng.integers(len(OCCLUDERS)))]
    if kind not in _SHAPES:
        raise ValueError(f"unknown occluder {kind!r}: use one of {', '.join(OCCLUDERS)}")
    lm = np.asarray(landmarks, np.float32)
    size = image.shape[-1]
    alpha = _SHAPES[kind](lm, size, rng)
    if kind != "hair":  # below the eyes: a soft cut under the lowest eyelid point
        lid = float(lm[list(EYES), 1].max()) + 0.02 * size
        alpha *= np.clip(np.arange(size, dtype=np.float32)[:, None] - lid, 0, 1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.7)
    # shading: a gentle ramp in a random direction
    t = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    ramp = 1 + rng.uniform(0.1, 0.3) * (xx * np.cos(t) + yy * np.sin(t))
    layer = _colour(kind, image, mask, lm, rng) * ramp[None]
    # a cast shadow: the occluder's alpha, blurred and offset, darkens what lies under it
    dx, dy = rng.uniform(-2, 2) * size / 128, rng.uniform(0, 3) * size / 128
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    shadow = cv2.warpAffine(cv2.GaussianBlur(alpha, (0, 0), 0.03 * size), shift, (size, size))
    under = image * (1 - rng.uniform(0.15, 0.35) * shadow)[None]
    out = under * (1 - alpha)[None] + np.clip(layer, 0, 1) * alpha[None]
    return np.clip(out, 0, 1).astype(np.float32)


def occlude_batch(x, batch: dict, prob: float, generator=None):
    """Training augmentation: each crop of a batch, with probability ``prob``, gets one
    occluder drawn by :func:`occlude`.

    Args:
        x: float tensor ``N x 3 x S x S`` RGB in [0, 1] (the batch's crops as augmented so far).
        batch: the batch of :class:`unmask.data.dataset.FaceMaskDataset` (``mask``: ``N x 1 x S
            x S``; ``landmarks``: ``N x 68 x 2``).
        prob: share of crops occluded (0 = ``x`` unchanged).
        generator: ``torch.Generator`` that draws which crops and the occluders' seeds.
    Returns:
        A new float tensor (or ``x`` itself when ``prob`` is 0).
    """
    n, size = x.shape[0], x.shape[-1]
    m, lms = batch["mask"].reshape(n, size, size).numpy(), batch["landmarks"].numpy()
    return map_drawn(x, prob, generator, lambda i, crop, rng: occlude(crop, m[i], lms[i], rng))
