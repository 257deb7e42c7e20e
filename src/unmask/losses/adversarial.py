"""Adversarial losses (hinge or least squares) and discriminator feature matching.

Patch logits are ``N x 1 x h x w``. An optional ``weight`` of the same shape (see
:func:`patch_weight`) restricts the losses to patches that see the hole: patches that lie wholly
in known pixels are identical in real and composited images and carry no signal.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from unmask.losses.image import weighted_mean

KINDS = ("hinge", "lsgan")


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown adversarial loss {kind!r}; choose from {', '.join(KINDS)}")


def patch_weight(mask: torch.Tensor, logits: torch.Tensor, floor: float = 0.0) -> torch.Tensor:
    """``N x 1 x h x w`` weights: 1 for patches whose area contains hole pixels, else ``floor``.

    Args:
        mask: ``N x 1 x S x S`` in {0, 1}, 1 = hole.
        logits: the discriminator output whose grid the weights follow.
    """
    w = F.adaptive_max_pool2d(mask, logits.shape[-2:])
    return w.clamp_min(floor) if floor > 0 else w


def d_loss(
    real: torch.Tensor,
    fake: torch.Tensor,
    kind: str = "hinge",
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Discriminator loss on real and (detached) fake patch logits.

    hinge: ``relu(1 - real) + relu(1 + fake)``; lsgan: ``(real - 1)^2 + fake^2``.
    """
    _check(kind)
    if kind == "hinge":
        return weighted_mean(F.relu(1 - real), weight) + weighted_mean(F.relu(1 + fake), weight)
    return weighted_mean((real - 1) ** 2, weight) + weighted_mean(fake**2, weight)


def g_loss(fake: torch.Tensor, kind: str = "hinge", weight: torch.Tensor | None = None):
    """Generator loss on fake patch logits (hinge: ``-fake``; lsgan: ``(fake - 1)^2``)."""
    _check(kind)
    if kind == "hinge":
        return -weighted_mean(fake, weight)
    return weighted_mean((fake - 1) ** 2, weight)


def feature_matching(
    fake_feats: list[torch.Tensor], real_feats: list[torch.Tensor]
) -> torch.Tensor:
    """Mean over layers of the L1 distance between discriminator features of the fake and the
    real image (real features are detached): pix2pixHD's stabilising, detail-carrying term."""
    if not fake_feats:
        raise ValueError("no features to match")
    terms = [(f - r.detach()).abs().mean() for f, r in zip(fake_feats, real_feats, strict=True)]
    return torch.stack(terms).mean()
