"""Binary mask metrics for the face-mask segmenter (numpy in, floats out).

Masks are ``H x W`` arrays, nonzero = face-mask pixel (the hole the inpainter fills).

* IoU and Dice of the predicted and true masks;
* boundary F-score: precision / recall of boundary pixels within ``tol`` pixels of the other
  mask's boundary (default tolerance 2 px at 128 px, scaled with the side);
* leftover rate: true mask pixels outside the prediction / true mask pixels (what would stay on
  the face after inpainting);
* extra area: predicted pixels outside the true mask / true mask pixels (what the inpainter
  rebuilds needlessly).

Per-image values are averaged over images ("mean") and also computed from pixel counts summed
over all images ("pooled"). Images whose true mask is empty have no leftover rate or extra area
(NaN, left out of the means).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: Keys of :func:`mask_metrics`.
KEYS = ("iou", "dice", "bf", "leftover", "extra_area")


def boundary_tolerance(size: int) -> float:
    """Default boundary tolerance in pixels for a crop of side ``size`` (2 px at 128)."""
    return 2.0 * size / 128


def boundary(mask: np.ndarray) -> np.ndarray:
    """Inner boundary of a binary mask: mask pixels with a 4-neighbour outside (or on the image
    edge). Returns bool ``H x W``."""
    m = np.asarray(mask) > 0
    p = np.pad(m, 1, constant_values=False)
    inner = p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return m & ~inner


def _distance_to(points: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest ``True`` pixel of ``points``."""
    import cv2

    if not points.any():
        return np.full(points.shape, np.inf, np.float32)
    return cv2.distanceTransform((~points).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def boundary_f(pred: np.ndarray, true: np.ndarray, tol: float | None = None) -> float:
    """Boundary F-score with tolerance ``tol`` pixels (default :func:`boundary_tolerance`).

    1.0 when both masks are empty, 0.0 when exactly one is.
    """
    bp, bt = boundary(pred), boundary(true)
    if not bp.any() and not bt.any():
        return 1.0
    if not bp.any() or not bt.any():
        return 0.0
    tol = boundary_tolerance(max(np.shape(pred))) if tol is None else tol
    precision = float((_distance_to(bt)[bp] <= tol).mean())
    recall = float((_distance_to(bp)[bt] <= tol).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def counts(pred: np.ndarray, true: np.ndarray) -> tuple[int, int, int]:
    """``(true positives, false positives, false negatives)`` pixel counts."""
    p, t = np.asarray(pred) > 0, np.asarray(true) > 0
    if p.shape != t.shape:
        raise ValueError(f"mask shapes differ: {p.shape} vs {t.shape}")
    tp = int(np.count_nonzero(p & t))
    return tp, int(np.count_nonzero(p)) - tp, int(np.count_nonzero(t)) - tp


def _from_counts(tp: int, fp: int, fn: int) -> dict[str, float]:
    union, true = tp + fp + fn, tp + fn
    return {
        "iou": 1.0 if union == 0 else tp / union,
        "dice": 1.0 if union == 0 else 2 * tp / (2 * tp + fp + fn),
        "leftover": float("nan") if true == 0 else fn / true,
        "extra_area": float("nan") if true == 0 else fp / true,
    }


def mask_metrics(pred: np.ndarray, true: np.ndarray, tol: float | None = None) -> dict[str, float]:
    """All metrics of one image: ``iou``, ``dice``, ``bf``, ``leftover``, ``extra_area``."""
    out = _from_counts(*counts(pred, true))
    out["bf"] = boundary_f(pred, true, tol)
    return {k: out[k] for k in KEYS}


class MaskScores:
    """Accumulates per-image metrics and pixel counts; :meth:`summary` aggregates them.

    Args:
        boundary_f: also compute the boundary F-score (the slowest part).
        tol: boundary tolerance in pixels (default: scaled with the mask side).
    """

    def __init__(self, boundary_f: bool = True, tol: float | None = None) -> None:
        self.with_bf = boundary_f
        self.tol = tol
        self.rows: list[dict[str, float]] = []
        self.totals = np.zeros(3, np.int64)

    def add(self, pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
        """Score one ``H x W`` mask pair (or a batch ``N x H x W``); returns the last row."""
        pred, true = np.asarray(pred), np.asarray(true)
        if pred.ndim == 3:
            for p, t in zip(pred, true, strict=True):
                row = self.add(p, t)
            return row
        c = counts(pred, true)
        self.totals += c
        row = _from_counts(*c)
        if self.with_bf:
            row["bf"] = boundary_f(pred, true, self.tol)
        self.rows.append(row)
        return row

    def summary(self) -> dict[str, float]:
        """Means over images (``<key>``) and pooled pixel-count values (``<key>_pooled``), plus
        the number of images ``n``."""
        out: dict[str, float] = {"n": len(self.rows)}
        if not self.rows:
            return out
        for k in self.rows[0]:
            vals = np.array([r[k] for r in self.rows], np.float64)
            out[k] = float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan")
        for k, v in _from_counts(*(int(x) for x in self.totals)).items():
            out[f"{k}_pooled"] = v
        return out


def summarize(
    pairs: Iterable[tuple[np.ndarray, np.ndarray]],
    boundary_f: bool = True,
    tol: float | None = None,
) -> dict[str, float]:
    """:meth:`MaskScores.summary` over ``(pred, true)`` pairs."""
    scores = MaskScores(boundary_f, tol)
    for p, t in pairs:
        scores.add(p, t)
    return scores.summary()
