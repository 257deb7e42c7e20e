"""Landmark error: NME normalised by the outer-eye-corner distance (points 36 and 45)."""

from __future__ import annotations

import numpy as np

from unmask.faces.landmarks import HIDDEN, OUTER_EYE_LEFT, OUTER_EYE_RIGHT, VISIBLE

GROUPS = {"all": tuple(range(68)), "hidden": HIDDEN, "visible": VISIBLE}


def nme_per_face(pred: np.ndarray, target: np.ndarray, points=tuple(range(68))) -> np.ndarray:
    """Mean point error of each face divided by its target's outer-eye-corner distance.

    Args:
        pred, target: ``N x 68 x 2`` pixel xy (any common scale).
        points: indices averaged over.
    Returns:
        ``N`` float64 NME values (fractions, not percent).
    """
    pred = np.asarray(pred, np.float64)
    target = np.asarray(target, np.float64)
    norm = np.linalg.norm(target[:, OUTER_EYE_LEFT] - target[:, OUTER_EYE_RIGHT], axis=1)
    idx = list(points)
    err = np.linalg.norm(pred[:, idx] - target[:, idx], axis=2).mean(1)
    return err / np.maximum(norm, 1e-6)


def nme_groups(pred: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """Mean NME over all points, the hidden group (jaw, nose, mouth) and the visible group."""
    return {k: float(nme_per_face(pred, target, v).mean()) for k, v in GROUPS.items()}
