"""Fast camera motion: landmark error and split tracks on short generated clips.

    python research/video_fast.py [--weights-dir DIR] [--seeds 0-7] [--files] [--set k=v ...]

Each clip films one built-in still (``example_still(0)`` and ``example_still(5)``) for 16
frames with the default camera of :class:`~unmask.video.synth.ClipSpec` (the whole pan, zoom
and rotation cycle in 16 frames: a face about 20 px between the eyes moves up to half its eye
distance per frame). Prints, over all clips: clips split into more than one track, the tracked
landmarks' error against the warped truth (mean point distance in eye distances: mean, p95,
max), second looks per frame and attr milliseconds per frame. ``--files`` writes each clip to a
``.mov`` and runs :func:`unmask.video.process_video` on it (as ``tests/video`` do), which
counts tracks only. ``--set`` passes :class:`~unmask.video.options.Options` fields.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from unmask import Unmasker
from unmask.video import process_video
from unmask.video.pipeline import VideoRestorer
from unmask.video.synth import ClipSpec, example_still, generate, write_clip


def seeds(text: str) -> range:
    a, _, b = text.partition("-")
    return range(int(a), int(b or a) + 1)


def error(landmarks: np.ndarray, truth: np.ndarray) -> float:
    eye = np.linalg.norm(truth[36:42].mean(0) - truth[42:48].mean(0))
    return float(np.linalg.norm(landmarks - truth, axis=1).mean() / eye)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights-dir")
    ap.add_argument("--seeds", default="0-7", help="camera seeds, e.g. 0-7")
    ap.add_argument("--files", action="store_true")
    ap.add_argument("--set", nargs="*", default=[], help="Options fields, k=v (JSON values)")
    a = ap.parse_args()
    opts = {k: json.loads(v) for k, v in (s.split("=", 1) for s in a.set)}
    u = Unmasker(weights_dir=a.weights_dir)
    errs, split, relooks, attr_ms, frames = [], 0, 0, 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds(a.seeds):
            for k in (0, 5):
                st = example_still(k)
                clip = list(generate(ClipSpec(frames=16, seed=seed), [st]))
                if a.files:
                    src = Path(tmp) / f"{seed}_{k}.mov"
                    write_clip(src, (f.masked for f in clip), fps=24)
                    rep = process_video(u, src, Path(tmp) / "out.mp4", **opts)
                    split += len(rep["tracks"]) > 1
                    continue
                r = VideoRestorer(u, fps=24, **opts)
                for f, (_, faces) in zip(clip, r.restore(f.masked for f in clip), strict=True):
                    truth = st.landmarks @ f.matrix[:, :2].T + f.matrix[:, 2]
                    errs.append(min((error(x.landmarks, truth) for x in faces), default=np.nan))
                split += len(r.tracks) > 1
                relooks, attr_ms = relooks + r.relooks, attr_ms + r.timings_ms["attributes"]
                frames += r.frames
    out = {"clips": 2 * len(seeds(a.seeds)), "split": split}
    if not a.files:
        e = np.asarray(errs)
        out |= {
            "frames_without_face": int(np.isnan(e).sum()),
            "error_mean": round(float(np.nanmean(e)), 3),
            "error_p95": round(float(np.nanpercentile(e, 95)), 3),
            "error_max": round(float(np.nanmax(e)), 3),
            "second_looks_per_frame": round(relooks / frames, 3),
            "attr_ms_per_frame": round(attr_ms / frames, 1),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
