"""Small building blocks shared by the networks."""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Conv (no bias) + BatchNorm + ReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def dilated_stack(cin: int, width: int, dilations, cout: int) -> tuple[nn.Sequential, nn.Conv2d]:
    """A body of 3 x 3 convolutions with ReLU, one per entry of ``dilations`` with that dilation
    (``width`` channels, same size out as in), and a 3 x 3 head to ``cout`` channels that starts
    at zero (so a residual network built on it starts as the identity)."""
    layers = []
    for d in dilations:
        layers += [nn.Conv2d(cin, width, 3, padding=d, dilation=d), nn.ReLU(inplace=True)]
        cin = width
    head = nn.Conv2d(cin, cout, 3, padding=1)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    return nn.Sequential(*layers), head


class ResBlock(nn.Module):
    """Basic residual block (two 3x3 convs), optional stride-2 downsampling.

    Shapes: ``N x cin x H x W`` -> ``N x cout x H/stride x W/stride``.
    """

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.skip = (
            nn.Identity()
            if stride == 1 and cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.skip(x))


class ResNetEncoder(nn.Module):
    """A compact ResNet: stem (stride 2) then one stage per width, each halving the size.

    Args:
        in_channels: input channels.
        widths: channels per stage; stage ``i`` has stride ``2 ** (i + 2)`` overall
            (the first stage keeps the stem's resolution... see ``forward``).
        blocks: residual blocks per stage.
    Returns from ``forward``: the list of stage outputs, finest first.
    """

    def __init__(self, in_channels: int, widths: tuple[int, ...], blocks: int = 2) -> None:
        super().__init__()
        self.stem = conv_bn(in_channels, widths[0], 3, 2)
        stages = []
        cin = widths[0]
        for i, w in enumerate(widths):
            layers = [ResBlock(cin, w, 1 if i == 0 else 2)]
            layers += [ResBlock(w, w) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*layers))
            cin = w
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats
