"""Video benchmark: the figures of docs/video.md, measured on generated clips.

    python research/video_bench.py [--skip-memory] [--frames 1000] [--only 1234] [--weights-dir D]

1. Steadiness: frame-to-frame change inside the rebuilt region after undoing the known
   camera motion, for the unmasked source, per-frame restoring and the tracked pipeline
   (bar: tracked <= 1.3 x source, on every clip); the region / visible-ring ratios beside.
2. Clips made to break per-frame restoring (a passing object, heavy blur, a face whose
   per-frame gender is unsure): frames where >= 3 % of the drawn mask shows, gender switches.
3. Landmark jitter (frame-to-frame NME after motion compensation): tracked and per-frame
   landmarks on the masked clip, dlib's teacher on the unmasked source clip.
4. Throughput of a 640x480 clip with one face, end to end (decode, pipeline, encode), with
   the per-stage split; 5. resident memory over a long clip.
Faces from ../shared/data/faces-utk are used when present (else the built-in example only).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from unmask import Unmasker
from unmask.video.pipeline import VideoRestorer
from unmask.video.synth import (
    ClipSpec,
    Instability,
    Still,
    example_still,
    generate,
    landmark_jitter,
    mask_still,
    to_still,
    write_clip,
)

UNSURE = "14_0_2_20170104012518441.jpg"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces-utk"


def utk_stills(u: Unmasker, n: int = 60) -> tuple[list[Still], Still | None]:
    """Four UTK faces (the first two make the steadiness clips) and the one whose P(female)
    is nearest 0.5."""
    from unmask.faces.align import align
    from unmask.faces.landmarks import five_from_68
    from unmask.faces.teacher import teacher_landmarks

    if not SHARED.exists():
        return [], None
    found = []
    for path in sorted(SHARED.glob("*.jpg"))[::97][:n]:
        img = cv2.imread(str(path))[..., ::-1]
        img = cv2.copyMakeBorder(img, 60, 60, 100, 100, cv2.BORDER_REPLICATE)
        t = teacher_landmarks(img)
        if t is None:
            continue
        al = align(img, five_from_68(t[0]), u.crop_size)
        p = float(u.attributes(al.crop[None])[1][0])
        found.append((abs(p - 0.5), path.name, img, t[0]))
    if len(found) < 3:
        return [], None
    # the face whose per-frame gender flips on its clip (found by this script's earlier runs),
    # else the one whose P(female) is nearest 0.5
    flips = [f for f in found if f[1] == UNSURE]
    unsure = flips[0] if flips else min(found, key=lambda f: f[0])
    steady = [f for f in found if f is not unsure][:4]
    stills = [mask_still(img, lm, seed=k) for k, (_, _, img, lm) in enumerate(steady)]
    names = [f[1] for f in steady]
    print(f"UTK faces: {names}; unsure gender: {unsure[1]} (|p-0.5| = {unsure[0]:.3f})")
    return stills, mask_still(unsure[2], unsure[3], seed=7)


def per_frame(u: Unmasker, frames):
    for f in frames:
        r = u(f)
        yield r.restored, r.faces


def steadiness(u: Unmasker, clips: dict) -> None:
    print("\n## 1. Steadiness (grey levels of change per frame inside the rebuilt region)")
    print(
        "clip | source | per-frame | tracked | per-frame/source | tracked/source | "
        "region/ring: source, per-frame, tracked"
    )
    for name, (spec, stills) in clips.items():
        frames = list(generate(spec, stills))
        figs = {}
        for mode in ("source", "per-frame", "tracked"):
            meters = [Instability(s.mask, k) for k, s in enumerate(stills)]
            if mode == "source":
                outs = ((f.source, []) for f in frames)
            elif mode == "per-frame":
                outs = per_frame(u, (f.masked for f in frames))
            else:
                outs = VideoRestorer(u, spec.fps).restore(f.masked for f in frames)
            for f, (img, _) in zip(frames, outs, strict=True):
                for m in meters:
                    m.add(img, f.matrix, f.shot)
            figs[mode] = [m.figures() for m in meters]
        for shot in range(len(stills)):
            s, p, t = (figs[m][shot] for m in ("source", "per-frame", "tracked"))
            print(
                f"{name} shot {shot} | {s['region']:.2f} | {p['region']:.2f} | "
                f"{t['region']:.2f} | {p['region'] / s['region']:.2f} | "
                f"{t['region'] / s['region']:.2f} | {s['ratio']:.2f}, {p['ratio']:.2f}, "
                f"{t['ratio']:.2f}"
            )


def shown_share(mask: np.ndarray, frame, restored_mask: np.ndarray) -> float:
    truth = (
        to_still(mask * 255, cv2.invertAffineTransform(frame.matrix), frame.masked.shape[:2]) > 128
    )
    keep = cv2.erode((frame.occluder == 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return float((truth & keep & (restored_mask == 0)).sum() / max(truth.sum(), 1))


def hole_union(faces, shape: tuple[int, int]) -> np.ndarray:
    """The union of the faces' rebuilt holes on a frame of ``shape``, ``H x W`` uint8."""
    union = np.zeros(shape, np.uint8)
    for face in faces:
        union |= face.mask
    return union


