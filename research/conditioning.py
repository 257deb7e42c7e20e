"""Diagnostic conditionings of ``unmask eval inpainter``: what the masked-face predictions cost.

The pipeline conditions the inpainter on the landmarks and P(female) the attr network predicts
on the masked crop. These conditioners replace them with the dataset's teacher landmarks and
gender label (``teacher``), or one of the two (``teacher-landmarks``, ``teacher-gender``), or
move the predicted landmarks a share of the way to the teacher's (``landmark_mix``), for one
group of points only (``mix_points``), to tell which error carries a metric.

usage: python research/conditioning.py DATASET WEIGHTS_DIR --conditioning teacher
       [--landmark-mix 0.5] [--mix-points jaw] [--judge-dir eval/judge] [--attr-dir DIR]
       [--split val] [--limit N] [-o OUT]        (writes OUT.json and OUT.md, prints the table)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from unmask.faces.landmarks import JAW, MOUTH, NOSE, VISIBLE

#: Where the learned models' landmarks and P(female) come from.
CONDITIONING = ("predicted", "teacher", "teacher-landmarks", "teacher-gender")
#: Point groups (iBUG indices) that ``landmark_mix`` can move alone.
MIX_POINTS = {
    "all": tuple(range(68)),
    "jaw": JAW,
    "nose": NOSE,
    "mouth": MOUTH,
    "visible": VISIBLE,  # brows and eyes
}


class Conditioning:
    """A :class:`unmask.evaluation.inpainter.Conditioner` (see the module docstring)."""

    def __init__(
        self, mode: str = "predicted", landmark_mix: float = 0.0, mix_points: str = "all"
    ) -> None:
        if mode not in CONDITIONING:
            raise ValueError(f"conditioning must be one of {', '.join(CONDITIONING)}")
        if not 0 <= landmark_mix <= 1:
            raise ValueError(f"landmark_mix must lie in [0, 1], not {landmark_mix}")
        if landmark_mix and mode in ("teacher", "teacher-landmarks"):
            raise ValueError(f"landmark_mix needs predicted landmarks, not {mode!r}")
        if mix_points not in MIX_POINTS:
            raise ValueError(f"mix_points must be one of {', '.join(MIX_POINTS)}")
        self.mode, self.landmark_mix, self.mix_points = mode, landmark_mix, mix_points
        self.moved = np.asarray(MIX_POINTS[mix_points])
        self.needs_attr = mode != "teacher"
        self.record = {"conditioning": mode, "landmark_mix": landmark_mix, "mix_points": mix_points}

    def __call__(self, lm, p, batch: dict, k: int) -> tuple:
        true_lm = batch["landmarks"][:k].numpy()
        if self.mode in ("teacher", "teacher-landmarks"):
            lm = true_lm
        elif self.landmark_mix and lm is not None:
            lm = lm.copy()
            moved = self.moved
            lm[:, moved] += self.landmark_mix * (true_lm[:, moved] - lm[:, moved])
        if self.mode in ("teacher", "teacher-gender"):
            g = batch["gender"][:k].numpy()
            p = np.where(g >= 0, g, 0.5).astype(np.float32)
        return lm, p


def main() -> None:
    from unmask.evaluation.inpainter import evaluate
    from unmask.evaluation.inpainter_report import markdown

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("weights_dir")
    ap.add_argument("--conditioning", choices=CONDITIONING, default="predicted")
    ap.add_argument("--landmark-mix", type=float, default=0.0)
    ap.add_argument("--mix-points", choices=list(MIX_POINTS), default="all")
    ap.add_argument("--judge-dir", default="eval/judge")
    ap.add_argument("--attr-dir", default=None)
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--identity-limit", type=int, default=500)
    ap.add_argument("-o", "--out", type=Path, default=None)
    a = ap.parse_args()
    cond = Conditioning(a.conditioning, a.landmark_mix, a.mix_points)
    res = evaluate(
        a.dataset,
        a.weights_dir,
        judge_dir=a.judge_dir,
        attr_dir=a.attr_dir,
        split=a.split,
        condition=cond,
        limit=a.limit,
        identity_limit=a.identity_limit or None,
    )
    text = markdown(res)
    if a.out:
        a.out.with_suffix(".json").write_text(json.dumps(res, indent=2, default=str))
        a.out.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
