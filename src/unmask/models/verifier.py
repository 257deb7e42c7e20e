"""A small face / not-face classifier for the detector's second look at small candidates.

The detector calls a face a face from a dozen pixels; at that size a pebble, a coin or a
printed letter can look the same to it, and looking again with the same network (the zoom
veto of :mod:`unmask.detection.zoom`) repeats some of its mistakes. This network is
trained apart, on crops around the detector's own candidates (true faces and its false
faces, mined from training scenes), so its errors are its own.
"""

from __future__ import annotations

import torch
from torch import nn

from unmask.models.blocks import ResBlock, conv_bn


class FaceVerifier(nn.Module):
    """Face logit of a square crop centred on a candidate box.

    Args:
        image_size: input side in pixels (crops are resized to it).
        widths: channels of the stages after the stem; each stage halves the size.

    Input: ``image`` ``N x 3 x S x S`` float32 RGB in [0, 1], ``S = image_size``: the candidate
    box centred, ``context`` times its side across (see
    :func:`unmask.detection.zoom.zoom_crop`).
    Output: ``N`` float32 logits of "this is a face" (masked or not).
    """

    def __init__(self, image_size: int = 48, widths: tuple[int, ...] = (16, 32, 64, 96)) -> None:
        super().__init__()
        if image_size % (2 ** len(widths)):
            raise ValueError(f"image_size {image_size} must be a multiple of {2 ** len(widths)}")
        self.image_size = int(image_size)
        self.stem = conv_bn(3, widths[0])
        stages, cin = [], widths[0]
        for w in widths:
            stages.append(ResBlock(cin, w, 2))
            cin = w
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(cin, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(image))
        return self.head(x.mean((2, 3)))[:, 0]
