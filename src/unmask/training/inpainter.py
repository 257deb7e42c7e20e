"""Train the landmark- and gender-guided inpainting GAN (``unmask train inpainter``).

One step: the generator fills the hole from the masked crop, a landmark map and the gender;
the spectral-norm PatchGAN (conditioned on the mask and the same map) takes a hinge/LSGAN step
on real vs. composited crops; then the generator takes a step on hole-weighted L1, SSIM, a
Laplacian (high-frequency) L1, the adversarial and feature-matching terms, and two consistency
terms from the frozen ``attr`` network run on the composite: landmark L1 against the teacher
landmarks and gender BCE against the conditioning gender; optionally (``w_attr_feat``) feature
matching through that network, composite vs. ground truth, and (``w_guide``) gender consistency
through a ``gender_guide``: a gender network trained on *unmasked* faces, which can see the
rebuilt lower face (the attr network is trained on masked ones), pulling its P(female) on the
composite towards its P(female) on the ground truth. The guide must not be the network that
judges gender in the evaluation. The first ``adv_start`` steps are
reconstruction-only (cheaper, and the discriminator starts on a sensible generator).

Guidance at train time mimics inference: with probability ``predicted_prob`` a sample is
conditioned on the frozen ``attr`` network's landmarks and calibrated P(female) predicted on the
masked crop, otherwise on teacher landmarks plus noise and the label. ``guidance=False`` trains
the ablation: no landmark channels in either network and no gender FiLM (same losses).

Runs single-process, or under ``torchrun`` (``WORLD_SIZE`` > 1) with DistributedDataParallel:
gloo on CPU, nccl on GPU; ``batch`` is per process and only rank 0 writes the run folder.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from unmask.data.dataset import Augment, FaceMaskDataset
from unmask.faces.landmark_map import NUM_CHANNELS
from unmask.losses import d_loss, patch_weight
from unmask.models.discriminator import PatchDiscriminator
from unmask.models.inpainter import InpaintGenerator, composite
from unmask.training import distributed
from unmask.training.common import (
    EMA,
    Budget,
    StopOnSignal,
    cosine_lr,
    infinite,
    init_from_weights,
    keep_best,
    load_for_promote,
    seed_everything,
)
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

log = logging.getLogger(__name__)


@dataclass
class InpaintTrainConfig:
    """Options of ``unmask train inpainter``. Loss weights are ``w_*``; ``batch`` is per process."""

    dataset: str
    size: int = 128
    widths: list[int] = field(default_factory=lambda: [16, 48, 96, 160])
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 8])
    embed_dim: int = 64
    d_widths: list[int] = field(default_factory=lambda: [32, 64, 128, 192])
    guidance: bool = True
    landmark_sigma: float = 0.01
    batch: int = 8
    steps: int = 6000
    minutes: float | None = None
    lr_g: float = 3e-4
    lr_d: float = 3e-4
    betas: list[float] = field(default_factory=lambda: [0.5, 0.999])
    warmup: int = 200
    adv_start: int = 500
    adv_kind: str = "hinge"
    w_l1: float = 1.0
    w_valid: float = 0.1
    w_ssim: float = 0.2
    w_hf: float = 0.5
    w_energy: float = 0.0
    w_adv: float = 0.02
    w_fm: float = 0.5
    w_landmark: float = 0.02
    w_gender: float = 0.05
    # feature matching through the frozen attr network (composite vs. ground truth), 0 = off
    w_attr_feat: float = 0.0
    use_attr: bool = True
    attr_weights: str | None = None
    # gender consistency through a gender network trained on unmasked faces (a folder with
    # gender_guide.*: `unmask train promote RUN --name gender_guide`), 0 = off
    w_guide: float = 0.0
    guide_weights: str | None = None
    predicted_prob: float = 0.5
    landmark_noise: float = 0.01
    landmark_shift: float = 0.01
    hole_margin: float = 0.015
    # reconstruction losses (L1, SSIM, high-frequency, energy) also on crop pixels outside the
    # source photo: their ground truth is a mirror image of the hidden face, and they are never
    # pasted into a photo (datasets without ``inside/`` maps are all photo)
    loss_on_padding: bool = False
    exclude_kinds: list[str] = field(default_factory=list)
    # start the generator (and its EMA) from promoted weights (a folder with inpainter.*), e.g.
    # to fine-tune the shipped model on other faces; the discriminator starts afresh
    init_weights: str | None = None
    ema: float = 0.998
    eval_every: int = 500
    val_samples: int = 128
    log_every: int = 25
    workers: int = 1
    threads: int = 2
    device: str = "auto"
    channels_last: bool = True
    seed: int = 0
    runs: str = "runs"
    tag: str = ""

    def __post_init__(self) -> None:
        if self.w_guide > 0 and not self.guide_weights:
            raise ValueError("w_guide > 0 needs guide_weights (a folder with gender_guide.*)")


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


def train(cfg: InpaintTrainConfig, run: Run | None = None) -> Run:
    """Train (or resume, when ``run`` has a checkpoint) and return the run."""
    if cfg.size % 8:
        raise ValueError(f"size must be a multiple of 8, got {cfg.size}")
    torch.set_num_threads(cfg.threads)
    rank, world, device, started = distributed.setup(cfg.device)
    seed_everything(cfg.seed)
    run = distributed.shared_run(
        lambda: Run.held(run, "inpainter", cfg, cfg.runs, cfg.tag), rank, world
    )
    with run:  # rank 0 holds the folder until training returns or fails
        _train(cfg, run, rank, world, device)
    distributed.teardown(started)
    return run


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


def promote(
    run: Run,
    out,
    checkpoint: str = "best",
    fp16: bool = False,
    overrides: dict | None = None,
):
    """Write the run's EMA generator and its guidance settings to ``out/inpainter.*``."""
    from unmask.runtime import weights

    cfg, ckpt = load_for_promote(run, InpaintTrainConfig, checkpoint, overrides)
    model = InpaintGenerator(**generator_args(cfg))
    model.load_state_dict(ckpt["ema"])
    meta = {
        "stage": "inpainter",
        "run": run.folder.name,
        "step": ckpt["step"],
        "image_size": cfg.size,
        "guidance": cfg.guidance,
        "landmark_sigma": cfg.landmark_sigma,
        "hole_margin": cfg.hole_margin,
        "licence": "non-commercial research (trained on UTKFace + dlib 68-point teacher)",
    }
    return weights.save(
        out, "inpainter", model, "InpaintGenerator", generator_args(cfg), meta, fp16
    )
