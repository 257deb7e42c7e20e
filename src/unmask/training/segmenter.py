"""Train the face-mask segmenter: the fast U-Net (:class:`~unmask.models.segmenter.MaskSegNet`,
``arch="unet"``) or Mask R-CNN (:mod:`unmask.models.maskrcnn`, ``arch="maskrcnn"``).

Training data: the synthetic masks of a built dataset plus, optionally, the real pixel labels
prepared by :func:`unmask.data.realseg.prepare_realseg`, drawn with probability
``real_weight``. Both validation splits are evaluated every ``eval_every`` steps (IoU, Dice,
boundary F, leftover at threshold 0.5, on the EMA model). :func:`promote` also *chooses* the
post-processing on the validation sets (see :func:`choose_postprocess`) and stores it in the
weights' metadata. The data, losses and validation predictions of a step are in
:mod:`unmask.training.segmenter_steps`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader

from unmask.stages.segment import STAGE_NAMES
from unmask.training.common import ema_and_optimiser, infinite, recalibrate_bn, seed_everything
from unmask.training.handoff import init_from_weights, load_for_promote
from unmask.training.loop import fit
from unmask.training.options import LoopConfig
from unmask.training.runs import Run
from unmask.training.segmenter_steps import (
    _sample_sheet,
    losses,
    predict,
    raw_metrics,
    train_loader,
    val_sets,
)
from unmask.validation.segmenter import choose_postprocess

log = logging.getLogger(__name__)

ARCH_CLASSES = {"unet": "MaskSegNet", "maskrcnn": "MaskRCNNSegmenter"}


@dataclass(kw_only=True)
class SegTrainConfig(LoopConfig):
    """Options of ``unmask train segmenter``.

    The training loop's own options (steps, warm-up, budget, EMA, seed, ...) are those of
    :class:`unmask.training.options.LoopConfig`.
    """

    dataset: str
    real: str | None = None
    real_weight: float = 0.3
    arch: str = "unet"
    size: int = 128
    widths: list[int] = field(default_factory=lambda: [8, 24, 64, 128, 192])
    blocks: int = 2
    backbone: str = "compact"
    fpn_channels: int = 64  # Mask R-CNN only (as are representation and the backbone choice)
    representation: int = 128
    batch: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    grad_clip: float = 5.0
    pos_weight: float = 2.0
    dice_weight: float = 1.0
    clean_prob: float = 0.15
    dark_prob: float = 0.0  # share of samples with dark surroundings (unmask.augment.darken)
    light_prob: float = 0.0  # share with a light or skin-toned mask (unmask.augment.light_masks)
    init_weights: str | None = None  # fine-tune: start from the promoted weights in this folder
    exclude_kinds: list[str] = field(default_factory=list)
    val_limit: int | None = 1000
    workers: int = 1


def arch_args(cfg: SegTrainConfig) -> dict:
    """Constructor arguments of the network this config trains."""
    if cfg.arch == "unet":
        return {"widths": list(cfg.widths), "blocks": cfg.blocks}
    if cfg.arch == "maskrcnn":  # the compact backbone uses ``widths`` too
        return {
            "image_size": cfg.size,
            "backbone": cfg.backbone,
            "widths": list(cfg.widths),
            "fpn_channels": cfg.fpn_channels,
            "representation": cfg.representation,
        }
    raise ValueError(f"unknown segmenter arch {cfg.arch!r}; choose from {sorted(ARCH_CLASSES)}")


def build_model(cfg: SegTrainConfig) -> torch.nn.Module:
    """The untrained network of ``cfg``."""
    if cfg.arch == "maskrcnn":
        from unmask.models.maskrcnn import MaskRCNNSegmenter

        return MaskRCNNSegmenter(**arch_args(cfg))
    from unmask.models.segmenter import MaskSegNet

    return MaskSegNet(**arch_args(cfg))


class _Backbone(torch.nn.Module):
    """Mask R-CNN's input normalisation + backbone, for BatchNorm re-estimation."""

    def __init__(self, seg) -> None:
        super().__init__()
        self.seg = seg

    def forward(self, x: torch.Tensor):
        images, _ = self.seg.net.transform(list(x))
        return self.seg.net.backbone(images.tensors)


