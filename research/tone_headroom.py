"""How much of the photo tone error (``unmask eval photos``' tone ΔE) is the rebuilt region's
mean colour, and can the visible skin ring predict it?

    python research/tone_headroom.py SET_DIR N

On the first N photos of a validation set made by ``unmask eval photos --split val``: the
shipped output; the output with its hole shifted in CIELAB to the truth's mean hole colour (an
oracle: what a perfect global colour correction could do); and three predictors of that mean
colour, fitted on one half of the photos and applied to the other (two folds): the ring's mean
plus a constant offset, a linear map of the ring's mean, and a linear map of the ring's and the
output's means (each also applied halfway).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from unmask import Unmasker
from unmask.evaluation.photos import photo_metrics
from unmask.evaluation.photos_real import hole_regions
from unmask.io import load_image
from unmask.stages.tone import from_lab, to_lab


def record(u: Unmasker, d: Path) -> dict | None:
    truth, masked = load_image(d / "truth.png"), load_image(d / "masked.png")
    res = u(masked)
    if not res.faces:
        return None
    hole = res.mask > 0
    _, ring, _ = hole_regions(hole, res.faces[0].landmarks)
    if ring.sum() < 50:
        return None
    return {
        "out": res.restored,
        "truth": truth,
        "masked": masked,
        "mask": load_image(d / "mask.png")[..., 0] > 127,
        "hole": hole,
        "ring_mean": to_lab(masked)[ring].mean(0),
        "out_mean": to_lab(res.restored)[hole].mean(0),
        "gt_mean": to_lab(truth)[hole].mean(0),
    }


def shifted(r: dict, target: np.ndarray) -> np.ndarray:
    lab = to_lab(r["out"])
    lab[r["hole"]] += target - r["out_mean"]
    out = np.clip(from_lab(lab) + 0.5, 0, 255).astype(np.uint8)
    return np.where(r["hole"][..., None], out, r["out"])


def score(name: str, recs: list[dict], outs: list[np.ndarray]) -> None:
    m = [
        photo_metrics(o, r["truth"], r["masked"], r["mask"], r["hole"])
        for o, r in zip(outs, recs, strict=True)
    ]
    de, db, ss = (np.mean([x[k] for x in m]) for k in ("tone_de", "psnr", "ssim"))
    print(f"{name}: tone ΔE {de:.2f}, PSNR {db:.2f}, SSIM {ss:.3f}")


def fit(train: list[dict]) -> dict:
    """Three predictors of a hole's mean Lab colour, fitted on ``train``."""
    ring = np.array([r["ring_mean"] for r in train])
    out = np.array([r["out_mean"] for r in train])
    gt = np.array([r["gt_mean"] for r in train])
    offset = (gt - ring).mean(0)
    lin, *_ = np.linalg.lstsq(np.c_[ring, np.ones(len(ring))], gt, rcond=None)
    both, *_ = np.linalg.lstsq(np.c_[ring, out, np.ones(len(ring))], gt, rcond=None)
    return {
        "offset": lambda r: r["ring_mean"] + offset,
        "linear": lambda r: np.r_[r["ring_mean"], 1] @ lin,
        "linear+out": lambda r: np.r_[r["ring_mean"], r["out_mean"], 1] @ both,
    }


def main() -> None:
    set_dir, n = Path(sys.argv[1]), int(sys.argv[2])
    rows = json.loads((set_dir / "index.json").read_text())["photos"][:n]
    u = Unmasker()
    recs = [r for r in (record(u, set_dir / row["id"]) for row in rows) if r is not None]
    print(f"{len(recs)} photos")
    score("shipped", recs, [r["out"] for r in recs])
    score("oracle mean colour", recs, [shifted(r, r["gt_mean"]) for r in recs])
    half = len(recs) // 2
    preds: dict[str, dict[int, np.ndarray]] = {}
    for train, held in ((recs[:half], recs[half:]), (recs[half:], recs[:half])):
        for name, f in fit(train).items():
            preds.setdefault(name, {}).update({id(r): f(r) for r in held})
    own = np.mean([np.linalg.norm(r["out_mean"] - r["gt_mean"]) for r in recs])
    print(f"mean-colour error of the shipped output: {own:.2f}")
    for name, p in preds.items():
        err = np.mean([np.linalg.norm(p[id(r)] - r["gt_mean"]) for r in recs])
        print(f"{name}: mean-colour error {err:.2f}")
        score(f"  {name}", recs, [shifted(r, p[id(r)]) for r in recs])
        half_way = [shifted(r, (p[id(r)] + r["out_mean"]) / 2) for r in recs]
        score(f"  {name}, halfway", recs, half_way)


if __name__ == "__main__":
    main()
