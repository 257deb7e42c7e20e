"""The detector's score threshold and small-face rule, chosen on validation pictures."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from unmask.metrics.detection import (
    Predict,
    collect,
    face_counts,
    negatives_metrics,
    synthetic_metrics,
)

log = logging.getLogger(__name__)


#: score thresholds tried at promotion
GRID = np.round(np.arange(0.2, 0.9001, 0.025), 3)


def choose_threshold(
    predict: Predict,
    scenes: Sequence,
    negatives: Sequence[np.ndarray],
    max_fp: float = 0.05,
    min_recall: float | None = None,
    input_size: int = 320,
    small: Sequence[tuple[float, float]] = ((0.0, 0.0),),
) -> tuple[float, dict]:
    """Choose the score threshold (0.2-0.9 in steps of 0.025) and the small-face rule on
    validation pictures.

    Each ``(side, penalty)`` of ``small`` is tried (see
    :func:`~unmask.detection.decode.small_face_penalty`). Without ``min_recall``, each rule gets
    its lowest threshold with at most ``max_fp`` false faces per face-free picture and the rule
    with the highest recall there wins. With ``min_recall``, the pair of rule and threshold
    clears both bars (recall >= ``min_recall``, false faces <= ``max_fp``) by the most
    standard errors: the larger ``min(z_recall, z_false_faces)`` (see :func:`bars_margin`; the
    false-face error from the per-picture counts), so neither figure sits at its bar while the
    other has room to spare. Ties keep the earlier rule and threshold.

    Returns:
        The threshold and the validation metrics there, with the chosen ``small_side`` and
        ``small_penalty`` (and with ``min_recall`` the ``bars_margin`` reached).
    """
    pos = collect(predict, [s.image for s in scenes])
    neg = collect(predict, negatives)
    pos_shapes = [s.image.shape for s in scenes]
    neg_shapes = [n.shape for n in negatives]
    faces = sum(len(s.boxes) for s in scenes)
    best: tuple | None = None
    for side, penalty in small:
        p = _penalised(pos, pos_shapes, input_size, side, penalty)
        n = _penalised(neg, neg_shapes, input_size, side, penalty)
        for t in (float(v) for v in GRID):
            fp = negatives_metrics(n, negatives, (t,))[f"neg_fp_per_image_{t}"]
            if min_recall is None and fp > max_fp:
                continue
            recall = synthetic_metrics(p, scenes, (t,), breakdown=False)[f"recall_{t}"]
            if min_recall is None:
                key = (recall, -fp)
            else:
                counts = face_counts(n, t)
                margin = bars_margin(recall, faces, fp, len(negatives), min_recall, max_fp, counts)
                key = (margin,)
            if best is None or key > best[0]:
                best = (key, t, side, penalty, p, n)
            if min_recall is None:
                break
    if best is None:  # no rule reaches max_fp: the strictest threshold, no small-face rule
        best = (None, float(GRID[-1]), 0.0, 0.0, pos, neg)
    best_key, thr, side, penalty, p, n = best
    res = synthetic_metrics(p, scenes, (thr,))
    res.update(negatives_metrics(n, negatives, (thr,)))
    res.pop("breakdown", None)
    res.update(small_side=side, small_penalty=penalty)
    if min_recall is not None:  # every pair was scored: best_key holds the margin reached
        res["bars_margin"] = round(best_key[0], 3)
    log.info("score threshold %.3f, small faces (%s, %s): %s", thr, side, penalty, res)
    return thr, res


def _penalised(got: dict, shapes: Sequence, input_size: int, side: float, penalty: float) -> dict:
    """:func:`collect` output with the small-face penalty applied, re-sorted by score."""
    from unmask.detection.decode import small_face_penalty

    preds = []
    for (b, s, k), shape in zip(got["preds"], shapes, strict=True):
        s = small_face_penalty(b, s, shape, input_size, side, penalty)
        order = np.argsort(-s, kind="stable")
        preds.append((b[order], s[order], k[order]))
    return {"preds": preds, "ms": got["ms"]}


def bars_margin(
    recall: float,
    faces: int,
    fp: float,
    pictures: int,
    min_recall: float,
    max_fp: float,
    counts: Sequence[int] | None = None,
) -> float:
    """How many standard errors the weaker of the two figures clears its bar by (binomial
    error for recall over ``faces``, Poisson error for the false-face count, or with the
    per-picture false-face ``counts`` their own spread where it is wider: false faces cluster
    on a few pictures, and then the Poisson error is too small)."""
    se_recall = np.sqrt(max(recall * (1 - recall), 1e-4) / max(faces, 1))
    var = fp
    if counts is not None and len(counts) > 1:
        var = max(var, float(np.var(np.asarray(counts, np.float64), ddof=1)))
    se_fp = np.sqrt(max(var * pictures, 1.0)) / max(pictures, 1)
    return float(min((recall - min_recall) / se_recall, (max_fp - fp) / se_fp))
