"""Landmark- and gender-guided inpainting generator for aligned face crops.

A fully convolutional U-Net: three stride-2 stages down to 1/8 of the input side, a bottleneck of
dilated residual blocks there (dilations 1, 2, 4, 8 reach across the whole 16 x 16 map of a 128
crop), and a decoder with skip connections and nearest-neighbour upsampling (no checkerboard).
Gender enters by FiLM (per-channel scale and shift predicted from a gender embedding, zero-
initialised so training starts unconditioned) in the bottleneck and the two coarsest decoder
stages; landmarks enter as extra input channels (see :mod:`unmask.faces.landmark_map`). One
network serves both genders; the unguided ablation is the same network with
``landmark_channels=0`` and ``gender_film=False``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=True)


class FiLM(nn.Module):
    """``x * (1 + gamma) + beta`` with ``gamma, beta`` linear in a condition embedding (zero init).

    Shapes: ``x`` ``N x C x H x W``, ``emb`` ``N x E`` (or ``None``: identity).
    """

    def __init__(self, embed_dim: int, channels: int) -> None:
        super().__init__()
        self.proj = nn.Linear(embed_dim, 2 * channels)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None) -> torch.Tensor:
        if emb is None:
            return x
        gamma, beta = self.proj(emb)[:, :, None, None].chunk(2, dim=1)
        return x * (1 + gamma) + beta


class DilatedResBlock(nn.Module):
    """``x + conv(act(film(conv_dilated(x))))``, residual scaled by 0.5 (stable without norm)."""

    def __init__(self, channels: int, dilation: int, embed_dim: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, dilation, dilation=dilation)
        self.film = FiLM(embed_dim, channels) if embed_dim else None
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.act = _act()

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None) -> torch.Tensor:
        h = self.conv1(x)
        if self.film is not None:
            h = self.film(h, emb)
        return x + 0.5 * self.conv2(self.act(h))


class UpStage(nn.Module):
    """1x1 channel reduction, upsample x2 (nearest), add the skip (LinkNet style), two 3x3 convs
    (FiLM after the first). Reducing before upsampling and adding instead of concatenating keeps
    the high-resolution convs cheap on CPU."""

    def __init__(self, cin: int, cout: int, embed_dim: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(cin, cout, 1)
        self.conv1 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.film = FiLM(embed_dim, cout) if embed_dim else None
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.act = _act()

    def forward(self, x: torch.Tensor, skip: torch.Tensor, emb: torch.Tensor | None):
        x = F.interpolate(self.reduce(x), size=skip.shape[-2:], mode="nearest") + skip
        h = self.conv1(x)
        if self.film is not None:
            h = self.film(h, emb)
        return self.act(self.conv2(self.act(h)))


def _down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, 2, 1), _act(), nn.Conv2d(cout, cout, 3, 1, 1), _act()
    )


class InpaintGenerator(nn.Module):
    """Fill the hole of an aligned face crop.

    Args:
        landmark_channels: channels of the landmark map input (0 = no landmark guidance).
        gender_film: condition on gender with FiLM (False = no gender input).
        widths: channels at strides 1, 2, 4, 8.
        dilations: one dilated residual block per entry, at stride 8.
        embed_dim: size of the gender embedding.
        film_stages: decoder stages (coarsest first) that get FiLM, besides the bottleneck.

    Inputs of :meth:`forward`:
        image: ``N x 3 x S x S`` float32 RGB in [0, 1]; hole pixels are ignored (set to grey).
        mask: ``N x 1 x S x S`` float32 in {0, 1}, 1 = hole. S must be a multiple of 8.
        landmark_map: ``N x landmark_channels x S x S`` float32 in [0, 1] (or ``None`` when
            ``landmark_channels == 0``).
        gender: ``N`` float32 P(female) in [0, 1], 0.5 = unknown (ignored without FiLM).
    Output: ``N x 3 x S x S`` float32 RGB in [0, 1], the raw prediction over the whole crop;
    callers composite it as ``mask * pred + (1 - mask) * image`` (:func:`composite`).
    """

    def __init__(
        self,
        landmark_channels: int = 5,
        gender_film: bool = True,
        widths: tuple[int, ...] = (16, 48, 96, 160),
        dilations: tuple[int, ...] = (1, 2, 4, 8),
        embed_dim: int = 64,
        film_stages: int = 2,
    ) -> None:
        super().__init__()
        if len(widths) != 4:
            raise ValueError("widths needs 4 entries (strides 1, 2, 4, 8)")
        self.landmark_channels = int(landmark_channels)
        self.gender_film = bool(gender_film)
        w0, w1, w2, w3 = widths
        e = embed_dim if gender_film else 0
        self.embed = (
            nn.Sequential(nn.Linear(1, embed_dim), nn.SiLU(), nn.Linear(embed_dim, embed_dim))
            if gender_film
            else None
        )
        self.inc = nn.Sequential(nn.Conv2d(4 + self.landmark_channels, w0, 3, 1, 1), _act())
        self.down1, self.down2, self.down3 = _down(w0, w1), _down(w1, w2), _down(w2, w3)
        self.blocks = nn.ModuleList([DilatedResBlock(w3, d, e) for d in dilations])
        self.up3 = UpStage(w3, w2, e if film_stages >= 1 else 0)
        self.up2 = UpStage(w2, w1, e if film_stages >= 2 else 0)
        self.up1 = UpStage(w1, w0, e if film_stages >= 3 else 0)
        self.out = nn.Conv2d(w0, 3, 3, 1, 1)

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        landmark_map: torch.Tensor | None = None,
        gender: torch.Tensor | None = None,
    ) -> torch.Tensor:
        x = (image * 2 - 1) * (1 - mask)
        parts = [x, mask]
        if self.landmark_channels:
            if landmark_map is None:
                raise ValueError("this generator needs a landmark map")
            parts.append(landmark_map)
        emb = None
        if self.embed is not None:
            g = torch.full_like(mask[:, 0, 0, 0], 0.5) if gender is None else gender.float()
            emb = self.embed((2 * g - 1)[:, None])
        f0 = self.inc(torch.cat(parts, 1))
        f1 = self.down1(f0)
        f2 = self.down2(f1)
        h = self.down3(f2)
        for block in self.blocks:
            h = block(h, emb)
        h = self.up3(h, f2, emb)
        h = self.up2(h, f1, emb)
        h = self.up1(h, f0, emb)
        return torch.tanh(self.out(h)) * 0.5 + 0.5


def composite(pred: torch.Tensor, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``mask * pred + (1 - mask) * image`` (all ``N x C x S x S``; mask broadcasts)."""
    return mask * pred + (1 - mask) * image
