"""One clip file in, the restored MP4 out, and its report entry."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from unmask.video.io import VideoError, probe, read_frames, write_video


def process_video(
    unmasker,
    src_path: str | os.PathLike,
    dst_path: str | os.PathLike,
    progress: Callable[[int], object] | None = None,
    gender: str | None = None,
    **options,
) -> dict:
    """Rebuild every masked face of a clip, streaming, and write it as MP4 (H.264, the
    source's frame rate, resolution and audio).

    Args:
        unmasker: an :class:`~unmask.Unmasker`.
        src_path: a video file (any container FFmpeg reads: mp4, mov, webm, avi, mkv, gif ...).
        dst_path: the ``.mp4`` to write (its folder must exist).
        progress: called with ``1`` after each frame (e.g. ``tqdm.update``).
        gender: force ``"female"`` or ``"male"`` for every face.
        **options: fields of :class:`unmask.video.options.Options`.
    Returns:
        A report entry: ``status`` (``"ok"`` or ``"skipped"`` with ``reason``; a skipped clip
        leaves no output), ``input``, ``output``, ``frames``, ``fps``, ``width``, ``height``,
        ``audio`` (``"copied"``, ``"aac"`` or ``"none"``), ``faces`` (face-frames),
        ``masked_frames``, ``tracks`` (one summary per track), ``cuts`` (frame indices),
        ``timings_ms`` (totals per stage: decode, detect, attributes, segment, inpaint,
        paste, render (inpaint + paste + bookkeeping), encode, total) and ``frames_per_s``.
    Raises:
        RuntimeError: PyAV is not installed (message says how to install it).
    """
    from unmask.video.io import require_av
    from unmask.video.pipeline import VideoRestorer

    require_av()
    src, dst = Path(src_path), Path(dst_path)
    entry: dict = {"input": str(src), "output": str(dst), "kind": "video"}
    t_start = time.perf_counter()
    try:
        info = probe(src)
    except VideoError as exc:
        return {**entry, "status": "skipped", "reason": str(exc)}
    restorer = VideoRestorer(unmasker, float(info.fps), gender, **options)
    clock = {"decode": 0.0, "encode": 0.0, "faces": 0, "masked": 0}

    def decoded() -> Iterator[np.ndarray]:
        frames = read_frames(src)
        while True:
            t = time.perf_counter()
            frame = next(frames, None)
            clock["decode"] += time.perf_counter() - t
            if frame is None:
                return
            yield frame

    def restored() -> Iterator[np.ndarray]:
        for out, faces in restorer.restore(decoded()):
            clock["faces"] += len(faces)
            clock["masked"] += any(f.masked for f in faces)
            if progress is not None:
                progress(1)
            t = time.perf_counter()
            yield out  # the writer encodes it before asking for the next one
            clock["encode"] += time.perf_counter() - t

    try:
        written = write_video(restored(), dst, src)
    except VideoError as exc:
        dst.unlink(missing_ok=True)
        return {**entry, "status": "skipped", "reason": str(exc)}
    total = time.perf_counter() - t_start
    timings = {k: round(v, 1) for k, v in restorer.timings_ms.items()}
    timings.update(
        decode=round(1000 * clock["decode"], 1),
        encode=round(1000 * clock["encode"], 1),
        total=round(1000 * total, 1),
    )
    return {
        **entry,
        "status": "ok",
        "frames": written["frames"],
        "fps": round(float(info.fps), 3),
        "width": info.width,
        "height": info.height,
        "audio": written["audio"],
        "faces": clock["faces"],
        "masked_frames": clock["masked"],
        "tracks": restorer.tracks,
        "cuts": restorer.cuts,
        "timings_ms": timings,
        "frames_per_s": round(written["frames"] / total, 2) if total > 0 else None,
    }


def batch_entry(unmasker, path: str, stem: str, out: Path, gender: str | None = None) -> dict:
    """One clip of an ``unmask run`` batch: ``OUT/restored/<stem>.mp4`` and its report entry.

    The clip is written under a hidden name and renamed when complete, so an interrupted batch
    never leaves a partial ``<stem>.mp4`` (a resumed one starts the clip again). The entry has
    the photo entries' keys (``faces`` stays empty: faces are counted per track) and a
    ``video`` object: frames, fps, size, audio, masked frames, tracks, cuts.
    """
    from unmask.report import expected_outputs, skipped
    from unmask.video.io import require_av

    (out / "restored").mkdir(parents=True, exist_ok=True)
    outputs = expected_outputs(stem, (), 0, "video")
    final = out / outputs["restored"]
    part = final.with_name(f".{stem}.part.mp4")
    for debris in (part, part.with_name(part.stem + ".video.mp4")):
        debris.unlink(missing_ok=True)
    try:
        require_av()
    except RuntimeError as exc:
        return skipped(path, str(exc))
    res = process_video(unmasker, path, part, gender=gender)
    if res["status"] != "ok":
        part.unlink(missing_ok=True)
        return skipped(path, res["reason"])
    os.replace(part, final)
    keys = ("frames", "fps", "width", "height", "audio", "masked_frames", "tracks", "cuts")
    return {
        "input": path,
        "status": "ok",
        "reason": None,
        "kind": "video",
        "outputs": outputs,
        "faces": [],
        "video": {k: res.get(k) for k in keys},
        "timings_ms": res.get("timings_ms", {}),
    }
