"""The pieces of a detector training step, apart from the loop in
:mod:`unmask.training.detector`: the scene makers of a run, the losses and the validation.

Losses: CenterNet's penalty-reduced focal loss on the centre heatmap, GIoU on the boxes decoded
at every cell near a face centre (TTFNet-style Gaussian weights, each face weighing 1), and a
smooth L1 on the keypoint offsets in units of the box size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from unmask.scenes.composite import SceneConfig, build_maker
from unmask.training.runs import Run

if TYPE_CHECKING:
    from unmask.training.detector import DetectorTrainConfig


def scene_config(cfg: DetectorTrainConfig, **over) -> SceneConfig:
    """The :class:`SceneConfig` of a run (``cfg.scene`` overrides, then ``over``)."""
    return SceneConfig.from_dict({**cfg.scene, "size": cfg.size, **over})


def maker(cfg: DetectorTrainConfig, split: str, **kw):
    """Scene maker of ``split`` with this run's data paths (see :func:`build_maker`)."""
    scene = kw.pop("scene", None) or scene_config(cfg)
    return build_maker(cfg.dataset, split, scene, cfg.photos, cfg.photo_cache, cfg.templates, **kw)


def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet focal loss (alpha 2, beta 4), normalised by the number of centres.

    Args:
        logits: ``N x 1 x h x w``; target: ``N x 1 x h x w`` Gaussians, exactly 1 at centres.
    """
    pos = target.eq(1).float()
    logp, log1mp = F.logsigmoid(logits), F.logsigmoid(-logits)
    p = logits.sigmoid()
    pos_loss = -(logp * (1 - p) ** 2 * pos).sum()
    neg_loss = -(log1mp * p**2 * (1 - target) ** 4 * (1 - pos)).sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1)


def giou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Generalised IoU of matching xyxy boxes ``(M, 4)`` -> ``(M,)``."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt, rb = torch.max(a[:, :2], b[:, :2]), torch.min(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(1)
    union = area_a + area_b - inter
    iou = inter / union.clamp(min=1e-6)
    hull = (torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])).clamp(min=0).prod(1)
    return iou - (hull - union) / hull.clamp(min=1e-6)


def losses(out: dict, batch: dict, cfg: DetectorTrainConfig) -> dict:
    """Focal, GIoU and keypoint losses of one batch (see the module docstring)."""
    stride = cfg.out_stride
    heat = focal_loss(out["heatmap"], batch["heat"])
    w = batch["weight"][:, 0]
    sel = w > 0
    nobj = batch["count"].sum().clamp(min=1).float()
    if not sel.any():
        zero = out["box"].sum() * 0 + out["keypoints"].sum() * 0
        box_l = kp_l = zero
    else:
        h, wd = w.shape[1:]
        cy, cx = torch.meshgrid(
            torch.arange(h, dtype=torch.float32) * stride + (stride - 1) / 2,
            torch.arange(wd, dtype=torch.float32) * stride + (stride - 1) / 2,
            indexing="ij",
        )
        cx, cy = cx.expand_as(w)[sel], cy.expand_as(w)[sel]
        d = torch.exp(out["box"].permute(0, 2, 3, 1)[sel].clamp(-6, 8)) * stride
        pred = torch.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], 1)
        tb = batch["box"].permute(0, 2, 3, 1)[sel]
        wts = w[sel]
        box_l = (wts * (1 - giou(pred, tb))).sum() / nobj
        size = torch.stack([tb[:, 2] - tb[:, 0], tb[:, 3] - tb[:, 1]], 1).clamp(min=1)[:, None]
        k = out["keypoints"].shape[1] // 2
        target = (
            batch["kps"].permute(0, 2, 3, 1)[sel].view(-1, k, 2) - torch.stack([cx, cy], 1)[:, None]
        ) / size
        pk = out["keypoints"].permute(0, 2, 3, 1)[sel].view(-1, k, 2)
        err = F.smooth_l1_loss(pk, target, reduction="none", beta=0.02).mean((1, 2))
        kp_l = (wts * err).sum() / nobj
    total = heat + cfg.box_weight * box_l + cfg.kp_weight * kp_l
    return {"loss": total, "focal": heat, "giou": box_l, "keypoints": kp_l}


def _eval_sets(cfg: DetectorTrainConfig) -> tuple[list, list]:
    """Fixed validation scenes (faces) and face-free pictures: synthetic scenes and, like
    the test set, the whole validation photos of scikit-image (text, coins, brick, clock)."""
    from unmask.scenes.backgrounds import SKIMAGE_VAL, skimage_photo

    mk = maker(cfg, "val", compute_landmarks=False)
    scenes = [mk(np.random.default_rng([cfg.seed, 10**6, i])) for i in range(cfg.eval_images)]
    neg = maker(cfg, "val", scene=scene_config(cfg, negative=1.0), compute_landmarks=False)
    negs = [skimage_photo(n) for n in SKIMAGE_VAL] + [
        neg(np.random.default_rng([cfg.seed, 10**7, i])).image
        for i in range(cfg.neg_images or max(1, cfg.eval_images // 2))
    ]
    return [s for s in scenes if len(s.boxes)], negs


def validate(
    model, cfg: DetectorTrainConfig, sets: tuple[list, list], run: Run | None = None, step: int = 0
) -> dict:
    """Recall at IoU 0.5 and false faces per image on validation scenes, at 0.3 and 0.5;
    with a ``run``, a sheet of detections on 16 validation scenes goes to its samples."""
    from unmask.detection.net import NetDetector
    from unmask.metrics.detection import negatives_metrics, synthetic_metrics
    from unmask.viz import detection_sheet as sheet

    det = NetDetector(model.eval(), cfg.size, 0.05)
    if run is not None:
        run.save_sample(f"val_{step:07d}", sheet(det.predict, [s.image for s in sets[0][:16]], 0.3))
    res = synthetic_metrics(det.predict, sets[0], (0.3, 0.5))
    res.update(negatives_metrics(det.predict, sets[1], (0.3, 0.5)))
    return {k: v for k, v in res.items() if not isinstance(v, dict)}
