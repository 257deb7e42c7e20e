"""Train the gender + 68-landmark network (:class:`~unmask.models.face_attr.FaceAttrNet`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from unmask.data.dataset import Augment, FaceMaskDataset
from unmask.losses import over_known
from unmask.metrics.calibration import fit_temperature
from unmask.models.face_attr import AGE_SCALE, FaceAttrNet
from unmask.training.common import ema_and_optimiser, infinite, recalibrate_bn, seed_everything
from unmask.training.handoff import init_from_weights, load_for_promote
from unmask.training.loop import fit
from unmask.training.options import LoopConfig
from unmask.training.runs import Run
from unmask.validation.attr import predict, summarize


@dataclass(kw_only=True)
class AttrTrainConfig(LoopConfig):
    """Options of ``unmask train attr`` (gender + landmarks).

    The training loop's own options (steps, warm-up, budget, EMA, seed, ...) are those of
    :class:`unmask.training.options.LoopConfig`.
    """

    dataset: str
    size: int = 128
    widths: list[int] = field(default_factory=lambda: [24, 48, 96, 160, 256])
    blocks: int = 2
    head_channels: int = 32
    batch: int = 32
    lr: float = 2e-3
    weight_decay: float = 5e-4
    gender_weight: float = 1.0
    gender_pool: str = "avg"
    age_weight: float = 0.0
    clean_prob: float = 0.1
    landmark_weight: float = 1.0
    # gender-only fine-tuning: freeze modules by name prefix (their BatchNorm statistics too),
    # mix image pairs for the gender loss (Beta(mixup, mixup); needs landmark_weight 0) and
    # smooth the gender targets towards 0.5
    freeze: list[str] = field(default_factory=list)
    freeze_bn: bool = True  # False: frozen modules still normalise with batch statistics
    mixup: float = 0.0
    label_smoothing: float = 0.0
    # fine-tune: start from the promoted attr weights in this folder; for an ensemble, from
    # its member init_member
    init_weights: str | None = None
    init_member: int | None = None
    exclude_kinds: list[str] = field(default_factory=list)
    # share of training crops re-cut on the face detector's keypoints, as photo mode cuts them
    # (needs `unmask data detector-points` on the dataset)
    detector_align: float = 0.0
    # share of masked crops whose mask is repainted in a random colour or print
    # (unmask.augment.mask_prints)
    print_prob: float = 0.0
    # share of masked crops whose mask is moved and reshaped over the unmasked crop: rotated,
    # shifted, reaching higher or lower (unmask.augment.mask_reach)
    reach_prob: float = 0.0
    # share of crops (masked or clean) with a hand, scarf, phone or hair drawn over the face
    # (unmask.augment.occluders)
    occluder_prob: float = 0.0
    workers: int = 1

    def __post_init__(self) -> None:
        if self.mixup > 0 and self.landmark_weight > 0:
            raise ValueError("mixup blends faces, so it needs landmark_weight=0 (gender only)")


def arch_args(cfg: AttrTrainConfig) -> dict:
    """Constructor arguments of the network this config trains."""
    return {
        "image_size": cfg.size,
        "widths": list(cfg.widths),
        "blocks": cfg.blocks,
        "head_channels": cfg.head_channels,
        "gender_pool": cfg.gender_pool,
        "age_head": cfg.age_weight > 0,
    }


def train_set(cfg: AttrTrainConfig, seed: int = 0) -> FaceMaskDataset:
    """The augmented training split as ``cfg`` describes it (for training and promotion)."""
    return FaceMaskDataset(
        cfg.dataset,
        "train",
        cfg.size,
        Augment(),
        tuple(cfg.exclude_kinds),
        seed=seed,
        detector_align=cfg.detector_align,
    )


def losses(model, batch: dict, cfg: AttrTrainConfig, rng: torch.Generator | None = None) -> dict:
    """Landmark L1 (in percent of the crop side), gender BCE and, with ``age_weight``, the
    auxiliary age loss (smooth L1 on ``log1p(years) / AGE_SCALE``) for one batch; unknown
    labels are left out. A share ``reach_prob`` of the masked crops first get their mask moved
    and reshaped (:func:`unmask.augment.mask_reach.reshape_batch`), then a share ``print_prob``
    repainted (:func:`unmask.augment.mask_prints.repaint_batch`); after the share
    ``clean_prob`` of clean crops is swapped in, a share ``occluder_prob`` of all crops gets an
    occluder drawn over the face (:func:`unmask.augment.occluders.occlude_batch`)."""
    x, mask = batch["masked"], batch["mask"]
    if cfg.reach_prob > 0:
        from unmask.augment.mask_reach import reshape_batch

        x, mask = reshape_batch(batch, cfg.reach_prob, rng)
    if cfg.print_prob > 0:
        from unmask.augment.mask_prints import repaint_batch

        x = repaint_batch(x, mask, cfg.print_prob, rng)
    if cfg.clean_prob > 0:
        use_clean = torch.rand(x.shape[0], generator=rng) < cfg.clean_prob
        x = torch.where(use_clean[:, None, None, None], batch["clean"], x)
    if cfg.occluder_prob > 0:
        from unmask.augment.occluders import occlude_batch

        x = occlude_batch(x, batch, cfg.occluder_prob, rng)
    g = batch["gender"].float()
    known = g >= 0
    if cfg.mixup > 0:
        x, g, known = _mix(x, g, known, cfg.mixup, rng)
    out = model(x)
    target = (batch["landmarks"] + 0.5) / cfg.size
    lm = (out["landmarks"] - target).abs().mean() * 100
    g = g * (1 - cfg.label_smoothing) + cfg.label_smoothing / 2
    gl = over_known(F.binary_cross_entropy_with_logits, out["gender_logit"], g, known)
    parts = {"landmark_l1_pct": lm, "gender_bce": gl}
    loss = cfg.landmark_weight * lm + cfg.gender_weight * gl
    if cfg.age_weight > 0:
        age = batch["age"]
        target = torch.log1p(age.clamp(min=0)) / AGE_SCALE
        smooth_l1 = partial(F.smooth_l1_loss, beta=0.1)
        parts["age_l1"] = over_known(smooth_l1, out["age"], target, age >= 0)
        loss = loss + cfg.age_weight * parts["age_l1"]
    return {"loss": loss, **parts}


def _mix(x, g, known, alpha: float, rng: torch.Generator | None):
    """Mixup: each crop blended with another of the batch by ``lam ~ Beta(alpha, alpha)``
    (one per sample), with the gender targets blended alike; a pair is labelled only when
    both faces are."""
    n = x.shape[0]
    perm = torch.randperm(n, generator=rng)
    seed = int(torch.randint(2**31 - 1, (1,), generator=rng))
    lam = torch.from_numpy(np.random.default_rng(seed).beta(alpha, alpha, n).astype(np.float32))
    lam_x = lam[:, None, None, None]
    return lam_x * x + (1 - lam_x) * x[perm], lam * g + (1 - lam) * g[perm], known & known[perm]


def set_train_mode(model, freeze: list[str], freeze_bn: bool = True) -> None:
    """``model.train()`` except the modules named by a ``freeze`` prefix, which get no
    gradients and, with ``freeze_bn``, stay in eval mode (frozen BatchNorm statistics)."""
    model.train()
    for name, module in model.named_modules():
        if name and any(name == f or name.startswith(f + ".") for f in freeze):
            if freeze_bn:
                module.eval()
            for p in module.parameters(recurse=False):
                p.requires_grad_(False)


def input_key(cfg: AttrTrainConfig) -> str:
    """The crops a model of ``cfg`` is validated on: ``"clean"`` for a network trained on
    unmasked faces only (``clean_prob=1``, the inpainter's independent gender judge), else
    ``"masked"``."""
    return "clean" if cfg.clean_prob >= 1 else "masked"


def train(cfg: AttrTrainConfig, run: Run | None = None) -> Run:
    """Train (or resume, when ``run`` has a checkpoint) and return the run."""
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    with Run.held(run, "attr", cfg, cfg.runs, cfg.tag) as run:
        train_ds = train_set(cfg, cfg.seed)
        val_ds = FaceMaskDataset(cfg.dataset, "val", cfg.size, None, tuple(cfg.exclude_kinds))
        mk = dict(num_workers=cfg.workers, persistent_workers=False)  # workers must see set_epoch
        train_dl = DataLoader(train_ds, cfg.batch, shuffle=True, drop_last=True, **mk)
        val_dl = DataLoader(val_ds, 64, shuffle=False, **mk)
        model = FaceAttrNet(**arch_args(cfg))
        ema, opt, (step, best, spent) = ema_and_optimiser(run, model, cfg)
        if step == 0 and cfg.init_weights:
            want = arch_args(cfg)
            init_from_weights(
                model, ema, "attr", cfg.init_weights, "FaceAttrNet", want, cfg.init_member
            )
        gen = torch.Generator().manual_seed(cfg.seed + step)
        batches = infinite(train_dl, train_ds)

        def step_loss(step: int) -> tuple[dict, int]:
            batch = next(batches)
            return losses(model, batch, cfg, gen), batch["masked"].shape[0]

        def evaluate(ema_model, step: int) -> float:
            metrics = summarize(predict(ema_model, val_dl, cfg.size, key=input_key(cfg)))
            run.log(step=step, split="val", **metrics)
            return metrics["nme_all"] - 0.1 * metrics.get("gender_acc", 0)

        train_mode = partial(set_train_mode, model, cfg.freeze, cfg.freeze_bn)
        return fit(
            run, model, ema, opt, cfg, (step, best, spent), step_loss, evaluate,
            higher=False, train_mode=train_mode,
        )  # fmt: skip


def calibrate(model, cfg: AttrTrainConfig, flip: bool) -> float:
    """Temperature for the gender logit fitted on the validation split (with flip averaging
    when the stage will use it)."""
    val_ds = FaceMaskDataset(cfg.dataset, "val", cfg.size, None, tuple(cfg.exclude_kinds))
    loader = DataLoader(val_ds, 64, num_workers=cfg.workers)
    p = predict(model, loader, cfg.size, flip, input_key(cfg))
    known = p["gender"] >= 0
    return fit_temperature(p["logit"][known], p["gender"][known])


def promote(
    run: Run,
    out,
    checkpoint: str = "best",
    fp16: bool = False,
    name: str = "attr",
    overrides: dict | None = None,
):
    """Write the run's EMA weights, architecture and calibration to ``out/<name>.*``
    (``name="gender_judge"`` for the inpainter evaluation's independent judge)."""
    from unmask.runtime import weights

    cfg, ckpt = load_for_promote(run, AttrTrainConfig, checkpoint, overrides)
    model = FaceAttrNet(**arch_args(cfg))
    model.load_state_dict(ckpt["ema"])
    train_ds = train_set(cfg)
    loader = DataLoader(train_ds, cfg.batch, shuffle=True, num_workers=cfg.workers)
    recalibrate_bn(model, loader, input_key(cfg))  # the crops it was trained on and reads
    flip_tta = True  # the stage averages each crop with its mirror; calibrate the same way
    temperature = calibrate(model, cfg, flip_tta)
    meta = {
        "stage": name,
        "trained_on": input_key(cfg),
        "run": run.folder.name,
        "step": ckpt["step"],
        "gender_temperature": temperature,
        "flip_tta": flip_tta,
        "image_size": cfg.size,
        "licence": "non-commercial research (trained on UTKFace + dlib 68-point teacher)",
    }
    return weights.save(out, name, model, "FaceAttrNet", arch_args(cfg), meta, fp16)
