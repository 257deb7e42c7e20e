"""Time of the attr stage per face, alone and with the second look (ONNX Runtime, 2 threads).

    python research/attr_look_speed.py [--reps 60] [--compare DIR]

On the built-in example: the stage (alignment and both ensemble members, with the mirrored
crop), the stage plus a second look that runs the landmark part alone
(``attr.landmarks.onnx``), and plus a second look with the whole ensemble; interleaved, so that
all three see the same machine load. With ``--compare DIR`` the stage plus its second look
with another weights folder's attr files (e.g. float against int8) runs in the same rotation.
Prints medians and the fastest runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from unmask import Unmasker, example_photo
from unmask.faces.align import align


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--compare", default=None, help="another weights folder")
    args = ap.parse_args()
    u = Unmasker()
    img = example_photo()
    face = u(img).faces[0]
    attr = u.attributes
    part = attr.landmark_net

    def stage(a=attr, before_look=False):
        al = align(img, face.keypoints, u.crop_size)
        return al, a(al.crop, before_look=before_look)[0][0]

    def look(net, a=attr):
        a.landmark_net = net
        al, lm = stage(a, before_look=True)
        a.look_again(img, al, lm)

    runs = {
        "stage": stage,
        "stage + second look (landmark part)": lambda: look(part),
        "stage + second look (whole ensemble)": lambda: look(attr.net),
    }
    if args.compare:
        other = Unmasker(weights_dir=args.compare).attributes
        other_part = other.landmark_net
        runs[f"{args.compare}: stage + second look (landmark part)"] = lambda: look(
            other_part, other
        )
    times = {k: [] for k in runs}
    for fn in runs.values():
        fn()
    for _ in range(args.reps):
        for k, fn in runs.items():
            t = time.perf_counter()
            fn()
            times[k].append(1000 * (time.perf_counter() - t))
    for k, v in times.items():
        print(f"{k}: median {np.median(v):.1f} ms, fastest {min(v):.1f} ms")


if __name__ == "__main__":
    main()
