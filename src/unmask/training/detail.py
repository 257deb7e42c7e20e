"""Train the detail network (:class:`~unmask.models.detail.DetailNet`).

Patches of real skin are cut once per run (:mod:`unmask.data.detail_patches`) and kept in the
run folder; every batch degrades them afresh (scale, softness, noise). The loss is L1 on the
pixels plus L1 on their fine detail (each image minus its 3 x 3 box blur), so that restoring
detail is worth as much as keeping the tone. Validation: PSNR of the output and of the
degraded input against the truth, on validation patches degraded with a fixed seed, and the
detail ratio (mean absolute Laplacian of the output over the truth's).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from unmask.models.detail import DetailNet
from unmask.training.common import ema_and_optimiser, mined_once, seed_everything
from unmask.training.handoff import load_for_promote
from unmask.training.loop import fit
from unmask.training.options import LoopConfig
from unmask.training.runs import Run

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class DetailTrainConfig(LoopConfig):
    """Options of ``unmask train detail``.

    ``dataset`` is the folder of labelled 1024-px masked photos (MaskedFace-Net layout) whose
    visible faces give the patches; ``sampling`` overrides
    :class:`~unmask.data.detail_patches.DetailSampling`; ``detail_weight`` weighs the L1 of
    the fine detail against the L1 of the pixels.

    The training loop's own options (steps, warm-up, budget, EMA, seed, ...) are those of
    :class:`unmask.training.options.LoopConfig`.
    """

    dataset: str = "../shared/data/masked-seg-train"
    sampling: dict = field(default_factory=dict)
    train_photos: int | None = None
    val_photos: int | None = None
    width: int = 16
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 2, 1])
    detail_weight: float = 1.0
    batch: int = 24
    lr: float = 1e-3
    weight_decay: float = 0.0
    clip: float | None = 1.0
    steps: int = 3000
    warmup: int = 100
    ema: float = 0.995
    eval_every: int = 250


def arch_args(cfg: DetailTrainConfig) -> dict:
    """Constructor arguments of the network this config trains."""
    return {"width": cfg.width, "dilations": list(cfg.dilations)}


def sampling(cfg: DetailTrainConfig):
    """The :class:`~unmask.data.detail_patches.DetailSampling` of ``cfg.sampling`` (unknown
    keys are an error)."""
    from unmask.config import from_json_dict
    from unmask.data.detail_patches import DetailSampling

    return from_json_dict(DetailSampling, cfg.sampling)


def patch_sets(cfg: DetailTrainConfig, run: Run) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation patches, cut once and kept in ``run/detail-<split>.npz``."""
    from unmask.data.detail_patches import skin_patches

    how, out = sampling(cfg), []
    for split, limit, seed in (
        ("train", cfg.train_photos, cfg.seed),
        ("val", cfg.val_photos, cfg.seed + 10**6),
    ):

        def make(split=split, limit=limit, seed=seed):
            patches = np.stack(list(skin_patches(cfg.dataset, split, how, seed, limit)))
            return {"patch": patches}, {"patches": len(patches)}

        out.append(mined_once(run, "detail", split, make)["patch"])
    return out[0], out[1]


def to_tensors(inputs, scales, targets) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(image, scale, target)`` tensors of :func:`degraded_batch`'s arrays; the scale as the
    network's ``log2`` map."""
    x = torch.from_numpy(inputs)
    s = torch.from_numpy(np.log2(scales))[:, None, None, None].expand(-1, 1, *x.shape[2:])
    return x, s.contiguous(), torch.from_numpy(targets)


def fine(x: torch.Tensor) -> torch.Tensor:
    """Fine detail: the image minus its 3 x 3 box blur (reflected at the border)."""
    return x - F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), 3, stride=1)


def loss_terms(model, image, scale, target, detail_weight: float) -> dict:
    out = model(image, scale)
    pixel = (out - target).abs().mean()
    detail = (fine(out) - fine(target)).abs().mean()
    return {"loss": pixel + detail_weight * detail, "l1": pixel, "detail_l1": detail}


def _laplacian_energy(x: torch.Tensor) -> float:
    k = torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=x.dtype).expand(3, 1, 3, 3)
    return float(F.conv2d(x.mean(1, keepdim=True).expand(-1, 3, -1, -1), k, groups=3).abs().mean())


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / ((a - b) ** 2).mean().clamp(min=1e-10)))


@torch.no_grad()
def scores(model, patches: np.ndarray, how, seed: int = 0, batch: int = 64) -> dict:
    """PSNR (dB) of the output and of the degraded input against the truth, and the detail
    ratio of each (mean absolute Laplacian over the truth's), on ``patches`` degraded with
    ``seed``."""
    from unmask.data.detail_patches import degraded_batch

    model.eval()
    rng = np.random.default_rng(seed)
    outs, ins, truths = [], [], []
    for i in range(0, len(patches), batch):
        x, s, t = to_tensors(*degraded_batch(patches[i : i + batch], how, rng))
        outs.append(model(x, s).clamp(0, 1))
        ins.append(x)
        truths.append(t)
    out, inp, truth = torch.cat(outs), torch.cat(ins), torch.cat(truths)
    e = _laplacian_energy(truth)
    return {
        "psnr": _psnr(out, truth),
        "psnr_input": _psnr(inp, truth),
        "detail_ratio": _laplacian_energy(out) / e,
        "detail_ratio_input": _laplacian_energy(inp) / e,
    }


def train(cfg: DetailTrainConfig, run: Run | None = None) -> Run:
    """Cut patches (once), train (or resume, when ``run`` has a checkpoint) and return the run."""
    import cv2

    from unmask.data.detail_patches import degraded_batch

    cv2.setNumThreads(1)
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    with Run.held(run, "detail", cfg, cfg.runs, cfg.tag) as run:
        tr, va = patch_sets(cfg, run)
        how = sampling(cfg)
        model = DetailNet(**arch_args(cfg))
        ema, opt, (step, best, spent) = ema_and_optimiser(run, model, cfg)
        rng = np.random.default_rng([cfg.seed, step])

        def step_loss(step: int) -> tuple[dict, int]:
            idx = rng.integers(len(tr), size=cfg.batch)
            pt = tr[idx]
            if rng.random() < 0.5:
                pt = pt[:, :, ::-1]
            x, s, t = to_tensors(*degraded_batch(np.ascontiguousarray(pt), how, rng))
            return loss_terms(model, x, s, t, cfg.detail_weight), cfg.batch

        def evaluate(ema_model, step: int) -> float:
            metrics = scores(ema_model, va, how)
            run.log(step=step, split="val", **metrics)
            return metrics["psnr"]

        start = (step, best, spent)
        return fit(run, model, ema, opt, cfg, start, step_loss, evaluate, clip=cfg.clip)


def promote(run: Run, out, checkpoint: str = "best", fp16: bool = False, overrides=None):
    """Write the run's EMA weights to ``out/detail.*`` with the validation figures."""
    from unmask.runtime import weights

    cfg, ckpt = load_for_promote(run, DetailTrainConfig, checkpoint, overrides)
    model = DetailNet(**arch_args(cfg))
    model.load_state_dict(ckpt["ema"])
    with np.load(Path(run.folder) / "detail-val.npz") as z:
        val = scores(model, z["patch"], sampling(cfg))
    meta = {
        "stage": "detail",
        "run": run.folder.name,
        "step": ckpt["step"],
        "val": val,
        "sampling": asdict(sampling(cfg)),
        "licence": "non-commercial research (trained on MaskedFace-Net/FFHQ)",
    }
    return weights.save(out, "detail", model, "DetailNet", arch_args(cfg), meta, fp16)
