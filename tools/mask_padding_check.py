"""Crop padding on real photos: a face mask mirrored into the padding vs. padding made with the
mask filled first (``align(..., ignore=mask)``).

Training crops are padded from the *unmasked* photo and get their mask afterwards, so the
padding below the chin shows neck or clothes. In a real photo the mask is part of the photo and
the mirrored padding repeats it. This check rebuilds that situation with ground truth: each
test-split face's stored mask (pixels and map) is warped back into its source photo, the photo
is re-aligned three ways, and the shipped inpainter fills the same hole in each:

- ``training``: mask pasted into the crop after padding (how the training crops are made);
- ``mirrored``: padding mirrors the mask (the pipeline until session 15);
- ``filled``: padding made from the photo with the hole filled by Telea first
  (:func:`unmask.faces.align.repad`, the pipeline since session 15);
- ``two-pass``: the ``filled`` result pasted into the photo, which is aligned again (its
  padding now mirrors the rebuilt face) and rebuilt a second time.

Figures: PSNR over the hole pixels inside the photo, and gender agreement of the independent
judge (``eval/judge``) between the composite and the clean crop.

usage: python tools/mask_padding_check.py N [DATASET] [FACES] [JUDGE] [SHEET.png]
(N test rows of a dataset built with ``--padding clean``; prints JSON)
"""

import json
import sys
from pathlib import Path

import cv2
import numpy as np

from unmask.api import Unmasker
from unmask.faces.align import align, inside_photo, repad
from unmask.faces.landmarks import five_from_68
from unmask.faces.paste import paste_back, photo_mask
from unmask.faces.teacher import teacher_landmarks
from unmask.io import load_image
from unmask.metrics.images import psnr
from unmask.stages.attr import FaceAttributes

ds = Path(sys.argv[2] if len(sys.argv) > 2 else "data/utk256")
src = Path(sys.argv[3] if len(sys.argv) > 3 else "../shared/data/faces-utk")
judge = FaceAttributes.from_weights(
    sys.argv[4] if len(sys.argv) > 4 else "eval/judge", name="gender_judge", backend="torch"
)
n = int(sys.argv[1])
rows = [r for r in map(json.loads, open(ds / "manifest.jsonl")) if r["split"] == "test"][:n]
u = Unmasker(backend="onnx")
modes = ("training", "mirrored", "filled", "two-pass")
acc = {m: {"psnr": [], "p": []} for m in modes}
p_gt, ages, sheet = [], [], []
for r in rows:
    img = load_image(src / r["source"])
    found = teacher_landmarks(img)
    if found is None:
        continue
    five = five_from_68(found[0])
    clean = np.asarray(load_image(ds / r["clean"]))
    masked_b = np.asarray(load_image(ds / r["image"]))
    gt_mask = (cv2.imread(str(ds / r["mask"]), 0) > 127).astype(np.uint8)
    al = align(img, five, 256)
    h, w = img.shape[:2]
    pm = photo_mask(al, gt_mask, (h, w))
    warped = cv2.warpAffine(masked_b, al.inverse, (w, h), flags=cv2.INTER_LINEAR)
    photo = np.where(pm[..., None] > 0, warped, img)
    inside = inside_photo((h, w), al.matrix, 256) > 0
    hole = u.inpainter.hole(gt_mask)
    worn = align(photo, five, 256)
    crops = {
        "training": np.where(gt_mask[..., None] > 0, masked_b, al.crop),
        "mirrored": worn.crop,
        "filled": repad(photo, worn, hole),
    }
    outs = []
    for mode in modes:
        lm, p = u.attributes(crops["training" if mode == "training" else "mirrored"])
        if mode == "two-pass":
            crop = align(paste_back(photo, outs[-1], al, hole), five, 256).crop
        else:
            crop = crops[mode]
        out = u.inpainter(crop, hole, lm[0], float(p[0]))
        acc[mode]["psnr"].append(psnr(out, clean, (hole > 0) & inside))
        outs.append(out)
    if len(sheet) < 8:
        sheet.append(np.concatenate([clean, *[c for c in crops.values()], *outs], 1))
    for mode, pf in zip(modes, judge(np.stack(outs))[1], strict=True):
        acc[mode]["p"].append(pf)
    p_gt.append(judge(clean[None])[1][0])
    ages.append(r.get("age", -1))
g = np.array(p_gt) >= 0.5
res: dict = {"n": len(p_gt)}
for mode, a in acc.items():
    agree = (np.array(a["p"]) >= 0.5) == g
    res[mode] = {
        "psnr_hole_inside": round(float(np.mean(a["psnr"])), 3),
        "gender_agreement": round(float(agree.mean()), 4),
    }
for a, b in (("filled", "mirrored"), ("two-pass", "filled"), ("training", "mirrored")):
    d = np.array(acc[a]["psnr"]) - np.array(acc[b]["psnr"])
    res[f"psnr_gain_{a}_vs_{b}"] = {
        "mean": round(float(d.mean()), 3),
        "se": round(float(d.std() / np.sqrt(len(d))), 3),
    }
print(json.dumps(res, indent=1))
if len(sys.argv) > 5:
    cv2.imwrite(sys.argv[5], cv2.cvtColor(np.concatenate(sheet, 0), cv2.COLOR_RGB2BGR))
