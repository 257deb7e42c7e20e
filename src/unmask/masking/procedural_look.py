"""How a procedural mask looks: base colours per style, cloth patterns and the multiplicative
shading (light, pleats, seams, folds, rims). Colours are RGB, 0-255."""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

from unmask.masking.drawing import blur

PATTERNS = ("stripes", "dots", "checks", "floral")
#: RGB base colours per style (``plain`` draws a random colour instead).
PALETTES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "surgical": (
        (132, 184, 220),
        (96, 150, 206),
        (150, 206, 192),
        (236, 238, 240),
        (40, 42, 48),
        (232, 176, 196),
    ),
    "cloth": (
        (30, 30, 34),
        (236, 236, 232),
        (128, 128, 132),
        (38, 46, 84),
        (150, 32, 42),
        (196, 178, 150),
        (92, 104, 66),
        (72, 102, 150),
    ),
    "n95": ((238, 238, 232), (226, 224, 212), (178, 180, 182), (214, 206, 188)),
    "kn95": ((240, 240, 240), (34, 34, 38), (228, 230, 234), (236, 192, 202), (150, 160, 172)),
}


def base_colour(kind: str, rng) -> np.ndarray:
    """A jittered RGB base colour (float, 0-255) for a style."""
    if kind == "plain":
        rgb = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.1, 0.7), rng.uniform(0.2, 0.95))
        return np.array(rgb) * 255
    pal = PALETTES[kind]
    return np.clip(np.array(pal[rng.integers(len(pal))], float) + rng.normal(0, 5, 3), 0, 255)


def _stripes(coord: np.ndarray, period: float, duty: float = 0.0) -> np.ndarray:
    """Anti-aliased 0/1 stripes along ``coord`` (px) with the given period (px)."""
    wave = np.sin(coord * (2 * np.pi / period)) - duty
    return np.clip(0.5 + wave * (period / (2 * np.pi)), 0, 1)


def pattern(name: str, u, v, base, size: float, rng) -> np.ndarray:
    """Cloth pattern over face-frame pixel coordinates: the colour canvas ``h x w x 3`` float32."""
    second = np.array(PALETTES["cloth"][rng.integers(len(PALETTES["cloth"]))], float)
    if np.abs(second - base).sum() < 120:
        second = 255.0 - base
    g = size * rng.uniform(0.05, 0.11)
    if name == "stripes":
        ang = rng.choice([0.0, 0.5, 0.25, -0.25]) * np.pi + rng.normal(0, 0.05)
        m = _stripes(u * math.sin(ang) + v * math.cos(ang), g, rng.uniform(-0.5, 0.5))
    elif name == "dots":
        row = np.floor(v / g)
        du, dv = (u + (row % 2) * g / 2) % g - g / 2, v % g - g / 2
        m = np.clip(g * rng.uniform(0.15, 0.3) - np.sqrt(du * du + dv * dv) + 0.5, 0, 1)
    elif name == "checks":
        m = 0.5 * (_stripes(u, g) + _stripes(v, g))
    else:  # floral: random small flowers
        canvas = np.empty((*u.shape, 3), np.uint8)
        canvas[:] = np.round(base).astype(np.uint8)
        colours = [
            np.array(
                colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.3, 0.8), rng.uniform(0.6, 1.0))
            )
            * 255
            for _ in range(3)
        ]
        r = max(size * rng.uniform(0.016, 0.028), 1.0)
        n = int(u.size / (0.15 * size) ** 2) + 1
        for x, y, k in zip(
            rng.uniform(0, u.shape[1], n),
            rng.uniform(0, u.shape[0], n),
            rng.integers(0, 3, n),
            strict=True,
        ):
            col = tuple(int(c) for c in colours[k])
            for t in np.linspace(0, 2 * np.pi, 5, endpoint=False) + x:
                petal = (x + 1.4 * r * math.cos(t), y + 1.4 * r * math.sin(t))
                cv2.circle(
                    canvas,
                    (int(16 * petal[0]), int(16 * petal[1])),
                    int(16 * r),
                    col,
                    -1,
                    cv2.LINE_AA,
                    4,
                )
            cv2.circle(
                canvas, (int(16 * x), int(16 * y)), int(9 * r), (240, 210, 60), -1, cv2.LINE_AA, 4
            )
        return canvas.astype(np.float32)
    return (base * (1 - m[..., None]) + second * m[..., None]).astype(np.float32)


def shade(kind: str, un, vn, du, dv, hard, size: float, height: float, rng) -> np.ndarray:
    """Multiplicative shading ``h x w`` float32 (~0.6-1.2): light, wrap, folds, seams, wrinkles.

    ``un``/``vn``: position across / down the mask (-1..1 / 0..1); ``du``/``dv``: pixels from
    the centre line / the nose tip along the face axes.
    """
    ang = rng.uniform(0, 2 * np.pi)
    shade = 1 - rng.uniform(0.1, 0.25) * np.minimum(un * un, 1.5)
    shade += rng.uniform(0.03, 0.12) * (un * math.cos(ang) + (vn - 0.5) * math.sin(ang))
    nose = np.exp(-((du / (0.12 * size)) ** 2) - (dv / (0.15 * size)) ** 2)
    shade += rng.uniform(0.03, 0.08) * nose  # the mask tents over the nose
    shade *= 1 - rng.uniform(0.1, 0.25) * np.clip((vn - 0.7) / 0.3, 0, 1) ** 2  # under the chin
    edge = blur(hard.astype(np.float32) / 255, max(0.04 * size, 1.0))
    shade *= 1 - rng.uniform(0.1, 0.25) * (1 - edge)
    width = max(0.006 * size, 0.7)
    if kind == "surgical":  # three pleats that spread in the middle and converge at the sides
        vp = 0.5 + (vn - 0.5) / (1 - rng.uniform(0.2, 0.45) * np.minimum(un * un, 1))
        period = rng.uniform(0.15, 0.19)
        phase = (vp - (0.5 - 1.5 * period)) / period
        band = (phase > 0) & (phase < 3)
        fr = phase % 1
        px = period * height
        line = np.exp(-((np.minimum(fr, 1 - fr) * px / width) ** 2))
        shade *= 1 + band * (rng.uniform(0.1, 0.18) * (0.5 - fr) - 0.2 * line)
    elif kind in ("n95", "kn95", "cloth") and (kind != "cloth" or rng.random() < 0.5):
        seam = np.exp(-((du / width) ** 2))
        shade *= 1 - 0.18 * seam + 0.08 * np.exp(-(((du - 2 * width) / width) ** 2))
        if kind == "kn95":  # folded in half: one side lit, the other in shade
            shade *= 1 + rng.uniform(0.04, 0.1) * np.tanh(du / width) * float(rng.choice([-1, 1]))
        if kind == "n95":  # cup dome
            shade *= 1 - 0.12 * (vn - 0.45) ** 2
    if kind in ("kn95", "surgical", "n95"):  # welded / hemmed border
        rim = cv2.GaussianBlur(((hard > 127) & (edge > 0.8)).astype(np.float32), (0, 0), width)
        shade *= 1 - 0.08 * (edge > 0.5) * (1 - rim)
    gh, gw = hard.shape[0] // 16 + 2, hard.shape[1] // 16 + 2
    low = cv2.resize(
        rng.standard_normal((gh, gw)).astype(np.float32),
        hard.shape[::-1],
        interpolation=cv2.INTER_CUBIC,
    )
    return (shade * (1 + 0.012 * low)).astype(np.float32)
