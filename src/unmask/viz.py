"""Drawing helpers for previews, comparison sheets and training sample grids.

All functions take and return RGB uint8 ``H x W x 3`` arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unmask.faces.landmarks import HIDDEN


def draw_landmarks(
    image: np.ndarray, landmarks: np.ndarray, radius: int | None = None
) -> np.ndarray:
    """Copy of ``image`` with 68 landmarks drawn: hidden group (nose, mouth, jaw) red, the
    visible group (brows, eyes) green."""
    import cv2

    out = np.ascontiguousarray(image.copy())
    r = radius or max(1, round(image.shape[0] / 128))
    hidden = set(HIDDEN)
    for i, (x, y) in enumerate(np.asarray(landmarks)):
        colour = (255, 40, 40) if i in hidden else (40, 255, 40)
        cv2.circle(out, (int(round(x)), int(round(y))), r, colour, -1, cv2.LINE_AA)
    return out


def mask_to_rgb(mask: np.ndarray) -> np.ndarray:
    """``H x W`` {0,1} or {0,255} mask as a white-on-black RGB image."""
    m = (np.asarray(mask) > 0).astype(np.uint8) * 255
    return np.repeat(m[..., None], 3, axis=2)


def overlay_mask(
    image: np.ndarray, mask: np.ndarray, colour=(255, 0, 255), alpha=0.45
) -> np.ndarray:
    """Tint the mask region of ``image`` with ``colour``."""
    m = (np.asarray(mask) > 0)[..., None]
    tint = image.astype(np.float32) * (1 - alpha) + np.array(colour, np.float32) * alpha
    return np.where(m, tint, image).astype(np.uint8)


def grid(rows: Sequence[Sequence[np.ndarray]], size: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile images into a sheet, each resized to ``size`` x ``size`` (default: first image's).

    Args:
        rows: a list of rows, each a list of RGB uint8 images.
    """
    import cv2

    if not rows or not rows[0]:
        raise ValueError("grid needs at least one image")
    s = size or rows[0][0].shape[0]
    ncol = max(len(r) for r in rows)
    sheet = np.full((len(rows) * (s + pad) + pad, ncol * (s + pad) + pad, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            if img.ndim == 2:
                img = mask_to_rgb(img)
            if img.shape[:2] != (s, s):
                img = cv2.resize(img, (s, s), interpolation=cv2.INTER_AREA)
            y, x = pad + i * (s + pad), pad + j * (s + pad)
            sheet[y : y + s, x : x + s] = img
    return sheet


def draw_detections(
    image: np.ndarray, boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray | None = None
) -> np.ndarray:
    """Copy of an RGB uint8 photo with boxes (green), scores and keypoints drawn."""
    import cv2

    out = np.ascontiguousarray(image.copy())
    t = max(1, round(max(image.shape[:2]) / 300))
    colours = ((255, 60, 60), (60, 60, 255), (255, 255, 0), (255, 0, 255), (0, 255, 255))
    for i, (b, s) in enumerate(zip(boxes, scores, strict=True)):
        p0, p1 = (int(b[0]), int(b[1])), (int(b[2]), int(b[3]))
        cv2.rectangle(out, p0, p1, (40, 255, 40), t)
        cv2.putText(
            out,
            f"{s:.2f}",
            (p0[0], max(p0[1] - 3, 10)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.35 * t,
            (40, 255, 40),
            t,
        )
        if keypoints is not None and np.isfinite(keypoints[i]).all():
            for (x, y), c in zip(keypoints[i], colours, strict=True):
                cv2.circle(out, (int(x), int(y)), t + 1, c, -1)
    return out


def detection_sheet(
    predict, images: Sequence[np.ndarray], threshold: float, cols: int = 8, size: int = 192
) -> np.ndarray:
    """A grid (:func:`unmask.viz.grid`) of photos with their detections, letterboxed squares."""
    from unmask.detection.decode import letterbox

    tiles = []
    for img in images:
        boxes, scores, kps = predict(img, threshold)
        tiles.append(letterbox(draw_detections(img, boxes, scores, kps), size)[0])
    rows = [tiles[i : i + cols] for i in range(0, len(tiles), cols)]
    return grid(rows, size)


def compare_sheet(result, height: int = 384, before: np.ndarray | None = None) -> np.ndarray:
    """Original | detected mask and landmarks | restored, side by side at ``height`` pixels;
    ``before`` (e.g. the unmasked ground truth, ``H x W x 3`` uint8) adds a leading panel."""
    import cv2

    mid = overlay_mask(result.image, result.mask)
    for face in result.faces:
        mid = draw_landmarks(mid, face.landmarks, radius=max(1, result.image.shape[0] // 200))
        x1, y1, x2, y2 = (int(round(v)) for v in face.box)
        colour = (255, 0, 255) if face.masked else (0, 200, 255)
        cv2.rectangle(mid, (x1, y1), (x2, y2), colour, max(1, result.image.shape[0] // 250))
    gap = np.full((height, 4, 3), 255, np.uint8)
    shown = ([] if before is None else [before]) + [result.image, mid, result.restored]
    panels = []
    for img in shown:
        h, w = img.shape[:2]
        size = (max(1, round(w * height / h)), height)
        panels += [cv2.resize(img, size, interpolation=cv2.INTER_AREA), gap]
    return np.concatenate(panels[:-1], axis=1)
