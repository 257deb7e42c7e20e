"""The segmenter on crops padded as training padded them vs. as the pipeline pads them.

The shipped segmenter was trained on crops whose padding mirrors the *unmasked* photo, with the
mask drawn over the crop afterwards. In the pipeline the mask is part of the photo, so where it
reaches the photo's edge the padding mirrors the mask itself (and the segmenter's hole decides
what the inpainter rebuilds). This check puts each test face's stored mask back into its source
photo (as ``mask_padding_check.py`` does) and segments both crops. Figures, over crop pixels
inside the photo only (what is pasted back): IoU, leftover (mask pixels outside the grown hole,
share of the mask) and extra area (hole pixels off the mask, share of the mask), split by
whether the mask reaches the photo's edge.

usage: python research/segmenter_padding_check.py N [--dataset D] [--faces F] [--weights W]
    [--sheet SHEET.png]   (prints JSON)
"""

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from source_rows import source_rows, worn_photo

from unmask.faces.align import align
from unmask.io import save_image
from unmask.stages.inpaint import Inpainter
from unmask.stages.segment import Segmenter
from unmask.viz import grid, overlay_mask

ap = argparse.ArgumentParser()
ap.add_argument("n", type=int)
ap.add_argument("--dataset", default="data/utk256")
ap.add_argument("--faces", default="../shared/data/faces-utk")
ap.add_argument("--weights", default=None)
ap.add_argument("--sheet", default=None)
args = ap.parse_args()
seg = Segmenter.from_weights(args.weights)
hole_of = Inpainter.from_weights(args.weights).hole
stats: dict = {}
sheet = []
rows = source_rows(Path(args.dataset), Path(args.faces), args.n)
for _r, img, five, _clean, masked_b, gt in rows:
    gt = gt.astype(np.uint8)
    al, photo, inside = worn_photo(img, five, masked_b, gt)
    # the mask reaches the photo's edge: some mask pixel within 2 px of the padding
    edge = bool((cv2.dilate(gt, np.ones((5, 5), np.uint8)) & ~inside).any())
    crops = {
        "training": np.where(gt[..., None] > 0, masked_b, al.crop),
        "pipeline": align(photo, five, 256).crop,
    }
    for mode, crop in crops.items():
        hole = hole_of(seg(crop)) > 0
        m, hh = (gt > 0) & inside, hole & inside
        area = max(1, int(m.sum()))
        rec = dict(
            iou=float((m & hh).sum() / max(1, (m | hh).sum())),
            leftover=float((m & ~hh).sum() / area),
            extra=float((hh & ~m).sum() / area),
        )
        for group in ("all", "edge" if edge else "inside"):
            bucket = stats.setdefault(mode, {}).setdefault(group, {k: [] for k in rec})
            for k, v in rec.items():
                bucket[k].append(v)
        if args.sheet and edge and len(sheet) < 16:
            ov = overlay_mask(crop, hole)
            ov[(gt > 0) & ~hole & inside] = (255, 255, 0)  # leftover: yellow
            sheet.append(ov)
out = {
    mode: {
        g: {"n": len(v["iou"])} | {k: round(float(np.mean(x)), 4) for k, x in v.items()}
        for g, v in groups.items()
    }
    for mode, groups in stats.items()
}
print(json.dumps(out, indent=1))
if args.sheet and sheet:  # training | pipeline pairs, 4 a row
    save_image(args.sheet, grid([sheet[i : i + 8] for i in range(0, len(sheet), 8)]))
