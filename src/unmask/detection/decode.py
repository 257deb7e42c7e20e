"""Letterboxing, decoding and non-maximum suppression of the trained detector's maps.

Numpy only (and OpenCV for resizing), so a torch-free runtime can reuse it with any network
backend; :class:`~unmask.detection.net.NetDetector` runs the network around it.
"""

from __future__ import annotations

import numpy as np

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
