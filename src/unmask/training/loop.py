"""The step loop shared by the single-network trainers (attr, segmenter, detector, verifier):
cosine learning rate, one optimiser step, EMA, logging, periodic validation with best-checkpoint
keeping, and a clean stop on SIGTERM. The GAN inpainter keeps its own loop (two networks,
DistributedDataParallel) with the same stop and claim rules."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import torch
from torch import nn

from unmask.training.common import (
    EMA,
    Budget,
    StopOnSignal,
    cosine_lr,
    keep_best,
    log_train,
    train_state,
)
from unmask.training.runs import Run

log = logging.getLogger(__name__)


def fit(
    run: Run,
    model: nn.Module,
    ema: EMA,
    opt: torch.optim.Optimizer,
    cfg,
    start: tuple[int, float | None, float],
    step_loss: Callable[[int], tuple[dict, int]],
    evaluate: Callable[[nn.Module, int], float],
    *,
    higher: bool = True,
    clip: float | None = None,
    train_mode: Callable[[], object] | None = None,
) -> Run:
    """Train ``model`` until its budget (``cfg.steps``, ``cfg.minutes``) is spent or a SIGTERM
    arrives, then save and return.

    Args:
        run: the run folder, claimed by the caller (``with Run.held(...) as run:``).
        cfg: the trainer's config; read: ``steps``, ``minutes``, ``warmup``, ``lr``,
            ``eval_every``.
        start: ``(step, best, spent)`` from :func:`~unmask.training.common.resume`.
        step_loss: ``step -> (parts, images)``: draws the next batch and returns the loss
            terms (``parts["loss"]`` is minimised, every term is logged) and its batch size.
        evaluate: ``(ema_model, step) -> score``: validates the EMA weights and logs what it
            measured; the score picks ``checkpoints/best.pt`` (``higher`` is better unless
            ``higher=False``).
        clip: gradient-norm clip, or ``None``.
        train_mode: puts the model back in training mode after each validation (default:
            ``model.train()``), e.g. with frozen layers or BatchNorm kept in eval mode.

    Returns:
        ``run``, with ``checkpoints/last.pt`` holding the step reached.
    """
    train_mode = train_mode or model.train
    step, best, spent = start
    budget = Budget(cfg.steps, cfg.minutes, spent)
    t0, seen = time.perf_counter(), 0
    train_mode()
    with StopOnSignal() as signalled:
        while not budget.done(step) and not signalled.requested:
            lr = cosine_lr(step, cfg.steps, cfg.warmup, cfg.lr, progress=budget.progress(step))
            for group in opt.param_groups:
                group["lr"] = lr
            parts, images = step_loss(step)
            opt.zero_grad(set_to_none=True)
            parts["loss"].backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            ema.update(model)
            step += 1
            seen += images
            if step % 50 == 0:
                log_train(run, step, opt, parts, seen, time.perf_counter() - t0)
            if step % cfg.eval_every == 0 or budget.done(step):
                best = keep_best(run, evaluate(ema.model, step), best, ema, step, higher)
                run.save_checkpoint(train_state(model, ema, opt, step, best, budget))
                train_mode()
    run.save_checkpoint(train_state(model, ema, opt, step, best, budget))
    log.info("stopped at step %d%s", step, " (SIGTERM)" if signalled.requested else "")
    return run
