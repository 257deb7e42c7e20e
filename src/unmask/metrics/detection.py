"""Detection metrics: box matching, recall and false faces per image on labelled scenes,
false faces on face-free pictures, and found-share / box-size statistics on unlabelled photos.

dlib boxes follow another convention than the canonical face box, so besides IoU 0.5 every
recall is also given as a convention-free *hit*: the detection's centre lies inside the true box
and the square roots of their areas differ by less than 2x.

A *predict* function maps ``(image uint8 H x W x 3 RGB, threshold)`` to ``(boxes (n, 4) xyxy,
scores (n,), keypoints (n, 5, 2))`` in photo pixels, sorted by score.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

Predict = Callable[[np.ndarray, float], tuple[np.ndarray, np.ndarray, np.ndarray]]
#: Face size bins (sqrt of box area, pixels at a 320-px letterbox) of the recall breakdown.
SIZE_BINS = ((0, 24), (24, 64), (64, 160), (160, 10**6))


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix ``(n, m)`` of xyxy boxes ``a (n, 4)`` and ``b (m, 4)``."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area = lambda x: np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None] - inter, 1e-9)


def hits(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Convention-free match ``(n, m)``: prediction centre inside the true box and
    sqrt-area ratio within [0.5, 2]."""
    pred, gt = np.asarray(pred).reshape(-1, 4), np.asarray(gt).reshape(-1, 4)
    cx, cy = (pred[:, 0] + pred[:, 2]) / 2, (pred[:, 1] + pred[:, 3]) / 2
    inside = (
        (cx[:, None] >= gt[None, :, 0])
        & (cx[:, None] <= gt[None, :, 2])
        & (cy[:, None] >= gt[None, :, 1])
        & (cy[:, None] <= gt[None, :, 3])
    )
    sp = np.sqrt(np.clip((pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1]), 1e-9, None))
    sg = np.sqrt(np.clip((gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1]), 1e-9, None))
    ratio = sp[:, None] / sg[None]
    return inside & (ratio >= 0.5) & (ratio <= 2.0)


