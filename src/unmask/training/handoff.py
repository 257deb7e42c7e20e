"""Weights handed into and out of a training run: a fine-tune's start from promoted weights
(:func:`init_from_weights`), and a finished run's config and checkpoint for promotion
(:func:`load_for_promote`)."""

from __future__ import annotations

import inspect
import logging

from torch import nn

from unmask.training.common import EMA


def init_from_weights(
    model: nn.Module,
    ema: EMA,
    stage: str,
    folder,
    arch: str,
    want: dict,
    member: int | None = None,
):
    """Start a fine-tune: load the promoted ``stage`` weights in ``folder`` (that folder only)
    into ``model`` and its EMA copy. They must be the network the config builds: class name
    ``arch`` with constructor arguments ``want``; else ``ValueError``. With ``member``, the
    weights are an attr ensemble and its member ``member`` is loaded
    (:func:`unmask.training.ensemble.member_weights`); arguments it does not store take the
    constructor's defaults."""
    from unmask.runtime import weights

    if member is None:
        info = weights.find_here(stage, folder)
        found, args, src = info.arch, info.args, None
    else:
        from unmask.training.ensemble import member_weights

        picked = member_weights(folder, member)
        found, args, src = arch, {**_defaults(model), **picked["args"]}, picked["state"]
    have = {k: args.get(k) for k in want}
    if found != arch or have != want:
        raise ValueError(
            f"init_weights {folder}: {found} {have} is not the network this config builds "
            f"({arch} {want}); set the architecture options to match"
        )
    if src is None:
        src = weights.load_module(info).state_dict()
    model.load_state_dict(src)
    ema.model.load_state_dict(src)
    logging.getLogger(__name__).info("%s initialised from %s (member %s)", stage, folder, member)


def _defaults(model: nn.Module) -> dict:
    """The constructor defaults of ``model``'s class (for weights that predate an option)."""
    params = inspect.signature(type(model).__init__).parameters.values()
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def load_for_promote(run, config_cls, name: str = "best", overrides: dict | None = None) -> tuple:
    """The resolved config of ``run`` (with promotion-time ``overrides``, e.g. a detector's
    ``flip_tta`` or ``max_fp``; unknown keys are rejected) and its checkpoint ``name``
    (``last`` as fallback).

    Raises:
        FileNotFoundError: the run has no checkpoint.
    """
    from unmask.config import from_dict

    cfg = from_dict(config_cls, {**run.config(), **(overrides or {})})
    ckpt = run.load_checkpoint(name) or run.load_checkpoint("last")
    if ckpt is None:
        raise FileNotFoundError(f"no checkpoint in {run.folder}")
    return cfg, ckpt
