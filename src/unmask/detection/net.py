"""The trained face detector behind the :class:`~unmask.detection.base.Detector` protocol.

The photo is letterboxed (longer side to the model's input size, the rest padded with grey),
the network (:class:`~unmask.models.detector.FaceDetector`) gives a centre heatmap, box
distances and keypoint offsets, and :func:`decode` + :func:`nms` turn those into faces. Decoding
(:mod:`unmask.detection.decode`) is numpy only, so a torch-free runtime can reuse it with
another network backend.
"""

from __future__ import annotations

import logging
from functools import partial

import numpy as np

from unmask.detection.base import Detection
from unmask.detection.decode import (
    decode,
    letterbox,
    letterbox_sides,
    nms,
    small_face_penalty,
)
from unmask.detection.zoom import ZOOM_FLOOR, detector_look, second_look, verifier_look
from unmask.faces.landmarks import FLIP_5
from unmask.metrics.calibration import sigmoid
from unmask.runtime.backend import as_net, open_net, to_nchw

log = logging.getLogger(__name__)


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
            :mod:`unmask.detection.zoom`; 0 = off), before the small-face rule.
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
