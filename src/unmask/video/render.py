"""Stage B of the video pipeline: a face's hole rebuilt in the aligned crop (the inpainting
reused for ``inpaint_every`` frames and blended with the track's previous rebuilt crop), pasted
back into the frame and reported as a :class:`TrackedFace`; and :class:`_Face`, what stage A
hands over per face and frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from unmask.faces.align import Alignment, repad
from unmask.faces.landmarks import five_from_68
from unmask.faces.paste import paste_back, photo_mask
from unmask.stages.segment import dilate
from unmask.video.options import Options, TrackedFace
from unmask.video.track import Track


@dataclass
class _Face:  # stage A's result for one face on one frame
    track: Track
    al: Alignment
    landmarks: np.ndarray
    mask: np.ndarray
    masked: bool
    detected: bool  # clean: found and not covered, so mask and gender are updated
    score: float
    found: bool = True  # not missed by the detector
    box: np.ndarray | None = None


class Renderer:
    """Stage B of :class:`~unmask.video.pipeline.VideoRestorer` for the faces of one frame:
    each track's gender locked, the masked faces rebuilt and pasted back.

    Args:
        unmasker: an :class:`~unmask.Unmasker` (its ``inpainter`` is used).
        opt: the pipeline's :class:`Options`.
        gender: ``"female"`` or ``"male"`` forced for every face, or ``None`` (per track).
        timings_ms: the pipeline's totals, to which ``inpaint`` and ``paste`` are added.
    """

    def __init__(self, unmasker, opt: Options, gender: str | None, timings_ms: dict) -> None:
        self.u, self.opt, self.gender, self.timings_ms = unmasker, opt, gender, timings_ms

    def __call__(self, frame: np.ndarray, t: int, faces: list[_Face]):
        """Rebuild and paste back the masked ones of ``faces``, frame ``t``'s stage-A results.

        Returns:
            ``(out, results)``: the frame with those faces pasted back (``frame`` itself when
            none is) and a :class:`TrackedFace` per confirmed face.
        """
        out, results = frame, []
        for f in faces:
            tr = f.track
            if tr.hits < self.opt.min_hits:
                continue  # never confirmed: a false detection
            if tr.p_female is None:
                tr.p_female = tr.pooled_p()  # locked: one gender per track
            masked = f.masked or tr.masked
            hole = self.u.inpainter.hole(f.mask) if masked else np.zeros_like(f.mask)
            restored = f.al.crop
            if masked:
                restored = self._rebuild(frame, t, f, hole)
                t1 = time.perf_counter()
                out = paste_back(out, restored, f.al, hole)
                self.timings_ms["paste"] += 1000 * (time.perf_counter() - t1)
                tr.stats["masked"] += 1
            results.append(self._result(frame, f, masked, hole, restored))
        return out, results

    def _rebuild(self, frame, t, f: _Face, hole: np.ndarray) -> np.ndarray:
        tr, opt = f.track, self.opt
        prev = tr.previous  # dict: raw inpainting and its hole, blended output and its hole
        fresh = (
            prev is None
            or t - prev["t"] >= opt.inpaint_every
            or bool((hole > prev["raw_hole"]).any())  # no rebuilt pixels there yet
        )
        if fresh:
            t1 = time.perf_counter()
            g = self.gender or tr.p_female
            # a reused inpainting must cover the next frames' holes too: rebuild a margin more
            big = hole if opt.inpaint_every == 1 else dilate(hole, round(0.02 * hole.shape[0]))
            lm = f.al.to_crop(f.landmarks)
            raw = self.u.inpainter(repad(frame, f.al, big), big, lm, g)
            self.timings_ms["inpaint"] += 1000 * (time.perf_counter() - t1)
            prev_t, raw_hole = t, big
        else:
            raw, raw_hole, prev_t = prev["raw"], prev["raw_hole"], prev["t"]
        out = raw.astype(np.float32)
        if prev is not None and opt.blend < 1:
            w = np.where(prev["hole"] > 0, opt.blend, 1.0).astype(np.float32)[..., None]
            out = w * out + (1 - w) * prev["out"]
        out = np.where(hole[..., None] > 0, out, f.al.crop.astype(np.float32))
        tr.previous = {"raw": raw, "raw_hole": raw_hole, "out": out, "hole": hole, "t": prev_t}
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)

    def _result(self, frame, f: _Face, masked: bool, hole, restored) -> TrackedFace:
        tr = f.track
        p = tr.p_female
        g = self.gender or ("female" if p >= 0.5 else "male")
        return TrackedFace(
            box=f.box,
            score=f.score,
            keypoints=five_from_68(f.landmarks),
            landmarks=f.landmarks,
            gender=g,
            gender_score=1.0 if self.gender else (p if g == "female" else 1 - p),
            gender_forced=self.gender is not None,
            masked=masked,
            mask_coverage=tr.coverage if masked else 0.0,
            mask=photo_mask(f.al, hole, frame.shape[:2]),
            alignment=f.al,
            restored=restored,
            crop_mask=hole,
            track=tr.id,
            detected=f.found,
        )
