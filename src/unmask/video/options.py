"""The knobs of the video pipeline and the face it reports per frame."""

from __future__ import annotations

from dataclasses import dataclass

from unmask.types import FaceResult


@dataclass(frozen=True)
class TrackedFace(FaceResult):
    """A :class:`~unmask.types.FaceResult` in a video frame, plus: ``track`` (the track id,
    unique within the clip) and ``detected`` (``False`` when the detector missed the face on
    this frame and the track's prediction placed it)."""

    track: int = -1
    detected: bool = True


@dataclass(frozen=True)
class Options:
    """Knobs of :class:`VideoRestorer` (defaults measured in ``research/video_bench.py``).

    detect_every: run the detector every N frames (and on every frame while a track is
        missed); tracks follow their landmarks in between.
    inpaint_every: run the inpainter every N frames per track; in between the last rebuilt
        crop is reused (it lives in the aligned crop space, which moves with the face).
    blend: weight of the new rebuilt crop against the previous one (1 = no blending).
    lookahead: frames a new track waits for its gender to be pooled (output delay).
    max_misses: a track ends after this many consecutive frames the detector missed it.
    min_hits: a new track is confirmed (and rebuilt, from its first frame) once the detector
        found it on this many frames, run on every frame until then; a tentative track
        ends on its first miss (this drops one-frame false detections).
    min_score: least detector score of a detection that starts a new track (a running track
        takes any detection that overlaps it).
    min_iou: least IoU of a detection with a track's box to join the track.
    min_cutoff, beta: One-Euro filter of the landmarks (Hz at rest, gain per eye distance/s).
    mask_weight: weight of the new crop mask in the track's running mask where it adds to
        it; mask_release: the weight where it takes away (slower, so that an object passing
        over the mask does not shrink the hole).
    gate: a landmark measurement farther than this many eye distances (mean) from the
        track's prediction is not trusted on frames without detection.
    min_inliers: when fewer of the 68 measured landmarks than this share agree with a
        similarity fit of the track's reference shape (within ``0.1`` eye distance), the face
        counts as partly covered: the landmarks follow the face's optical flow from the
        previous frame (else the fitted shape), and neither gender nor mask is updated.
    widen: on such frames and on frames the detector missed, the hole grows by this share of
        the crop side.
    relook: before a face counts as partly covered (see ``min_inliers``), its crop is
        re-aligned on the measured landmarks and they are predicted again: under fast motion
        a crop placed off the face distorts the measured shape the same way.
    recheck: on a frame without detection, when a face's landmarks land farther from where
        they were expected than ``gate`` or fit the track's shape poorly (``min_inliers``),
        run the detector on that frame and measure again.
    relock_iou: a matched detection whose box overlaps the track's expected box less than this
        re-anchors the track (its crop, and its filter restarts at the measurement).
    cut_threshold: see :class:`~unmask.video.track.CutDetector`.
    """

    detect_every: int = 3
    inpaint_every: int = 3
    blend: float = 0.5
    lookahead: int = 8
    max_misses: int = 12
    min_hits: int = 3
    min_score: float = 0.5
    min_iou: float = 0.3
    min_cutoff: float = 4.0
    beta: float = 0.5
    mask_weight: float = 0.5
    mask_release: float = 0.15
    gate: float = 0.3
    min_inliers: float = 0.9
    widen: float = 0.05
    relook: bool = True
    recheck: bool = True
    relock_iou: float = 0.6
    cut_threshold: float = 0.4
