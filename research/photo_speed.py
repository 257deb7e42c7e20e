"""Time per face end to end at photo resolution (the speed rows of docs/evaluation.md).

    python research/photo_speed.py [--reps 15] [--compare DIR]

The built-in example is scaled so that its face is 256 or 512 px across and cropped to 2.5 face
widths; the shipped pipeline, the same with one look at the landmarks and the plain one
(``unmask.cli.eval_photos.PLAIN``) run interleaved on the same photo, so that all see the same
machine load; with ``--compare`` also the shipped pipeline on another weights folder (stages
it lacks come from the shipped folder). Prints the median and the fastest run of each, and
the per-stage split of the shipped pipeline (and of the compared one).
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from unmask import Unmasker, example_photo
from unmask.cli.eval_photos import PLAIN


def scaled(img: np.ndarray, box: np.ndarray, across: int) -> np.ndarray:
    s = across / (box[2] - box[0])
    big = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    cx, cy = (box[:2] + box[2:]) / 2 * s
    half = int(1.25 * across)
    y0, x0 = max(int(cy - half), 0), max(int(cx - half), 0)
    return np.ascontiguousarray(big[y0 : y0 + 2 * half, x0 : x0 + 2 * half])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--compare", default=None, help="another weights folder")
    args = ap.parse_args()
    shipped = Unmasker()
    plain = Unmasker(**PLAIN)
    one_look = Unmasker(second_look=False)
    img = example_photo()
    box = shipped(img).faces[0].box
    for across in (256, 512):
        photo = scaled(img, box, across)
        runs = {"shipped": shipped, "one look": one_look, "plain": plain}
        if args.compare:
            runs[args.compare] = Unmasker(weights_dir=args.compare)
        times = {k: [] for k in runs}
        stages = {}
        for u in runs.values():
            u(photo)
        for _ in range(args.reps):
            for name, u in runs.items():
                t = time.perf_counter()
                r = u(photo)
                times[name].append(1000 * (time.perf_counter() - t))
                if name in ("shipped", args.compare):
                    stages[name] = {**r.timings_ms, **r.faces[0].timings_ms}
        figs = ", ".join(
            f"{k} median {np.median(v):.0f} ms (fastest {min(v):.0f})" for k, v in times.items()
        )
        print(f"face {across} px ({photo.shape[1]}x{photo.shape[0]} photo): {figs}")
        for name, split in stages.items():
            cols = ", ".join(f"{k} {v:.0f}" for k, v in split.items() if k != "total")
            print(f"  {name}, last run, ms: {cols}")


if __name__ == "__main__":
    main()
