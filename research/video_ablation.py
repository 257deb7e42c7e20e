"""Steadiness and speed of the tracked pipeline's options on one generated clip (the figures
behind the defaults in docs/video.md).

    python research/video_ablation.py
"""

from __future__ import annotations

import time

from unmask import Unmasker
from unmask.video.pipeline import VideoRestorer
from unmask.video.synth import ClipSpec, Instability, example_still, generate

CONFIGS = [
    {"inpaint_every": 1, "blend": 1.0},
    {"inpaint_every": 1, "blend": 0.5},
    {"inpaint_every": 1, "blend": 0.3},
    {"inpaint_every": 2, "blend": 0.5},
    {"inpaint_every": 3, "blend": 0.5},
    {"inpaint_every": 2, "blend": 0.5, "detect_every": 6},
]


def main() -> None:
    u = Unmasker()
    st = example_still()
    spec = ClipSpec(frames=64)
    frames = list(generate(spec, [st]))
    src = Instability(st.mask)
    for f in frames:
        src.add(f.source, f.matrix, f.shot)
    s = src.figures()["region"]
    print(f"source: {s:.2f}")
    for cfg in CONFIGS:
        meter = Instability(st.mask)
        vr = VideoRestorer(u, spec.fps, **cfg)
        t = time.perf_counter()
        for f, (out, _) in zip(frames, vr.restore(f.masked for f in frames), strict=True):
            meter.add(out, f.matrix, f.shot)
        dt = (time.perf_counter() - t) / len(frames) * 1000
        r = meter.figures()["region"]
        stages = ", ".join(f"{k} {v / len(frames):.0f}" for k, v in vr.timings_ms.items())
        print(f"{cfg}: region {r:.2f} = {r / s:.2f} x source; {dt:.0f} ms/frame ({stages})")


if __name__ == "__main__":
    main()
