"""Which crops of a batch a training augmentation draws on, each with a generator of its own."""

from __future__ import annotations

import numpy as np


def drawn_crops(n: int, prob: float, generator=None) -> list[tuple[int, np.random.Generator]]:
    """The crops of a batch of ``n`` that an augmentation changes, each with probability
    ``prob``, and a numpy generator for each, seeded from ``generator`` (a ``torch.Generator``,
    or None for torch's global one): the same ``generator`` state gives the same crops and
    draws.

    Returns:
        ``[(index, rng), ...]`` in index order.
    """
    import torch

    pick = torch.rand(n, generator=generator).numpy() < prob
    seeds = torch.randint(2**31 - 1, (n,), generator=generator).numpy()
    return [(int(i), np.random.default_rng(int(seeds[i]))) for i in np.flatnonzero(pick)]


def map_drawn(x, prob: float, generator, fn):
    """A batch with ``fn(index, crop, rng)`` (float32 ``3 x S x S`` in, the same out) applied to
    the crops :func:`drawn_crops` draws.

    Args:
        x: float tensor ``N x 3 x S x S``.
    Returns:
        A new float tensor, or ``x`` itself when ``prob`` is 0 or less.
    """
    import torch

    if prob <= 0:
        return x
    out = x.numpy().copy()
    for i, rng in drawn_crops(x.shape[0], prob, generator):
        out[i] = fn(i, out[i], rng)
    return torch.from_numpy(out)
