"""Would a *real* lower face raise gender agreement? A ceiling for plausible rebuilds.

For every test crop the shipped inpainter fills the hole, as in ``unmask eval inpainter``
(landmarks and gender predicted by the shipped attr network on the masked crop). Then the part
of the hole inside both faces' outlines (the hull of jaw and brows of the target's and of the
donor's teacher landmarks) is replaced by the real face of another person from the train split,
Poisson-blended (``cv2.seamlessClone``) so that colour and shading meet the rebuilt edge.
Crops are landmark-aligned, so the donor's nose, mouth and chin land where the target's would.
The gender judge reads each composite and the ground truth. Donors (``K`` per crop, averaged):

- ``same gender, age, race``: a real face of the target's labelled gender, age band and race;
- ``judge-matched``: same age band and race, the donors whose own P(female) under the judge is
  closest to the judge's P(female) on the target's ground truth (an oracle no inpainter has);
- ``opposite gender``: same age band and race, the other labelled gender (sensitivity check).

It measures the judge and the data: the agreement a rebuild would get if it drew someone
else's real face, of the right gender, where the mask was.

usage: python research/gender_ceiling.py [--dataset D] [--judge J] [--weights W] [--k K]
    [--limit N] [--pool N] [--sheet OUT.png]   (prints JSON; the sheet: ground truth, the
    inpainter's output, then the first donor composite of each rule, for 8 crops)
"""

import argparse
import json

import cv2
import numpy as np
from PIL import Image
from torch.utils.data import DataLoader, Subset

from unmask.data.dataset import FaceMaskDataset
from unmask.faces.landmarks import face_outline
from unmask.metrics.gender import agreement_groups
from unmask.runtime.backend import from_nchw
from unmask.stages.attr import FaceAttributes
from unmask.stages.inpaint import Inpainter

ap = argparse.ArgumentParser()
ap.add_argument("--dataset", default="data/utk256m2")
ap.add_argument("--judge", default="eval/judge")
ap.add_argument("--weights", default="src/unmask/weights")
ap.add_argument("--k", type=int, default=3)
ap.add_argument("--limit", type=int, default=None, help="first N test crops only")
ap.add_argument("--pool", type=int, default=None, help="first N train faces as donors only")
ap.add_argument("--sheet", default=None)
args = ap.parse_args()
K = args.k
BANDS = np.array([4, 8, 13, 18, 30, 45, 60])  # age band edges
rng = np.random.default_rng(0)
judge = FaceAttributes.from_weights(args.judge, name="gender_judge", backend="torch")
attr = FaceAttributes.from_weights(args.weights, backend="torch")
stage = Inpainter.from_weights(args.weights, backend="torch")


def load(ds, idx=None, rebuild=False):
    """Clean crops, faces' outlines, P(female) on the clean crop; with ``rebuild`` also the
    holes (grown as the stage grows them) and the inpainter's outputs."""
    out = {k: [] for k in ("clean", "face", "p", "hole", "rebuilt")}
    for b in DataLoader(ds if idx is None else Subset(ds, idx), 64, num_workers=0):
        gt = from_nchw(b["clean"])
        out["clean"].append(gt)
        lms = b["landmarks"].numpy()
        out["face"].append(np.stack([face_outline(lm, gt.shape[1]) for lm in lms]))
        out["p"].append(judge(gt)[1])
        if rebuild:
            masked = from_nchw(b["masked"])
            hole = stage.hole(b["mask"][:, 0].numpy().astype(np.uint8))
            out["hole"].append(hole)
            out["rebuilt"].append(stage.batch(masked, hole, *attr(masked)))
    return {k: np.concatenate(v) for k, v in out.items() if v}


def keys(rows):
    g = np.array([r["gender"] == "female" for r in rows])
    band = np.digitize([r["age"] for r in rows], BANDS)
    race = np.array([r["race"] for r in rows])
    return g, band, race


def composite(rebuilt, region, donor):
    """``rebuilt`` with ``region`` (uint8 {0, 1}) replaced by ``donor``, Poisson-blended."""
    region = cv2.erode(region, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero(region)
    if len(ys) < 9:
        return rebuilt
    centre = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
    return cv2.seamlessClone(donor, rebuilt, region * 255, centre, cv2.NORMAL_CLONE)


test = FaceMaskDataset(args.dataset, "test", 128, None, ())
test.rows = test.rows[: args.limit]
pool_ds = FaceMaskDataset(args.dataset, "train", 128, None, ())
seen, pool_idx = set(), []
for i, r in enumerate(pool_ds.rows):  # one variant per face: the clean crop is the same
    if r["face_id"] not in seen:
        seen.add(r["face_id"])
        pool_idx.append(i)
pool_idx = pool_idx[: args.pool]
t = load(test, rebuild=True)
d = load(pool_ds, pool_idx)
tg, tb, tr = keys(test.rows)
dg, db, dr = keys([pool_ds.rows[i] for i in pool_idx])
ages = np.array([r["age"] for r in test.rows])


def pick(i, rule):
    want = np.ones(len(dg), bool)  # judge-matched: either gender
    if rule != "judge-matched":
        want = dg == (tg[i] if rule == "same gender, age, race" else not tg[i])
    cand = np.flatnonzero(want & (db == tb[i]) & (dr == tr[i]))
    if len(cand) < K:  # rare: relax race
        cand = np.flatnonzero(want & (db == tb[i]))
    if rule == "judge-matched":
        return cand[np.argsort(np.abs(d["p"][cand] - t["p"][i]))[:K]]
    return rng.choice(cand, K, replace=False)


def judged(images):
    return np.concatenate([judge(images[s : s + 64])[1] for s in range(0, len(images), 64)])


n = len(t["clean"])
verdict = t["p"] >= 0.5


def summary(agree):
    groups = agreement_groups(agree, ages, t["p"])
    return {g: round(x, 4) for g, x in groups.items() if g != "sure_share"}


res = {"dataset": args.dataset, "n": n, "k": K, "donor_pool": len(pool_idx)}
res["judge_sure_share"] = round(agreement_groups(verdict, ages, t["p"])["sure_share"], 4)
res["inpainter"] = summary((judged(t["rebuilt"]) >= 0.5) == verdict)
show = np.linspace(0, n - 1, 8).astype(int)
columns = [t["clean"][show], t["rebuilt"][show]]
replaced = []
for rule in ("same gender, age, race", "judge-matched", "opposite gender"):
    agree, picks = np.zeros(n), [pick(i, rule) for i in range(n)]
    for k in range(K):
        outs = []
        for i, p in enumerate(picks):
            region = t["hole"][i] * t["face"][i] * d["face"][p[k]]
            replaced.append(region.sum() / max(1, t["hole"][i].sum()))
            outs.append(composite(t["rebuilt"][i], region, d["clean"][p[k]]))
        outs = np.stack(outs)
        agree += (judged(outs) >= 0.5) == verdict
        if k == 0:
            columns.append(outs[show])
    res[rule] = summary(agree / K)
res["hole_share_replaced"] = round(float(np.mean(replaced)), 4)
print(json.dumps(res, indent=1))
if args.sheet:
    rows = [np.concatenate([c[r] for c in columns], 1) for r in range(len(show))]
    Image.fromarray(np.concatenate(rows, 0)).save(args.sheet)
