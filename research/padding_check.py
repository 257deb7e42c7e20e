"""Crop padding at inference: edge replication vs the training crops' mirrored blur.

Test-split faces are re-aligned from their source photos both ways; the stored masked crop
supplies the mask pixels, so only the out-of-photo padding differs. Every figure is computed
on the same crops (inpainter PSNR over hole pixels inside the photo).

usage: python research/padding_check.py N [DATASET] [FACES]   (N test rows; prints JSON)
"""

import json
import sys
from pathlib import Path

import numpy as np
from source_rows import source_rows

from unmask.api import Unmasker
from unmask.faces.align import align, inside_photo
from unmask.metrics.images import psnr
from unmask.metrics.landmarks import nme_per_face

ds = Path(sys.argv[2] if len(sys.argv) > 2 else "data/utk256")
src = Path(sys.argv[3] if len(sys.argv) > 3 else "../shared/data/faces-utk")
n = int(sys.argv[1])
u = Unmasker(backend="onnx")
acc = {
    m: {"nme": [], "gender": [], "iou": [], "psnr": [], "pad": []} for m in ("replicate", "blur")
}
for r, img, five, clean, masked_b, gt_mask in source_rows(ds, src, n):
    true_lm = np.asarray(r["landmarks"])
    for mode in acc:
        al = align(img, five, 256, border=mode)
        inside = inside_photo(img.shape[:2], al.matrix, 256) > 0
        crop = np.where(gt_mask[..., None], masked_b, al.crop)
        lm, p = u.attributes(crop)
        a = acc[mode]
        a["pad"].append(1 - inside.mean())
        a["nme"].append(nme_per_face(lm[:1], true_lm[None])[0])
        if r["gender"] in ("male", "female"):
            a["gender"].append((p[0] >= 0.5) == (r["gender"] == "female"))
        seg = u.segmenter(crop).astype(bool)
        a["iou"].append((seg & gt_mask).sum() / max(1, (seg | gt_mask).sum()))
        hole = u.inpainter.hole(gt_mask.astype(np.uint8)).astype(bool)
        out = u.inpainter(crop, hole.astype(np.uint8), lm[0], float(p[0]))
        a["psnr"].append(psnr(out, clean, hole & inside))
res = {
    m: {k: round(float(np.mean(v)), 4) for k, v in a.items()} | {"n": len(a["nme"])}
    for m, a in acc.items()
}
d = np.array(acc["blur"]["psnr"]) - np.array(acc["replicate"]["psnr"])
res["paired_psnr_gain_blur"] = {
    "mean": round(float(d.mean()), 3),
    "se": round(float(d.std() / np.sqrt(len(d))), 3),
}
print(json.dumps(res, indent=1))
