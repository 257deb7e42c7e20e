"""The loop behind :func:`unmask.training.inpainter.train`: the generator and discriminator an
:class:`~unmask.training.inpainter.InpaintTrainConfig` builds, resumed from the run's checkpoint
(or the generator from promoted weights), then discriminator and generator steps until the
budget is spent or a SIGTERM arrives, with logging, validation and checkpoints on rank 0. The
pieces of one step are in :mod:`unmask.training.inpainter_steps`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from unmask.data.dataset import Augment, FaceMaskDataset
from unmask.faces.landmark_map import NUM_CHANNELS
from unmask.losses import d_loss, patch_weight
from unmask.models.discriminator import PatchDiscriminator
from unmask.models.inpainter import InpaintGenerator, composite
from unmask.training import distributed
from unmask.training.common import EMA, Budget, StopOnSignal, cosine_lr, infinite, keep_best
from unmask.training.handoff import init_from_weights
from unmask.training.inpainter_steps import (
    FrozenAttr,
    conditioning,
    generator_losses,
    grow_holes,
    guide_maps,
    margin_px,
    selection_score,
    validate,
)
from unmask.training.runs import Run

if TYPE_CHECKING:
    from unmask.training.inpainter import InpaintTrainConfig

log = logging.getLogger(__name__)


def generator_args(cfg: InpaintTrainConfig) -> dict:
    """Constructor arguments of the generator this config trains."""
    return {
        "landmark_channels": NUM_CHANNELS if cfg.guidance else 0,
        "gender_film": cfg.guidance,
        "widths": list(cfg.widths),
        "dilations": list(cfg.dilations),
        "embed_dim": cfg.embed_dim,
    }


def init_generator(g, ema, cfg: InpaintTrainConfig) -> None:
    """Load ``cfg.init_weights`` into the generator and its EMA copy; the architecture there
    must be the one this config builds (widths, dilations, embed_dim, guidance)."""
    want = generator_args(cfg)
    init_from_weights(g, ema, "inpainter", cfg.init_weights, "InpaintGenerator", want)


def discriminator_args(cfg: InpaintTrainConfig) -> dict:
    """Constructor arguments of the discriminator (mask + landmark-map conditioning)."""
    return {"cond_channels": 1 + (NUM_CHANNELS if cfg.guidance else 0), "widths": cfg.d_widths}


class _Epochs:
    """Advance the augmentation epoch of a dataset and the shuffling epoch of a sampler."""

    def __init__(self, *objs) -> None:
        self.objs = [o for o in objs if o is not None]

    def set_epoch(self, epoch: int) -> None:
        for o in self.objs:
            o.set_epoch(epoch)


def _state(g, d, ema, opt_g, opt_d, step, best, budget: Budget) -> dict:
    return {
        "spent": budget.spent,
        "g": g.state_dict(),
        "d": d.state_dict(),
        "ema": ema.model.state_dict(),
        "opt_g": opt_g.state_dict(),
        "opt_d": opt_d.state_dict(),
        "step": step,
        "best": best,
    }


def _d_step(d_run, opt_d, batch: dict, comp, cond, cfg: InpaintTrainConfig):
    """One discriminator update on the ground truth and the detached composite; the
    discriminator's parameters need gradients only inside it. Returns the loss and the
    discriminator's features of the ground truth (for feature matching)."""
    d_run.requires_grad_(True)
    both = torch.cat([batch["clean"], comp.detach()])
    logits, feats = d_run(both, cond.repeat(2, 1, 1, 1))
    real, fake = logits.chunk(2)
    loss = d_loss(real, fake, cfg.adv_kind, patch_weight(batch["mask"], real))
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    d_run.requires_grad_(False)
    return loss, [f.chunk(2)[0].detach() for f in feats]


