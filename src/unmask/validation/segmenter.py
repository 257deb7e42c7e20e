"""The segmenter's post-processing chosen on validation predictions, and the validation-set
helpers that training and evaluation share."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from unmask.metrics.masks import MaskScores
from unmask.stages.segment import PostParams, postprocess

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


def choose_postprocess(
    preds: dict[str, dict[str, np.ndarray]],
    thresholds: tuple[float, ...] = (0.5, 0.4, 0.3, 0.2),
    radii: tuple[int, ...] = tuple(range(0, 9)),
    leftover_max: float = 0.01,
    extra_max: float = 0.15,
) -> tuple[PostParams, dict]:
    """Pick threshold and dilation on validation predictions.

    Among the settings whose mean per-image leftover rate is at most ``leftover_max`` and
    mean extra area at most ``extra_max`` on *every* set, the one adding the least extra area
    (averaged over sets) wins, which for a given threshold is the smallest such radius. When
    none qualifies, the lowest worst-set leftover among settings within ``extra_max`` wins (or
    the lowest leftover overall). Radii are pixels at the predictions' side.

    Returns:
        ``(params, report)``; the report has the chosen setting's per-set leftover and extra
        area and whether both limits were met.
    """
    side = next(iter(preds.values()))["prob"].shape[-1]
    base = PostParams()
    min_px = int(round(base.min_area * side * side))
    table = []
    for t in thresholds:
        for r in radii:
            per = {}
            for name, p in preds.items():
                scores = MaskScores(boundary_f=False)
                scores.add(postprocess(p["prob"], t, r, base.fill_holes, min_px), p["mask"])
                s = scores.summary()
                per[name] = {
                    "leftover": s["leftover"],
                    "extra_area": s["extra_area"],
                    "leftover_pooled": s["leftover_pooled"],
                }
            worst = max(v["leftover"] for v in per.values())
            extra = max(v["extra_area"] for v in per.values())
            mean_extra = float(np.mean([v["extra_area"] for v in per.values()]))
            table.append((t, r, worst, extra, mean_extra, per))
    ok = [e for e in table if e[2] <= leftover_max and e[3] <= extra_max]
    within = [e for e in table if e[3] <= extra_max]
    if ok:
        best = min(ok, key=lambda e: (e[4], e[1]))
    else:
        best = min(within or table, key=lambda e: (e[2], e[4]))
        log.warning(
            "no post-processing meets leftover <= %.3f and extra <= %.2f on all sets",
            leftover_max,
            extra_max,
        )
    t, r, _, _, _, per = best
    params = PostParams(threshold=t, dilate=round(r / side, 5))
    return params, {"radius_px": r, "side": side, "limits_met": bool(ok), "sets": per}


def has_unmasked_original(batch: dict) -> torch.Tensor:
    """bool ``(N,)``: which samples of a ``FaceMaskDataset`` batch have an unmasked original
    (synthetic masks); real-label photos have none, their ``clean`` equals ``masked``."""
    return (batch["clean"] - batch["masked"]).abs().flatten(1).amax(1) > 0


def spaced_subset(ds, limit: int | None):
    """``ds`` itself, or ``limit`` evenly spaced items of it (deterministic)."""
    from torch.utils.data import Subset

    if limit is None or len(ds) <= limit:
        return ds
    return Subset(ds, np.linspace(0, len(ds) - 1, limit).round().astype(int).tolist())
