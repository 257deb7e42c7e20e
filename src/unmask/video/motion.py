"""Motion of a face that an object partly covers: a robust similarity fit of a track's
reference landmarks onto measured ones, and the face region's sparse optical flow between
frames. In both, the covered points are the fit's outliers and the uncovered rest of the face
fixes the motion.

Coordinates are photo pixels (float xy); landmarks ``(68, 2)`` in iBUG order; boxes xyxy.
"""

from __future__ import annotations

import numpy as np


def rigid_fit(shape: np.ndarray, points: np.ndarray, threshold: float):
    """Robust similarity fit (RANSAC) of a track's reference ``shape`` onto measured
    ``points`` (both ``(68, 2)``).

    Returns:
        ``(fitted, share)``: ``shape`` moved by the fitted similarity, float32 ``(68, 2)``, and
        the share of points within ``threshold`` pixels of it. A face partly covered by an
        object gives a low share, while the uncovered points still fix the motion.
    """
    import cv2

    m, inliers = cv2.estimateAffinePartial2D(
        np.asarray(shape, np.float32),
        np.asarray(points, np.float32),
        method=cv2.RANSAC,
        ransacReprojThreshold=float(threshold),
    )
    if m is None:
        return np.asarray(points, np.float32), 0.0
    fitted = np.asarray(shape, np.float64) @ m[:, :2].T + m[:, 2]
    return fitted.astype(np.float32), float(inliers.mean())


def face_motion(
    prev: np.ndarray, grey: np.ndarray, box: np.ndarray, min_points: int = 12
) -> np.ndarray | None:
    """The similarity that moved the face in ``box`` from ``prev`` to ``grey``, from sparse
    optical flow (Shi-Tomasi corners tracked by pyramidal Lucas-Kanade, RANSAC fit).

    An object passing over part of the face moves differently from it, so its corners are
    the fit's outliers; the motion comes from the uncovered rest of the face.

    Args:
        prev, grey: consecutive ``H x W`` uint8 grey frames; box: xyxy region of the face on
            ``prev`` (grown by a fifth on each side); min_points: least corners tracked and
            agreeing with the fit.
    Returns:
        The ``2 x 3`` float64 ``prev -> grey`` similarity, or ``None`` when too few corners
        agree.
    """
    import cv2

    h, w = grey.shape
    x0, y0, x1, y1 = np.asarray(box, np.float64)
    gx, gy = 0.2 * (x1 - x0), 0.2 * (y1 - y0)
    region = np.zeros((h, w), np.uint8)
    xa, ya = max(int(x0 - gx), 0), max(int(y0 - gy), 0)
    xb, yb = min(int(x1 + gx) + 1, w), min(int(y1 + gy) + 1, h)
    if xb - xa < 8 or yb - ya < 8:
        return None
    region[ya:yb, xa:xb] = 1
    pts = cv2.goodFeaturesToTrack(prev, 200, 0.01, 3, mask=region)
    if pts is None or len(pts) < min_points:
        return None
    nxt, ok, _ = cv2.calcOpticalFlowPyrLK(prev, grey, pts, None, winSize=(15, 15), maxLevel=3)
    ok = ok.ravel() == 1
    if ok.sum() < min_points:
        return None
    m, inliers = cv2.estimateAffinePartial2D(
        pts[ok], nxt[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0
    )
    if m is None or int(inliers.sum()) < min_points:
        return None
    return m.astype(np.float64)
