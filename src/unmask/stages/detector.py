"""The trained face detector behind the :class:`~unmask.faces.detect.Detector` protocol.

The photo is letterboxed (longer side to the model's input size, the rest padded with grey),
the network (:class:`~unmask.models.detector.FaceDetector`) gives a centre heatmap, box
distances and keypoint offsets, and :func:`decode` + :func:`nms` turn those into faces. Decoding
is numpy only, so a torch-free runtime can reuse it with another network backend.
"""

from __future__ import annotations

import logging
from functools import partial

import numpy as np

from unmask.faces.detect import Detection
from unmask.faces.landmarks import FLIP_5
from unmask.metrics.calibration import sigmoid
from unmask.runtime.backend import as_net, open_net, to_nchw
from unmask.stages.detector_zoom import ZOOM_FLOOR, detector_look, second_look, verifier_look

log = logging.getLogger(__name__)

PAD_VALUE = 114


def letterbox_scale(shape: tuple[int, ...], size: int) -> float:
    """The factor :func:`letterbox` resizes a photo of ``shape`` (H, W, ...) by: its longer
    side becomes ``size``."""
    return size / max(shape[:2])


def letterbox(
    image: np.ndarray, size: int, square: bool = True, multiple: int = 32
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resize so the longer side is ``size`` and pad with grey.

    Args:
        image: ``H x W x 3`` uint8 RGB.
        size: target longer side (a multiple of ``multiple``).
        square: pad to ``size x size``; otherwise only up to multiples of ``multiple``
            (cheaper for non-square photos; the network is fully convolutional).
    Returns:
        ``(canvas, scale, pad)``: the uint8 canvas, float32 ``(2,)`` x/y scale and float32
        ``(2,)`` x/y offset, so that a photo point maps to ``(p + 0.5) * scale - 0.5 + pad``
        (pixel-centre convention).
    """
    import cv2

    h, w = image.shape[:2]
    f = letterbox_scale(image.shape, size)
    nw, nh = max(1, round(w * f)), max(1, round(h * f))
    inter = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=inter) if (nw, nh) != (w, h) else image
    if square:
        cw = ch = size
    else:
        cw, ch = -(-nw // multiple) * multiple, -(-nh // multiple) * multiple
    px, py = (cw - nw) // 2, (ch - nh) // 2
    canvas = np.full((ch, cw, 3), PAD_VALUE, np.uint8)
    canvas[py : py + nh, px : px + nw] = resized
    return canvas, np.array([nw / w, nh / h], np.float32), np.array([px, py], np.float32)


def decode(
    heat: np.ndarray,
    box: np.ndarray,
    kps: np.ndarray,
    stride: int,
    threshold: float,
    top_k: int = 100,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces from the network's maps (one image).

    Args:
        heat: ``h x w`` face-centre probabilities (sigmoid of the heatmap logits).
        box: ``4 x h x w`` log side distances in stride units.
        kps: ``2K x h x w`` keypoint offsets divided by the box size.
        stride: pixels per cell.
        threshold: minimum score of a peak.
        top_k: most peaks kept.
    Returns:
        ``(boxes, scores, keypoints)``: float32 ``(n, 4)`` xyxy, ``(n,)``, ``(n, K, 2)`` in the
        network input's pixels, sorted by score; peaks are local 3x3 maxima.
    """
    h, w = heat.shape
    padded = np.pad(heat, 1, constant_values=-1.0)
    peak = np.max([padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)], axis=0)
    ys, xs = np.nonzero((heat >= peak) & (heat >= threshold))
    scores = heat[ys, xs]
    order = np.argsort(-scores, kind="stable")[:top_k]
    ys, xs, scores = ys[order], xs[order], scores[order]
    cx = xs * stride + (stride - 1) / 2
    cy = ys * stride + (stride - 1) / 2
    d = np.exp(np.clip(box[:, ys, xs], -8.0, 8.0)) * stride
    boxes = np.stack([cx - d[0], cy - d[1], cx + d[2], cy + d[3]], 1).astype(np.float32)
    wh = np.stack([d[0] + d[2], d[1] + d[3]], 1)
    k = kps.shape[0] // 2
    off = kps[:, ys, xs].T.reshape(-1, k, 2)
    points = off * wh[:, None, :] + np.stack([cx, cy], 1)[:, None, :]
    return boxes, scores.astype(np.float32), points.astype(np.float32)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.4) -> np.ndarray:
    """Greedy non-maximum suppression. Returns kept indices, highest score first."""
    order = np.argsort(-scores, kind="stable")
    area = (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0)
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        iw = np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0])
        ih = np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1])
        inter = iw.clip(0) * ih.clip(0)
        ov = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        order = rest[ov <= iou]
    return np.array(keep, np.int64)


