"""Rebuild masked faces in a stream of frames, steadily: faces are tracked, their landmarks,
boxes and masks smoothed, gender decided once per track, and the rebuilt face blended over
frames in the aligned crop space.

Two stages per frame. Stage A (at once): cut detection, detection every ``detect_every``
frames (every frame while a track is missed), IoU association, the attr network on a crop
aligned with the detection's keypoints (or the track's prediction), One-Euro smoothing of the
68 landmarks, the final crop aligned with the smoothed landmarks, the segmenter and the
track's running mask. Stage B (``lookahead`` frames later, so that a new track's gender is
pooled over the frames ahead): the gender is locked, the hole inpainted and blended with the
track's previous rebuilt crop, and pasted back.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator

import numpy as np

from unmask.faces.align import align, template, transform_points, umeyama
from unmask.faces.landmarks import five_from_68
from unmask.stages.segment import dilate
from unmask.video.motion import face_motion
from unmask.video.options import Options, TrackedFace
from unmask.video.render import Renderer, _Face
from unmask.video.track import CutDetector, OneEuro, Track, associate, eye_distance


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


class VideoRestorer:
    """Rebuild masked faces over a clip; see the module docstring.

    Args:
        unmasker: an :class:`~unmask.Unmasker` (its stages, ``crop_size``, ``min_coverage`` and
            ``max_faces`` are used).
        fps: the clip's frame rate (the filters' time step).
        gender: force ``"female"`` or ``"male"`` for every face (default: pooled per track).
        **options: fields of :class:`Options`.
    Attributes (after :meth:`restore` is exhausted):
        tracks: one summary dict per track (see :meth:`Track.summary`); cuts: frame indices
        that started a new shot; timings_ms: total milliseconds per stage; frames: count;
        relooks: faces measured a second time (see ``Options.relook``).
    """

    def __init__(self, unmasker, fps: float = 25.0, gender: str | None = None, **options):
        self.u = unmasker
        self.fps = float(fps) if fps else 25.0
        if gender not in (None, "female", "male"):
            raise ValueError(f"gender must be 'female' or 'male', got {gender!r}")
        self.gender = gender
        self.opt = Options(**options)
        self.tracks: list[dict] = []
        self.cuts: list[int] = []
        self.timings_ms: dict[str, float] = defaultdict(float)
        self.frames = 0
        self.relooks = 0
        self._live: list[Track] = []
        self._ended: list[Track] = []
        self._queue: deque = deque()
        self._renderer = Renderer(unmasker, self.opt, gender, self.timings_ms)
        self._cut = CutDetector(self.opt.cut_threshold)
        self._ids = 0
        self._last_detect = -(10**9)
        self._greys: tuple = (None, None)  # the previous and the current frame, grey

    def restore(self, frames: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, list]]:
        """Rebuild every frame of ``frames`` (``H x W x 3`` uint8 RGB, consumed lazily).

        Yields:
            ``(restored, faces)`` per input frame, in order: the ``H x W x 3`` uint8 RGB frame
            with its masked faces rebuilt, and a list of :class:`TrackedFace`.
        """
        for frame in frames:
            self._queue.append(self._observe(np.asarray(frame)))
            while len(self._queue) > self.opt.lookahead:
                yield self._render(*self._queue.popleft())
        while self._queue:
            yield self._render(*self._queue.popleft())
        self._ended += self._live
        self._live = []
        self._retire(self.frames)

    def _tick(self, stage: str, t0: float) -> float:
        now = time.perf_counter()
        self.timings_ms[stage] += 1000 * (now - t0)
        return now

    # -- stage A ---------------------------------------------------------------------------
    def _observe(self, frame: np.ndarray):
        import cv2

        t, opt = self.frames, self.opt
        self.frames += 1
        t0 = time.perf_counter()
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        self._greys = (self._greys[1], grey)
        if self._cut(frame):
            self.cuts.append(t)
            self._ended += self._live
            self._live = []
        due = t - self._last_detect >= opt.detect_every
        unsure = any(tr.misses or tr.hits < opt.min_hits for tr in self._live)
        detect = due or not self._live or unsure
        todo = self._plan(frame, t, detect)
        t0 = self._tick("detect", t0)
        coarse, lms, ps = self._measure(frame, todo)
        # a face not where it was expected, or looking partly covered: ask the detector now
        # (without a detection run every face has its track)
        measured = zip(coarse, lms, strict=True)
        if (
            opt.recheck
            and not detect
            and any(self._doubtful(tr, al.to_photo(lm)) for ((tr, *_), al), lm in measured)
        ):
            t0 = self._tick("attributes", t0)
            todo = self._plan(frame, t, True)
            t0 = self._tick("detect", t0)
            coarse, lms, ps = self._measure(frame, todo)
        if not coarse:
            return frame, t, []
        faces = []
        for ((tr, _, detected, det), al0), lm_crop, p in zip(coarse, lms, ps, strict=True):
            faces.append(self._smooth(frame, t, tr, detected, det, al0.to_photo(lm_crop), p))
        t0 = self._tick("attributes", t0)
        masks = self.u.segmenter(np.stack([f.al.crop for f in faces])).astype(np.uint8)
        for f, m in zip(faces, masks, strict=True):
            self._update_mask(f, m)
        self._tick("segment", t0)
        return frame, t, faces

    def _plan(self, frame: np.ndarray, t: int, detect: bool) -> list:
        """This frame's faces to measure: ``(track | None, five keypoints to align on,
        detected: True/False/None (no detection run), detection | None)`` per face. With
        ``detect``, the detector runs and its faces are matched to the live tracks (which
        ends tracks missed too often)."""
        opt = self.opt
        if not detect:
            return [(tr, five_from_68(tr.expected()), None, None) for tr in self._live]
        self._last_detect = t
        dets = self.u.detector.detect(frame)[: self.u.max_faces]
        pairs, free_t, free_d = associate(
            # unsmoothed: no lag; or where the smoothed face was last placed, when fast
            # motion has carried the extrapolation off
            [[tr.box_of(tr.expected()), tr.box] for tr in self._live],
            [d.box for d in dets],
            opt.min_iou,
        )
        todo = []
        for i, j in pairs:  # a running track's crop is placed by its own landmarks (the
            tr = self._live[i]  # attr landmarks lean towards the crop's placement) unless
            tr.misses = 0  # the detection says they drifted away
            five = dets[j].keypoints
            tr.relock = tr.raw is not None and tr.drifted(dets[j].box, opt.relock_iou)
            if tr.raw is not None and not tr.relock:
                five = five_from_68(tr.expected())
            todo.append((tr, five, True, dets[j]))
        for i in free_t:
            tr = self._live[i]
            tr.misses += 1 if tr.hits >= opt.min_hits else opt.max_misses + 1
            todo.append((tr, five_from_68(tr.expected()), False, None))
        todo += [
            (None, dets[j].keypoints, True, dets[j])
            for j in free_d
            if dets[j].score >= opt.min_score
        ]
        for tr in [tr for tr in self._live if tr.misses > opt.max_misses]:
            self._live.remove(tr)
            self._ended.append(tr)
        return [x for x in todo if x[0] is None or x[0] in self._live]

    def _measure(self, frame: np.ndarray, todo: list) -> tuple[list, np.ndarray, np.ndarray]:
        """Align a crop per planned face and run the attr stage on them all: ``(coarse,
        landmarks, p_female)``, ``coarse`` the ``(plan item, alignment)`` pairs that could be
        aligned, landmarks ``N x 68 x 2`` in their crops' pixels."""
        coarse = []
        for item in todo:
            try:
                coarse.append((item, align(frame, item[1], self.u.crop_size)))
            except ValueError:  # degenerate keypoints: not a usable face
                continue
        if not coarse:
            return [], np.zeros((0, 68, 2), np.float32), np.zeros(0, np.float32)
        lms, ps = self.u.attributes(np.stack([al.crop for _, al in coarse]))
        again = []  # a shape that looks partly covered may be a crop placed off the face:
        for i, ((tr, *_), al) in enumerate(coarse):  # look again, aligned on the answer
            if not self.opt.relook or tr is None:
                continue
            lm = al.to_photo(lms[i])
            if tr.covered(lm)[1] < self.opt.min_inliers:
                try:
                    again.append((i, align(frame, five_from_68(lm), self.u.crop_size)))
                except ValueError:
                    continue
        self.relooks += len(again)
        if again:
            lm2, _ = self.u.attributes(np.stack([al.crop for _, al in again]))
            for (i, al), lm in zip(again, lm2, strict=True):
                item, al0 = coarse[i]
                coarse[i] = (item, al)  # the gender stays the first look's
                lms[i] = lm
        return coarse, lms, ps

    def _flow(self, tr: Track) -> np.ndarray | None:
        """The track's last landmarks moved by the face's optical flow onto this frame
        (``None`` when the flow fails), the measurement on frames where the face is partly
        covered."""
        prev, grey = self._greys
        if prev is None or tr.raw is None:
            return None
        m = face_motion(prev, grey, tr.box_of(tr.raw))
        return None if m is None else transform_points(tr.raw, m)

    def _smooth(self, frame, t, tr, detected, det, lm, p) -> _Face:
        opt, size = self.opt, self.u.crop_size
        if tr is None:  # a new face
            tr = Track(self._ids, t, OneEuro(self.fps, opt.min_cutoff, opt.beta), det.box)
            self._ids += 1
            self._live.append(tr)
            new = True
        else:
            new = False
        share = 1.0
        if tr.shape is not None:  # robust to an object over part of the face
            fit, share = tr.covered(lm)
            if share < opt.min_inliers:  # the visible rest of the face says where it went
                flow = self._flow(tr)
                lm = fit if flow is None else flow
        if detected is None:  # no detection run: trust the measurement only near the prediction
            detected = None if tr.near(lm, opt.gate) else False
        clean = detected is not False and share >= opt.min_inliers
        # a measurement far from where the face is expected (a blurred frame, a wrong crop) is
        # only believed when it persists: after 2 frames without, the track re-locks
        trusted = new or tr.relock or tr.coasting >= 2 or tr.near(lm, opt.gate)
        if share >= 0.5 and (trusted or tr.confirmed(lm, det, opt.relock_iou)):
            if tr.coasting >= 2 or tr.relock:  # found again: re-lock, no overshoot
                smooth, tr.raw = tr.landmarks.reset(lm), None
            else:
                smooth = tr.landmarks(lm, scale=eye_distance(lm))
            tr.measured(lm)
            tr.coasting, tr.relock = 0, False
        else:
            smooth = tr.landmarks.coast()
            tr.measured(None)
            tr.coasting, tr.relock = tr.coasting + 1, False
        if clean:
            tr.logits.append(_logit(p))
            ref = transform_points(lm, umeyama(five_from_68(lm), template(size)))
            tr.shape = ref if tr.shape is None else 0.8 * tr.shape + 0.2 * ref
        smooth = smooth.astype(np.float32)
        tr.place_box(smooth, det.box if det is not None else None)
        tr.last = t
        tr.stats["frames"] += 1
        tr.hits += detected is True
        tr.stats["detected"] += detected is True
        tr.stats["predicted"] += detected is False
        al = align(frame, five_from_68(smooth), size)
        score = float(det.score) if det is not None else 0.0
        face = _Face(tr, al, smooth, np.zeros((size, size), np.uint8), False, clean, score)
        face.box = tr.box.copy()
        face.found = detected is not False
        return face

    def _doubtful(self, tr: Track, lm: np.ndarray) -> bool:
        """Whether a measurement ``lm`` lies far from the track's prediction or fits its
        reference shape poorly (partly covered, or a crop placed off the face)."""
        return not tr.near(lm, self.opt.gate) or tr.covered(lm)[1] < self.opt.min_inliers

    def _update_mask(self, f: _Face, m: np.ndarray) -> None:
        tr, w = f.track, self.opt.mask_weight
        if f.detected or tr.mask is None:  # a missed face keeps its running mask
            cov = float(m.mean())
            first = tr.mask is None
            if first:
                tr.mask = m.astype(np.float32)
            else:
                rate = np.where(m > tr.mask, w, self.opt.mask_release).astype(np.float32)
                tr.mask = tr.mask + rate * (m - tr.mask)
            tr.coverage = cov if first else (1 - w) * tr.coverage + w * cov
            if tr.coverage >= self.u.min_coverage:
                tr.masked = True
            elif tr.coverage < self.u.min_coverage / 2:
                tr.masked = False
        f.mask = ((tr.mask > 0.5) | (m > 0)).astype(np.uint8)
        if not f.detected:  # missed or partly covered: the place is less sure, widen the hole
            f.mask = dilate(f.mask, int(round(self.opt.widen * f.mask.shape[0])))
        f.masked = tr.masked

    # -- stage B ---------------------------------------------------------------------------
    def _render(self, frame: np.ndarray, t: int, faces: list[_Face]):
        t0 = time.perf_counter()
        out, results = self._renderer(frame, t, faces)
        self._tick("render", t0)
        self._retire(t)
        return (out if out is not frame else frame.copy()), results

    def _retire(self, t: int) -> None:
        """Summarise ended tracks whose frames have all been rendered; free their arrays."""
        done = [tr for tr in self._ended if tr.last <= t]
        for tr in done:
            self._ended.remove(tr)
            if tr.hits >= self.opt.min_hits:
                self.tracks.append(tr.summary())
        self.tracks.sort(key=lambda s: s["track"])


def restore_frames(
    unmasker, frames: Iterable[np.ndarray], fps: float = 25.0, gender=None, **options
) -> Iterator[tuple[np.ndarray, list[TrackedFace]]]:
    """Stream a clip through the pipeline: ``H x W x 3`` uint8 RGB frames in, ``(restored,
    faces)`` out, one per input frame, in order (``lookahead`` frames behind the input).
    See :class:`VideoRestorer` for the arguments; use it directly for track summaries."""
    yield from VideoRestorer(unmasker, fps, gender, **options).restore(frames)
