"""The soft-edge growth all around the mask (shipped) against the same growth upwards only.

    python research/soft_edge_direction.py SET_DIR N REAL_DIR OUT_PREFIX

On the first N photos of a validation set made by ``unmask eval photos --split val``: changed
outside the mask, mask left (mean and 90th percentile) and PSNR in the mask for both growths;
then the 12 real photos of the README's sheet (seed 0) restored both ways, written side by side
as OUT_PREFIX.sheet.png (masked | shipped | upwards, 400 px high) for a look at the mask's upper
edge. The upward growth keeps a candidate pixel only when the segmented mask lies below it,
within a 45-degree cone of straight down in the aligned crop.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import unmask.stages.segment as seg
from unmask import Unmasker
from unmask.evaluation.photos import photo_metrics
from unmask.evaluation.photos_real import pick
from unmask.io import iter_inputs, load_image, save_image

SHIPPED_GROWTH = seg.grow_soft_edge


def cone_below(radius: int) -> np.ndarray:
    """uint8 ``(2r+1, 2r+1)`` dilation kernel: the lower half of a disk, within 45 degrees of
    straight down (a pixel is reached from mask pixels below it)."""
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return ((y >= 0) & (np.abs(x) <= y) & (x * x + y * y <= radius * radius)).astype(np.uint8)


def grow_upwards(mask: np.ndarray, prob: np.ndarray, radius_px: int, low: float) -> np.ndarray:
    """:func:`unmask.stages.segment.grow_soft_edge` with the reach limited to the cone above
    the mask."""
    import cv2

    m = (np.asarray(mask) > 0).astype(np.uint8)
    if radius_px <= 0:
        return m
    reach = cv2.dilate(m, cone_below(radius_px))
    return m | (reach & (np.asarray(prob) > low)).astype(np.uint8)


def run(u: Unmasker, photo: np.ndarray, upwards: bool):
    seg.grow_soft_edge = grow_upwards if upwards else SHIPPED_GROWTH
    try:
        return u(photo)
    finally:
        seg.grow_soft_edge = SHIPPED_GROWTH


def main() -> None:
    import cv2

    set_dir, n, real, prefix = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    u = Unmasker()
    rows = json.loads((set_dir / "index.json").read_text())["photos"][:n]
    recs = {"shipped": [], "upwards": []}
    for row in rows:
        d = set_dir / row["id"]
        truth, masked = load_image(d / "truth.png"), load_image(d / "masked.png")
        mask = load_image(d / "mask.png")[..., 0] > 127
        for name in recs:
            res = run(u, masked, name == "upwards")
            recs[name].append(photo_metrics(res.restored, truth, masked, mask, res.mask))
    out = {}
    for name, rs in recs.items():
        left = np.array([r["leftover"] for r in rs])
        out[name] = {
            "changed_outside_pct": 100 * float(np.mean([r["changed_outside"] for r in rs])),
            "changed_outside_median_pct": 100
            * float(np.median([r["changed_outside"] for r in rs])),
            "mask_left_pct": 100 * float(left.mean()),
            "mask_left_p90_pct": 100 * float(np.percentile(left, 90)),
            "psnr": float(np.mean([r["psnr"] for r in rs])),
        }
    print(json.dumps({"photos": len(rows), **out}, indent=1))
    items = iter_inputs([real])
    tiles = []
    for i in pick(len(items), 12, 0):
        img = load_image(items[i].path)
        row = [img] + [run(u, img, up).restored for up in (False, True)]
        s = 400 / img.shape[0]
        row = [cv2.resize(x, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) for x in row]
        tiles.append(np.concatenate(row, axis=1))
    width = max(t.shape[1] for t in tiles)
    pad = [((0, 8), (0, width - t.shape[1]), (0, 0)) for t in tiles]
    tiles = [np.pad(t, p, constant_values=255) for t, p in zip(tiles, pad, strict=True)]
    for k in range(0, len(tiles), 4):
        save_image(f"{prefix}.sheet{k // 4}.png", np.concatenate(tiles[k : k + 4]))


if __name__ == "__main__":
    main()
