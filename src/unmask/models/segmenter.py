"""Fast face-mask segmenter for aligned face crops: a small U-Net of depthwise-separable convs.

Level ``i`` of the encoder works at stride ``2 ** i`` (level 0 at full resolution), each level
one stride-2 separable conv plus ``blocks`` separable residual blocks; the bottom level adds a
global-context term (pooled features broadcast back). The decoder upsamples (nearest by
default), adds the skip of the same level and refines with one separable block per level; a
1x1 conv gives the logit at full resolution. Two coordinate channels are appended to the input,
because on an aligned crop *where* a pixel is says much about whether it can be a face mask.
The full-resolution levels dominate the cost, hence the narrow first widths.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from unmask.models.blocks import conv_bn


class SepBlock(nn.Module):
    """Residual depthwise-separable block: dw 3x3 + BN + ReLU, pw 1x1 + BN, add, ReLU.

    Shapes: ``N x C x H x W`` -> ``N x C x H x W``.
    """

    def __init__(self, channels: int, dilation: int = 1) -> None:
        super().__init__()
        self.dw = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, dilation, dilation, groups=channels, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        self.pw = nn.Sequential(
            nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.pw(self.dw(x)), inplace=True)


def sep_down(cin: int, cout: int) -> nn.Sequential:
    """Stride-2 depthwise 3x3 + pointwise to ``cout`` (``N x cin x H x W`` -> ``H/2``)."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, 2, 1, groups=cin, bias=False),
        nn.BatchNorm2d(cin),
        nn.ReLU(inplace=True),
        conv_bn(cin, cout, 1),
    )


class MaskSegNet(nn.Module):
    """Predict the face-mask logit map of an aligned face crop.

    Args:
        in_channels: image channels (3, RGB).
        widths: channels per level; level ``i`` has stride ``2 ** i`` (level 0 = full size), so
            the input side must be divisible by ``2 ** (len(widths) - 1)``.
        blocks: separable residual blocks per encoder level (level 0 has one plain conv).
        coords: append two coordinate channels (x, y in [-1, 1]) to the input.
        upsample: decoder upsampling mode, ``"nearest"`` (cheap to train on a CPU) or
            ``"bilinear"``.

    Input: ``N x in_channels x S x S`` float32 RGB in [0, 1].
    Output: ``N x 1 x S x S`` float32 logits (sigmoid = probability of a face-mask pixel).
    """

    def __init__(
        self,
        in_channels: int = 3,
        widths: tuple[int, ...] = (8, 24, 64, 128, 192),
        blocks: int = 2,
        coords: bool = True,
        upsample: str = "nearest",
    ) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        self.coords = coords
        self.upsample = upsample
        self.stem = nn.Sequential(
            conv_bn(in_channels + 2 * coords, widths[0], 3), SepBlock(widths[0])
        )
        self.down = nn.ModuleList()
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            self.down.append(
                nn.Sequential(sep_down(cin, cout), *[SepBlock(cout) for _ in range(blocks)])
            )
        bottom = widths[-1]
        self.context = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(bottom, bottom, 1))
        self.bottom = SepBlock(bottom, dilation=2)
        self.lateral = nn.ModuleList(
            conv_bn(cout, cin, 1) for cin, cout in zip(widths[:-1], widths[1:], strict=True)
        )
        self.up = nn.ModuleList(SepBlock(w) for w in widths[:-1])
        self.head = nn.Conv2d(widths[0], 1, 1)
        self.stride = 2 ** (len(widths) - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        if h % self.stride or w % self.stride:
            raise ValueError(f"input side must be divisible by {self.stride}, got {h}x{w}")
        x = (x - 0.5) / 0.25
        if self.coords:
            ys = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype)
            xs = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype)
            grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy")).expand(n, 2, h, w)
            x = torch.cat([x, grid], 1)
        feats = [self.stem(x)]
        for down in self.down:
            feats.append(down(feats[-1]))
        y = feats.pop()
        y = self.bottom(y + self.context(y))
        for i in range(len(feats) - 1, -1, -1):
            skip = feats[i]
            y = F.interpolate(self.lateral[i](y), size=skip.shape[-2:], mode=self.upsample)
            y = self.up[i](y + skip)
        return self.head(y)


class MaskSegEnsemble(nn.Module):
    """Several :class:`MaskSegNet` members run on the same crop, their probabilities averaged.

    Two segmenters that miss different masks (one light masks, the other dark ones) cover
    each other: a pixel one member is sure of and the other doubts lands near 0.5, above the
    usual thresholds, while skin both reject stays low.

    Args:
        members: constructor arguments of each member (the same ``widths`` depth, so the same
            input stride).

    Input and output as :class:`MaskSegNet`: ``N x 3 x S x S`` float32 RGB in [0, 1] ->
    ``N x 1 x S x S`` float32 logits of the mean member probability (clamped to
    ``[1e-6, 1 - 1e-6]`` before the logit).
    """

    def __init__(self, members: list[dict]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(MaskSegNet(**m) for m in members)
        strides = {m.stride for m in self.members}
        if len(strides) > 1:
            raise ValueError(f"members differ in input stride: {sorted(strides)}")
        self.stride = strides.pop()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        prob = torch.stack([torch.sigmoid(m(x)) for m in self.members]).mean(0)
        prob = prob.clamp(1e-6, 1 - 1e-6)
        return torch.log(prob) - torch.log1p(-prob)


def fuse_conv_bn(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm2d that directly follows a Conv2d inside an ``nn.Sequential`` into
    the conv (eval-mode inference only; the same outputs up to rounding, fewer ops).

    Modifies and returns ``model``, which must be in eval mode.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    if model.training:
        raise ValueError("fuse_conv_bn needs a model in eval mode")
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 1):
            conv, bn = seq[i], seq[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                seq[i] = fuse_conv_bn_eval(conv, bn)
                seq[i + 1] = nn.Identity()
    return model
