"""How the inpainter's gender conditioning changes the gender of its output.

usage: python research/gender_conditioning.py DATASET WEIGHTS_DIR GUIDE_DIR [JUDGE_DIR]
       [--split val] [--limit N]

For each validation crop the shipped attr network predicts landmarks and P(female) from the
masked crop, as the pipeline does. The generator then rebuilds the hole under several gender
conditionings: the prediction itself, the prediction shifted by a logit bias (negative =
towards male), the hard label, the dataset's true label, and everyone male / female. Each
output is read by the ``gender_guide`` network (trained on unmasked faces; not the evaluation
judge) against the dataset's gender label, and, for reference only, by the evaluation judge
against its own reading of the ground truth. PSNR in the hole (pixels inside the photo) shows
what each costs. Choosing a conditioning rule should rest on the guide's column, on
validation.
"""

import argparse

import numpy as np
from torch.utils.data import DataLoader

from unmask.data.dataset import FaceMaskDataset
from unmask.evaluation.inpainter import holes
from unmask.metrics.calibration import sigmoid
from unmask.metrics.images import psnr
from unmask.runtime.backend import from_nchw
from unmask.stages.attr import FaceAttributes
from unmask.stages.inpaint import Inpainter

BIASES = (-2.0, -1.0, -0.5, 0.5, 1.0)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def conditionings(p: np.ndarray, label: np.ndarray) -> dict[str, np.ndarray]:
    """Named P(female) vectors to condition on, from the prediction ``p`` and labels (-1 =
    unknown, then the prediction)."""
    out = {"predicted": p}
    for b in BIASES:
        out[f"logit {b:+.1f}"] = sigmoid(_logit(p) + b).astype(np.float32)
    out["hard"] = (p >= 0.5).astype(np.float32)
    out["true label"] = np.where(label >= 0, label, p).astype(np.float32)
    out["all male"] = np.zeros_like(p)
    out["all female"] = np.ones_like(p)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("weights")
    ap.add_argument("guide")
    ap.add_argument("judge", nargs="?")
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--attr", default="src/unmask/weights")
    a = ap.parse_args()
    inp = Inpainter.from_weights(a.weights, backend="torch")
    attr = FaceAttributes.from_weights(a.attr, backend="torch")
    guide = FaceAttributes.from_weights(a.guide, name="gender_guide", backend="torch")
    judge = a.judge and FaceAttributes.from_weights(a.judge, name="gender_judge", backend="torch")
    ds = FaceMaskDataset(a.dataset, a.split, inp.image_size, None)
    stats: dict[str, dict[str, list]] = {}
    labels, judged_gt, seen = [], [], 0
    for b in DataLoader(ds, 32, shuffle=False, num_workers=0):
        k = len(b["index"]) if a.limit is None else min(len(b["index"]), a.limit - seen)
        if k <= 0:
            break
        masked, gt = from_nchw(b["masked"][:k]), from_nchw(b["clean"][:k])
        masks, scored = holes(inp, b, k)
        label = b["gender"][:k].numpy()
        labels.append(label)
        judged_gt.append(judge(gt)[1] if judge else np.zeros(k))
        lm, p = attr(masked)
        for name, cond in conditionings(p, label).items():
            out = inp.batch(masked, masks, lm, cond)
            s = stats.setdefault(name, {"guide": [], "judge": [], "psnr": []})
            s["guide"].append(guide(out)[1])
            s["judge"].append(judge(out)[1] if judge else np.zeros(k))
            s["psnr"] += [psnr(o, t, m) for o, t, m in zip(out, gt, scored, strict=True)]
        seen += k
        print(f"{seen} crops", flush=True)
    label, pg = np.concatenate(labels), np.concatenate(judged_gt)
    known = label >= 0
    print(f"\n{seen} {a.split} crops ({known.sum()} with a gender label)\n")
    print("| conditioning | guide vs label % | judge vs judge on GT % | PSNR hole |")
    print("|---|---|---|---|")
    for name, s in stats.items():
        pgd, pj = np.concatenate(s["guide"]), np.concatenate(s["judge"])
        g_agree = ((pgd >= 0.5) == (label == 1))[known].mean() * 100
        j_agree = ((pj >= 0.5) == (pg >= 0.5)).mean() * 100 if judge else float("nan")
        print(f"| {name} | {g_agree:.1f} | {j_agree:.1f} | {np.mean(s['psnr']):.2f} |")


if __name__ == "__main__":
    main()
