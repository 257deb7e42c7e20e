"""The hole at the photo's resolution: the segmenter's mask redrawn on the photo's own pixels.

The segmenter decides on an aligned crop of 128 px; pasted into a larger photo its edge is a
guess several photo pixels wide. :class:`EdgeRefiner` cuts a window of the photo around the
mask (shrunk so that the face is at most ``max_side`` px across), warps the segmenter's
probability into the same grid, and runs :class:`~unmask.models.refiner.MaskRefiner` on both.
The result is the photo-resolution hole that the pipeline pastes into
(:func:`unmask.faces.paste.paste_hole`),
while the inpainter still fills the coarser crop-grid hole that contains it.

Conventions: photos ``H x W x 3`` uint8 RGB; probabilities float32 in [0, 1]; boxes
``(x1, y1, x2, y2)`` photo pixels, end exclusive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from unmask.faces.align import Alignment
from unmask.metrics.calibration import sigmoid
from unmask.runtime.backend import open_net, to_nchw

log = logging.getLogger(__name__)

#: Crop-grid probability above which a pixel may belong to the window around the mask.
REACH_PROB = 0.02


def photo_side(alignment: Alignment) -> float:
    """The aligned crop's side measured in photo pixels (how large the face is in the photo)."""
    return float(alignment.size / np.sqrt(abs(np.linalg.det(alignment.matrix[:, :2]))))


@dataclass(frozen=True)
class Window:
    """The refiner's input: a photo box and its working grid.

    Attributes:
        box: ``(x1, y1, x2, y2)`` photo pixels.
        scale: working-grid pixels per photo pixel (at most 1).
        image: ``h x w x 3`` uint8 RGB, the box resampled to the working grid.
        coarse: ``h x w`` float32, the segmenter's probability in the working grid.
    """

    box: tuple[int, int, int, int]
    scale: float
    image: np.ndarray
    coarse: np.ndarray


def window(
    photo: np.ndarray, alignment: Alignment, prob: np.ndarray, margin: float, max_side: float
) -> Window | None:
    """Cut the refiner's window around the segmenter's mask.

    Args:
        photo: ``H x W x 3`` uint8 RGB.
        alignment: the face's crop (``prob`` is in its grid, any side).
        prob: ``S x S`` float32 mask probability of the aligned crop.
        margin: how far the box reaches beyond the pixels whose probability exceeds
            :data:`REACH_PROB`, as a share of the crop's side.
        max_side: the working grid is shrunk so that the crop's side is at most this many px.
    Returns:
        The :class:`Window`, or ``None`` when no pixel of the photo is near the mask.
    """
    import cv2

    s_crop = prob.shape[0]
    ys, xs = np.nonzero(prob > REACH_PROB)
    if not len(xs):
        return None
    k = alignment.size / s_crop  # crop-grid pixels per prob pixel
    pad = margin * s_crop
    x0, x1 = (xs.min() - pad) * k, (xs.max() + 1 + pad) * k
    y0, y1 = (ys.min() - pad) * k, (ys.max() + 1 + pad) * k
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], np.float64)
    inv = alignment.inverse
    xy = corners @ inv[:, :2].T + inv[:, 2]
    h, w = photo.shape[:2]
    bx1, by1 = np.maximum(np.floor(xy.min(0)).astype(int), 0)
    bx2, by2 = np.minimum(np.ceil(xy.max(0)).astype(int), [w, h])
    if bx2 - bx1 < 4 or by2 - by1 < 4:
        return None
    scale = min(1.0, max_side / photo_side(alignment))
    ww, wh = max(4, round((bx2 - bx1) * scale)), max(4, round((by2 - by1) * scale))
    sx, sy = ww / (bx2 - bx1), wh / (by2 - by1)
    # prob grid -> crop grid -> photo -> working grid
    to_work = np.array([[sx, 0, -sx * bx1], [0, sy, -sy * by1], [0, 0, 1]])
    from_prob = np.vstack([inv, [0, 0, 1]]) @ np.diag([k, k, 1.0])
    m = (to_work @ from_prob)[:2]
    coarse = cv2.warpAffine(prob.astype(np.float32), m, (ww, wh), flags=cv2.INTER_LINEAR)
    patch = photo[by1:by2, bx1:bx2]
    if (ww, wh) != (bx2 - bx1, by2 - by1):
        patch = cv2.resize(patch, (ww, wh), interpolation=cv2.INTER_AREA)
    return Window((int(bx1), int(by1), int(bx2), int(by2)), scale, patch, coarse)


