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

from dataclasses import dataclass, field

import torch

from unmask.losses.image import ENERGY_MODES
from unmask.models.inpainter import InpaintGenerator
from unmask.training import distributed
from unmask.training.common import seed_everything
from unmask.training.handoff import load_for_promote
from unmask.training.inpainter_loop import _train, generator_args
from unmask.training.options import LoopConfig
from unmask.training.runs import Run


@dataclass(kw_only=True)
class InpaintTrainConfig(LoopConfig):
    """Options of ``unmask train inpainter``. Loss weights are ``w_*``; ``batch`` is per process.

    The training loop's own options (steps, warm-up, budget, EMA, seed, ...) are those of
    :class:`unmask.training.options.LoopConfig`.
    """

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
    # what the detail-energy term matches: plain, directional or band (losses.image)
    energy_mode: str = "plain"
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
    eval_every: int = 500
    val_samples: int = 128
    log_every: int = 25
    workers: int = 1
    device: str = "auto"
    channels_last: bool = True

    def __post_init__(self) -> None:
        if self.energy_mode not in ENERGY_MODES:
            raise ValueError(
                f"unknown energy_mode {self.energy_mode!r}: use {', '.join(ENERGY_MODES)}"
            )
        if self.w_guide > 0 and not self.guide_weights:
            raise ValueError("w_guide > 0 needs guide_weights (a folder with gender_guide.*)")


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
