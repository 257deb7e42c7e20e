"""Eyewear and headwear drawn onto a face for detector training.

Real masked-face photos often hide the eyes and forehead too: sunglasses over a mask, a cap
brim or a fringe down to the brows. A detector trained only on bare upper faces scores such
faces low, because the eyes are all a masked face has left. These functions draw the
accessory from the face's 68 teacher landmarks (iBUG order) so that it follows the face's
size and roll; the landmarks themselves are unchanged (the eyes are still there, behind the
lenses).

All images are ``H x W x 3`` uint8 RGB; a new array is returned, the input is not modified.
"""

from __future__ import annotations

import cv2
import numpy as np

from unmask.faces.landmarks import BROWS, EYES, JAW_LEFT, JAW_RIGHT, five_from_68


def _frame(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Eye centres ``(2, 2)``, the unit vector along the eye line, the unit vector pointing
    down the face, and the distance between the eye centres (pixels)."""
    eyes = five_from_68(lm)[:2]
    along = eyes[1] - eyes[0]
    d = float(np.linalg.norm(along)) + 1e-6
    ex = along / d
    return eyes, ex, np.array([-ex[1], ex[0]]), d


def _blend(img: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``img * (1 - alpha) + colour * alpha`` for float32 ``colour`` (H x W x 3 or 3,) and
    ``alpha`` (H x W), rounded back to uint8."""
    a = alpha[..., None]
    out = img.astype(np.float32) * (1 - a) + colour * a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def draw_glasses(
    img: np.ndarray, lm: np.ndarray, rng: np.random.Generator, dark: bool
) -> np.ndarray:
    """Glasses over both eyes: tinted lenses (``dark``: sunglasses, nearly opaque with a
    highlight; else clear lenses), a frame, a bridge and the temple arms toward the ears."""
    h, w = img.shape[:2]
    eyes, ex, ey, d = _frame(lm)
    angle = float(np.degrees(np.arctan2(ex[1], ex[0])))
    axes = (d * rng.uniform(0.38, 0.52), d * rng.uniform(0.26, 0.4))
    centres = eyes + ey * d * rng.uniform(-0.05, 0.08)
    lens = np.zeros((h, w), np.float32)
    frame = np.zeros((h, w), np.float32)
    thick = max(1, int(round(d * rng.uniform(0.03, 0.08))))
    square = rng.random() < 0.4
    for c in centres:
        if square:  # rounded-rectangle lenses: a rotated box with softened corners
            box = cv2.boxPoints(((float(c[0]), float(c[1])), (2 * axes[0], 2 * axes[1]), angle))
            pts = np.round(box).astype(np.int32)
            cv2.fillConvexPoly(lens, pts, 1.0, cv2.LINE_AA)
            cv2.polylines(frame, [pts], True, 1.0, thick, cv2.LINE_AA)
        else:
            e = ((float(c[0]), float(c[1])), (2 * axes[0], 2 * axes[1]), angle)
            cv2.ellipse(lens, e, 1.0, -1, cv2.LINE_AA)
            cv2.ellipse(frame, e, 1.0, thick, cv2.LINE_AA)
    inner = [centres[0] + ex * axes[0], centres[1] - ex * axes[0]]
    cv2.line(frame, _pt(inner[0]), _pt(inner[1]), 1.0, thick, cv2.LINE_AA)
    for c, ear, sign in ((centres[0], lm[JAW_LEFT], -1), (centres[1], lm[JAW_RIGHT], 1)):
        start = c + sign * ex * axes[0]
        cv2.line(
            frame,
            _pt(start),
            _pt(start + (ear - start) * rng.uniform(0.5, 1.0)),
            1.0,
            thick,
            cv2.LINE_AA,
        )
    if dark:
        base = rng.uniform(5, 70) + rng.normal(0, 12, 3)
        ramp = np.linspace(-1, 1, h, dtype=np.float32)[:, None, None] * rng.uniform(0, 25)
        colour = np.clip(base + ramp, 0, 255)  # H x 1 x 3: a vertical ramp, broadcast
        out = _blend(img, colour, lens * rng.uniform(0.8, 1.0))
        glint = np.zeros((h, w), np.float32)
        for c in centres:
            cv2.ellipse(
                glint,
                _pt(c - ex * axes[0] * 0.3 - ey * axes[1] * 0.35),
                (max(1, int(axes[0] * 0.35)), max(1, int(axes[1] * 0.15))),
                angle,
                0,
                360,
                1.0,
                -1,
                cv2.LINE_AA,
            )
        out = _blend(out, np.full(3, 235, np.float32), glint * lens * rng.uniform(0, 0.5))
    else:
        tint = rng.uniform(120, 255, 3).astype(np.float32)
        out = _blend(img, tint, lens * rng.uniform(0.0, 0.15))
    frame_colour = rng.uniform(0, 60, 3) if rng.random() < 0.7 else rng.uniform(90, 230, 3)
    return _blend(out, frame_colour.astype(np.float32), frame)


def draw_headwear(img: np.ndarray, lm: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A cap brim, hat or fringe covering the forehead down to about the brows (at times
    over the upper half of the eyes): everything above a straight or wavy line near the brow
    line, across the head, in a flat colour with some texture."""
    h, w = img.shape[:2]
    _eyes, ex, ey, d = _frame(lm)
    brow = lm[list(BROWS)].mean(0)
    eye_mid = lm[list(EYES)].mean(0)
    drop = float(np.dot(eye_mid - brow, ey))  # brows to eyes along the face
    edge_at = brow + ey * drop * rng.uniform(-1.2, 0.6)
    t = np.linspace(-1.6, 1.6, 33) * d
    wavy = rng.random() < 0.5  # hair: a wavy edge; a brim: a gentle curve
    curve = (
        np.sin(t / d * rng.uniform(3, 8) + rng.uniform(0, 6)) * d * rng.uniform(0.03, 0.12)
        if wavy
        else (t / d) ** 2 * d * rng.uniform(-0.05, 0.12)
    )
    edge = edge_at + t[:, None] * ex + curve[:, None] * ey
    far = 4.0 * max(h, w)
    poly = np.vstack([edge, edge[-1] - ey * far, edge[0] - ey * far])
    cover = np.zeros((h, w), np.float32)
    cv2.fillPoly(cover, [np.round(poly).astype(np.int32)], 1.0, cv2.LINE_AA)
    cover = cv2.GaussianBlur(cover, (0, 0), max(0.5, d * 0.02))
    base = rng.uniform(0, 90, 3) if wavy or rng.random() < 0.6 else rng.uniform(0, 255, 3)
    streaks = rng.normal(0, 1, (h, w)).astype(np.float32)
    k = max(0.5, d * 0.05)
    streaks = cv2.GaussianBlur(streaks, (0, 0), k * 0.3, sigmaY=k * (3 if wavy else 1))
    texture = streaks[..., None] / (streaks.std() + 1e-6) * rng.uniform(3, 18)
    colour = np.clip(base.astype(np.float32) + texture, 0, 255)
    return _blend(img, colour, cover)


def accessorize(
    img: np.ndarray,
    lm: np.ndarray,
    rng: np.random.Generator,
    glasses: float = 0.0,
    sunglasses: float = 0.0,
    headwear: float = 0.0,
) -> np.ndarray:
    """Draw each accessory with its probability: clear ``glasses`` or ``sunglasses`` (one
    pair at most) and ``headwear``. Returns ``img`` itself when nothing is drawn."""
    u = rng.random()
    if u < sunglasses:
        img = draw_glasses(img, lm, rng, dark=True)
    elif u < sunglasses + glasses:
        img = draw_glasses(img, lm, rng, dark=False)
    if rng.random() < headwear:
        img = draw_headwear(img, lm, rng)
    return img


def _pt(p: np.ndarray) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))