def place_hole(found, shape, alignment: Alignment, size: int):
    """Put a refined hole into the photo and into the aligned crop.

    Args:
        found: ``(box, hole)`` from :class:`EdgeRefiner`.
        shape: the photo's ``(H, W)``.
        size: the crop's side.
    Returns:
        ``(photo hole, crop hole)``: ``H x W`` and ``size x size`` uint8 {0, 1}; the crop hole
        covers every crop pixel the photo hole reads, with one crop pixel to spare for the
        bilinear warp back, and no more (a larger hole leaves the inpainter less context).
    """
    import cv2

    (x1, y1, x2, y2), box_hole = found
    photo = np.zeros(shape, np.uint8)
    photo[y1:y2, x1:x2] = box_hole
    to_crop = alignment.matrix @ np.array([[1.0, 0, x1], [0, 1.0, y1], [0, 0, 1]])
    hole = box_hole.astype(np.float32)
    in_crop = cv2.warpAffine(hole, to_crop, (size, size), flags=cv2.INTER_LINEAR) > 0.01
    return photo, cv2.dilate(in_crop.astype(np.uint8), np.ones((3, 3), np.uint8))


class EdgeRefiner:
    """Redraw a face's mask at the photo's resolution.

    Args:
        model: a :class:`~unmask.models.refiner.MaskRefiner` or a net of
            :mod:`unmask.runtime.backend` running one.
        threshold: probability above which a photo pixel is hole.
        margin: see :func:`window`.
        max_side: see :func:`window`.
        seam_outside: photo pixels beyond the hole where a face pasted over it has faded out.
        seam_inside: share of the crop's side within the hole where it is fully in (0: the
            whole hole is replaced).
    """

    def __init__(
        self,
        model,
        threshold: float = 0.5,
        margin: float = 0.04,
        max_side: float = 384.0,
        seam_outside: float = 2.0,
        seam_inside: float = 0.0,
    ) -> None:
        from unmask.runtime.backend import as_net

        self.net = as_net(model, "MaskRefiner")
        self.threshold = float(threshold)
        self.margin = float(margin)
        self.max_side = float(max_side)
        self.seam_outside = float(seam_outside)
        self.seam_inside = float(seam_inside)

    def seam_px(self, alignment: Alignment) -> tuple[float, float]:
        """``(outside, inside)`` of :func:`unmask.faces.paste.paste_hole`, in photo pixels."""
        return self.seam_outside, self.seam_inside * photo_side(alignment)

    @classmethod
    def from_weights(cls, weights_dir=None, device: str = "cpu", backend: str = "auto"):
        """Load the ``refiner`` weights (see :func:`unmask.runtime.backend.open_net`)."""
        net, info = open_net("refiner", weights_dir, backend, device)
        meta = info.meta
        keys = ("threshold", "margin", "max_side", "seam_outside", "seam_inside")
        return cls(net, **{k: meta[k] for k in keys if k in meta})

    def window_prob(self, win: Window) -> np.ndarray:
        """Mask probability of a :class:`Window`'s working grid, float32 ``h x w``."""
        image = to_nchw(win.image[None])
        coarse = np.ascontiguousarray(win.coarse[None, None], np.float32)
        return sigmoid(self.net(image=image, coarse=coarse)["logits"][0, 0]).astype(np.float32)

    def __call__(self, photo: np.ndarray, alignment: Alignment, prob: np.ndarray):
        """The photo-resolution hole of one face.

        Args:
            photo: ``H x W x 3`` uint8 RGB.
            alignment: the face's crop.
            prob: ``S x S`` float32, the segmenter's probability on that crop.
        Returns:
            ``(box, hole)``: the photo box and a bool ``h x w`` hole inside it, or ``None``
            when neither the segmenter nor the refiner found mask pixels near the face.
        """
        import cv2

        win = window(photo, alignment, prob, self.margin, self.max_side)
        if win is None:
            return None
        p = self.window_prob(win)
        x1, y1, x2, y2 = win.box
        if p.shape != (y2 - y1, x2 - x1):
            p = cv2.resize(p, (x2 - x1, y2 - y1), interpolation=cv2.INTER_LINEAR)
        hole = p > self.threshold
        return (win.box, hole) if hole.any() else None
