"""Losses over the samples of a batch that carry a label."""

from __future__ import annotations

from collections.abc import Callable

import torch


def over_known(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    pred: torch.Tensor,
    target: torch.Tensor,
    known: torch.Tensor,
) -> torch.Tensor:
    """``fn(pred[known], target[known])``; a zero that keeps ``pred`` in the graph when no
    sample of the batch is labelled (so backward and DDP see every parameter used).

    Args:
        fn: a loss of ``(pred, target)`` returning a scalar tensor.
        pred, target: tensors with the batch on dimension 0.
        known: bool ``N``, which samples are labelled.
    """
    return fn(pred[known], target[known]) if known.any() else pred.sum() * 0
