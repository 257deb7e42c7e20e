"""A small fully convolutional network that restores fine detail lost to upscaling.

The inpainter draws the hidden face on a 128-px grid; pasted into a photo where the face is
larger, the rebuilt region is that grid upscaled: smooth edges, no pores, soft lip lines. This
network sees the upscaled region at the photo's resolution together with the upscaling factor,
and adds the detail a real face of that size would have. It is trained on patches of real
high-resolution skin (the visible faces of the 1024-px photos) shrunk and enlarged again as the
pipeline does (:mod:`unmask.data.detail_patches`), so it learns to restore, not to invent
another face.
"""

from __future__ import annotations

import torch
from torch import nn

from unmask.models.blocks import dilated_stack


class DetailNet(nn.Module):
    """Residual detail for an upscaled image.

    Args:
        width: channels of every hidden layer.
        dilations: one 3 x 3 convolution per entry, with that dilation (the receptive field
            is ``1 + 2 * sum(dilations) + 2`` pixels).

    Inputs: ``image`` ``N x 3 x H x W`` float32 RGB in [0, 1], the upscaled region; ``scale``
    ``N x 1 x H x W`` float32, ``log2`` of the photo pixels per pixel of the grid it was
    upscaled from (0 = not upscaled). Any ``H, W``.
    Output: ``N x 3 x H x W`` float32 RGB, ``image`` plus the predicted detail (not clipped).
    The last layer starts at zero, so an untrained network returns its input.
    """

    def __init__(self, width: int = 16, dilations: tuple[int, ...] = (1, 2, 4, 2, 1)) -> None:
        super().__init__()
        self.body, self.head = dilated_stack(4, width, dilations, 3)

    def forward(self, image: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return image + self.head(self.body(torch.cat([image * 2 - 1, scale], 1)))
