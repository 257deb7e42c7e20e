"""Time per face end to end at photo resolution (the speed rows of docs/evaluation.md).

    python research/photo_speed.py [--reps 15]

The built-in example is scaled so that its face is 256 or 512 px across and cropped to 2.5 face
widths; the shipped pipeline, the same with one look at the landmarks and the plain one
(``unmask.cli.eval_photos.PLAIN``) run interleaved on the same photo, so that all see the same
machine load. Prints the median and the fastest run of each, and the shipped pipeline's
per-stage split.
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
    args = ap.parse_args()
    shipped = Unmasker()
    plain = Unmasker(**PLAIN)
    one_look = Unmasker(second_look=False)
    img = example_photo()
    box = shipped(img).faces[0].box
    for across in (256, 512):
        photo = scaled(img, box, across)
        runs = {"shipped": shipped, "one look": one_look, "plain": plain}
        times = {k: [] for k in runs}
        for u in runs.values():
            u(photo)
        for _ in range(args.reps):
            for name, u in runs.items():
                t = time.perf_counter()
                r = u(photo)
                times[name].append(1000 * (time.perf_counter() - t))
                if name == "shipped":
                    stages = {**r.timings_ms, **r.faces[0].timings_ms}
        figs = ", ".join(
            f"{k} median {np.median(v):.0f} ms (fastest {min(v):.0f})" for k, v in times.items()
        )
        split = ", ".join(f"{k} {v:.0f}" for k, v in stages.items() if k != "total")
        print(f"face {across} px ({photo.shape[1]}x{photo.shape[0]} photo): {figs}")
        print(f"  shipped, last run, ms: {split}")


if __name__ == "__main__":
    main()
