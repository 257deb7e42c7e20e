"""Procedural face masks drawn from the 68 iBUG landmarks by our own code (no template files).

The outline is built in a face frame (``u`` towards the image-right eye, ``v`` towards the chin,
both in pixels): the top edge crosses the nose bridge (or sits between the nose tip and the upper
lip for a nose-out mask), the sides reach just beyond the jaw near the ears and the bottom passes
under the chin. Control points are smoothed with Chaikin corner cutting, filled anti-aliased and
feathered by a Gaussian blur of 1-3 px scaled with the face. Every mouth point (48-67) and, unless
the mask is deliberately worn under the nose, the nose (30-35) are covered by construction and
checked on the rasterised mask. All drawing happens in the mask's bounding box, so a 256 x 256
face takes well under 10 ms on one core. Colours are RGB.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import cv2
import numpy as np

from unmask.faces.landmarks import (
    EYE_IMAGE_LEFT,
    EYE_IMAGE_RIGHT,
    JAW,
    MOUTH,
    NOSE,
    NOSE_RIDGE,
    NOSE_TIP,
    UPPER_LIP_MID,
    UPPER_LIP_TOP,
    check_landmarks,
)
from unmask.masking.base import MaskedFace, finish
from unmask.masking.drawing import blur, chaikin, face_coords, rasterise
from unmask.masking.procedural_look import PATTERNS, base_colour, pattern
from unmask.masking.procedural_look import shade as shade_map

log = logging.getLogger(__name__)

KINDS = ("surgical", "cloth", "n95", "kn95", "plain")
_NOSE_PTS = (30, 31, 32, 33, 34, 35)


def _outline(q: np.ndarray, size: float, kind: str, nose_out: bool, rng):
    """Closed smooth outline ``(N, 2)`` and its two top corners, in face coordinates."""
    jaw = q[list(JAW)]
    tangent = np.gradient(jaw, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], 1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-6)
    normal *= np.where(((jaw - q[list(NOSE)].mean(0)) * normal).sum(1) < 0, -1.0, 1.0)[:, None]
    side = size * rng.uniform(0.01, 0.035 if kind == "n95" else 0.06)
    bottom = size * rng.uniform(0.03, 0.08)
    bump = np.sin(np.pi * np.arange(17) / 16) ** 2
    out = jaw + normal * (side + (bottom - side) * bump)[:, None]
    if kind in ("surgical", "cloth", "plain"):  # straighter sides, flatter bottom than the jaw
        k = rng.uniform(0.3, 0.6) if kind == "surgical" else rng.uniform(0.0, 0.3)
        side_u = np.where(np.arange(17) < 8, out[1, 0], out[15, 0])
        out[:, 0] += k * (1 - bump) * (side_u - out[:, 0])
        out[:, 1] += k * bump * (out[6:11, 1].max() - out[:, 1])
    if kind == "kn95":  # pointed chin
        out[7:10, 1] += size * rng.uniform(0.02, 0.05) * np.array([0.4, 1.0, 0.4])
    nose_v = q[list(NOSE_RIDGE), 1]
    if nose_out:
        lip = q[list(UPPER_LIP_TOP), 1].min()
        top = q[NOSE_TIP, 1] + (lip - q[NOSE_TIP, 1]) * rng.uniform(0.35, 0.6)
        top_u = 0.5 * (q[NOSE_TIP, 0] + q[UPPER_LIP_MID, 0])
        cheek_v = [top + size * rng.uniform(0.0, 0.03)] * 2
        first = 3
    else:
        top = nose_v[0] + (nose_v[3] - nose_v[0]) * rng.uniform(0.3, 0.62)
        top_u = float(np.interp(top, np.maximum.accumulate(nose_v), q[list(NOSE_RIDGE), 0]))
        dip = size * (rng.uniform(0.03, 0.07) if kind == "kn95" else rng.uniform(0.0, 0.03))
        gap = size * rng.uniform(0.03, 0.06)
        cheek_v = [
            max(top + dip, q[list(EYE_IMAGE_LEFT), 1].max() + gap),
            max(top + dip, q[list(EYE_IMAGE_RIGHT), 1].max() + gap),
        ]
        first = 3 if kind == "n95" else 2
    a = rng.uniform(0.0, 0.8)
    corners = [
        out[first - 1] + a * (out[first] - out[first - 1]),
        out[17 - first] + a * (out[16 - first] - out[17 - first]),
    ]
    cheeks = [
        np.array([q[list(EYE_IMAGE_LEFT), 0].mean(), cheek_v[0]]),
        np.array([q[list(EYE_IMAGE_RIGHT), 0].mean(), cheek_v[1]]),
    ]
    for c, ch, eye in zip(
        corners, cheeks, (q[list(EYE_IMAGE_LEFT)], q[list(EYE_IMAGE_RIGHT)]), strict=True
    ):
        c[1] = max(c[1], ch[1] - 0.03 * size, eye[:, 1].max() + 0.02 * size)  # below the eyes
    dup = 2 if kind == "surgical" else 1  # repeated corners stay sharper after smoothing
    pts = [
        np.array([top_u, top]),
        cheeks[1],
        *[corners[1]] * dup,
        *out[16 - first : first - 1 : -1],
        *[corners[0]] * dup,
        cheeks[0],
    ]
    return chaikin(np.array(pts)), corners


class ProceduralMasks:
    """Random procedural face masks (surgical, cloth, N95, KN95, plain) from 68 landmarks.

    Args:
        kinds: styles to draw from, a subset of :data:`KINDS`.
        weights: relative probability of each kind (default: uniform).
        nose_out_prob: probability that the mask is worn under the nose (0-0.15).
        loop_prob: probability of drawing ear loops.
        pattern_prob: probability that a cloth mask is patterned rather than plain.
        valve_prob: probability that an N95 mask has an exhalation valve.
        shadow_prob: probability of a soft shadow cast on the face below the mask edge.
    """

    name = "procedural"

    def __init__(
        self,
        kinds: Sequence[str] = KINDS,
        *,
        weights: Sequence[float] | None = None,
        nose_out_prob: float = 0.1,
        loop_prob: float = 0.7,
        pattern_prob: float = 0.6,
        valve_prob: float = 0.3,
        shadow_prob: float = 0.8,
    ) -> None:
        self.kinds = tuple(kinds)
        if not self.kinds or any(k not in KINDS for k in self.kinds):
            raise ValueError(f"kinds must be a non-empty subset of {KINDS}, got {kinds!r}")
        w = np.ones(len(self.kinds)) if weights is None else np.asarray(weights, float)
        if (
            w.shape != (len(self.kinds),)
            or not np.all(np.isfinite(w))
            or (w < 0).any()
            or w.sum() <= 0
        ):
            raise ValueError("weights must be one non-negative number per kind, not all zero")
        self.weights = w / w.sum()
        if not 0.0 <= nose_out_prob <= 0.15:
            raise ValueError(f"nose_out_prob must be in [0, 0.15], got {nose_out_prob}")
        for arg, val in (
            ("loop_prob", loop_prob),
            ("pattern_prob", pattern_prob),
            ("valve_prob", valve_prob),
            ("shadow_prob", shadow_prob),
        ):
            if not 0.0 <= val <= 1.0:
                raise ValueError(f"{arg} must be in [0, 1], got {val}")
        self.nose_out_prob, self.loop_prob = nose_out_prob, loop_prob
        self.pattern_prob, self.valve_prob, self.shadow_prob = pattern_prob, valve_prob, shadow_prob

    def apply(
        self, image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator
    ) -> MaskedFace:
        """Draw one random mask on ``image`` (``H x W x 3`` uint8 RGB) given ``(68, 2)`` xy.

        Returns a :class:`MaskedFace` whose ``params`` hold ``style``, ``color`` (RGB ints),
        ``pattern``, ``loops``, ``valve``, ``nose_out`` and ``shadow``. Raises ``ValueError`` for
        a malformed image or landmarks.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be H x W x 3 uint8, got {image.shape} {image.dtype}")
        p = check_landmarks(landmarks).astype(np.float64)
        h, w = image.shape[:2]
        kind = self.kinds[int(rng.choice(len(self.kinds), p=self.weights))]
        nose_out = bool(rng.random() < self.nose_out_prob)
        o, rot, size = face_coords(p)
        q = (p - o) @ rot
        outline_q, corners = _outline(q, size, kind, nose_out, rng)
        to_px = lambda pts: o + np.asarray(pts) @ rot.T  # noqa: E731
        outline = to_px(outline_q)
        need = list(MOUTH) + ([] if nose_out else list(_NOSE_PTS))
        sigma = float(np.clip(0.006 * size, 0.6, 2.0) * rng.uniform(0.8, 1.2))
        loops = bool(rng.random() < self.loop_prob)
        curves = _loops(q, corners, size, rng, to_px) if loops else []
        params = {
            "style": kind,
            "nose_out": nose_out,
            "loops": loops,
            "pattern": None,
            "valve": False,
            "shadow": False,
        }
        pad = 0.1 * size + 4 * sigma + 2
        allpts = np.concatenate([outline, p[need], *curves])
        x0, y0 = np.maximum(np.floor(allpts.min(0) - pad), 0).astype(int)
        x1, y1 = np.minimum(np.ceil(allpts.max(0) + pad), [w, h]).astype(int)
        base = base_colour(kind, rng)
        params["color"] = [int(round(c)) for c in base]
        if x1 <= x0 or y1 <= y0:  # the face lies outside the image
            zero = np.zeros((h, w), np.float32)
            return finish(image, np.zeros_like(image), zero, p, self.name, kind, params)
        off = np.array([x0, y0], float)
        hard, alpha = rasterise(outline - off, p[need] - off, sigma, (y1 - y0, x1 - x0))
        # face-frame coordinates (px) of every pixel in the box
        xs = np.arange(x0, x1, dtype=np.float32)[None] - np.float32(o[0])
        ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(o[1])
        ex, ey = rot[:, 0].astype(np.float32), rot[:, 1].astype(np.float32)
        u, v = xs * ex[0] + ys * ex[1], xs * ey[0] + ys * ey[1]
        lo, hi = outline_q.min(0), outline_q.max(0)
        un = (u - np.float32((lo[0] + hi[0]) / 2)) / np.float32(max((hi[0] - lo[0]) / 2, 1.0))
        vn = (v - np.float32(lo[1])) / np.float32(max(hi[1] - lo[1], 1.0))
        col = np.empty((*hard.shape, 3), np.float32)
        col[:] = base
        if kind == "cloth" and rng.random() < self.pattern_prob:
            params["pattern"] = PATTERNS[int(rng.integers(len(PATTERNS)))]
            col = pattern(params["pattern"], u, v, base, size, rng)
        # the centre line (nose bridge to chin) carries seams and creases
        slope = (q[8, 0] - q[28, 0]) / max(q[8, 1] - q[28, 1], 1.0)
        du = u - np.float32(q[28, 0]) - np.float32(slope) * (v - np.float32(q[28, 1]))
        shade = shade_map(
            kind, un, vn, du, v - np.float32(q[NOSE_TIP, 1]), hard, size, hi[1] - lo[1], rng
        )
        if kind == "n95" and rng.random() < self.valve_prob:
            params["valve"] = True
            c = (
                to_px(
                    [
                        [
                            q[NOSE_TIP, 0] + rng.choice([-1, 1]) * 0.16 * size,
                            lo[1] + 0.6 * (hi[1] - lo[1]),
                        ]
                    ]
                )[0]
                - off
            )
            c, r = tuple(np.round(c * 16).astype(int)), int(0.075 * size * 16)
            tone = float(rng.choice([60, 200, 235]))
            rim = (0.65 * tone if tone > 128 else tone + 70,) * 3
            thick = max(int(0.01 * size), 1)
            cv2.circle(col, c, r, (tone,) * 3, -1, cv2.LINE_AA, 4)
            cv2.circle(col, c, r, rim, thick, cv2.LINE_AA, 4)  # rim and inner cap
            cv2.circle(col, c, int(r * 0.6), rim, thick, cv2.LINE_AA, 4)
        roi = image[y0:y1, x0:x1]
        covered = (hard > 127).astype(np.uint8)
        mean = np.array(cv2.mean(roi, covered)[:3]) if covered.any() else np.full(3, 150.0)
        # match the mask to the photo: scale by the skin's luminance, tint by its colour cast
        tint = 1 + 0.25 * (np.clip(mean / max(mean.mean(), 1.0), 0.85, 1.15) - 1)
        bright = float(np.clip(0.45 + 0.55 * (mean @ [0.299, 0.587, 0.114]) / 150, 0.6, 1.08))
        layer = col * (tint * bright).astype(np.float32)
        layer *= shade[..., None]
        layer += rng.standard_normal((*hard.shape, 1), np.float32) * np.float32(rng.uniform(1.5, 4))
        if loops:
            loop_col = base if kind == "cloth" or base.mean() < 80 else np.full(3, 235.0)
            la = np.zeros(hard.shape, np.uint8)
            cv2.polylines(
                la,
                [np.round((c - off) * 16).astype(np.int32) for c in curves],
                False,
                255,
                max(int(round(0.012 * size)), 1),
                cv2.LINE_AA,
                4,
            )
            la = la.astype(np.float32) / 255
            layer[la > alpha] = loop_col * bright * 0.9
            alpha = np.maximum(alpha, la)
        img = image
        if rng.random() < self.shadow_prob:
            params["shadow"] = True
            shift = rot[:, 1] * size * rng.uniform(0.01, 0.03)
            moved = cv2.warpAffine(
                alpha, np.float32([[1, 0, shift[0]], [0, 1, shift[1]]]), alpha.shape[::-1]
            )
            cast = blur(moved, 0.025 * size) * np.float32(rng.uniform(0.2, 0.45))
            img = image.copy()
            img[y0:y1, x0:x1] = roi * (1 - cast * (1 - alpha))[..., None] + 0.5
        out_layer = np.zeros((h, w, 3), np.float32)
        out_alpha = np.zeros((h, w), np.float32)
        out_layer[y0:y1, x0:x1] = np.clip(layer, 0, 255)
        out_alpha[y0:y1, x0:x1] = alpha
        return finish(img, out_layer, out_alpha, p, self.name, kind, params)


def _loops(q, corners, size: float, rng, to_px) -> list[np.ndarray]:
    """Ear-loop curves (pixel ``(12, 2)`` arrays) from the mask's side corners to the ears."""
    curves = []
    t = np.linspace(0, 1, 12)[:, None]
    for s, jaw_top, jaw_low in ((-1, 0, 4), (1, 16, 12)):
        ear = q[jaw_top] + np.array([s * 0.05 * size, 0.3 * (q[2, 1] - q[0, 1])])
        for start in (corners[s > 0], q[jaw_low] + [s * 0.03 * size, 0]):
            ctrl = (start + ear) / 2 + [s * rng.uniform(0.02, 0.05) * size, 0]
            curves.append(to_px((1 - t) ** 2 * start + 2 * t * (1 - t) * ctrl + t * t * ear))
    return curves
