"""The options every training loop shares (:class:`LoopConfig`), the base of each trainer's
config dataclass."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(kw_only=True)
class LoopConfig:
    """Options of the training loop itself; a trainer's config adds its data, network and
    losses, and may change these defaults.

    Attributes:
        steps: optimiser steps in all (a resumed run continues to this count).
        warmup: steps of linear learning-rate warm-up before the cosine decay.
        minutes: wall-clock budget; the run stops cleanly when it is spent (``None``: none).
        ema: decay of the exponential moving average of the weights that is evaluated, kept
            and promoted.
        eval_every: steps between validations (each keeps the best EMA weights).
        threads: PyTorch CPU threads.
        seed: seed of every random stream of the run.
        runs: folder the numbered run folders are made in.
        tag: suffix of the run folder's name.
    """

    steps: int = 20000
    warmup: int = 300
    minutes: float | None = None
    ema: float = 0.998
    eval_every: int = 1000
    threads: int = 2
    seed: int = 0
    runs: str = "runs"
    tag: str = ""
