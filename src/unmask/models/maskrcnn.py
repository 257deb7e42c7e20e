"""Mask R-CNN (torchvision) configured for aligned face crops, and a wrapper that turns its
instances into one face-mask map, so it plugs into the same training, evaluation and runtime
as :class:`~unmask.models.segmenter.MaskSegNet`.

One foreground class (face mask). Everything is built untrained (no pretrained weights exist
offline) with trainable BatchNorm in the backbone (torchvision's default frozen BatchNorm only
makes sense with pretrained statistics). Anchor sizes suit masks covering roughly 15-40 % of a
crop; input resizing is disabled (``min_size = max_size = image_size``).

Backbones (``backbone=``):
    ``"compact"``: the project's ResNet encoder (:class:`~unmask.models.blocks.ResNetEncoder`)
        with an FPN on strides 4-32; about 4 M parameters in all; the default (learns fastest
        on a CPU and fits the weights budget in fp16).
    ``"resnet18"``: torchvision ResNet-18 + FPN on strides 4-32 (about 16 M parameters).
    ``"mobilenet_v3"``: torchvision MobileNetV3-Large + FPN on strides 16-32 (coarse for
        128 px crops).
torchvision is imported only when a network is built (it is a training extra).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

BACKBONES = ("compact", "resnet18", "mobilenet_v3")
#: Anchor sides in pixels for a 128 px crop, one tuple per FPN level (scaled with image_size).
ANCHORS_128 = (16, 32, 64, 96, 128)
ASPECTS = (0.5, 0.75, 1.0)  # height / width


def _backbone(name: str, fpn_channels: int, widths: tuple[int, ...]) -> nn.Module:
    from torchvision.models.detection.backbone_utils import (
        BackboneWithFPN,
        mobilenet_backbone,
        resnet_fpn_backbone,
    )
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

    if name == "compact":
        from unmask.models.blocks import ResNetEncoder

        enc = ResNetEncoder(3, tuple(widths), blocks=2)
        body = nn.Sequential(
            OrderedDict([("stem", enc.stem)] + [(f"layer{i}", s) for i, s in enumerate(enc.stages)])
        )
        levels = range(1, len(widths))  # stage i has stride 2 ** (i + 1): strides 4 ... 32
        return BackboneWithFPN(
            body,
            {f"layer{i}": str(k) for k, i in enumerate(levels)},
            [widths[i] for i in levels],
            fpn_channels,
            LastLevelMaxPool(),
        )
    if name == "resnet18":
        bb = resnet_fpn_backbone(
            backbone_name="resnet18", weights=None, norm_layer=nn.BatchNorm2d, trainable_layers=5
        )
    elif name == "mobilenet_v3":
        bb = mobilenet_backbone(
            backbone_name="mobilenet_v3_large",
            weights=None,
            fpn=True,
            norm_layer=nn.BatchNorm2d,
            trainable_layers=6,
        )
    else:
        raise ValueError(f"unknown Mask R-CNN backbone {name!r}; choose from {BACKBONES}")
    if bb.out_channels != fpn_channels:  # torchvision's factories fix 256 FPN channels
        from torchvision.ops import FeaturePyramidNetwork

        old = bb.fpn
        in_list = [m[0].in_channels for m in old.inner_blocks]
        bb.fpn = FeaturePyramidNetwork(in_list, fpn_channels, old.extra_blocks)
        bb.out_channels = fpn_channels
    return bb


def build_maskrcnn(
    image_size: int = 128,
    backbone: str = "compact",
    num_classes: int = 2,
    fpn_channels: int = 128,
    representation: int = 256,
    mask_roi: int = 14,
    widths: tuple[int, ...] = (24, 48, 96, 160, 256),
):
    """torchvision ``MaskRCNN`` for ``image_size`` aligned crops, untrained.

    Args:
        image_size: crop side S; images are not resized (``min_size = max_size = S``).
        backbone: one of :data:`BACKBONES`.
        num_classes: including background (2: background + face mask).
        fpn_channels: FPN / head channels (torchvision's default is 256; 128 saves 3/4 of the
            head weights).
        representation: width of the box head's two fully connected layers (default 1024).
        mask_roi: RoIAlign side for the mask head (its mask output is twice that).
        widths: stage widths of the ``"compact"`` backbone.
    Returns:
        ``torchvision.models.detection.MaskRCNN``: ``model(images, targets)`` in train mode gives
        its loss dict; in eval mode a list of ``{"boxes", "labels", "scores", "masks"}``.
    """
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
    from torchvision.ops import MultiScaleRoIAlign

    bb = _backbone(backbone, fpn_channels, widths)
    names = [str(i) for i in range(len(bb.fpn.inner_blocks))]
    n_maps = len(names) + 1  # + the max-pool level
    f = image_size / 128
    sizes = tuple((max(4, int(round(s * f))),) for s in ANCHORS_128[-n_maps:])
    anchors = AnchorGenerator(sizes, (ASPECTS,) * n_maps)
    c, r = fpn_channels, representation
    return MaskRCNN(
        bb,
        num_classes=None,
        min_size=image_size,
        max_size=image_size,
        rpn_anchor_generator=anchors,
        rpn_pre_nms_top_n_train=300,
        rpn_pre_nms_top_n_test=150,
        rpn_post_nms_top_n_train=100,
        rpn_post_nms_top_n_test=30,
        rpn_batch_size_per_image=128,
        box_roi_pool=MultiScaleRoIAlign(names, 7, 2),
        box_head=TwoMLPHead(c * 49, r),
        box_predictor=FastRCNNPredictor(r, num_classes),
        box_batch_size_per_image=64,
        box_detections_per_img=5,
        box_score_thresh=0.05,
        mask_roi_pool=MultiScaleRoIAlign(names, mask_roi, 2),
        mask_head=MaskRCNNHeads(c, (c, c, c, c), 1),
        mask_predictor=MaskRCNNPredictor(c, c, num_classes),
    )


def mask_targets(masks: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    """Mask R-CNN training targets from binary maps: the whole face mask is one instance.

    Args:
        masks: ``N x 1 x S x S`` float/bool, 1 = face-mask pixel.
    Returns:
        Per image ``{"boxes": K x 4 xyxy float32, "labels": K int64, "masks": K x S x S uint8}``
        with K = 1, or K = 0 for an image without mask pixels.
    """
    out = []
    for m in masks[:, 0] > 0.5:
        ys, xs = torch.nonzero(m, as_tuple=True)
        if len(ys) == 0:
            out.append(
                {
                    "boxes": torch.zeros(0, 4),
                    "labels": torch.zeros(0, dtype=torch.int64),
                    "masks": torch.zeros(0, *m.shape, dtype=torch.uint8),
                }
            )
            continue
        box = torch.stack([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]).float()[None]
        out.append(
            {
                "boxes": box,
                "labels": torch.ones(1, dtype=torch.int64),
                "masks": m[None].to(torch.uint8),
            }
        )
    return out


class MaskRCNNSegmenter(nn.Module):
    """Mask R-CNN behind the segmenter interface.

    Args:
        score_threshold: instances scoring below it are dropped.
        Other arguments: see :func:`build_maskrcnn`.

    ``forward(x)`` in eval mode: ``x`` ``N x 3 x S x S`` float32 RGB in [0, 1] ->
    ``N x 1 x S x S`` float32 logits of the union (pixel-wise maximum) of the kept instances'
    mask probabilities (clamped to [1e-4, 1 - 1e-4] before the logit).
    ``forward(x, targets)`` in train mode: torchvision's loss dict (targets from
    :func:`mask_targets`).
    """

    def __init__(
        self,
        image_size: int = 128,
        backbone: str = "compact",
        fpn_channels: int = 128,
        representation: int = 256,
        mask_roi: int = 14,
        widths: tuple[int, ...] = (24, 48, 96, 160, 256),
        score_threshold: float = 0.5,
    ) -> None:
        super().__init__()
        self.score_threshold = score_threshold
        self.net = build_maskrcnn(
            image_size, backbone, 2, fpn_channels, representation, mask_roi, tuple(widths)
        )

    def forward(self, x: torch.Tensor, targets: list[dict] | None = None):
        if self.training:
            if targets is None:
                raise ValueError("training needs targets (see mask_targets)")
            return self.net(list(x), targets)
        prob = x.new_zeros(x.shape[0], 1, *x.shape[-2:])
        for i, det in enumerate(self.net(list(x))):
            keep = det["scores"] >= self.score_threshold
            if keep.any():
                prob[i] = det["masks"][keep].amax(0)
        return torch.logit(prob.clamp(1e-4, 1 - 1e-4))
