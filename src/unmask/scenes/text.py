"""Printed text for detector scenes.

Pages, signs, captions and screens are common in photos, and at a few pixels a letter ``o``
between two dots looks like a tiny face to a detector that has never seen text. This draws
a block of random characters (several OpenCV fonts, 5-40 px letters, on paper at times) onto
a scene's float32 canvas.
"""

from __future__ import annotations

import cv2
import numpy as np

FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_PLAIN,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_COMPLEX_SMALL,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
)
CHARS = np.array(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;()=_-'!?%o")
)


def draw_text(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Draw a block of text lines in place on ``canvas`` (``H x W x 3`` float32, 0-255 RGB)."""
    h, w = canvas.shape[:2]
    bw, bh = max(8, int(w * rng.uniform(0.3, 1.0))), max(8, int(h * rng.uniform(0.2, 1.0)))
    bw, bh = min(bw, w), min(bh, h)
    x0, y0 = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
    region = canvas[y0 : y0 + bh, x0 : x0 + bw]
    if rng.random() < 0.5:  # paper or a sign
        region[:] = rng.uniform(170, 255) + rng.normal(0, 8, 3)
        ink = rng.uniform(0, 80, 3)
    else:
        ink = rng.uniform(0, 255, 3) if rng.random() < 0.5 else 255 - region.mean((0, 1))
    block = np.clip(region + 0.5, 0, 255).astype(np.uint8)  # putText draws on uint8 only
    font = int(FONTS[int(rng.integers(len(FONTS)))]) | (
        cv2.FONT_ITALIC if rng.random() < 0.2 else 0
    )
    char_h = float(np.exp(rng.uniform(np.log(5), np.log(40))))
    thick = 1 if char_h < 14 else int(rng.integers(1, 4))
    scale = cv2.getFontScaleFromHeight(font, max(1, int(char_h)), thick)
    gap = char_h * rng.uniform(1.4, 2.2)
    per_line = max(1, int(bw / (0.6 * char_h)))
    colour = tuple(float(c) for c in np.clip(ink, 0, 255))
    y = char_h * rng.uniform(1.0, 1.5)
    while y < bh:
        line = "".join(rng.choice(CHARS, per_line))
        x = int(rng.uniform(0, 0.1) * bw)
        cv2.putText(block, line, (x, int(y)), font, scale, colour, thick, cv2.LINE_AA)
        y += gap
    region[:] = block