def _train(cfg: InpaintTrainConfig, run: Run, rank: int, world: int, device) -> None:
    """The training of :func:`train` once the processes and the run folder are set up."""
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.data import DataLoader, DistributedSampler, Subset

    attr = FrozenAttr.load(cfg.attr_weights, device) if cfg.use_attr else None
    guide = None
    if cfg.w_guide > 0:
        guide = FrozenAttr.load(cfg.guide_weights, device, "gender_guide", only_here=True)
    kinds = tuple(cfg.exclude_kinds)
    train_ds = FaceMaskDataset(cfg.dataset, "train", cfg.size, Augment(), kinds, seed=cfg.seed)
    sampler = (
        DistributedSampler(train_ds, world, rank, seed=cfg.seed, drop_last=True)
        if (world > 1)
        else None
    )
    mk = dict(num_workers=cfg.workers, persistent_workers=False)  # workers must see set_epoch
    train_dl = DataLoader(
        train_ds, cfg.batch, shuffle=sampler is None, sampler=sampler, drop_last=True, **mk
    )
    val_batches: list[dict] = []
    if rank == 0:
        val_ds = FaceMaskDataset(cfg.dataset, "val", cfg.size, None, kinds)
        idx = np.linspace(0, len(val_ds) - 1, min(cfg.val_samples, len(val_ds))).astype(int)
        val_batches = list(DataLoader(Subset(val_ds, idx.tolist()), 32, num_workers=0))
        for b in val_batches:  # holes grown as the stage grows them at inference
            b["mask"] = grow_holes(b["mask"], torch.full((len(b["mask"]),), margin_px(cfg)))
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format  # ~13% on CPU
    g = InpaintGenerator(**generator_args(cfg)).to(device, memory_format=fmt)
    d = PatchDiscriminator(**discriminator_args(cfg)).to(device, memory_format=fmt)
    ema = EMA(g, cfg.ema)
    opt_g = torch.optim.Adam(g.parameters(), cfg.lr_g, betas=tuple(cfg.betas))
    opt_d = torch.optim.Adam(d.parameters(), cfg.lr_d, betas=tuple(cfg.betas))
    step, best, spent = 0, None, 0.0
    ckpt = run.load_checkpoint()
    if ckpt is None and cfg.init_weights:
        init_generator(g, ema, cfg)
    if ckpt is not None:
        g.load_state_dict(ckpt["g"])
        d.load_state_dict(ckpt["d"])
        ema.model.load_state_dict(ckpt["ema"])
        opt_g.load_state_dict(ckpt["opt_g"])
        opt_d.load_state_dict(ckpt["opt_d"])
        step, best, spent = ckpt["step"], ckpt.get("best"), ckpt.get("spent", 0.0)
        log.info("resumed %s at step %d", run.folder, step)
    g_run, d_run = g, d
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        g_run, d_run = DDP(g, device_ids=ids), DDP(d, device_ids=ids)
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + rank * 100003 + step)
    budget = Budget(cfg.steps, cfg.minutes, spent)
    batches = infinite(train_dl, _Epochs(train_ds, sampler))
    t0, seen = time.perf_counter(), 0
    progress = distributed.agreed_progress(budget, step, world, device)

    def train_step(step: int, lr: float) -> dict[str, torch.Tensor]:
        """One discriminator and one generator update; returns the loss terms."""
        g.train()
        for opt, base in ((opt_g, cfg.lr_g), (opt_d, cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = base * lr
        batch = {k: v.to(device) for k, v in next(batches).items()}
        radii = torch.randint(0, 2 * margin_px(cfg) + 1, (len(batch["mask"]),), generator=gen)
        batch["mask"] = grow_holes(batch["mask"], radii)  # around the inference margin
        lm, p = conditioning(batch, attr, cfg, gen)
        lmap = guide_maps(lm, cfg)
        pred = g_run(batch["masked"], batch["mask"], lmap, p)
        comp = composite(pred, batch["masked"], batch["mask"])
        adv = step >= cfg.adv_start and (cfg.w_adv > 0 or cfg.w_fm > 0)
        fake_logits = fake_feats = real_feats = None
        parts_d = {}
        if adv:
            cond = batch["mask"] if lmap is None else torch.cat([batch["mask"], lmap], 1)
            parts_d["d_loss"], real_feats = _d_step(d_run, opt_d, batch, comp, cond, cfg)
            fake_logits, fake_feats = d(comp, cond)
        parts = generator_losses(
            pred, comp, batch, lm, p, attr, fake_logits, fake_feats, real_feats, cfg, guide
        )
        opt_g.zero_grad(set_to_none=True)
        parts["loss"].backward()
        opt_g.step()
        ema.update(g)
        return {**parts, **parts_d}

    # SIGTERM: save the checkpoint and return, to be resumed later
    with StopOnSignal(enabled=world == 1) as signalled:
        while progress < 1.0 and not signalled.requested:
            lr = cosine_lr(step, cfg.steps, cfg.warmup, 1.0, progress=progress)
            parts = train_step(step, lr)
            step += 1
            seen += cfg.batch * world
            if rank == 0 and step % cfg.log_every == 0:
                rate = seen / (time.perf_counter() - t0)
                vals = {k: round(v.item(), 4) for k, v in parts.items()}
                run.log(
                    step=step, lr_g=opt_g.param_groups[0]["lr"], images_per_s=round(rate, 2), **vals
                )
            progress = distributed.agreed_progress(budget, step, world, device)
            stop = progress >= 1.0
            if rank == 0 and (step % cfg.eval_every == 0 or stop):
                metrics, sheet = validate(ema.model, val_batches, attr, cfg)
                score = selection_score(metrics)
                run.log(step=step, split="val", score=round(score, 3), **metrics)
                run.save_sample(f"val_{step:06d}", sheet)
                best = keep_best(run, score, best, ema, step)
                run.save_checkpoint(_state(g, d, ema, opt_g, opt_d, step, best, budget))
    if rank == 0:
        run.save_checkpoint(_state(g, d, ema, opt_g, opt_d, step, best, budget))
        log.info("stopped at step %d%s", step, " (SIGTERM)" if signalled.requested else "")
