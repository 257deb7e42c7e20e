"""Spectral-norm PatchGAN discriminator conditioned on the hole mask and the landmark map."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    """Score overlapping patches of a face crop as real or inpainted.

    Args:
        cond_channels: channels concatenated to the image: 1 (mask) + landmark map channels.
        widths: channels of the 4x4 conv layers; each but the last halves the resolution, and a
            4x4 head conv follows (pix2pix's 70x70 PatchGAN layout, narrower for CPU).
        spectral: wrap every conv in spectral normalisation.

    Inputs of :meth:`forward`: ``image`` ``N x 3 x S x S`` RGB in [0, 1] and ``cond``
    ``N x cond_channels x S x S`` (mask first, then landmark maps).
    Output: ``(logits, features)``: logits ``N x 1 x h x w`` (one per patch; ``h = S/8 - 2`` with
    the defaults), features the list of each hidden layer's activations (for feature matching).
    """

    def __init__(
        self,
        cond_channels: int = 6,
        widths: tuple[int, ...] = (32, 64, 128, 192),
        spectral: bool = True,
    ) -> None:
        super().__init__()
        sn = spectral_norm if spectral else (lambda m: m)
        layers = []
        cin = 3 + cond_channels
        for i, w in enumerate(widths):
            stride = 2 if i < len(widths) - 1 else 1
            layers.append(sn(nn.Conv2d(cin, w, 4, stride, 1)))
            cin = w
        self.layers = nn.ModuleList(layers)
        self.head = sn(nn.Conv2d(cin, 1, 4, 1, 1))
        self.act = nn.LeakyReLU(0.2)

    def forward(
        self, image: torch.Tensor, cond: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = torch.cat([image * 2 - 1, cond], 1)
        feats = []
        for layer in self.layers:
            h = self.act(layer(h))
            feats.append(h)
        return self.head(h), feats
