"""The shipped detector with and without its mirrored pass, its rules re-chosen as promoted.

    python research/detector_flip.py DATASET [--weights-dir DIR]

Builds the promotion's validation sets (600 scenes, 1,000 synthetic face-free pictures plus the
scikit-image validation photos; `scene={"text": 0.25}`, as in the model card's promotion
command) and, for ``flip_tta`` on and off, re-chooses the score threshold and small-face rule
with the shipped verifier and zoom rules (bars recall >= 0.95, false faces <= 0.04), as
`unmask train promote` does. Prints both choices with their validation figures and the time
per picture.
"""

from __future__ import annotations

import argparse
import json

from unmask.detection.net import NetDetector
from unmask.runtime import weights
from unmask.training.detector import DetectorTrainConfig
from unmask.training.detector_steps import _eval_sets
from unmask.validation.detector import choose_threshold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("--weights-dir", default=None)
    args = ap.parse_args()
    wdir = args.weights_dir or weights.shipped_dir()
    info = weights.find_here("detector", wdir)
    meta = info.meta
    model = weights.load_module(info).float().eval()
    vinfo = weights.find_here("verifier", wdir)
    verifier = weights.load_module(vinfo).float().eval()
    cfg = DetectorTrainConfig(
        dataset=args.dataset,
        eval_images=600,
        neg_images=1000,
        scene={"text": 0.25},
        max_fp=0.04,
        min_recall=0.95,
        small_sides=[16, 20, 24, 28, 32],
        small_penalties=[0.05, 0.1, 0.15, 0.2],
    )
    scenes, negs = _eval_sets(cfg)
    small = [(0.0, 0.0)] + [(s, p) for s in cfg.small_sides for p in cfg.small_penalties]
    rules = {k: meta[k] for k in ("zoom_side", "zoom_context", "zoom_input", "verify_side")}
    out = {}
    for flip in (True, False):
        det = NetDetector(
            model,
            cfg.size,
            0.05,
            flip=flip,
            verifier=verifier,
            verify_context=vinfo.meta["context"],
            **rules,
        )
        thr, val = choose_threshold(
            det.predict, scenes, negs, cfg.max_fp, cfg.min_recall, cfg.size, small
        )
        out[f"flip_{flip}"] = {"threshold": thr, **val}
        print(json.dumps({f"flip_{flip}": out[f"flip_{flip}"]}, indent=1), flush=True)


if __name__ == "__main__":
    main()
