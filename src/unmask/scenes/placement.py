"""Where and how a face goes into a composite scene: photo aspect ratios, the similarity that
places a face box, a sideways squeeze, area prescaling before a large shrink, the feathered
alphas of a pasted head or photo, and box overlap. Boxes are xyxy pixels; matrices ``2 x 3``."""

from __future__ import annotations

import cv2
import numpy as np


def photo_aspect(rng: np.random.Generator) -> float:
    """Photo width / height: mostly portrait, some square, some landscape."""
    u = rng.random()
    return (
        rng.uniform(0.6, 0.85)
        if u < 0.5
        else rng.uniform(0.85, 1.15)
        if u < 0.8
        else rng.uniform(1.15, 1.7)
    )


def similarity(box: np.ndarray, width: float, angle_deg: float, centre: np.ndarray) -> np.ndarray:
    """``2 x 3`` similarity taking the centre of ``box`` to ``centre``, its width to ``width``
    and rotating by ``angle_deg``."""
    s = width / max(float(box[2] - box[0]), 1e-3)
    a = np.deg2rad(angle_deg)
    rot = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    c = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    return np.hstack([rot, (centre - rot @ c)[:, None]])


def squeeze(m: np.ndarray, sx: float, centre: np.ndarray) -> np.ndarray:
    """``m`` followed by a horizontal scale ``sx`` about ``centre`` (output pixels)."""
    if sx == 1.0:
        return m
    s = np.array([[sx, 0.0, centre[0] * (1 - sx)], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    return (s @ np.vstack([m, [0.0, 0.0, 1.0]]))[:2]


def prescale(img: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shrink ``img`` with area averaging when ``m`` downsizes by more than 2x (no aliasing);
    returns the image and the matrix adjusted to it."""
    s = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if s >= 0.5:
        return img, m
    f = min(1.0, 2 * s)
    small = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    fx, fy = small.shape[1] / img.shape[1], small.shape[0] / img.shape[0]
    back = np.array([[1 / fx, 0, (1 / fx - 1) / 2], [0, 1 / fy, (1 / fy - 1) / 2], [0, 0, 1]])
    return small, m @ back


def affine_box(box: np.ndarray, m_src: np.ndarray, m_full: np.ndarray) -> np.ndarray:
    """``box`` (full-resolution source pixels) in the pixels of the prescaled source."""
    inv = np.linalg.inv(np.vstack([m_src, [0, 0, 1]])) @ np.vstack([m_full, [0, 0, 1]])
    pts = np.array([[box[0], box[1]], [box[2], box[3]]]) @ inv[:2, :2].T + inv[:2, 2]
    return pts.reshape(-1)


def head_alpha(shape: tuple[int, int], box: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Feathered alpha ``h x w`` float32: an ellipse around the face box (hair, neck partly in),
    or at times a hard-edged rectangle (a photo in the photo)."""
    h, w = shape
    bw, bh = box[2] - box[0], box[3] - box[1]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    alpha = np.zeros((h, w), np.float32)
    if rng.random() < 0.2:
        f = rng.uniform(1.1, 1.6)
        p0 = (int(cx - f * bw / 2), int(cy - f * bh / 2))
        p1 = (int(cx + f * bw / 2), int(cy + f * bh / 2))
        cv2.rectangle(alpha, p0, p1, 1.0, -1)
        return alpha
    ax = (max(1, int(bw * rng.uniform(0.55, 0.8))), max(1, int(bh * rng.uniform(0.6, 0.85))))
    centre = (int(cx), int(cy - bh * rng.uniform(0.0, 0.12)))
    cv2.ellipse(alpha, centre, ax, 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    return cv2.GaussianBlur(alpha, (0, 0), max(0.5, bw * rng.uniform(0.02, 0.12)))


def edge_alpha(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Alpha ``h x w`` float32: 1 inside, fading to 0 over a few percent at the borders."""
    h, w = shape
    k = max(1.0, min(h, w) * rng.uniform(0.01, 0.06))
    ry = np.clip((np.minimum(np.arange(h), h - 1 - np.arange(h)) + 0.5) / k, 0, 1)
    rx = np.clip((np.minimum(np.arange(w), w - 1 - np.arange(w)) + 0.5) / k, 0, 1)
    return (ry[:, None] * rx[None, :]).astype(np.float32)


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection of two xyxy boxes over the smaller one's area (a face pasted inside a
    larger one counts as overlapping)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(iw * ih / small) if small > 0 else 0.0
