"""Gender + 68-point landmark network for (masked) aligned face crops.

One compact ResNet trunk, two heads: a gender logit (positive = female) and 68 landmark
coordinates regressed from the stride-16 feature map. Trained from scratch on masked crops; the
targets for hidden points come from the teacher run on the unmasked originals.
"""

from __future__ import annotations

import torch
from torch import nn

from unmask.faces.align import MEAN_68
from unmask.models.blocks import ResNetEncoder, conv_bn


class FaceAttrNet(nn.Module):
    """Predict gender and 68 landmarks from an aligned face crop.

    Args:
        image_size: input side S (the landmark head's FC layer depends on it).
        widths: channels of the encoder stages (strides 2, 4, 8, 16, ... relative to input).
        blocks: residual blocks per stage.
        num_points: landmarks to predict (68).
        head_channels: channels of the landmark head's last conv before flattening.
        dropout: dropout before the gender logit.

    Input: ``N x 3 x S x S`` float32 RGB in [0, 1].
    Output: dict with ``landmarks`` ``N x num_points x 2`` float32 xy in units of the crop side
    (multiply by S for pixels; pixel-centre convention ``(x + 0.5) / S``) and ``gender_logit``
    ``N`` float32 (sigmoid = P(female) before calibration).
    """

    def __init__(
        self,
        image_size: int = 128,
        widths: tuple[int, ...] = (32, 64, 128, 192, 256),
        blocks: int = 2,
        num_points: int = 68,
        head_channels: int = 64,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.image_size = image_size
        self.num_points = num_points
        self.encoder = ResNetEncoder(3, tuple(widths), blocks)
        # Stage i has stride 2 ** (i + 1); pick the stage at stride 16 (or the last one).
        self.lm_stage = min(3, len(widths) - 1)
        side = image_size // (2 ** (self.lm_stage + 1))
        self.lm_head = nn.Sequential(
            conv_bn(widths[self.lm_stage], head_channels, 1),
            nn.Flatten(),
            nn.Linear(head_channels * side * side, 512),
            nn.ReLU(inplace=True),
            nn.Linear(512, num_points * 2),
        )
        self.gender_head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(widths[-1], 1)
        )
        init = torch.from_numpy(MEAN_68) if num_points == 68 else torch.full((num_points, 2), 0.5)
        self.register_buffer("mean_shape", init.clone())

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (x - 0.5) / 0.25
        feats = self.encoder(x)
        offs = self.lm_head(feats[self.lm_stage]).view(-1, self.num_points, 2)
        return {
            "landmarks": self.mean_shape + offs,
            "gender_logit": self.gender_head(feats[-1]).squeeze(1),
        }
