"""The pieces of a segmenter training step, apart from the loop and the promotion in
:mod:`unmask.training.segmenter`: the training and validation data, the losses and the
predictions and scores of the validation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import ConcatDataset, DataLoader, WeightedRandomSampler

from unmask.data.dataset import Augment, FaceMaskDataset
from unmask.metrics.masks import MaskScores
from unmask.runtime.backend import from_nchw
from unmask.validation.segmenter import has_unmasked_original, spaced_subset

if TYPE_CHECKING:
    from unmask.training.segmenter import SegTrainConfig


def with_clean_faces(batch: dict, prob: float, rng: torch.Generator | None = None):
    """Inputs and targets where a share ``prob`` of the samples that have an unmasked original
    (synthetic masks; real-label photos have none: their ``clean`` equals ``masked``) is
    replaced by that original with an empty mask, so the segmenter learns to leave unmasked
    faces alone. Returns ``(x, y)``."""
    x, y = batch["masked"], batch["mask"]
    if prob <= 0:
        return x, y
    use = has_unmasked_original(batch) & (torch.rand(x.shape[0], generator=rng) < prob)
    x = torch.where(use[:, None, None, None], batch["clean"], x)
    return x, torch.where(use[:, None, None, None], torch.zeros_like(y), y)


def losses(model, batch: dict, cfg: SegTrainConfig, rng: torch.Generator | None = None) -> dict:
    """U-Net: BCE (positives weighted ``pos_weight``, favouring recall) + soft Dice; Mask R-CNN:
    the sum of torchvision's losses (the whole face mask is one instance). A share
    ``cfg.clean_prob`` of the synthetic samples is shown unmasked with an empty target, and a
    share ``cfg.light_prob`` with their mask repainted light or skin-toned
    (:func:`unmask.augment.light_masks.light_mask_batch`), and a share ``cfg.dark_prob`` of all
    samples with dark surroundings (and half of those with a dark mask:
    :func:`unmask.augment.darken.darken_batch`)."""
    from unmask.augment.darken import darken_batch
    from unmask.augment.light_masks import light_mask_batch

    x, y = with_clean_faces(batch, cfg.clean_prob, rng)
    x = light_mask_batch(x, y, batch["landmarks"], cfg.light_prob, rng)
    x = darken_batch(x, y, batch["landmarks"], cfg.dark_prob, rng)
    if cfg.arch == "maskrcnn":
        from unmask.models.maskrcnn import mask_targets

        parts = model(x, mask_targets(y))
        return {"loss": sum(parts.values()), **parts}
    logits = model(x)
    bce = F.binary_cross_entropy_with_logits(logits, y, pos_weight=torch.tensor(cfg.pos_weight))
    p = torch.sigmoid(logits)
    inter = (p * y).sum((1, 2, 3))
    dice = 1 - ((2 * inter + 1) / (p.sum((1, 2, 3)) + y.sum((1, 2, 3)) + 1)).mean()
    return {"loss": bce + cfg.dice_weight * dice, "bce": bce, "dice_loss": dice}


class _Mix(ConcatDataset):
    """Concatenated datasets that forward ``set_epoch``."""

    def set_epoch(self, epoch: int) -> None:
        for d in self.datasets:
            d.set_epoch(epoch)


def val_sets(cfg: SegTrainConfig, split: str = "val") -> dict[str, torch.utils.data.Dataset]:
    """``{"synthetic": ..., "real": ...}`` evaluation datasets (real only with ``cfg.real``)."""
    out = {
        "synthetic": FaceMaskDataset(cfg.dataset, split, cfg.size, None, tuple(cfg.exclude_kinds))
    }
    if cfg.real:
        out["real"] = FaceMaskDataset(cfg.real, split, cfg.size, None)
    return {k: spaced_subset(v, cfg.val_limit) for k, v in out.items()}


@torch.no_grad()
def predict(model, loader, keep_images: int = 0) -> dict[str, np.ndarray]:
    """Probabilities (float32 ``N x S x S``), true masks (uint8) and the first
    ``keep_images`` input crops (uint8 ``K x S x S x 3``) over a loader."""
    model.eval()
    probs, masks, images = [], [], []
    for b in loader:
        probs.append(torch.sigmoid(model(b["masked"]))[:, 0].numpy())
        masks.append(b["mask"][:, 0].numpy().astype(np.uint8))
        if sum(len(i) for i in images) < keep_images:
            images.append(from_nchw(b["masked"]))
    imgs = np.concatenate(images)[:keep_images] if images else np.zeros((0, 1, 1, 3), np.uint8)
    return {"prob": np.concatenate(probs), "mask": np.concatenate(masks), "images": imgs}


def raw_metrics(p: dict[str, np.ndarray], threshold: float = 0.5) -> dict[str, float]:
    """IoU, Dice, boundary F, leftover and extra area of the thresholded raw prediction."""
    scores = MaskScores()
    scores.add(p["prob"] >= threshold, p["mask"])
    return scores.summary()


def _sample_sheet(p: dict[str, np.ndarray], n: int = 8) -> np.ndarray:
    from unmask.viz import grid, overlay_mask

    rows = []
    for img, prob, mask in zip(p["images"][:n], p["prob"], p["mask"], strict=False):
        rows.append([img, overlay_mask(img, prob >= 0.5), overlay_mask(img, mask, (0, 255, 0))])
    return grid(rows)


def train_loader(cfg: SegTrainConfig) -> tuple[_Mix, DataLoader]:
    """Augmented training crops: synthetic ones, plus real ones drawn with probability
    ``cfg.real_weight`` when ``cfg.real`` is set. Returns ``(dataset, loader)``."""
    sets = [
        FaceMaskDataset(
            cfg.dataset, "train", cfg.size, Augment(), tuple(cfg.exclude_kinds), seed=cfg.seed
        )
    ]
    if cfg.real:
        sets.append(FaceMaskDataset(cfg.real, "train", cfg.size, Augment(), seed=cfg.seed))
    mix = _Mix(sets)
    shares = [1.0] if len(sets) == 1 else [1 - cfg.real_weight, cfg.real_weight]
    w = torch.cat([torch.full((len(d),), s / len(d)) for d, s in zip(sets, shares, strict=True)])
    sampler = WeightedRandomSampler(
        w, len(mix), replacement=True, generator=torch.Generator().manual_seed(cfg.seed)
    )
    mk = dict(num_workers=cfg.workers, persistent_workers=False)  # workers must see set_epoch
    return mix, DataLoader(mix, cfg.batch, sampler=sampler, drop_last=True, **mk)
