"""A small fully convolutional network that redraws the mask's edge at the photo's resolution.

The segmenter sees a 128-px aligned crop; in a photo where the face is larger, its edge is a
blurred guess a few photo pixels wide, and thin ear loops or a dark seam along the mask's rim
are a faint mix in the crop. This network sees the photo's own pixels near the edge together
with the segmenter's probability warped to the photo, and predicts which photo pixels belong to
the mask (soft edge, rim and loops included).
"""

from __future__ import annotations

import torch
from torch import nn

from unmask.models.blocks import dilated_stack


class MaskRefiner(nn.Module):
    """Mask logits at the photo's resolution from the photo and the segmenter's coarse mask.

    Args:
        width: channels of every hidden layer.
        dilations: one 3 x 3 convolution per entry, with that dilation (the receptive field
            is ``1 + 2 * sum(dilations) + 2`` pixels).

    Inputs: ``image`` ``N x 3 x H x W`` float32 RGB in [0, 1]; ``coarse`` ``N x 1 x H x W``
    float32 in [0, 1], the segmenter's mask probability in the same grid. Any ``H, W``.
    Output: ``N x 1 x H x W`` float32 logits of "this pixel is face mask". The coarse
    probability's own logit is added to the last layer, so an untrained head returns it.
    """

    def __init__(self, width: int = 16, dilations: tuple[int, ...] = (1, 2, 4, 8, 1)) -> None:
        super().__init__()
        self.body, self.head = dilated_stack(4, width, dilations, 1)

    def forward(self, image: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        p = coarse.clamp(1e-3, 1 - 1e-3)
        prior = torch.log(p) - torch.log1p(-p)
        return self.head(self.body(torch.cat([image, coarse], 1))) + prior
