"""Helpers shared by the stage trainers: seeding, EMA, schedules, loaders, time budgets."""

from __future__ import annotations

import copy
import logging
import math
import os
import random
import signal
import threading
import time

import numpy as np
import torch
from torch import nn


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class EMA:
    """Exponential moving average of a model's parameters and float buffers.

    Float buffers (BatchNorm running statistics) are averaged too, so they stay consistent with
    the averaged weights; integer buffers (batch counters) are copied.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        # one fused call per list: a GPU step is bound by kernel launches, not arithmetic
        ema, new = list(self.model.parameters()), list(model.parameters())
        ema_f, new_f = [], []
        for e, b in zip(self.model.buffers(), model.buffers(), strict=True):
            if e.is_floating_point():
                ema_f.append(e)
                new_f.append(b)
            else:
                e.copy_(b)
        if len(ema) != len(new):
            raise ValueError("EMA and model have different parameters")
        for dst, src in ((ema, new), (ema_f, new_f)):
            if dst:
                torch._foreach_lerp_(dst, src, 1 - self.decay)


class StopOnSignal:
    """Context manager: a SIGTERM while inside sets :attr:`requested` instead of ending the
    process, so a training loop can save its checkpoint and return (``timeout -s TERM``, a
    scheduler's pre-emption); a second SIGTERM ends the process at once, in case the loop is
    stuck. The previous handler comes back on exit. ``enabled=False``, or
    outside the main thread, it installs nothing (under DistributedDataParallel every rank must
    stop at the same step, so there the signal keeps its default action).
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.requested = False
        self._old = None

    def __enter__(self) -> StopOnSignal:
        self.requested = False
        if self.enabled and threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:  # a second SIGTERM ends the process as it would have
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        self.requested = True
        msg = "SIGTERM: stopping after this step (another stops at once)"
        logging.getLogger(__name__).warning(msg)

    def __exit__(self, *exc) -> None:
        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)
            self._old = None


def photo_batch(x: np.ndarray) -> torch.Tensor:
    """float32 ``N x 3 x H x W`` in [0, 1] from uint8 ``N x H x W x 3`` RGB (any strides),
    stored NCHW-contiguous: channels-last tensors of under 8 channels crash oneDNN's backward
    pass of strided 1 x 1 convolutions on AVX2 CPUs (torch 2.14)."""
    return torch.from_numpy(np.ascontiguousarray(np.asarray(x).transpose(0, 3, 1, 2))).float() / 255


def photo_jitter(t: torch.Tensor, rng: np.random.Generator, gain: float, shift: float):
    """Contrast and brightness of each image of ``t`` (float ``N x C x H x W`` in [0, 1])
    changed at random: contrast about its own mean times ``U(1 - gain, 1 + gain)``, plus
    ``U(-shift, shift)``; clamped to [0, 1]. Returns a new tensor."""
    n = t.shape[0]
    g = torch.from_numpy(rng.uniform(1 - gain, 1 + gain, (n, 1, 1, 1)).astype(np.float32))
    b = torch.from_numpy(rng.uniform(-shift, shift, (n, 1, 1, 1)).astype(np.float32))
    mean = t.mean((1, 2, 3), keepdim=True)
    return ((t - mean) * g + mean + b).clamp(0, 1)