def breaking(u: Unmasker, clips: dict) -> None:
    print("\n## 2. Clips made to break per-frame restoring")
    print(
        "clip | frames | detector misses (per-frame) | mask shows: per-frame, tracked | "
        "gender switches: per-frame, tracked | tracks"
    )
    for name, (spec, still) in clips.items():
        frames = list(generate(spec, [still]))
        pf_shown, pf_g, misses = 0, [], 0
        for f, (_, faces) in zip(frames, per_frame(u, (f.masked for f in frames)), strict=True):
            misses += not faces
            pf_shown += shown_share(still.mask, f, hole_union(faces, f.masked.shape[:2])) >= 0.03
            pf_g.append(faces[0].gender if faces else None)
        vr = VideoRestorer(u, spec.fps)
        tr_shown, tr_g = 0, []
        for f, (_, faces) in zip(frames, vr.restore(f.masked for f in frames), strict=True):
            tr_shown += shown_share(still.mask, f, hole_union(faces, f.masked.shape[:2])) >= 0.03
            tr_g.append((faces[0].track, faces[0].gender) if faces else None)
        pf_sw = sum(a != b for a, b in zip(pf_g, pf_g[1:], strict=False) if a and b)
        tr_sw = sum(
            a[1] != b[1] for a, b in zip(tr_g, tr_g[1:], strict=False) if a and b and a[0] == b[0]
        )
        print(
            f"{name} | {spec.frames} | {misses} | {pf_shown}, {tr_shown} | {pf_sw}, {tr_sw} | "
            f"{len(vr.tracks)}"
        )


def jitter(u: Unmasker, spec: ClipSpec, still: Still) -> None:
    from unmask.faces.teacher import teacher_landmarks

    print("\n## 3. Landmark jitter (frame-to-frame NME after motion compensation)")
    frames = list(generate(spec, [still]))
    tracked = [
        (faces[0].landmarks, f.matrix)
        for f, (_, faces) in zip(
            frames, VideoRestorer(u, spec.fps).restore(f.masked for f in frames), strict=True
        )
        if faces
    ]
    pf = [
        (faces[0].landmarks, f.matrix)
        for f, (_, faces) in zip(frames, per_frame(u, (f.masked for f in frames)), strict=True)
        if faces
    ]
    dl = []
    for f in frames:
        t = teacher_landmarks(f.source)
        if t is not None:
            dl.append((t[0], f.matrix))
    print(f"tracked (masked clip): {landmark_jitter(tracked):.4f} over {len(tracked)} frames")
    print(f"per-frame (masked clip): {landmark_jitter(pf):.4f} over {len(pf)} frames")
    print(f"dlib teacher (unmasked source clip): {landmark_jitter(dl):.4f} over {len(dl)} frames")


def throughput(u: Unmasker, still: Still, frames: int, memory: bool) -> None:
    from unmask.video import process_video

    print("\n## 4. Throughput, 640x480, one face, end to end")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "clip.mp4"
        spec = ClipSpec(size=(640, 480), frames=150, fill=0.9, blur=())
        write_clip(src, (f.masked for f in generate(spec, [still])))
        process_video(u, src, Path(tmp) / "warm.mp4")  # stages loaded, caches warm
        cpu = os.times()
        rep = process_video(u, src, Path(tmp) / "out.mp4")
        cpu = sum(os.times()[:2]) - sum(cpu[:2])
        n = rep["frames"]
        split = ", ".join(f"{k} {v / n:.1f}" for k, v in rep["timings_ms"].items())
        print(f"{n} frames: {rep['frames_per_s']:.2f} frames/s; ms per frame: {split}")
        print(f"CPU time {1000 * cpu / n:.0f} ms per frame; load average {os.getloadavg()}")
        if not memory:
            return
        print(f"\n## 5. Memory over a {frames}-frame 640x480 clip")
        long = Path(tmp) / "long.mp4"
        write_clip(long, (f.masked for f in generate(replace(spec, frames=frames), [still])))
        samples = []

        def progress(_):
            samples.append(rss_mb())

        t = time.perf_counter()
        rep = process_video(u, long, Path(tmp) / "long_out.mp4", progress=progress)
        marks = [samples[i] for i in (99, frames // 2 - 1, frames - 1)]
        print(
            f"{rep['frames']} frames in {time.perf_counter() - t:.0f} s "
            f"({rep['frames_per_s']:.2f} frames/s); RSS after frame 100, {frames // 2}, "
            f"{frames}: {marks[0]:.0f}, {marks[1]:.0f}, {marks[2]:.0f} MB"
        )


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--only", default="1234")
    ap.add_argument("--weights-dir", help="a weights folder other than the shipped one")
    args = ap.parse_args()
    u = Unmasker(weights_dir=args.weights_dir)
    ex = example_still()
    other = example_still(5)
    dark = replace(other, original=other.original // 2, masked=other.masked // 2)
    utk, unsure = utk_stills(u)
    spec = ClipSpec(frames=96, cut=64, blur=(20, 21, 45, 80))
    clips = {"example": (spec, [ex, dark])}
    for k, st in enumerate(utk[:2]):
        clips[f"utk{k}"] = (replace(spec, cut=0, frames=64, fill=1.0, seed=k), [st])
    if "1" in args.only:
        steadiness(u, clips)
    if "2" in args.only:
        broken = {
            "passing object": (ClipSpec(frames=64, occlude=(20, 34)), ex),
            "heavy blur": (ClipSpec(frames=64, blur=tuple(range(20, 28)), blur_px=31), ex),
        }
        for k, st in enumerate(utk):  # utk2 and utk3 held out: not run while tuning
            broken[f"passing object, utk{k}"] = (
                ClipSpec(frames=64, occlude=(28 + 4 * k, 42 + 4 * k), fill=1.0, seed=k + 1),
                st,
            )
        if unsure is not None:
            broken["unsure gender"] = (ClipSpec(frames=64, fill=1.0), unsure)
        breaking(u, broken)
    if "3" in args.only:
        jitter(u, ClipSpec(frames=64, blur=()), ex)
    if "4" in args.only:
        throughput(u, ex, args.frames, not args.skip_memory)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