def train(cfg: SegTrainConfig, run: Run | None = None) -> Run:
    """Train (or resume, when ``run`` has a checkpoint) and return the run."""
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    with Run.held(run, "segmenter", cfg, cfg.runs, cfg.tag or cfg.arch) as run:
        mix, train_dl = train_loader(cfg)
        mk = dict(num_workers=cfg.workers, persistent_workers=False)  # workers must see set_epoch
        val_dl = {k: DataLoader(v, 32, **mk) for k, v in val_sets(cfg).items()}
        model = build_model(cfg)
        ema, opt, (step, best, spent) = ema_and_optimiser(run, model, cfg)
        if step == 0 and cfg.init_weights:
            stage, arch = STAGE_NAMES[cfg.arch], ARCH_CLASSES[cfg.arch]
            init_from_weights(model, ema, stage, cfg.init_weights, arch, arch_args(cfg))
        batches = infinite(train_dl, mix)
        gen = torch.Generator().manual_seed(cfg.seed + step)

        def step_loss(step: int) -> tuple[dict, int]:
            batch = next(batches)
            return losses(model, batch, cfg, gen), batch["masked"].shape[0]

        def evaluate(ema_model, step: int) -> float:
            ious = []
            for name, dl in val_dl.items():
                p = predict(ema_model, dl, keep_images=8)
                metrics = raw_metrics(p)
                ious.append(metrics["iou"])
                run.log(step=step, split="val", set=name, **metrics)
                run.save_sample(f"{step:06d}-{name}", _sample_sheet(p))
            return float(np.mean(ious))

        return fit(
            run, model, ema, opt, cfg, (step, best, spent), step_loss, evaluate, clip=cfg.grad_clip
        )


def promote(
    run: Run,
    out,
    checkpoint: str = "best",
    fp16: bool = False,
    overrides: dict | None = None,
):
    """Write the run's EMA weights and the chosen post-processing to ``out/<stage>.*``
    (stage ``segmenter`` for the U-Net, ``segmenter_maskrcnn`` for Mask R-CNN)."""
    from unmask.runtime import weights

    cfg, ckpt = load_for_promote(run, SegTrainConfig, checkpoint, overrides)
    model = build_model(cfg)
    model.load_state_dict(ckpt["ema"])
    _, loader = train_loader(cfg)
    recalibrate_bn(model if cfg.arch == "unet" else _Backbone(model), loader)
    stage = STAGE_NAMES[cfg.arch]
    meta = {
        "stage": stage,
        "arch": cfg.arch,
        "run": run.folder.name,
        "step": ckpt["step"],
        "image_size": cfg.size,
        **postprocess_meta(model, cfg),
        "data": {"synthetic": cfg.dataset, "real": cfg.real, "real_weight": cfg.real_weight},
        "licence": "non-commercial research (trained on UTKFace + MaskedFace-Net/FFHQ labels)",
    }
    return weights.save(out, stage, model, ARCH_CLASSES[cfg.arch], arch_args(cfg), meta, fp16)


def postprocess_meta(model: torch.nn.Module, cfg: SegTrainConfig) -> dict:
    """The weights-metadata entries ``postprocess`` (chosen by
    :func:`~unmask.validation.segmenter.choose_postprocess` on the validation sets of ``cfg``),
    ``postprocess_val`` (its report) and ``val_raw`` (:func:`raw_metrics` per set) of a
    segmenter network; ``model`` is put in eval mode."""
    model.eval()
    preds = {
        k: predict(model, DataLoader(v, 32, num_workers=cfg.workers))
        for k, v in val_sets(cfg).items()
    }
    params, report = choose_postprocess(preds)
    log.info("post-processing chosen on validation: %s", params)
    return {
        "postprocess": params.to_dict(),
        "postprocess_val": report,
        "val_raw": {k: raw_metrics(p) for k, p in preds.items()},
    }