def cosine_lr(
    step: int,
    total: int,
    warmup: int,
    base: float,
    floor: float = 0.02,
    progress: float | None = None,
) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to ``floor * base``.

    The decay follows ``step / total``, or ``progress`` (0..1, e.g. :meth:`Budget.progress`,
    which also counts wall-clock time) when given.
    """
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup) if progress is None else progress
    t = min(1.0, max(0.0, t))
    return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t)))


def infinite(loader, dataset=None):
    """Yield batches forever, advancing the dataset's augmentation epoch each pass.

    The loader must not use ``persistent_workers``: persistent workers keep their own copy of
    the dataset and never see :meth:`set_epoch`, so augmentation would repeat every epoch.
    """
    epoch = 0
    while True:
        if dataset is not None and hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:  # else this would spin forever
            raise ValueError(
                "the training data gives no batch: fewer training samples than one batch "
                "(with drop_last); lower `batch` or add data"
            )
        epoch += 1


class Budget:
    """Training budget: a step count and an optional wall-clock limit in minutes.

    Time already spent in earlier sessions of a resumed run counts (``spent`` seconds), so the
    learning-rate schedule can follow whichever budget runs out first (:meth:`progress`).
    """

    def __init__(self, steps: int, minutes: float | None, spent: float = 0.0) -> None:
        self.steps = steps
        self.seconds = None if minutes is None else 60.0 * minutes
        self.start = time.monotonic() - spent

    @property
    def spent(self) -> float:
        """Seconds spent so far (this session plus earlier ones)."""
        return time.monotonic() - self.start

    def progress(self, step: int) -> float:
        """Fraction of the budget used, in [0, 1]."""
        frac = step / max(1, self.steps)
        if self.seconds:
            frac = max(frac, self.spent / self.seconds)
        return min(1.0, frac)

    def done(self, step: int) -> bool:
        return self.progress(step) >= 1.0


@torch.no_grad()
def recalibrate_bn(model: nn.Module, batches, key: str = "masked", limit: int = 50) -> nn.Module:
    """Re-estimate BatchNorm running statistics of ``model`` on up to ``limit`` batches
    (cumulative average), e.g. for EMA weights whose statistics lag behind. Returns the model in
    eval mode."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return model.eval()
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    for i, batch in enumerate(batches):
        if i >= limit:
            break
        model(batch[key])
    return model.eval()


def resume(run, model: nn.Module, ema: EMA, opt) -> tuple[int, float | None, float]:
    """Load ``run``'s last checkpoint into model, EMA and optimiser, if there is one.

    Returns:
        ``(step, best, spent)``: the step reached, the best validation score so far and the
        seconds already spent (all zero / ``None`` for a new run).
    """
    ckpt = run.load_checkpoint()
    if ckpt is None:
        return 0, None, 0.0
    model.load_state_dict(ckpt["model"])
    ema.model.load_state_dict(ckpt["ema"])
    opt.load_state_dict(ckpt["opt"])
    logging.getLogger(__name__).info("resumed %s at step %d", run.folder, ckpt["step"])
    return ckpt["step"], ckpt.get("best"), ckpt.get("spent", 0.0)


def ema_and_optimiser(run, model: nn.Module, cfg) -> tuple[EMA, torch.optim.Optimizer, tuple]:
    """The EMA copy (decay ``cfg.ema``) and AdamW optimiser (``cfg.lr``, ``cfg.weight_decay``)
    of ``model``, with ``run``'s last checkpoint loaded into all three when there is one.

    Returns:
        ``(ema, opt, (step, best, spent))``, the last as :func:`resume` gives it.
    """
    ema = EMA(model, cfg.ema)
    opt = torch.optim.AdamW(model.parameters(), cfg.lr, weight_decay=cfg.weight_decay)
    return ema, opt, resume(run, model, ema, opt)


def mined_once(run, prefix: str, split: str, mine) -> dict[str, np.ndarray]:
    """Arrays kept in ``run/<prefix>-<split>.npz``: made by ``mine()`` on first use (it returns
    the arrays and the figures to log about them), read back from the file after that, so a
    resumed run does not make them again."""
    from pathlib import Path

    path = Path(run.folder) / f"{prefix}-{split}.npz"
    if not path.exists():
        data, counts = mine()
        np.savez(path, **data)
        run.log(split=f"mined_{split}", **counts)
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def train_state(model: nn.Module, ema: EMA, opt, step: int, best, budget: Budget) -> dict:
    """The resumable state of a single-network run (see :func:`resume`)."""
    return {
        "model": model.state_dict(),
        "ema": ema.model.state_dict(),
        "opt": opt.state_dict(),
        "step": step,
        "best": best,
        "spent": budget.spent,
    }


def keep_best(run, score: float, best: float | None, ema: EMA, step: int, higher: bool = True):
    """Write the EMA weights to ``checkpoints/best.pt`` when ``score`` beats ``best`` (``None``:
    nothing yet; ``higher=False`` when lower scores are better) and return the best score."""
    if best is None or (score > best if higher else score < best):
        run.save_checkpoint({"ema": ema.model.state_dict(), "step": step}, "best")
        return score
    return best


def log_train(run, step: int, opt, parts: dict, images: int, seconds: float) -> None:
    """Log the training losses of ``step`` with the learning rate and throughput."""
    run.log(
        step=step,
        lr=opt.param_groups[0]["lr"],
        images_per_s=round(images / max(seconds, 1e-9), 1),
        **{k: round(float(v.detach() if hasattr(v, "detach") else v), 4) for k, v in parts.items()},
    )
