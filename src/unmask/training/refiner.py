"""Train the mask-edge refiner (:class:`~unmask.models.refiner.MaskRefiner`).

Patches are mined once per run (:mod:`unmask.data.edges`: the shipped detector and segmenter
run on masked photos, so the coarse masks are the pipeline's own) and kept in the run folder,
so a resumed run does not mine again. The loss is binary cross-entropy on every pixel; the
validation score is the share of patch pixels the thresholded output gets wrong (missed mask
plus extra), on patches of the validation splits.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from unmask.models.refiner import MaskRefiner
from unmask.training.common import (
    ema_and_optimiser,
    mined_once,
    photo_batch,
    photo_jitter,
    seed_everything,
)
from unmask.training.handoff import load_for_promote
from unmask.training.loop import fit
from unmask.training.options import LoopConfig
from unmask.training.runs import Run

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class RefinerTrainConfig(LoopConfig):
    """Options of ``unmask train refiner``.

    ``dataset`` is a folder of unmasked face photos (UTKFace) that masks are drawn on;
    ``photos`` the labelled masked photos (MaskedFace-Net layout, ``''`` = none); ``weights``
    the folder of the detector and segmenter whose coarse masks are refined (default: shipped).
    ``sampling`` overrides :class:`~unmask.data.edges.EdgeSampling`; ``clip`` is the gradient
    norm clip (hard patches, where the coarse mask is sure and wrong, can otherwise silence
    the last layer for good).

    The training loop's own options (steps, warm-up, budget, EMA, seed, ...) are those of
    :class:`unmask.training.options.LoopConfig`.
    """

    dataset: str
    photos: str = "../shared/data/masked-seg-train"
    templates: str = "../shared/data/mask-templates"
    weights: str | None = None
    sampling: dict = field(default_factory=dict)
    train_faces: int = 2000
    val_faces: int = 300
    train_photos: int = 400
    val_photos: int = 60
    width: int = 16
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 1])
    threshold: float = 0.5
    batch: int = 48
    lr: float = 2e-3
    weight_decay: float = 1e-4
    clip: float | None = None
    steps: int = 4000
    warmup: int = 100
    ema: float = 0.995
    eval_every: int = 250


def arch_args(cfg: RefinerTrainConfig) -> dict:
    """Constructor arguments of the network this config trains."""
    return {"width": cfg.width, "dilations": list(cfg.dilations)}


def sampling(cfg: RefinerTrainConfig):
    """The :class:`~unmask.data.edges.EdgeSampling` of ``cfg.sampling`` (unknown keys are an
    error)."""
    from unmask.config import from_json_dict
    from unmask.data.edges import EdgeSampling

    return from_json_dict(EdgeSampling, cfg.sampling)


def mined_sets(cfg: RefinerTrainConfig, run: Run) -> tuple[dict, dict]:
    """Training and validation patches, mined once and kept in ``run/edges-<split>.npz``."""
    from itertools import chain

    from unmask.data import edges

    sets, coarse, how = [], None, sampling(cfg)
    for split, faces, photos, seed in (
        ("train", cfg.train_faces, cfg.train_photos, cfg.seed),
        ("val", cfg.val_faces, cfg.val_photos, cfg.seed + 10**6),
    ):

        def make(split=split, faces=faces, photos=photos, seed=seed):
            nonlocal coarse
            coarse = coarse or edges.CoarseMasks(cfg.weights)
            sources = edges.drawn_photos(cfg.dataset, split, cfg.templates, how, seed, faces)
            if cfg.photos and photos:
                labelled = edges.labelled_photos(cfg.photos, split, how, seed, photos)
                sources = chain(sources, labelled)
            data = edges.mine(sources, coarse, how, seed)
            return data, {"patches": len(data["target"])}

        sets.append(mined_once(run, "edges", split, make))
    return sets[0], sets[1]


def batch_tensors(data: dict, idx: np.ndarray, rng: np.random.Generator | None):
    """``(image, coarse, target)`` float32 NCHW tensors of patches ``idx``; with ``rng``, a
    random mirror and brightness / contrast change of the photo (not of the coarse mask)."""
    x = data["image"][idx]
    c, t = data["coarse"][idx], data["target"][idx]
    if rng is not None and rng.random() < 0.5:
        x, c, t = x[:, :, ::-1], c[:, :, ::-1], t[:, :, ::-1]
    image = photo_batch(x)
    if rng is not None:
        image = photo_jitter(image, rng, 0.25, 0.08)
    coarse = torch.from_numpy(np.ascontiguousarray(c))[:, None].float() / 255
    target = torch.from_numpy(np.ascontiguousarray(t))[:, None].float()
    return image, coarse, target


@torch.no_grad()
def errors(model, data: dict, threshold: float, batch: int = 256) -> dict[str, float]:
    """Share of patch pixels missed (mask left out) and extra (skin taken), for the model and
    for the coarse mask alone at 0.5."""
    model.eval()
    missed = extra = c_missed = c_extra = 0.0
    n = len(data["target"])
    for i in range(0, n, batch):
        image, coarse, target = batch_tensors(data, np.arange(i, min(i + batch, n)), None)
        pred = torch.sigmoid(model(image, coarse)) > threshold
        t = target > 0.5
        missed += float((t & ~pred).float().sum())
        extra += float((pred & ~t).float().sum())
        c = coarse > 0.5
        c_missed += float((t & ~c).float().sum())
        c_extra += float((c & ~t).float().sum())
    px = max(n * data["target"][0].size, 1)
    return {
        "missed": missed / px,
        "extra": extra / px,
        "error": (missed + extra) / px,
        "coarse_missed": c_missed / px,
        "coarse_extra": c_extra / px,
    }


def train(cfg: RefinerTrainConfig, run: Run | None = None) -> Run:
    """Mine (once), train (or resume, when ``run`` has a checkpoint) and return the run."""
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    with Run.held(run, "refiner", cfg, cfg.runs, cfg.tag) as run:
        tr, va = mined_sets(cfg, run)
        model = MaskRefiner(**arch_args(cfg))
        ema, opt, (step, best, spent) = ema_and_optimiser(run, model, cfg)
        rng = np.random.default_rng([cfg.seed, step])
        n = len(tr["target"])

        def step_loss(step: int) -> tuple[dict, int]:
            image, coarse, target = batch_tensors(tr, rng.integers(n, size=cfg.batch), rng)
            loss = F.binary_cross_entropy_with_logits(model(image, coarse), target)
            return {"loss": loss}, cfg.batch

        def evaluate(ema_model, step: int) -> float:
            metrics = errors(ema_model, va, cfg.threshold)
            run.log(step=step, split="val", **metrics)
            return metrics["error"]

        start = (step, best, spent)
        return fit(
            run, model, ema, opt, cfg, start, step_loss, evaluate, higher=False, clip=cfg.clip
        )


def promote(run: Run, out, checkpoint: str = "best", fp16: bool = False, overrides=None):
    """Write the run's EMA weights to ``out/refiner.*`` with the window settings and the
    validation figures of the mined patches."""
    from unmask.runtime import weights

    cfg, ckpt = load_for_promote(run, RefinerTrainConfig, checkpoint, overrides)
    model = MaskRefiner(**arch_args(cfg))
    model.load_state_dict(ckpt["ema"])
    with np.load(Path(run.folder) / "edges-val.npz") as z:
        val = errors(model, {k: z[k] for k in z.files}, cfg.threshold)
    how = sampling(cfg)
    meta = {
        "stage": "refiner",
        "run": run.folder.name,
        "step": ckpt["step"],
        "threshold": cfg.threshold,
        "margin": how.margin,
        "max_side": how.max_side,
        "val": val,
        "sampling": asdict(how),
        "licence": "non-commercial research (trained on UTKFace, MaskedFace-Net/FFHQ, "
        "dlib 68-point teacher)",
    }
    return weights.save(out, "refiner", model, "MaskRefiner", arch_args(cfg), meta, fp16)
