"""Face-mask segmentation of aligned crops with a trained segmenter, plus the post-processing
that turns its probability map into the hole the inpainter fills.

Post-processing (:func:`postprocess`): threshold, drop small specks, fill holes inside the mask
(a printed logo must not stay on the face), then dilate by a radius measured on validation data
(``unmask train promote`` picks the smallest radius that leaves at most 1 % of the true mask
pixels uncovered; see :func:`unmask.validation.segmenter.choose_postprocess`). The parameters
live in the weights JSON (``meta.postprocess``) so evaluation and the pipeline use the same
ones. The soft edge for blending is added later by :func:`unmask.faces.paste.paste_back`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np

from unmask.metrics.calibration import sigmoid
from unmask.runtime.backend import as_net, open_net, resize_batch, to_nchw

log = logging.getLogger(__name__)

#: Stage (weights file) names per architecture.
STAGE_NAMES = {"unet": "segmenter", "maskrcnn": "segmenter_maskrcnn"}


@dataclass(frozen=True)
class PostParams:
    """Post-processing parameters, resolution independent.

    Attributes:
        threshold: probability at or above which a pixel is mask.
        dilate: dilation radius as a fraction of the crop side (3 px at 128 = 0.0234).
        fill_holes: fill background regions enclosed by the mask.
        min_area: drop components smaller than this fraction of the crop (the largest stays).
    """

    threshold: float = 0.5
    dilate: float = 0.0
    fill_holes: bool = True
    min_area: float = 0.002

    def radius(self, side: int) -> int:
        """Dilation radius in pixels for a crop of side ``side``."""
        return int(round(self.dilate * side))

    def to_dict(self) -> dict:
        return asdict(self)


def postprocess(
    prob: np.ndarray,
    threshold: float = 0.5,
    dilate_px: int = 0,
    fill_holes: bool = True,
    min_area_px: int = 0,
) -> np.ndarray:
    """Binary hole mask from a probability map.

    Args:
        prob: ``H x W`` (or ``N x H x W``) float probabilities in [0, 1].
        threshold: pixels with ``prob >= threshold`` are mask.
        dilate_px: dilation radius in pixels (elliptical structuring element).
        fill_holes: fill background regions that do not touch the crop border.
        min_area_px: connected components smaller than this are removed (the largest is kept).
    Returns:
        uint8 in {0, 1}, same shape as ``prob``; 1 = hole.
    """
    import cv2

    prob = np.asarray(prob)
    if prob.ndim == 3:
        return np.stack(
            [postprocess(p, threshold, dilate_px, fill_holes, min_area_px) for p in prob]
        )
    m = (prob >= threshold).astype(np.uint8)
    if min_area_px > 0 and m.any():
        n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = (areas >= min_area_px) | (areas == areas.max())
        m = np.isin(lab, 1 + np.flatnonzero(keep)).astype(np.uint8)
    if fill_holes and m.any():
        n, lab = cv2.connectedComponents(1 - m, connectivity=4)
        border = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
        hole = (lab > 0) & ~np.isin(lab, border)
        m[hole] = 1
    return dilate(m, dilate_px)


def disk(radius_px: int) -> np.ndarray:
    """The elliptical structuring element of :func:`dilate`: uint8 ``(2r+1) x (2r+1)``."""
    import cv2

    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius_px + 1,) * 2)


def dilate(mask: np.ndarray, radius_px: int) -> np.ndarray:
    """``mask`` (uint8 ``H x W`` or ``N x H x W``, nonzero = in) grown by ``radius_px`` with
    :func:`disk`; uint8 in {0, 1}, same shape."""
    import cv2

    m = (np.asarray(mask) > 0).astype(np.uint8)
    if radius_px <= 0:
        return m
    k = disk(radius_px)
    if m.ndim == 3:
        return np.stack([cv2.dilate(x, k) for x in m])
    return cv2.dilate(m, k)


class Segmenter:
    """Predict face-mask maps of aligned crops.

    Args:
        model: a segmenter network whose ``forward`` maps ``N x 3 x S x S`` float RGB in [0, 1]
            to ``N x 1 x S x S`` logits (:class:`~unmask.models.segmenter.MaskSegNet`,
            :class:`~unmask.models.segmenter.MaskSegEnsemble` or
            :class:`~unmask.models.maskrcnn.MaskRCNNSegmenter`), or a net of
            :mod:`unmask.runtime.backend` running one.
        image_size: the model's input side.
        params: post-processing parameters.
        batch: crops per forward pass in :meth:`predict_prob`. With the shipped two-network
            segmenter on ONNX Runtime, 32 crops take 5.7 ms each at batch 8 or 32, but the
            process grows by 215 MB at batch 8 and 669 MB at batch 32.
    """

    def __init__(
        self, model, image_size: int, params: PostParams | None = None, batch: int = 8
    ) -> None:
        self.net = as_net(model, "MaskSegNet")
        self.image_size = int(image_size)
        self.params = params or PostParams()
        self.batch = batch

    @classmethod
    def from_weights(
        cls,
        weights_dir=None,
        name: str = "segmenter",
        device: str = "cpu",
        fuse: bool = True,
        backend: str = "auto",
    ) -> Segmenter:
        """Load ``<name>`` weights (see :func:`unmask.runtime.backend.open_net`); with torch,
        ``fuse`` folds BatchNorm into the convs for faster CPU inference."""

        def prepare(model):
            from unmask.models.segmenter import fuse_conv_bn

            return fuse_conv_bn(model) if fuse else model

        net, info = open_net(name, weights_dir, backend, device, prepare=prepare)
        params = PostParams(**info.meta.get("postprocess", {}))
        return cls(net, info.meta.get("image_size", info.args.get("image_size", 128)), params)

    def predict_prob(self, crops: np.ndarray) -> np.ndarray:
        """Mask probabilities.

        Args:
            crops: ``N x S x S x 3`` (or ``S x S x 3``) uint8 RGB aligned crops, any S (resized
                to the model's side and the result resized back).
        Returns:
            float32 ``N x S x S`` (or ``S x S``) in [0, 1].
        """
        import cv2

        crops = np.asarray(crops)
        single = crops.ndim == 3
        if single:
            crops = crops[None]
        h, w = crops.shape[1:3]
        size = self.image_size
        crops = resize_batch(crops, size)
        out = [
            sigmoid(self.net(image=to_nchw(crops[i : i + self.batch]))["logits"][:, 0])
            for i in range(0, len(crops), self.batch)
        ]
        prob = np.concatenate(out)
        if (h, w) != (size, size):
            prob = np.stack([cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR) for p in prob])
        prob = np.clip(prob, 0, 1).astype(np.float32)
        return prob[0] if single else prob

    def postprocess(self, prob: np.ndarray, params: PostParams | None = None) -> np.ndarray:
        """:func:`postprocess` with this segmenter's parameters scaled to ``prob``'s side."""
        p = params or self.params
        side = int(np.shape(prob)[-1])
        return postprocess(
            prob, p.threshold, p.radius(side), p.fill_holes, int(round(p.min_area * side * side))
        )

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """Hole masks: uint8 {0, 1}, ``N x S x S`` (or ``S x S`` for one crop), 1 = face mask."""
        return self.postprocess(self.predict_prob(crops))


def grow_soft_edge(mask: np.ndarray, prob: np.ndarray, radius_px: int, low: float) -> np.ndarray:
    """Add to ``mask`` the pixels within ``radius_px`` of it whose mask probability exceeds
    ``low``: the soft edge, seams and loops a binary threshold leaves out, without growing the
    hole over skin the segmenter is sure of.

    Args:
        mask: uint8 ``S x S``, nonzero = face mask.
        prob: float32 ``S x S`` mask probability in [0, 1].
    Returns:
        uint8 ``S x S`` in {0, 1}.
    """
    m = (np.asarray(mask) > 0).astype(np.uint8)
    return m | (dilate(m, radius_px) & (np.asarray(prob) > low)).astype(np.uint8)
