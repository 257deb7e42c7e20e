"""The detector's training dataset: composite scenes letterboxed to the network's input, with
CenterNet-style dense targets."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from unmask.scenes.composite import Scene
from unmask.scenes.maker import SceneMaker


def render_targets(
    boxes: np.ndarray, keypoints: np.ndarray, size: int, stride: int, alpha: float = 0.54
) -> dict[str, np.ndarray]:
    """CenterNet-style dense targets for a ``size x size`` letterboxed photo.

    Cell ``j`` of the ``n = size // stride`` grid has its centre at ``j * stride +
    (stride - 1) / 2`` (pixel-centre convention). Each face puts an elliptical Gaussian
    (sigma = ``alpha`` x box side / 6) peaking at exactly 1 on the cell holding its centre;
    cells where the Gaussian exceeds 0.1 regress that face (smaller faces win overlaps), with
    weights summing to 1 per face.

    Returns:
        ``heat`` float32 ``1 x n x n``; ``weight`` float32 ``1 x n x n``; ``box`` float32
        ``4 x n x n`` xyxy letterbox pixels; ``kps`` float32 ``10 x n x n`` letterbox pixel xy.
    """
    n = size // stride
    heat = np.zeros((n, n), np.float32)
    weight = np.zeros((n, n), np.float32)
    box_t = np.zeros((4, n, n), np.float32)
    kps_t = np.zeros((10, n, n), np.float32)
    grid = np.arange(n, dtype=np.float32)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for k in np.argsort(-areas):
        x1, y1, x2, y2 = boxes[k]
        ci = np.clip(np.floor((np.array([x1 + x2, y1 + y2]) / 2 + 0.5) / stride), 0, n - 1)
        sx = max(alpha * (x2 - x1) / stride / 6, 0.35)
        sy = max(alpha * (y2 - y1) / stride / 6, 0.35)
        g = np.exp(
            -((grid[None, :] - ci[0]) ** 2) / (2 * sx * sx)
            - ((grid[:, None] - ci[1]) ** 2) / (2 * sy * sy)
        ).astype(np.float32)
        np.maximum(heat, g, out=heat)
        region = g > 0.1
        w = np.where(region, g, 0)
        weight[region] = (w / w.sum())[region]
        box_t[:, region] = boxes[k][:, None]
        kps_t[:, region] = keypoints[k].reshape(10, 1)
    return {"heat": heat[None], "weight": weight[None], "box": box_t, "kps": kps_t}


class CompositeScenes(Dataset):
    """Letterboxed composite scenes with detector targets.

    Args:
        maker: the :class:`~unmask.scenes.maker.SceneMaker`.
        length: items per epoch.
        stride: output stride of the detector (target grid = ``size // stride``).
        seed: base seed, combined with the epoch and index.

    Loader workers copy the dataset when they start, so use ``persistent_workers=False`` for
    :meth:`set_epoch` to reach them (:func:`unmask.training.common.infinite` sets the epoch
    before each pass).

    Items: ``image`` uint8 ``3 x S x S`` RGB; ``heat``, ``weight``, ``box``, ``kps`` (see
    :func:`render_targets`); ``boxes`` float32 ``M x 4`` and ``keypoints`` ``M x 5 x 2`` in
    letterbox pixels padded with -1 to ``M = cfg.max_objects``; ``count`` int64.
    """

    def __init__(self, maker: SceneMaker, length: int, stride: int = 4, seed: int = 0) -> None:
        self.maker, self.length, self.stride, self.seed = maker, int(length), stride, seed
        self.epoch = 0
        self.epoch_offset = 0

    def __len__(self) -> int:
        return self.length

    def set_epoch(self, epoch: int) -> None:
        """Change the scene stream (epoch ``epoch + epoch_offset``; a resumed run sets the
        offset so it does not replay scenes)."""
        self.epoch = epoch + self.epoch_offset

    def scene(self, i: int) -> Scene:
        """The native-resolution scene of index ``i`` in the current epoch."""
        return self.maker(np.random.default_rng([self.seed, self.epoch, i]))

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        from unmask.detection.decode import letterbox

        sc = self.scene(i)
        size, cap = self.maker.cfg.size, self.maker.cfg.max_objects
        canvas, scale, pad = letterbox(sc.image, size, square=True)
        boxes = (sc.boxes + 0.5) * np.tile(scale, 2) - 0.5 + np.tile(pad, 2)
        kps = (sc.keypoints + 0.5) * scale - 0.5 + pad
        keep = (np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= 4)[:cap]
        boxes, kps = boxes[:cap][keep], kps[:cap][keep]
        t = render_targets(boxes, kps, size, self.stride)
        pb = np.full((cap, 4), -1, np.float32)
        pk = np.full((cap, 5, 2), -1, np.float32)
        pb[: len(boxes)], pk[: len(kps)] = boxes, kps
        out = {k: torch.from_numpy(v) for k, v in t.items()}
        out["image"] = torch.from_numpy(np.ascontiguousarray(canvas.transpose(2, 0, 1)))
        out.update(
            boxes=torch.from_numpy(pb),
            keypoints=torch.from_numpy(pk),
            count=torch.tensor(len(boxes)),
        )
        return out
