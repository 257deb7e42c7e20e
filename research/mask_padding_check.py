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

usage: python research/mask_padding_check.py N [--dataset D] [--faces F] [--judge J]
    [--weights W] [--sheet SHEET.png]
(N test rows of a dataset built with ``--padding clean``; W: the pipeline's weights folder,
default the shipped ones; prints JSON)
"""

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from source_rows import source_rows, worn_photo

from unmask.api import Unmasker
from unmask.faces.align import align, repad
from unmask.faces.paste import paste_back
from unmask.metrics.images import psnr
from unmask.metrics.landmarks import nme_per_face
from unmask.stages.attr import FaceAttributes

ap = argparse.ArgumentParser()
ap.add_argument("n", type=int)
ap.add_argument("--dataset", default="data/utk256")
ap.add_argument("--faces", default="../shared/data/faces-utk")
ap.add_argument("--judge", default="eval/judge")
ap.add_argument("--weights", default=None)
ap.add_argument("--sheet", default=None)
args = ap.parse_args()
ds, src, n = Path(args.dataset), Path(args.faces), args.n
judge = FaceAttributes.from_weights(args.judge, name="gender_judge", backend="torch")
u = Unmasker(args.weights, backend="onnx")
modes = ("training", "mirrored", "filled", "two-pass", "filled, attr on it")
acc = {m: {"psnr": [], "p": []} for m in modes}
# the crop the attr network reads in each mode (the pipeline reads the plain, mirrored one)
ATTR_INPUT = {"training": "training", "filled, attr on it": "filled"}
ATTR_INPUT |= {m: "mirrored" for m in ("mirrored", "filled", "two-pass")}
attr_acc = {m: {"nme": [], "gender": []} for m in ("training", "mirrored", "filled")}
p_gt, ages, sheet = [], [], []
for r, img, five, clean, masked_b, gt_mask in source_rows(ds, src, n):
    gt_mask = gt_mask.astype(np.uint8)
    al, photo, inside = worn_photo(img, five, masked_b, gt_mask)
    hole = u.inpainter.hole(gt_mask)
    worn = align(photo, five, 256)
    crops = {
        "training": np.where(gt_mask[..., None] > 0, masked_b, al.crop),
        "mirrored": worn.crop,
        "filled": repad(photo, worn, hole),
    }
    attr = {k: u.attributes(c) for k, c in crops.items()}
    for k, (lm, p) in attr.items():
        attr_acc[k]["nme"].append(nme_per_face(lm[:1], np.asarray(r["landmarks"])[None])[0])
        if r["gender"] in ("male", "female"):
            attr_acc[k]["gender"].append((p[0] >= 0.5) == (r["gender"] == "female"))
    outs = []
    for mode in modes:
        lm, p = attr[ATTR_INPUT[mode]]
        if mode == "two-pass":
            crop = align(paste_back(photo, outs[2], al, hole), five, 256).crop
        else:
            crop = crops[mode.split(",")[0]]
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
for k, a in attr_acc.items():
    res[f"attr on {k}"] = {
        "nme": round(float(np.mean(a["nme"])), 5),
        "gender_accuracy": round(float(np.mean(a["gender"])), 4),
    }
pairs = (("filled", "mirrored"), ("two-pass", "filled"), ("filled, attr on it", "filled"))
for a, b in (*pairs, ("training", "mirrored")):
    d = np.array(acc[a]["psnr"]) - np.array(acc[b]["psnr"])
    res[f"psnr_gain_{a}_vs_{b}"] = {
        "mean": round(float(d.mean()), 3),
        "se": round(float(d.std() / np.sqrt(len(d))), 3),
    }
print(json.dumps(res, indent=1))
if args.sheet:
    cv2.imwrite(args.sheet, cv2.cvtColor(np.concatenate(sheet, 0), cv2.COLOR_RGB2BGR))
