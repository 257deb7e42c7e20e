"""Anchor-free single-stage face detector (CenterNet / TTFNet style) for masked and bare faces.

A compact ResNet trunk (strides 2-32), a light top-down FPN merged down to ``out_stride``, and
two heads on that one map: a face-centre heatmap and, per cell, the distances to the four box
sides plus five keypoints. Decoding (peaks, boxes, NMS) lives in
:mod:`unmask.detection.net` so it can run without torch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from unmask.models.blocks import ResNetEncoder, conv_bn


class FaceDetector(nn.Module):
    """Face centres, boxes and five keypoints on a grid of stride ``out_stride``.

    Args:
        widths: channels of the encoder stages; stage ``i`` has stride ``2 ** (i + 1)``.
        blocks: residual blocks per stage.
        fpn_channels: channels of the FPN maps.
        head_channels: channels of each head's hidden 3x3 conv.
        out_stride: stride of the output grid (4 or 8; a power of two >= 2 whose stage exists).
        num_keypoints: keypoints per face (5: eyes, nose tip, mouth corners).
        prior: initial face probability of every cell (focal-loss bias init).

    Input: ``N x 3 x H x W`` float32 RGB in [0, 1]; ``H`` and ``W`` multiples of
    ``2 ** len(widths)`` (32 for five stages).
    Output: dict of float32 maps on the ``h x w = H / out_stride x W / out_stride`` grid:
        ``heatmap`` ``N x 1 x h x w`` logits of "a face centre lies in this cell";
        ``box`` ``N x 4 x h x w`` log distances (left, top, right, bottom) from the cell centre
        to the box sides, in units of ``out_stride`` pixels (distance = ``exp(v) * stride``);
        ``keypoints`` ``N x 2K x h x w`` (x, y) offsets of each keypoint from the cell centre
        divided by the box width / height.
    Cell ``j`` has its centre at pixel ``j * stride + (stride - 1) / 2`` (pixel-centre
    convention).
    """

    def __init__(
        self,
        widths: tuple[int, ...] = (12, 24, 48, 96, 192),
        blocks: int = 2,
        fpn_channels: int = 32,
        head_channels: int = 32,
        out_stride: int = 4,
        num_keypoints: int = 5,
        prior: float = 0.01,
    ) -> None:
        super().__init__()
        level = int(math.log2(out_stride)) - 1  # encoder stage index with this stride
        if 2 ** (level + 1) != out_stride or not 0 <= level < len(widths):
            raise ValueError(f"out_stride {out_stride} needs a stage of that stride")
        self.out_stride = out_stride
        self.num_keypoints = num_keypoints
        self.level = level
        self.encoder = ResNetEncoder(3, tuple(widths), blocks)
        self.lateral = nn.ModuleList([conv_bn(w, fpn_channels, 1) for w in list(widths)[level:]])
        self.smooth = nn.ModuleList(
            [conv_bn(fpn_channels, fpn_channels, 3) for _ in list(widths)[level:-1]]
        )
        self.cls_head = self._head(fpn_channels, head_channels, 1)
        self.reg_head = self._head(fpn_channels, head_channels, 4 + 2 * num_keypoints)
        nn.init.constant_(self.cls_head[-1].bias, -math.log((1 - prior) / prior))
        nn.init.zeros_(self.reg_head[-1].weight)
        with torch.no_grad():
            self.reg_head[-1].bias.zero_()
            self.reg_head[-1].bias[:4] = 2.0  # initial boxes ~ 15 strides across

    @staticmethod
    def _head(cin: int, hidden: int, cout: int) -> nn.Sequential:
        return nn.Sequential(conv_bn(cin, hidden, 3), nn.Conv2d(hidden, cout, 1))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = self.encoder((x - 0.45) / 0.25)[self.level :]
        y = self.lateral[-1](feats[-1])
        for i in range(len(feats) - 2, -1, -1):
            y = F.interpolate(y, size=feats[i].shape[-2:], mode="nearest")
            y = self.smooth[i](y + self.lateral[i](feats[i]))
        reg = self.reg_head(y)
        return {"heatmap": self.cls_head(y), "box": reg[:, :4], "keypoints": reg[:, 4:]}
