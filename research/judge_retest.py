"""Test-retest of the gender judge on ground-truth test crops: how often a mild perturbation
that keeps the face (JPEG q75 round trip; a 2-pixel shift) flips its verdict. This is the
noise floor under the inpainter's gender-agreement figure.

usage: python research/judge_retest.py [DATASET] [JUDGE_DIR]   (prints JSON)
"""

import io
import json
import sys

import numpy as np
from PIL import Image
from torch.utils.data import DataLoader

from unmask.data.dataset import FaceMaskDataset
from unmask.metrics.gender import agreement_groups
from unmask.runtime.backend import from_nchw
from unmask.stages.attr import FaceAttributes

dataset = sys.argv[1] if len(sys.argv) > 1 else "data/utk256"
judge_dir = sys.argv[2] if len(sys.argv) > 2 else "eval/judge"
judge = FaceAttributes.from_weights(judge_dir, name="gender_judge", backend="torch")


def jpeg(a: np.ndarray) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=75)
    return np.asarray(Image.open(buf).convert("RGB"))


perturb = {
    "jpeg75": lambda x: np.stack([jpeg(a) for a in x]),
    "shift2": lambda x: np.roll(x, (2, 2), (1, 2)),
}
same = {k: [] for k in perturb}
ages = []
for b in DataLoader(FaceMaskDataset(dataset, "test", 128, None, ()), 64, num_workers=0):
    gt = from_nchw(b["clean"])
    verdict = judge(gt)[1] >= 0.5
    for k, f in perturb.items():
        same[k].append(verdict == (judge(f(gt))[1] >= 0.5))
    ages.append(b["age"].numpy())
ages = np.concatenate(ages)
res = {"n": int(len(ages))}
for k, v in same.items():
    res[k] = {g: round(x, 4) for g, x in agreement_groups(np.concatenate(v), ages).items()}
print(json.dumps(res))
