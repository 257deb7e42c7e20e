"""Where a template mask goes on a face: the face's axes and size (:func:`face_box`), its yaw
(:func:`estimate_yaw`), and the six face-side points the template's anchors are mapped onto
(:func:`face_points`)."""

from __future__ import annotations

import numpy as np

from unmask.faces.landmarks import (
    CHIN,
    JAW_HALF_LEFT,
    JAW_HALF_RIGHT,
    JAW_LEFT,
    JAW_RIGHT,
    NOSE_BASE,
    NOSE_BRIDGE,
    NOSE_TIP,
    UPPER_LIP_MID,
    check_landmarks,
    face_frame,
)


def face_box(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The :func:`~unmask.faces.landmarks.face_frame` axes ``u`` (eye line) and ``v`` (down,
    float32), and the face's width and height along them."""
    f = face_frame(lm)
    u, v = f.u, f.v.astype(np.float32)
    width = max(float((lm[JAW_RIGHT] - lm[JAW_LEFT]) @ u), f.eye_dist, 1.0)
    height = max(float((lm[CHIN] - lm[NOSE_BRIDGE]) @ v), 0.5 * width)
    return u, v, width, height


def _jaw_at(lm: np.ndarray, v: np.ndarray, level: float, right: bool) -> np.ndarray:
    """Point of one jaw half (0-8 or 16-8) at ``level`` along ``v`` (measured from point 27)."""
    pts = lm[list(JAW_HALF_RIGHT)] if right else lm[list(JAW_HALF_LEFT)]
    s = np.maximum.accumulate((pts - lm[NOSE_BRIDGE]) @ v)
    if level <= s[0]:  # above the jaw's end: extend its first segment upward
        ds = s[1] - s[0]
        d = (pts[1] - pts[0]) / ds if ds > 1e-3 else -v
        return pts[0] + (level - s[0]) * d
    i = min(int(np.searchsorted(s, level)), len(s) - 1)
    if level >= s[i]:
        return pts[i].copy()
    t = (level - s[i - 1]) / max(s[i] - s[i - 1], 1e-6)
    return pts[i - 1] + t * (pts[i] - pts[i - 1])


def estimate_yaw(landmarks: np.ndarray) -> float:
    """Signed head yaw from landmarks, in about [-0.5, 0.5]; 0 = frontal.

    The nose tip's position between the two jaw sides at nose height, minus 0.5: negative when
    the nose points toward the image left.
    """
    lm = check_landmarks(landmarks)
    u, v, _, _ = face_box(lm)
    level = float((lm[NOSE_TIP] - lm[NOSE_BRIDGE]) @ v)
    lo, hi = (float(_jaw_at(lm, v, level, r) @ u) for r in (False, True))
    return float(np.clip((float(lm[NOSE_TIP] @ u) - lo) / max(hi - lo, 1e-6), 0, 1)) - 0.5


def face_points(
    landmarks: np.ndarray,
    anchors: np.ndarray | None = None,
    top: float = 0.45,
    drop: float = 0.02,
    out: float = 0.02,
    grow: int = 0,
    nose_out: float | None = None,
) -> np.ndarray:
    """Six face-side targets ``a`` ... ``f`` (``(6, 2)`` float32 pixel xy) for a template.

    ``b`` sits on the nose bridge, ``e`` below the chin; ``a, c, d, f`` lie on the jaw (pushed
    out by ``out``) at the heights the template's own anchors have between its ``b`` and ``e``,
    so the homography keeps the template's shape (default: MaskTheFace's nose-tip and lower-lip
    heights).

    Args:
        landmarks: ``(68, 2)`` pixel xy.
        anchors: ``(6, 2)`` template anchors, only their heights are used.
        top: where ``b`` sits on the nose bridge, 0 = point 27, 1 = nose tip (point 30).
        drop: how far ``e`` lies below point 8, in face heights.
        out: how far the side points lie outside the jaw, in face widths.
        grow: retry step; each step enlarges the mask downward, outward and upward.
        nose_out: ``None`` for a mask over the nose, else ``b``'s position between the nose
            bottom (point 33, 0) and the upper lip (point 51, 1).
    """
    lm = check_landmarks(landmarks)
    u, v, fw, fh = face_box(lm)
    if nose_out is None:
        b = lm[NOSE_BRIDGE] + max(top - 0.12 * grow, 0.05) * (lm[NOSE_TIP] - lm[NOSE_BRIDGE])
    else:
        b = lm[NOSE_BASE] + nose_out * max(1 - 0.4 * grow, 0.0) * (
            lm[UPPER_LIP_MID] - lm[NOSE_BASE]
        )
    e = lm[CHIN] + (drop + 0.04 * grow) * fh * v
    lb, le = float((b - lm[NOSE_BRIDGE]) @ v), float((e - lm[NOSE_BRIDGE]) @ v)
    if anchors is None:
        ratios = np.array([0.2, 0.2, 0.67, 0.67])
    else:
        ay = np.asarray(anchors, np.float32)[:, 1]
        ratios = (ay[[0, 2, 3, 5]] - ay[1]) / max(float(ay[4] - ay[1]), 1e-3)
    ratios = ratios * np.array([1 - 0.4 * grow] * 2 + [1] * 2)  # retries raise a and c
    side = (out + 0.03 * grow) * fw * u
    a, c, d, f = (
        _jaw_at(lm, v, lb + r * (le - lb), right) + (side if right else -side)
        for r, right in zip(ratios, (False, True, False, True), strict=True)
    )
    return np.stack([a, b, c, d, e, f]).astype(np.float32)