def match(pred: np.ndarray, gt: np.ndarray, iou: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Greedy matching in prediction order (by score): ``(true positive per prediction,
    index of the matched prediction per true box or -1)``."""
    tp = np.zeros(len(pred), bool)
    owner = np.full(len(gt), -1)
    if len(pred) and len(gt):
        m = box_iou(pred, gt)
        for i in range(len(pred)):
            cand = np.where(owner < 0, m[i], -1)
            j = int(cand.argmax())
            if cand[j] >= iou:
                tp[i], owner[j] = True, i
    return tp, owner


def _clip(boxes: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    h, w = shape[:2]
    return np.clip(np.asarray(boxes, np.float32).reshape(-1, 4), 0, [w - 1, h - 1, w - 1, h - 1])


def collect(predict: Predict, images: Sequence[np.ndarray], threshold: float = 0.05) -> dict:
    """Run ``predict`` once per image at a low threshold; returns the predictions and the
    median milliseconds per image."""
    preds, times = [], []
    for img in images:
        t = time.perf_counter()
        preds.append(predict(img, threshold))
        times.append(time.perf_counter() - t)
    return {"preds": preds, "ms": 1000 * float(np.median(times)) if times else 0.0}


def synthetic_metrics(
    predict: Predict | dict, scenes: Sequence, thresholds=(0.3, 0.5), breakdown: bool = True
) -> dict:
    """Recall at IoU 0.5, hit recall and false faces per image on labelled scenes.

    Args:
        predict: a predict function, or the output of :func:`collect` on the scenes' images.
        scenes: :class:`~unmask.scenes.composite.Scene` objects (boxes may leave the photo; both
            sides are clipped to it).
    Returns:
        Flat keys ``recall_T``, ``hit_recall_T``, ``fp_per_image_T`` per threshold ``T``,
        ``kp_nme`` (mean keypoint error / sqrt(true box area) of IoU matches at the last
        threshold; ``None`` without keypoints),
        ``faces``, ``images``, ``ms``, and with ``breakdown`` also ``breakdown`` (recall at the
        last threshold by scene kind, mask and face size at a 320-px letterbox) and ``kp_nme``
        (without it, only the counts: a quick pass for threshold searches).
    """
    got = predict if isinstance(predict, dict) else collect(predict, [s.image for s in scenes])
    out: dict = {
        "images": len(scenes),
        "faces": int(sum(len(s.boxes) for s in scenes)),
        "ms": round(got["ms"], 1),
    }
    for t in thresholds:
        found = hit_found = fp = 0
        groups: dict[str, list[bool]] = {}
        errs = []
        for sc, (boxes, scores, kps) in zip(scenes, got["preds"], strict=True):
            keep = scores >= t
            pb, gt = _clip(boxes[keep], sc.image.shape), _clip(sc.boxes, sc.image.shape)
            tp, owner = match(pb, gt)
            found += int((owner >= 0).sum())
            fp += int((~tp).sum())
            hit_found += int(hits(pb, gt).any(0).sum()) if len(pb) else 0
            if not breakdown:
                continue
            side = np.sqrt((sc.boxes[:, 2] - sc.boxes[:, 0]) * (sc.boxes[:, 3] - sc.boxes[:, 1]))
            at320 = side * 320 / max(sc.image.shape[:2])
            for j, ok in enumerate(owner >= 0):
                label = next(_bin(b) for b in SIZE_BINS if b[0] <= at320[j] < b[1])
                for key in (sc.kind, "masked" if sc.masked[j] else "unmasked", label):
                    groups.setdefault(key, []).append(bool(ok))
                e = (
                    np.linalg.norm(kps[keep][owner[j]] - sc.keypoints[j], axis=-1).mean()
                    if ok
                    else np.nan
                )
                if np.isfinite(e):  # dlib baselines give no keypoints (NaN)
                    errs.append(e / max(side[j], 1e-6))
        n = max(out["faces"], 1)
        out[f"recall_{t}"] = round(found / n, 4)
        out[f"hit_recall_{t}"] = round(hit_found / n, 4)
        out[f"fp_per_image_{t}"] = round(fp / max(len(scenes), 1), 4)
        if not breakdown:
            continue
        out["kp_nme"] = round(float(np.mean(errs)), 4) if errs else None
        out["breakdown"] = {
            k: {"recall": round(float(np.mean(v)), 4), "faces": len(v)}
            for k, v in sorted(groups.items())
        }
    return out


def _bin(b: tuple[int, int]) -> str:
    return f"size_{b[0]}+" if b[1] >= 10**6 else f"size_{b[0]}-{b[1]}"


def negatives_metrics(
    predict: Predict | dict, images: Sequence[np.ndarray], thresholds=(0.3, 0.5)
) -> dict:
    """False faces per face-free image (``neg_fp_per_image_T``) and the share of those
    images with any (``neg_image_share_T``)."""
    got = predict if isinstance(predict, dict) else collect(predict, images)
    out: dict = {"neg_images": len(images), "neg_ms": round(got["ms"], 1)}
    for t in thresholds:
        counts = face_counts(got, t)
        out[f"neg_fp_per_image_{t}"] = round(float(counts.mean()), 4) if len(counts) else 0.0
        out[f"neg_image_share_{t}"] = round(float((counts > 0).mean()), 4) if len(counts) else 0.0
    return out


def face_counts(got: dict, threshold: float) -> np.ndarray:
    """Boxes scoring at least ``threshold`` per picture of :func:`collect` output: int ``(n,)``."""
    return np.array([int((s >= threshold).sum()) for _, s, _ in got["preds"]], np.int64)


def false_faces(got: dict, threshold: float, scales: Sequence[float] | None = None) -> list[dict]:
    """The face-free pictures with boxes at ``threshold``, from :func:`collect` output: per
    picture its ``image`` index, the number of ``boxes``, the ``max_score`` and the
    ``sides`` (sqrt of the box area in the picture's pixels, times the picture's entry of
    ``scales`` when given, e.g. to the detector's letterbox)."""
    out = []
    for i, (boxes, scores, _) in enumerate(got["preds"]):
        keep = scores >= threshold
        if keep.any():
            b = np.asarray(boxes)[keep]
            sides = np.sqrt(np.clip((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), 0, None))
            sides = sides * (scales[i] if scales is not None else 1.0)
            out.append(
                {
                    "image": i,
                    "boxes": int(keep.sum()),
                    "max_score": round(float(scores[keep].max()), 3),
                    "sides": [round(float(v), 1) for v in sides],
                }
            )
    return out


def real_photo_metrics(predict: Predict, images: Sequence[np.ndarray], threshold: float) -> dict:
    """Unlabelled photos that each show at least one (masked) face.

    Returns ``found_share`` (photos with a face at ``threshold``), ``area_ratio`` percentiles
    (top box clipped to the photo, / photo area), ``whole_photo_share`` (top box > 90 % of the
    photo), ``tiny_share`` (< 2 %), ``faces_per_photo`` and median ``ms``.
    """
    got = collect(predict, images, threshold)
    ratios, counts = [], []
    for img, (boxes, scores, _) in zip(images, got["preds"], strict=True):
        keep = scores >= threshold
        counts.append(int(keep.sum()))
        if keep.any():
            b = _clip(boxes[keep][:1], img.shape)[0]
            ratios.append((b[2] - b[0]) * (b[3] - b[1]) / (img.shape[0] * img.shape[1]))
    r = np.array(ratios)
    n = max(len(images), 1)
    return {
        "photos": len(images),
        "found_share": round(len(r) / n, 4),
        "area_ratio": {str(q): round(float(np.percentile(r, q)), 3) for q in (5, 25, 50, 75, 95)}
        if len(r)
        else {},
        "whole_photo_share": round(float((r > 0.9).sum()) / n, 4),
        "tiny_share": round(float((r < 0.02).sum()) / n, 4),
        "faces_per_photo": round(float(np.mean(counts)), 3),
        "ms": round(got["ms"], 1),
    }