def letterbox_sides(boxes: np.ndarray, image_shape: tuple[int, ...], input_size: int) -> np.ndarray:
    """Box sides (square root of the area) on the ``input_size`` letterbox of a photo of
    ``image_shape``, for float32 ``(n, 4)`` xyxy boxes in the photo's pixels: ``(n,)``."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    area = (b[:, 2] - b[:, 0]).clip(0) * (b[:, 3] - b[:, 1]).clip(0)
    return np.sqrt(area) * letterbox_scale(image_shape, input_size)


def small_face_penalty(
    boxes: np.ndarray,
    scores: np.ndarray,
    image_shape: tuple[int, ...],
    input_size: int,
    side: float,
    penalty: float,
) -> np.ndarray:
    """Scores with ``penalty`` taken off (down to 0) the boxes smaller than ``side`` pixels on
    the ``input_size`` letterbox (box side = square root of its area).

    Tiny boxes are where the false faces on text and fine texture sit, so asking more of them
    than of larger faces buys precision for little recall; the promotion chooses ``side`` and
    ``penalty`` on validation (``0`` for either: scores unchanged).

    Args:
        boxes: float32 ``(n, 4)`` xyxy in the pixels of a photo of ``image_shape`` (H, W, ...).
        scores: float32 ``(n,)``.
    """
    scores = np.asarray(scores, np.float32)
    if side <= 0 or penalty <= 0 or not len(scores):
        return scores
    lowered = np.maximum(scores - penalty, 0.0)
    small = letterbox_sides(boxes, image_shape, input_size) < side
    return np.where(small, lowered, scores).astype(np.float32)


def _input_side(verifier, side: int = 0) -> int:
    """A verifier's input side: ``side`` when given, else ``image_size`` of the module (or of
    the module a torch net runs)."""
    side = side or getattr(getattr(verifier, "module", verifier), "image_size", 0)
    if not side:
        raise ValueError("the verifier's input size is unknown: pass verify_input")
    return int(side)


class NetDetector:
    """Masked and unmasked faces with the trained network.

    Args:
        model: a :class:`~unmask.models.detector.FaceDetector` or a net of
            :mod:`unmask.runtime.backend` running one.
        stride: the network's output stride (default: the module's ``out_stride``).
        input_size: letterbox side (the training size).
        score_threshold: minimum score of a reported face.
        nms_iou: overlap above which the weaker of two boxes is dropped.
        top_k: most candidate peaks decoded per photo.
        flip: also run the mirrored photo and average the two sets of maps (test-time
            augmentation: twice the network time; the score threshold must be chosen the same
            way).
        small_side, small_penalty: faces under ``small_side`` letterbox pixels score
            ``small_penalty`` less (see :func:`small_face_penalty`; 0 = off).
        zoom_side, zoom_context, zoom_input: candidates under ``zoom_side`` letterbox pixels
            are looked at again in a ``zoom_input``-pixel crop of ``zoom_context`` times their
            size and keep the lower of the two scores (a veto; see
            :mod:`unmask.stages.detector_zoom`; 0 = off), before the small-face rule.
        verifier: a :class:`~unmask.models.verifier.FaceVerifier` (or a net running one)
            for another veto, after the zoom: candidates under ``verify_side`` letterbox
            pixels keep the lower of their score and its face probability on a
            ``verify_context`` crop (``None`` or 0 = off).
        verify_side, verify_context: see ``verifier``.
        verify_input: the verifier's input side (default: its module's ``image_size``; needed
            for an ONNX net).
    """

    name = "unmask"

    def __init__(
        self,
        model,
        input_size: int = 320,
        score_threshold: float = 0.5,
        nms_iou: float = 0.4,
        top_k: int = 100,
        stride: int | None = None,
        flip: bool = False,
        small_side: float = 0.0,
        small_penalty: float = 0.0,
        zoom_side: float = 0.0,
        zoom_context: float = 3.0,
        zoom_input: int = 160,
        verifier=None,
        verify_side: float = 0.0,
        verify_context: float = 2.5,
        verify_input: int = 0,
    ) -> None:
        self.net = as_net(model, "FaceDetector")
        self.verify_input = 0 if verifier is None else _input_side(verifier, verify_input)
        self.verifier = None if verifier is None else as_net(verifier, "FaceVerifier")
        self.verify_side, self.verify_context = float(verify_side), float(verify_context)
        self.zoom_side, self.zoom_context = float(zoom_side), float(zoom_context)
        self.zoom_input = int(zoom_input)
        self.small_side, self.small_penalty = float(small_side), float(small_penalty)
        self.flip = bool(flip)
        self.input_size = int(input_size)
        self.score_threshold = float(score_threshold)
        self.nms_iou = float(nms_iou)
        self.top_k = int(top_k)
        self.stride = int(stride or model.out_stride)

    @classmethod
    def from_weights(
        cls,
        weights_dir=None,
        device: str = "cpu",
        score_threshold: float | None = None,
        name: str = "detector",
        backend: str = "auto",
    ) -> NetDetector:
        """Load ``<name>`` weights (see :func:`unmask.runtime.backend.open_net`); the
        threshold, NMS overlap and input size default to the values stored at promotion,
        and the ``verifier`` weights are opened when the metadata asks for them."""
        net, info = open_net(name, weights_dir, backend, device)
        meta = info.meta
        verifier, context, side = None, 2.5, 0
        if meta.get("verify_side", 0) > 0:
            verifier, vinfo = open_net("verifier", weights_dir, backend, device)
            context, side = vinfo.meta.get("context", context), vinfo.args["image_size"]
        thr = meta.get("score_threshold", 0.5) if score_threshold is None else score_threshold
        return cls(
            net,
            meta.get("input_size", 320),
            thr,
            meta.get("nms_iou", 0.4),
            meta.get("top_k", 100),
            info.args.get("out_stride", 4),
            meta.get("flip_tta", False),
            meta.get("small_side", 0.0),
            meta.get("small_penalty", 0.0),
            meta.get("zoom_side", 0.0),
            meta.get("zoom_context", 3.0),
            meta.get("zoom_input", 160),
            verifier,
            meta.get("verify_side", 0.0),
            context,
            side,
        )

    def maps(self, canvas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run the network on a letterboxed uint8 canvas (width a multiple of the stride): heat
        probabilities ``h x w``, box ``4 x h x w`` and keypoint ``2K x h x w`` maps (float32
        numpy); with ``flip``, the mean of the maps and the un-mirrored maps of the mirror."""
        batch = np.stack([canvas, canvas[:, ::-1]]) if self.flip else canvas[None]
        out = self.net(image=to_nchw(batch))
        heat = sigmoid(out["heatmap"][:, 0]).astype(np.float32)
        box, kps = out["box"], out["keypoints"]
        if not self.flip:
            return heat[0], box[0], kps[0]
        # cell j of the mirror is cell w - 1 - j; left and right distances swap; keypoints
        # swap sides (FLIP_5) and their x offsets change sign
        k = kps.shape[1] // 2
        mk = (
            kps[1, :, :, ::-1].reshape(k, 2, *kps.shape[2:])[FLIP_5]
            * np.array([-1, 1])[:, None, None]
        )
        return (
            (heat[0] + heat[1, :, ::-1]) / 2,
            (box[0] + box[1, [2, 1, 0, 3], :, ::-1]) / 2,
            (kps[0] + mk.reshape(kps.shape[1:])) / 2,
        )

    def predict(
        self, image: np.ndarray, threshold: float | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Faces in photo pixels: ``(boxes (n, 4), scores (n,), keypoints (n, 5, 2))`` float32,
        after NMS, sorted by score; boxes are not clipped to the photo. Faces under
        ``zoom_side`` / ``verify_side`` letterbox pixels may have been lowered by the second
        looks, then those under ``small_side`` have had ``small_penalty`` taken off their
        score.

        Args:
            image: ``H x W x 3`` uint8 RGB.
            threshold: minimum (penalised) score (default: ``score_threshold``).
        """
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"expected an H x W x 3 uint8 RGB image, got {image.dtype} {image.shape}"
            )
        thr = self.score_threshold if threshold is None else float(threshold)
        boxes, scores, kps = self._faces(image, self.input_size, thr)
        sides = letterbox_sides(boxes, image.shape, self.input_size)
        floor = max(thr, ZOOM_FLOOR)  # a veto cannot lift a candidate over thr
        if self.zoom_side > 0:
            raw = partial(self._faces, size=self.zoom_input, threshold=ZOOM_FLOOR / 2)
            scores = second_look(
                detector_look(raw, self.zoom_context, self.zoom_input),
                image,
                boxes,
                scores,
                sides < self.zoom_side,
                self.zoom_context,
                self.zoom_input,
                floor,
            )
        if self.verifier is not None and self.verify_side > 0:
            scores = second_look(
                verifier_look(self.verifier),
                image,
                boxes,
                scores,
                sides < self.verify_side,
                self.verify_context,
                self.verify_input,
                floor,
            )
        scores = small_face_penalty(
            boxes, scores, image.shape, self.input_size, self.small_side, self.small_penalty
        )
        ok = scores >= thr
        boxes, scores, kps = boxes[ok], scores[ok], kps[ok]
        keep = nms(boxes, scores, self.nms_iou)
        return boxes[keep].astype(np.float32), scores[keep], kps[keep].astype(np.float32)

    def _faces(self, image: np.ndarray, size: int, threshold: float):
        """Decoded peaks over ``threshold`` of the ``size`` letterbox, in photo pixels."""
        canvas, scale, pad = letterbox(image, size, square=False)
        boxes, scores, kps = decode(*self.maps(canvas), self.stride, threshold, self.top_k)
        boxes = (boxes - np.tile(pad, 2) + 0.5) / np.tile(scale, 2) - 0.5
        return boxes, scores, (kps - pad + 0.5) / scale - 0.5

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in an ``H x W x 3`` uint8 RGB photo, by score descending; boxes xyxy clipped to
        the photo, keypoints (eyes, nose tip, mouth corners) unclipped."""
        h, w = image.shape[:2]
        boxes, scores, kps = self.predict(image)
        limit = np.array([w - 1, h - 1, w - 1, h - 1], np.float32)
        boxes = np.clip(boxes, 0, limit)
        return [Detection(b, float(s), k) for b, s, k in zip(boxes, scores, kps, strict=True)]
