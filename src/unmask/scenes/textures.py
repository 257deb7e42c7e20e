"""Procedural stand-ins for busy natural surfaces: pebbles (gravel, beans, coins) and fur.

Small rounded blobs and stroke patterns are where the detector reports false faces on
face-free photos; these textures give training many such surfaces that scikit-image's few
sample photos do not. Drawn as float32 RGB 0-255 (``h x w x 3``), randomness only from the
``numpy.random.Generator`` given; :func:`unmask.scenes.patterns.procedural` resizes them.
"""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

#: Texture kinds :func:`texture` draws.
KINDS = ("pebbles", "fur")


def _earthy(rng: np.random.Generator) -> np.ndarray:
    """A colour of stone, soil, wood or fur (some saturated ones too), float32 RGB 0-255."""
    if rng.random() < 0.25:
        hue, sat = rng.random(), rng.uniform(0.2, 0.8)
    else:
        hue, sat = rng.uniform(0.02, 0.14), rng.uniform(0.0, 0.55)
    rgb = colorsys.hsv_to_rgb(hue, sat, rng.uniform(0.15, 0.95))
    return np.array(rgb, np.float32) * 255


def _base(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    from unmask.scenes.patterns import value_noise

    shade = 0.7 + 0.5 * value_noise(rng, h, w, 4)
    return _earthy(rng)[None, None] * shade[..., None]


def pebbles(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Densely packed shaded ellipses of 3-45 px with highlights, shadows and at times a
    dark groove (coffee beans), over a noisy base."""
    img = _base(rng, h, w)
    size = rng.uniform(4, 30)
    palette = [_earthy(rng) for _ in range(int(rng.integers(1, 5)))]
    n = int(min(4000, 1.6 * h * w / size**2))
    groove = rng.random() < 0.3
    for _ in range(n):
        a = max(1.5, size * rng.uniform(0.4, 1.5) / 2)
        ax = (int(a), max(1, int(a * rng.uniform(0.5, 1.0))))
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        ang = float(rng.uniform(0, 180))
        col = palette[int(rng.integers(len(palette)))] * rng.uniform(0.6, 1.3)
        off = max(1, ax[0] // 4)
        dark = tuple(float(v) for v in col * 0.45)
        cv2.ellipse(img, (c[0] + off, c[1] + off), ax, ang, 0, 360, dark, -1, cv2.LINE_AA)
        cv2.ellipse(img, c, ax, ang, 0, 360, tuple(float(v) for v in col), -1, cv2.LINE_AA)
        hi = (max(1, ax[0] // 3), max(1, ax[1] // 3))
        light = tuple(float(v) for v in np.minimum(col * 1.35 + 20, 255))
        cv2.ellipse(img, (c[0] - off, c[1] - off), hi, ang, 0, 360, light, -1, cv2.LINE_AA)
        if groove and ax[0] >= 4:
            t = np.deg2rad(ang)
            d = np.array([np.cos(t), np.sin(t)]) * ax[0] * 0.7
            p0, p1 = (np.array(c) - d).astype(int), (np.array(c) + d).astype(int)
            cv2.line(img, tuple(map(int, p0)), tuple(map(int, p1)), dark, 1, cv2.LINE_AA)
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.2))


def fur(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Many short strokes along a smooth flow field (fur, hair, grass), with darker and
    lighter patches as on a tabby coat."""
    from unmask.scenes.patterns import value_noise

    img = _base(rng, h, w)
    flow = value_noise(rng, h, w, 2) * 2 * np.pi * rng.uniform(0.3, 1.5) + rng.uniform(0, np.pi)
    patches = value_noise(rng, h, w, 3)
    col = _earthy(rng)
    length = rng.uniform(3, 16)
    n = int(min(5000, 2.0 * h * w / length))
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    for x, y, v in zip(xs, ys, rng.uniform(0.4, 1.5, n), strict=True):
        t = flow[y, x]
        d = np.array([np.cos(t), np.sin(t)]) * length * rng.uniform(0.5, 1.2)
        stroke = col * v * (0.5 + patches[y, x])
        end = (int(x + d[0]), int(y + d[1]))
        cv2.line(img, (int(x), int(y)), end, tuple(float(c) for c in stroke), 1, cv2.LINE_AA)
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.9))


def texture(rng: np.random.Generator, h: int, w: int, kind: str | None = None) -> np.ndarray:
    """A texture of ``kind`` (one of :data:`KINDS`, random when ``None``): float32 RGB 0-255."""
    kind = kind or str(rng.choice(KINDS))
    if kind not in KINDS:
        raise ValueError(f"unknown texture {kind!r}: use one of {KINDS}")
    return pebbles(rng, h, w) if kind == "pebbles" else fur(rng, h, w)
