"""Reconstruction losses for inpainting: hole-weighted L1, SSIM and high-frequency terms.

Images are float32 ``N x C x H x W`` RGB in [0, 1]; masks ``N x 1 x H x W`` in {0, 1}, 1 = hole.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def weighted_mean(x: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of ``x`` weighted by ``weight`` (broadcast over channels); plain mean without one.

    ``weight`` is ``N x 1 x H x W`` (or the shape of ``x``); an all-zero weight gives 0.
    """
    if weight is None:
        return x.mean()
    w = weight.expand_as(x)
    return (x * w).sum() / w.sum().clamp_min(1e-8)


def hole_l1(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    valid_weight: float = 0.0,
    known: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean absolute error inside the hole, plus ``valid_weight`` times the error outside it.

    Use on the raw generator output: a small ``valid_weight`` keeps the prediction continuous
    across the mask border (the composite discards it outside the hole). ``known``
    (``N x 1 x H x W`` in {0, 1}, optional) limits both terms to pixels whose ``target`` is
    real, e.g. those of the source photo rather than its padding.
    """
    err = (pred - target).abs()
    known = torch.ones_like(mask) if known is None else known
    loss = weighted_mean(err, mask * known)
    if valid_weight > 0:
        loss = loss + valid_weight * weighted_mean(err, (1 - mask) * known)
    return loss


def _gaussian_kernel(size: int, sigma: float, channels: int, like: torch.Tensor) -> torch.Tensor:
    r = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def ssim_map(
    x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5, data_range: float = 1.0
) -> torch.Tensor:
    """Per-pixel SSIM (Wang et al. 2004, Gaussian window, per channel), reflect-padded so the
    map has the input's ``N x C x H x W`` shape. Values in [-1, 1], 1 = identical."""
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    k = _gaussian_kernel(window, sigma, x.shape[1], x)
    pad = window // 2

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(t, (pad,) * 4, mode="reflect"), k, groups=x.shape[1])

    mx, my = blur(x), blur(y)
    vx, vy = blur(x * x) - mx * mx, blur(y * y) - my * my
    cov = blur(x * y) - mx * my
    return ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))


def ssim_loss(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """``1 - SSIM``, averaged over the hole (or the whole image without a mask)."""
    return 1 - weighted_mean(ssim_map(pred, target), mask)


def laplacian(x: torch.Tensor) -> torch.Tensor:
    """4-neighbour Laplacian per channel (replicate padding); same shape as ``x``."""
    k = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]], device=x.device)
    k = k.to(x.dtype).expand(x.shape[1], 1, 3, 3).contiguous()
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k, groups=x.shape[1])


def _pyramid(x: torch.Tensor, mask: torch.Tensor, scales: int):
    for s in range(scales):
        if s:
            x, mask = F.avg_pool2d(x, 2), F.max_pool2d(mask, 2)
        yield x, mask


def high_frequency_l1(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, scales: int = 2
) -> torch.Tensor:
    """L1 between the Laplacians of ``pred`` and ``target`` inside the hole, summed over
    ``scales`` octaves (full resolution, then 2x average-pooled). Penalises missing or wrong
    edges and texture, which plain L1 barely does."""
    total = pred.new_zeros(())
    for (p, m), (t, _) in zip(
        _pyramid(pred, mask, scales), _pyramid(target, mask, scales), strict=True
    ):
        total = total + weighted_mean((laplacian(p) - laplacian(t)).abs(), m)
    return total


def laplacian_energy_gap(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    eps: float = 1e-3,
    mode: str = "plain",
) -> torch.Tensor:
    """Relative gap between the mean |Laplacian| (detail energy) of ``pred`` and ``target``
    inside each image's hole, ``|E(pred) - E(target)| / E(target)``, averaged over the batch.

    Unlike :func:`high_frequency_l1` it does not care *where* the detail is, only how much, so
    it counters the blur of averaging without asking for exact texture. Note that it optimises
    the sharpness ratio reported by :func:`unmask.metrics.images.sharpness_ratio` directly,
    which a network can satisfy with the cheapest detail there is: an oscillation at the
    pixel grid's Nyquist frequency, along one axis.

    ``mode`` chooses what is matched:

    - ``"plain"``: the mean |Laplacian|, as above.
    - ``"directional"``: the second difference along x and along y apart (the mean of the two
      gaps), so streaks along one axis are a gap; a network can still match each axis with
      an oscillation along it (streaks across the other axis).
    - ``"band"``: the mean |Laplacian| of both images blurred by ``[1, 2, 1] / 4`` along each
      axis (the blur removes the Nyquist frequency, so oscillations at the pixel scale count
      for nothing), plus a one-sided term on each axis's second difference that counts only
      what ``pred`` has beyond ``target``: pixel-scale detail up to the truth's is free, more
      is a gap.
    """
    if mode not in ENERGY_MODES:
        raise ValueError(f"unknown energy mode {mode!r}: use {', '.join(ENERGY_MODES)}")
    m = mask.expand_as(pred)
    area = m.sum((1, 2, 3)).clamp_min(1.0)

    def energies(op, x):
        return (op(x).abs() * m).sum((1, 2, 3)) / area

    def gaps(ops, p, t, one_sided=False):
        out = []
        for op in ops:
            ep, et = energies(op, p), energies(op, t)
            diff = (ep - et).clamp_min(0.0) if one_sided else (ep - et).abs()
            out.append(diff / (et + eps))
        return torch.stack(out).mean(0)

    axes = (_second_difference_x, _second_difference_y)
    if mode == "plain":
        return gaps((laplacian,), pred, target).mean()
    if mode == "directional":
        return gaps(axes, pred, target).mean()
    mid = gaps((laplacian,), _blur121(pred), _blur121(target))
    return (mid + gaps(axes, pred, target, one_sided=True)).mean()


#: What :func:`laplacian_energy_gap` can match.
ENERGY_MODES = ("plain", "directional", "band")


def _blur121(x: torch.Tensor) -> torch.Tensor:
    p = F.pad(x, (1, 1, 1, 1), mode="replicate")
    p = (p[..., 2:] + 2 * p[..., 1:-1] + p[..., :-2]) / 4
    return (p[..., 2:, :] + 2 * p[..., 1:-1, :] + p[..., :-2, :]) / 4


def _second_difference_x(x: torch.Tensor) -> torch.Tensor:
    p = F.pad(x, (1, 1, 0, 0), mode="replicate")
    return p[..., 2:] - 2 * p[..., 1:-1] + p[..., :-2]


def _second_difference_y(x: torch.Tensor) -> torch.Tensor:
    p = F.pad(x, (0, 0, 1, 1), mode="replicate")
    return p[..., 2:, :] - 2 * p[..., 1:-1, :] + p[..., :-2, :]
