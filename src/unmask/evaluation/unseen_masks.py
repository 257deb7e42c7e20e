"""Evaluation-only mask families: styles none of our training generators draws.

**Never train on these and never choose anything with them but the final report.** They exist
to measure how the attr stage holds on masks that differ from every training mask
(:mod:`unmask.masking.procedural`, :mod:`unmask.masking.templates`): nothing under
``unmask.training``, ``unmask.data`` or ``unmask.masking`` may import this module (a test checks).

Families (:data:`UNSEEN_KINDS`), each drawn from the 68 iBUG landmarks in the face frame of
:mod:`unmask.masking.procedural` (``u`` towards the image-right eye, ``v`` towards the chin):

* ``bandana`` — a triangular scarf with a straight top edge across the nose bridge, tied behind
  the head (reaches past the jaw towards the ears) and hanging to a point far below the chin;
  red, navy, black or green with a white paisley-like print and folds converging on the point.
* ``gaiter`` — a high-reach neck tube: a wavy top edge just under the eyes, straight sides past
  the jaw and no bottom edge (it runs down the neck); black, grey, camouflage blotches or a
  bright two-colour print, with horizontal wrinkles on the neck.
* ``sports`` — a contoured neoprene sports mask worn crooked: rotated by 8-20 degrees and shifted
  sideways, dark or neon with a contrasting side stripe and two round grilled valves; the nose may
  show on one side (``nose_covered`` then says so).

Every family covers all mouth points (48-67) and leaves the eyes free.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence

import cv2
import numpy as np

from unmask.faces.landmarks import MOUTH, check_landmarks
from unmask.masking.base import MaskedFace, finish
from unmask.masking.drawing import blur, chaikin, face_coords, rasterise

UNSEEN_KINDS = ("bandana", "gaiter", "sports")
_BANDANA = ((176, 30, 36), (30, 40, 92), (24, 24, 26), (40, 96, 56))
_EYE_GAP = 0.05  # outlines stay this share of the face size below the lowest eye point


def _below_eyes(q: np.ndarray, size: float) -> float:
    return float(q[36:48, 1].max() + _EYE_GAP * size)


def _bandana(q: np.ndarray, size: float, rng) -> np.ndarray:
    top = max(q[28, 1] + (q[29, 1] - q[28, 1]) * rng.uniform(0.0, 1.0), _below_eyes(q, size))
    reach = size * rng.uniform(0.05, 0.12)
    left, right = q[0, 0] - reach, q[16, 0] + reach
    drop = size * rng.uniform(0.3, 0.6)
    tip = np.array([q[8, 0] + size * rng.uniform(-0.08, 0.08), q[8, 1] + drop])
    pts = [
        [left, top],
        [right, top + size * rng.uniform(-0.02, 0.02)],
        [q[13, 0] + reach, q[13, 1]],
        tip,
        [q[3, 0] - reach, q[3, 1]],
    ]
    return chaikin(np.array(pts, float), 2)


def _gaiter(q: np.ndarray, size: float, rng) -> np.ndarray:
    top = _below_eyes(q, size) + size * rng.uniform(0.0, 0.04)
    side = size * rng.uniform(0.02, 0.1)
    left, right = q[:17, 0].min() - side, q[:17, 0].max() + side
    u = np.linspace(right, left, 24)
    wave = size * 0.012 * np.sin(u / size * rng.uniform(8, 14) + rng.uniform(0, 6.3))
    dip = size * 0.05 * np.exp(-(((u - q[27, 0]) / (0.25 * size)) ** 2))  # sags off the nose
    upper = np.stack([u, top + wave + dip * rng.uniform(-0.3, 0.8)], 1)
    bottom = q[8, 1] + 2.0 * size
    return np.concatenate([[[left, bottom], [right, bottom]], upper])


def _sports(q: np.ndarray, size: float, rng) -> np.ndarray:
    eye = _below_eyes(q, size)
    pts = np.array(
        [
            [q[27, 0], q[28, 1] + (q[29, 1] - q[28, 1]) * rng.uniform(0.0, 0.6)],
            [q[42:48, 0].mean(), eye],
            [q[15, 0] + 0.03 * size, q[15, 1] + 0.05 * size],
            [q[12, 0] + 0.04 * size, q[12, 1]],
            [q[9, 0], q[9, 1] + 0.06 * size],
            [q[7, 0], q[7, 1] + 0.06 * size],
            [q[4, 0] - 0.04 * size, q[4, 1]],
            [q[1, 0] - 0.03 * size, q[1, 1] + 0.05 * size],
            [q[36:42, 0].mean(), eye],
        ]
    )
    ang = math.radians(rng.uniform(8, 20) * rng.choice([-1, 1]))
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    centre = q[MOUTH, :].mean(0)
    pts = (pts - centre) @ rot.T + centre
    pts[:, 0] += size * rng.uniform(0.04, 0.1) * rng.choice([-1, 1])
    pts[:, 1] = np.maximum(pts[:, 1], eye)  # the tilt must not lift it onto the eyes
    return chaikin(pts, 3)


def _bright(rng, sat=(0.6, 1.0), val=(0.7, 1.0)) -> np.ndarray:
    rgb = colorsys.hsv_to_rgb(rng.random(), rng.uniform(*sat), rng.uniform(*val))
    return np.array(rgb) * 255


def _paint(kind: str, u, v, q, size: float, rng, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """Colour canvas ``h x w x 3`` float32 (0-255) and shading ``h x w`` float32 over the box
    whose face-frame pixel coordinates are ``u``, ``v``."""
    h, w = u.shape
    col = np.empty((h, w, 3), np.float32)
    shade = np.ones((h, w), np.float32)
    if kind == "bandana":
        base = np.array(_BANDANA[rng.integers(len(_BANDANA))], np.float32)
        col[:] = base
        ink = np.zeros((h, w), np.uint8)  # the print: teardrops, rings and dots at 1/16 px
        n = int(h * w / (0.09 * size) ** 2) + 1
        r = max(0.03 * size, 1.5)
        for x, y, a, k in zip(
            rng.uniform(0, w, n), rng.uniform(0, h, n), rng.uniform(0, 360, n),
            rng.integers(0, 3, n), strict=True,
        ):  # fmt: skip
            c = (int(16 * x), int(16 * y))
            if k == 0:
                axes = (int(16 * r), int(8 * r))
                cv2.ellipse(ink, c, axes, a, 0, 360, 255, max(int(0.3 * r), 1), cv2.LINE_AA, 4)
            elif k == 1:
                cv2.circle(ink, c, int(10 * r), 255, max(int(0.25 * r), 1), cv2.LINE_AA, 4)
            else:
                cv2.circle(ink, c, int(4 * r), 255, -1, cv2.LINE_AA, 4)
        m = ink.astype(np.float32)[..., None] / 255
        col = col * (1 - m) + np.float32(235) * m
        tip = np.array([q[8, 0], q[8, 1] + 0.45 * size])
        fold = np.arctan2(u - tip[0], tip[1] - v + 1e-3)  # folds run up from the point
        shade += 0.1 * np.sin(fold * rng.uniform(9, 14) + rng.uniform(0, 6.3)).astype(np.float32)
        params["colour"] = [int(c) for c in base]
    elif kind == "gaiter":
        style = str(rng.choice(["black", "grey", "camo", "print"]))
        params["style"] = style
        if style in ("black", "grey"):
            col[:] = 22 if style == "black" else rng.uniform(70, 130)
        else:
            pal = (
                [(84, 92, 56), (120, 106, 72), (46, 52, 34), (150, 140, 104)]
                if style == "camo"
                else [tuple(_bright(rng)), tuple(_bright(rng, val=(0.2, 0.5)))]
            )
            field = cv2.resize(
                rng.standard_normal((h // 12 + 3, w // 12 + 3)).astype(np.float32),
                (w, h),
                interpolation=cv2.INTER_CUBIC,
            )
            idx = np.digitize(field, np.quantile(field, np.linspace(0, 1, len(pal) + 1)[1:-1]))
            col[:] = np.asarray(pal, np.float32)[idx]
        neck = np.clip((v - q[8, 1]) / (0.1 * size), 0, 1)
        shade += 0.12 * neck * np.sin(v / (0.035 * size) + 0.3 * np.sin(u / (0.1 * size)))
        shade *= 1 - 0.3 * np.exp(-(((v - q[8, 1] - 0.06 * size) / (0.06 * size)) ** 2))
    else:  # sports
        dark = rng.random() < 0.6
        base = np.full(3, rng.uniform(20, 60)) if dark else _bright(rng, (0.7, 1.0), (0.8, 1.0))
        col[:] = base
        stripe = np.abs(u - q[2, 0] - 0.15 * size) < 0.04 * size
        col[stripe] = _bright(rng) if dark else np.float32(30)
        for s in (-1, 1):
            c = np.array([q[33, 0] + s * 0.22 * size, q[33, 1] + 0.12 * size])
            d = np.hypot(u - c[0], v - c[1])
            disc = d < 0.08 * size
            col[disc] = 150
            shade[disc] *= 1 - 0.3 * (np.sin((u[disc] - c[0]) / (0.008 * size)) > 0.6)
        params["dark"] = bool(dark)
    return col, shade.astype(np.float32)


class UnseenMasks:
    """Evaluation-only masks (:data:`UNSEEN_KINDS`) drawn from 68 landmarks; a
    :class:`~unmask.masking.base.MaskSource` whose ``source`` is ``"unseen"``.

    Args:
        kinds: families to draw from, uniformly; a subset of :data:`UNSEEN_KINDS`.
    """

    name = "unseen"

    def __init__(self, kinds: Sequence[str] = UNSEEN_KINDS) -> None:
        self.kinds = tuple(kinds)
        if not self.kinds or any(k not in UNSEEN_KINDS for k in self.kinds):
            raise ValueError(f"kinds must be a non-empty subset of {UNSEEN_KINDS}, got {kinds!r}")

    def apply(
        self, image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator
    ) -> MaskedFace:
        """Draw one mask on ``image`` (``H x W x 3`` uint8 RGB) given ``(68, 2)`` pixel xy.

        Returns a :class:`MaskedFace`; every mouth point is covered, the eyes never are.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be H x W x 3 uint8, got {image.shape} {image.dtype}")
        p = check_landmarks(landmarks).astype(np.float64)
        h, w = image.shape[:2]
        kind = self.kinds[int(rng.integers(len(self.kinds)))]
        o, rot, size = face_coords(p)
        q = (p - o) @ rot
        outline = (
            o
            + {"bandana": _bandana, "gaiter": _gaiter, "sports": _sports}[kind](q, size, rng)
            @ rot.T
        )
        params: dict = {"style": kind}
        sigma = float(np.clip(0.006 * size, 0.6, 2.0))
        x0, y0 = np.maximum(np.floor(outline.min(0) - 4 * sigma - 2), 0).astype(int)
        x1, y1 = np.minimum(np.ceil(outline.max(0) + 4 * sigma + 2), [w, h]).astype(int)
        if x1 <= x0 or y1 <= y0:  # the face lies outside the image
            zero = np.zeros((h, w), np.float32)
            return finish(image, np.zeros_like(image), zero, p, self.name, kind, params)
        off = np.array([x0, y0], float)
        need = p[list(MOUTH)] - off
        hard, alpha = rasterise(outline - off, need, sigma, (y1 - y0, x1 - x0))
        xs = np.arange(x0, x1, dtype=np.float32)[None] - np.float32(o[0])
        ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(o[1])
        u = xs * np.float32(rot[0, 0]) + ys * np.float32(rot[1, 0])
        v = xs * np.float32(rot[0, 1]) + ys * np.float32(rot[1, 1])
        col, shade = _paint(kind, u, v, q, size, rng, params)
        edge = blur(hard.astype(np.float32) / 255, max(0.03 * size, 1.0))
        shade *= 1 - 0.2 * (1 - edge)
        roi = image[y0:y1, x0:x1]
        covered = (hard > 127).astype(np.uint8)
        mean = np.array(cv2.mean(roi, covered)[:3]) if covered.any() else np.full(3, 150.0)
        bright = float(np.clip(0.45 + 0.55 * (mean @ [0.299, 0.587, 0.114]) / 150, 0.6, 1.08))
        layer = col * shade[..., None] * np.float32(bright)
        layer += rng.standard_normal((*hard.shape, 1)).astype(np.float32) * 2.5
        out_layer = np.zeros((h, w, 3), np.float32)
        out_alpha = np.zeros((h, w), np.float32)
        out_layer[y0:y1, x0:x1] = np.clip(layer, 0, 255)
        out_alpha[y0:y1, x0:x1] = alpha
        return finish(image, out_layer, out_alpha, p, self.name, kind, params)
