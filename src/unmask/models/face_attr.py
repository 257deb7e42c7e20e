"""Gender + 68-point landmark network for (masked) aligned face crops.

One compact ResNet trunk, two heads: a gender logit (positive = female) and 68 landmark
coordinates regressed from the stride-16 feature map; optionally a third, auxiliary age head
(a training signal only: the stage does not report age). Trained from scratch on masked crops; the
targets for hidden points come from the teacher run on the unmasked originals.
"""

from __future__ import annotations

import torch
from torch import nn

from unmask.faces.align import MEAN_68
from unmask.models.blocks import ResNetEncoder, conv_bn

#: ``age`` output = ``log1p(years) / AGE_SCALE`` (about 1 at 100 years).
AGE_SCALE = 4.6


class FaceAttrNet(nn.Module):
    """Predict gender and 68 landmarks from an aligned face crop.

    Args:
        image_size: input side S (the landmark head's FC layer depends on it).
        widths: channels of the encoder stages (strides 2, 4, 8, 16, ... relative to input).
        blocks: residual blocks per stage.
        num_points: landmarks to predict (68).
        head_channels: channels of the landmark head's last conv before flattening.
        dropout: dropout before the gender logit.
        gender_pool: how the gender head pools the last feature map: ``"avg"`` (global mean)
            or ``"attention"`` (global mean concatenated with a learned spatial softmax pooling,
            so the head can weigh the visible upper face over the mask).
        age_head: add an ``age`` output (auxiliary target for training).

    Input: ``N x 3 x S x S`` float32 RGB in [0, 1].
    Output: dict with ``landmarks`` ``N x num_points x 2`` float32 xy in units of the crop side
    (multiply by S for pixels; pixel-centre convention ``(x + 0.5) / S``) and ``gender_logit``
    ``N`` float32 (sigmoid = P(female) before calibration); with ``age_head`` also ``age``
    ``N`` float32, ``log1p(years) / AGE_SCALE``.
    """

    def __init__(
        self,
        image_size: int = 128,
        widths: tuple[int, ...] = (32, 64, 128, 192, 256),
        blocks: int = 2,
        num_points: int = 68,
        head_channels: int = 64,
        dropout: float = 0.2,
        gender_pool: str = "avg",
        age_head: bool = False,
    ) -> None:
        super().__init__()
        self.image_size = image_size
        self.num_points = num_points
        self.channels = widths[-1]  # of the last feature map
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
        if gender_pool == "avg":
            pool, pooled = [nn.AdaptiveAvgPool2d(1), nn.Flatten()], widths[-1]
        elif gender_pool == "attention":
            pool, pooled = [AttentionPool(widths[-1])], 2 * widths[-1]
        else:
            raise ValueError(f"gender_pool must be 'avg' or 'attention', not {gender_pool!r}")
        self.gender_head = nn.Sequential(*pool, nn.Dropout(dropout), nn.Linear(pooled, 1))
        self.age_head = nn.Linear(widths[-1], 1) if age_head else None
        init = torch.from_numpy(MEAN_68) if num_points == 68 else torch.full((num_points, 2), 0.5)
        self.register_buffer("mean_shape", init.clone())

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The encoder's feature maps, one per stage (finest first), of ``N x 3 x S x S``
        RGB images in [0, 1]."""
        return self.encoder((x - 0.5) / 0.25)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.heads(self.features(x))

    def heads(self, feats: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """The outputs of :meth:`forward` from the encoder's feature maps (:meth:`features`)."""
        offs = self.lm_head(feats[self.lm_stage]).view(-1, self.num_points, 2)
        out = {
            "landmarks": self.mean_shape + offs,
            "gender_logit": self.gender_head(feats[-1]).squeeze(1),
        }
        if self.age_head is not None:
            out["age"] = self.age_head(feats[-1].mean((2, 3))).squeeze(1)
        return out


class AttentionPool(nn.Module):
    """``N x C x H x W`` -> ``N x 2C``: the global mean and a softmax-over-positions weighted
    sum (one learned 1x1 score per position) of the feature map."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.score = nn.Conv2d(channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.softmax(self.score(x).flatten(2), dim=-1)  # N x 1 x HW
        attended = (x.flatten(2) * w).sum(-1)
        return torch.cat([x.mean((2, 3)), attended], 1)


class FaceAttrEnsemble(nn.Module):
    """Several :class:`FaceAttrNet` members run on the same crop, their answers averaged.

    Args:
        members: constructor arguments of each member (same ``image_size`` and
            ``num_points``).
        landmark_members: indices of the members whose landmarks are averaged (default all;
            a member with clearly worse landmarks can still add to the gender vote).
        temperatures: each member's own gender temperature; its logit is divided by it before
            the average, so each member votes with calibrated confidence (default all 1).
        adult_head: add an ``adult_logit`` output: a linear read of the members' pooled
            last feature maps (concatenated), positive = an adult face (18 years or more);
            fitted after training (:mod:`unmask.training.adult_head`), it lets the gender be
            calibrated per age band.

    Input and output as :class:`FaceAttrNet` (``gender_logit``: the mean of the members'
    tempered logits, ``landmarks``: the mean of the ``landmark_members``'; an ``age`` output
    is not passed on); with ``adult_head`` also ``adult_logit`` ``N`` float32.
    """

    def __init__(
        self,
        members: list[dict],
        landmark_members: list[int] | None = None,
        temperatures: list[float] | None = None,
        adult_head: bool = False,
    ) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(FaceAttrNet(**m) for m in members)
        sizes = {(m.image_size, m.num_points) for m in self.members}
        if len(sizes) > 1:
            raise ValueError(f"members differ in (image_size, num_points): {sorted(sizes)}")
        self.image_size, self.num_points = sizes.pop()
        lm = list(range(len(members))) if landmark_members is None else list(landmark_members)
        if not lm or not set(lm) <= set(range(len(members))):
            raise ValueError(f"landmark_members {lm} must name some of {len(members)} members")
        self.landmark_members = lm
        t = [1.0] * len(members) if temperatures is None else [float(v) for v in temperatures]
        if len(t) != len(members) or min(t) <= 0:
            raise ValueError(f"need one positive temperature per member, got {t}")
        self.temperatures = t
        pooled = sum(m.channels for m in self.members)
        self.adult_head = nn.Linear(pooled, 1) if adult_head else None

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = [m.features(x) for m in self.members]
        outs = [m.heads(f) for m, f in zip(self.members, feats, strict=True)]
        out = {
            "landmarks": torch.stack([outs[i]["landmarks"] for i in self.landmark_members]).mean(0),
            "gender_logit": torch.stack(
                [o["gender_logit"] / t for o, t in zip(outs, self.temperatures, strict=True)]
            ).mean(0),
        }
        if self.adult_head is not None:
            out["adult_logit"] = self.adult_head(self.pooled(feats)).squeeze(1)
        return out

    @staticmethod
    def pooled(feats: list[list[torch.Tensor]]) -> torch.Tensor:
        """``N x C``: each member's last feature map averaged over positions, concatenated
        (what ``adult_head`` reads), from the members' :meth:`FaceAttrNet.features`."""
        return torch.cat([f[-1].mean((2, 3)) for f in feats], 1)


def member_nets(model: nn.Module) -> list[FaceAttrNet]:
    """The :class:`FaceAttrNet` networks inside ``model``: an ensemble's members, else the
    network itself (for code that needs each trunk's features)."""
    return list(model.members) if isinstance(model, FaceAttrEnsemble) else [model]
