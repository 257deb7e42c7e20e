"""Procedural pictures: colour ramps, smooth value noise, random shapes, stripes and blurred
skin tones, used as backgrounds and to colour distractor objects.

Pictures are RGB, ``uint8`` from :func:`procedural` and float32 0-255 elsewhere, and draw their
randomness only from the ``numpy.random.Generator`` they are given, so a seed reproduces a
picture. :func:`procedural` also draws, when asked by kind, the natural textures of
:mod:`unmask.scenes.textures`.
"""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

_SKIN = (
    (224, 188, 160),
    (198, 150, 120),
    (160, 114, 84),
    (112, 76, 54),
    (240, 208, 186),
    (182, 134, 106),
    (90, 60, 44),
)


def _colour(rng: np.random.Generator) -> np.ndarray:
    """A random colour (any hue, saturation up to 0.9), float32 RGB 0-255."""
    h, s, v = rng.random(), rng.uniform(0, 0.9), rng.uniform(0.1, 1.0)
    return np.array(colorsys.hsv_to_rgb(h, s, v), np.float32) * 255


def skin_colour(rng: np.random.Generator) -> np.ndarray:
    """A jittered skin tone, float32 RGB 0-255."""
    base = np.array(_SKIN[rng.integers(len(_SKIN))], np.float32)
    return np.clip(base * rng.uniform(0.85, 1.1) + rng.normal(0, 8, 3), 0, 255)


def value_noise(rng: np.random.Generator, h: int, w: int, octaves: int = 5) -> np.ndarray:
    """Smooth multi-octave noise, float32 ``h x w`` in [0, 1]."""
    out = np.zeros((h, w), np.float32)
    start = int(rng.integers(1, 4))
    for k in range(octaves):
        g = 2 ** (start + k) + 1
        grid = rng.random((g, g)).astype(np.float32)
        out += cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC) / 2**k
    out -= out.min()
    return out / max(float(out.max()), 1e-6)


def _ramp(rng, h: int, w: int) -> np.ndarray:
    """Linear ramp in a random direction, float32 ``h x w`` in [0, 1]."""
    ang = rng.uniform(0, 2 * np.pi)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    t = x * np.cos(ang) + y * np.sin(ang)
    t -= t.min()
    return t / max(float(t.max()), 1e-6)


def _lerp(t: np.ndarray, colours: list[np.ndarray]) -> np.ndarray:
    """Map ``t`` in [0, 1] through a colour ramp: float32 ``h x w x 3``."""
    pos = t * (len(colours) - 1)
    i = np.clip(pos.astype(int), 0, len(colours) - 2)
    f = (pos - i)[..., None]
    c = np.stack(colours)
    return c[i] * (1 - f) + c[i + 1] * f


def procedural(rng: np.random.Generator, h: int, w: int, kind: str | None = None) -> np.ndarray:
    """A procedural picture: ``gradient``, ``noise``, ``shapes``, ``stripes`` or ``skin``
    (one at random when ``kind`` is ``None``), or, only when asked for, a natural texture of
    :data:`unmask.scenes.textures.KINDS`.

    Drawn at most 256 px on the longer side, then resized. Returns ``h x w x 3`` uint8 RGB.
    """
    f = 256 / max(h, w)
    if f < 1:
        small = procedural(rng, max(4, int(h * f)), max(4, int(w * f)), kind)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    kind = kind or str(rng.choice(["gradient", "noise", "shapes", "stripes", "skin"]))
    from unmask.scenes import textures

    if kind in textures.KINDS:
        img = textures.texture(rng, h, w, kind)
    elif kind == "gradient":
        img = _lerp(_ramp(rng, h, w), [_colour(rng), _colour(rng)])
        img += rng.normal(0, rng.uniform(0, 6), (h, w, 1)).astype(np.float32)
    elif kind == "noise":
        img = _lerp(value_noise(rng, h, w), [_colour(rng) for _ in range(int(rng.integers(2, 4)))])
    elif kind == "stripes":
        period = rng.uniform(4, max(8, min(h, w) / 3))
        t = _ramp(rng, h, w) * max(h, w) / period
        wave = 0.5 + 0.5 * np.sin(2 * np.pi * t)
        if rng.random() < 0.4:
            wave = wave * (0.5 + 0.5 * np.sin(2 * np.pi * _ramp(rng, h, w) * max(h, w) / period))
        img = _lerp(wave.astype(np.float32), [_colour(rng), _colour(rng)])
    elif kind == "skin":
        shade = 0.55 + 0.6 * value_noise(rng, h, w, 3)
        img = skin_colour(rng) * shade[..., None]
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(1, 6))
    else:
        img = _lerp(value_noise(rng, h, w, 3), [_colour(rng), _colour(rng)])
        draw_shapes(img, rng, int(rng.integers(4, 40)))
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def draw_shapes(img: np.ndarray, rng: np.random.Generator, n: int) -> None:
    """Draw ``n`` random filled ellipses, rectangles, polygons and lines into ``img`` (float)."""
    h, w = img.shape[:2]
    s = min(h, w)
    for _ in range(n):
        col = tuple(float(c) for c in (skin_colour(rng) if rng.random() < 0.2 else _colour(rng)))
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        r = rng.uniform(0.02, 0.3, 2) * s
        k = rng.integers(4)
        if k == 0:
            ax = (max(int(r[0]), 1), max(int(r[1]), 1))
            cv2.ellipse(img, c, ax, rng.uniform(0, 180), 0, 360, col, -1, cv2.LINE_AA)
        elif k == 1:
            cv2.rectangle(img, c, (int(c[0] + r[0]), int(c[1] + r[1])), col, -1)
        elif k == 2:
            pts = (np.array(c) + rng.normal(0, r[0], (int(rng.integers(3, 7)), 2))).astype(np.int32)
            cv2.fillPoly(img, [pts], col, cv2.LINE_AA)
        else:
            end = (int(c[0] + rng.normal(0, r[0] * 2)), int(c[1] + rng.normal(0, r[1] * 2)))
            cv2.line(img, c, end, col, int(rng.integers(1, max(2, s // 40))), cv2.LINE_AA)
