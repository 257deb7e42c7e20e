"""Drawing primitives of the mask engines: a face's coordinate frame, smooth closed outlines,
anti-aliased filling that provably covers required landmarks, and fast wide blurs. Coordinates
are pixel xy; maps are ``h x w`` float32 or uint8."""

from __future__ import annotations

import logging

import cv2
import numpy as np

from unmask.faces.landmarks import JAW_LEFT, JAW_RIGHT, NOSE_BRIDGE, face_frame

log = logging.getLogger(__name__)


def chaikin(pts: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Smooth a closed polygon ``(N, 2)`` by Chaikin corner cutting (``N * 2**iterations``)."""
    for _ in range(iterations):
        nxt = np.roll(pts, -1, axis=0)
        pts = np.stack([0.75 * pts + 0.25 * nxt, 0.25 * pts + 0.75 * nxt], 1).reshape(-1, 2)
    return pts


def face_coords(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Origin (the nose bridge), ``2 x 2`` rotation with columns (u, v) of the
    :func:`~unmask.faces.landmarks.face_frame`, and the face size in pixels."""
    f = face_frame(p)
    rot = np.stack([f.u, f.v], 1)
    size = max(float(np.hypot(*(p[JAW_RIGHT] - p[JAW_LEFT]))), 1.8 * f.eye_dist, 4.0)
    return p[NOSE_BRIDGE].copy(), rot, size


def blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a float32 map; wide blurs run on a downsampled copy (same result shape)."""
    f = int(sigma // 3)
    if f < 2:
        return cv2.GaussianBlur(a, (0, 0), sigma)
    h, w = a.shape[:2]
    small = cv2.resize(a, (-(-w // f), -(-h // f)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / f)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def rasterise(outline: np.ndarray, need: np.ndarray, sigma: float, shape: tuple[int, int]):
    """Fill the outline (px in the box) and return (hard uint8 0/255, feathered alpha float32).

    The hull of the required points ``need`` and discs around them are filled too, grown until
    every required point inside the box has ``alpha > 0.5``.
    """
    hard = np.zeros(shape, np.uint8)
    fix = lambda a: np.round(np.asarray(a) * 16).astype(np.int32)  # noqa: E731
    cv2.fillPoly(hard, [fix(outline)], 255, cv2.LINE_AA, 4)
    cv2.fillPoly(hard, [cv2.convexHull(fix(need))], 255, cv2.LINE_AA, 4)
    ij = np.round(need).astype(int)
    inside = (ij[:, 0] >= 0) & (ij[:, 1] >= 0) & (ij[:, 0] < shape[1]) & (ij[:, 1] < shape[0])
    ij = ij[inside]
    for grow in (1.0, 2.0, 4.0, 8.0):
        for x, y in fix(need):
            radius = int((3 * sigma + 1) * grow * 16)
            cv2.circle(hard, (int(x), int(y)), radius, 255, -1, cv2.LINE_AA, 4)
        alpha = cv2.GaussianBlur(hard.astype(np.float32) / 255, (0, 0), sigma)
        if np.all(alpha[ij[:, 1], ij[:, 0]] > 0.5):
            return hard, alpha
        log.debug("procedural mask missed required points; enlarging the discs")
    raise RuntimeError("could not cover the required landmarks")  # unreachable in practice
