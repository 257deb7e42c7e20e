"""Photo effects of the synthetic scenes: colour and lighting, grey, blur, low resolution,
sensor noise and JPEG, at the scene's native resolution."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from unmask.scenes.composite import SceneConfig


def degrade(img: np.ndarray, rng: np.random.Generator, cfg: SceneConfig) -> np.ndarray:
    """Photo effects on an RGB uint8 photo: colour and lighting (one per-channel lookup
    table), grey, blur (Gaussian or motion), low resolution, sensor noise, JPEG. Returns uint8
    RGB of the same size."""
    h, w = img.shape[:2]
    x = img
    if cfg.colour > 0:
        c = cfg.colour
        v = np.arange(256, dtype=np.float32)[:, None]
        gain = rng.uniform(1 - c, 1 + c) * (1 + rng.uniform(-c / 3, c / 3, 3)).astype(np.float32)
        mean = float(x[::8, ::8].mean())
        lut = (v * gain - mean) * rng.uniform(1 - c, 1 + c) + mean
        lut = 255 * (np.clip(lut, 0, 255) / 255) ** np.exp(rng.uniform(-c, c))
        lut = np.clip(lut + 0.5, 0, 255).astype(np.uint8)
        x = cv2.LUT(x, lut[:, None, :].reshape(256, 1, 3))
    if rng.random() < cfg.gray:
        x = cv2.cvtColor(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    if rng.random() < cfg.blur:
        if rng.random() < 0.7:
            x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 0.006 * max(h, w) + 1))
        else:
            k = int(rng.integers(3, max(4, int(0.02 * max(h, w)) + 4)))
            kern = np.zeros((k, k), np.float32)
            kern[k // 2] = 1.0 / k
            rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1)
            kern = cv2.warpAffine(kern, rot, (k, k))
            x = cv2.filter2D(x, -1, kern / max(float(kern.sum()), 1e-6))
    if rng.random() < cfg.lowres and min(h, w) > 24:
        f = rng.uniform(0.15, 0.5)
        small = cv2.resize(
            x, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA
        )
        inter = cv2.INTER_NEAREST if rng.random() < 0.3 else cv2.INTER_LINEAR
        x = cv2.resize(small, (w, h), interpolation=inter)
    if rng.random() < cfg.noise:
        noise = rng.standard_normal(x.shape, dtype=np.float32) * rng.uniform(2, 12)
        x = np.clip(x + noise + 0.5, 0, 255).astype(np.uint8)
    if rng.random() < cfg.jpeg:
        ok, buf = cv2.imencode(".jpg", x, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 90))])
        if ok:
            x = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return np.ascontiguousarray(x)
