"""Temporal pieces of the video pipeline: the One-Euro filter, face tracks with IoU
association and constant-velocity prediction, and scene-cut detection.

Coordinates are photo pixels (float xy); landmarks ``(68, 2)`` in iBUG order; boxes xyxy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from unmask.video.motion import rigid_fit


class OneEuro:
    """One-Euro filter (Casiez, Roussel and Vogel, CHI 2012) over an array of any shape, with
    a constant-velocity prediction so that steady motion is followed without lag.

    Each sample is predicted from the last value and speed; the residual is blended in with
    the One-Euro weight ``alpha(cutoff)``, ``cutoff = min_cutoff + beta * speed``, so jitter at
    rest is smoothed hard and fast motion is followed closely; the speed takes the residual
    with the critically damped alpha-beta gain ``alpha^2 / (2 - alpha)``. One cutoff is shared
    by the whole array (a shape moves as a whole), from the mean absolute speed of its
    elements divided by ``scale`` (e.g. the face's eye distance, making ``beta`` size-free).
    Without the prediction (a plain One-Euro filter) a face panning at 50 px/s lags ~8 px.

    Args:
        fps: sampling rate in Hz; min_cutoff: Hz at rest; beta: cutoff gain per unit of
        speed (scale units per second).
    """

    def __init__(self, fps: float, min_cutoff: float = 1.0, beta: float = 0.5) -> None:
        self.dt = 1.0 / float(fps)
        self.min_cutoff, self.beta = float(min_cutoff), float(beta)
        self.x: np.ndarray | None = None
        self.dx: np.ndarray | None = None

    def _alpha(self, cutoff: float) -> float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / self.dt)

    def __call__(self, x: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """Filter the next sample ``x``; returns the smoothed value (float64, same shape)."""
        x = np.asarray(x, np.float64)
        if self.x is None:
            self.x, self.dx = x.copy(), np.zeros_like(x)
            return self.x.copy()
        pred = self.predict()
        speed = float(np.abs((x - self.x) / self.dt).mean()) / max(scale, 1e-6)
        a = self._alpha(self.min_cutoff + self.beta * speed)
        r = x - pred
        self.x = pred + a * r
        self.dx = self.dx + (a * a / (2 - a)) * r / self.dt
        return self.x.copy()

    def reset(self, x: np.ndarray) -> np.ndarray:
        """Restart at ``x`` with no speed (e.g. a face found again after frames without)."""
        self.x, self.dx = np.asarray(x, np.float64).copy(), np.zeros_like(self.x)
        return self.x.copy()

    def coast(self, damping: float = 0.8) -> np.ndarray:
        """No measurement this sample: move on by the (damped) speed estimate."""
        self.dx = self.dx * damping
        self.x = self.x + self.dx * self.dt
        return self.x.copy()

    def predict(self) -> np.ndarray:
        """The value expected at the next sample (last value + speed x one step)."""
        return self.x + self.dx * self.dt


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two xyxy boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def eye_distance(landmarks: np.ndarray) -> float:
    """Distance between the eye centres of ``(68, 2)`` landmarks, in pixels."""
    lm = np.asarray(landmarks, np.float64)
    return float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))


@dataclass
class Track:
    """One face followed over frames (mutable state of :class:`Tracker`).

    Attributes:
        id: track number (unique within a clip); start/last: first and latest frame index.
        landmarks: the filter of the ``(68, 2)`` landmarks; box: latest xyxy box (see
        :meth:`place_box`); offset: the detector box's offset from the landmarks' box.
        misses: consecutive detection runs that did not find this face; hits: runs that did;
        coasting: consecutive frames placed by prediction alone; relock: this frame's
        detection says the landmarks drifted away (the filter restarts at the measurement).
        logits: gender logits of P(female) from trusted frames; p_female: the pooled and
        locked P(female) once the face is first rebuilt (``None`` before).
        mask: ``S x S`` float32 running mean of the crop-space mask; coverage: running mean of
        the mask's share of the crop; masked: the track's decision, with hysteresis.
        previous: the last rebuilt crop (see the pipeline); shape: the reference ``(68, 2)``
        landmarks in the canonical crop (running mean over frames without occlusion).
        raw, raw_speed: the last accepted landmark measurement and its speed per frame: the
        next frame's measurement crop is placed from them, not from the smoothed landmarks,
        so the smoothing's lag never feeds back into the measurement.
        stats: per-frame counters for the report.
    """

    id: int
    start: int
    landmarks: OneEuro
    box: np.ndarray
    offset: np.ndarray | None = None
    last: int = 0
    misses: int = 0
    hits: int = 0
    coasting: int = 0
    relock: bool = False
    logits: list = field(default_factory=list)
    p_female: float | None = None
    mask: np.ndarray | None = None
    coverage: float = 0.0
    masked: bool = False
    previous: np.ndarray | None = None
    shape: np.ndarray | None = None
    raw: np.ndarray | None = None
    raw_speed: np.ndarray | None = None
    stats: dict = field(
        default_factory=lambda: {"frames": 0, "detected": 0, "predicted": 0, "masked": 0}
    )

    def measured(self, landmarks: np.ndarray | None) -> None:
        """Record this frame's accepted measurement (``None``: none, coast on)."""
        if landmarks is None:
            self.raw = self.raw + 0.8 * self.raw_speed
            self.raw_speed = 0.8 * self.raw_speed
        elif self.raw is None:
            self.raw, self.raw_speed = landmarks.copy(), np.zeros_like(landmarks)
        else:
            self.raw_speed = 0.5 * self.raw_speed + 0.5 * (landmarks - self.raw)
            self.raw = landmarks.copy()

    def expected(self) -> np.ndarray:
        """Where the landmarks are expected on the next frame (constant speed)."""
        return self.raw + self.raw_speed

    def pooled_p(self) -> float:
        """P(female) pooled over the trusted frames so far (mean logit), 0.5 with none."""
        if not self.logits:
            return 0.5
        return float(1.0 / (1.0 + math.exp(-float(np.mean(self.logits)))))

    def place_box(self, landmarks: np.ndarray, detected: np.ndarray | None) -> None:
        """Set :attr:`box` from the (smoothed) landmarks' bounding box and the offset of the
        detector's boxes from it (learnt, in eye distances, on frames with a detection)."""
        if detected is not None:
            lo, hi = landmarks.min(0), landmarks.max(0)
            off = np.asarray(detected, np.float64) - np.concatenate([lo, hi])
            off = off / max(eye_distance(landmarks), 1e-6)
            self.offset = off if self.offset is None else 0.8 * self.offset + 0.2 * off
        self.box = self.box_of(landmarks)

    def box_of(self, landmarks: np.ndarray) -> np.ndarray:
        """The detector-style xyxy box of ``(68, 2)`` landmarks (see :meth:`place_box`)."""
        lo, hi = landmarks.min(0), landmarks.max(0)
        off = self.offset if self.offset is not None else np.zeros(4)
        return (np.concatenate([lo, hi]) + off * eye_distance(landmarks)).astype(np.float32)

    def near(self, landmarks: np.ndarray, gate: float) -> bool:
        """Whether ``landmarks`` lie within ``gate`` eye distances (mean) of the prediction."""
        pred = self.expected()
        err = np.linalg.norm(landmarks - pred, axis=1).mean() / max(eye_distance(pred), 1e-6)
        return bool(err <= gate)

    def covered(self, landmarks: np.ndarray) -> tuple[np.ndarray, float]:
        """The reference shape fitted onto ``landmarks`` and the share of points it fits within
        0.1 eye distance (``(landmarks, 1.0)`` before the track has a shape); a low share
        means partly covered, or measured on a crop placed off the face."""
        if self.shape is None:
            return landmarks, 1.0
        return rigid_fit(self.shape, landmarks, 0.1 * eye_distance(landmarks))

    def drifted(self, box: np.ndarray, min_iou: float) -> bool:
        """Whether a matched detection's ``box`` overlaps the expected box less than
        ``min_iou`` (the landmarks drifted off the face)."""
        return iou(self.box_of(self.expected()), box) < min_iou

    def confirmed(self, landmarks: np.ndarray, det, min_iou: float) -> bool:
        """Whether this frame's matched detection ``det`` (``None``: none) boxes the face
        where ``landmarks`` put it (IoU at least ``min_iou``)."""
        return det is not None and iou(self.box_of(landmarks), det.box) >= min_iou

    def summary(self) -> dict:
        """Report entry: id, frame range, counts, masked share and gender."""
        n = max(self.stats["frames"], 1)
        p = self.p_female if self.p_female is not None else self.pooled_p()
        return {
            "track": self.id,
            "first_frame": self.start,
            "last_frame": self.last,
            "frames": self.stats["frames"],
            "detected_frames": self.stats["detected"],
            "predicted_frames": self.stats["predicted"],
            "masked_share": round(self.stats["masked"] / n, 4),
            "gender": "female" if p >= 0.5 else "male",
            "p_female": round(p, 4),
        }


def associate(
    boxes: list, detections: list[np.ndarray], min_iou: float = 0.3
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Greedy IoU matching of track boxes to detection boxes.

    Args:
        boxes: one xyxy box per track, or a list of boxes per track (where it is expected and
            where it was last placed): its IoU with a detection is the largest of them.
        detections: xyxy boxes.
    Returns:
        ``(pairs, free_tracks, free_detections)``: ``(track_index, detection_index)`` pairs by
        descending IoU (each at least ``min_iou``), and the indices left unmatched.
    """

    def best(t, d) -> float:
        return max(iou(b, d) for b in t) if isinstance(t, (list, tuple)) else iou(t, d)

    cand = sorted(
        ((best(t, d), i, j) for i, t in enumerate(boxes) for j, d in enumerate(detections)),
        reverse=True,
    )
    pairs, used_t, used_d = [], set(), set()
    for score, i, j in cand:
        if score < min_iou or i in used_t or j in used_d:
            continue
        pairs.append((i, j))
        used_t.add(i)
        used_d.add(j)
    free_t = [i for i in range(len(boxes)) if i not in used_t]
    free_d = [j for j in range(len(detections)) if j not in used_d]
    return pairs, free_t, free_d


class CutDetector:
    """Flags scene cuts: most of the frame's grey-level content changes at once.

    The frame, shrunk to 64 x 48, is cut into a ``grid x grid`` of cells; a cell changed when
    the Bhattacharyya distance (0 = same, 1 = disjoint) of its 16-bin grey histogram to the
    previous frame's exceeds ``threshold``. A cut changes nearly every cell; camera motion,
    brightness drift and blur change few by that much, and an object passing in front of the
    camera only the cells it covers.

    Args:
        threshold: a cell's histogram distance that counts as changed.
        share: the least share of changed cells that makes a cut.
        grid: cells per side.
    """

    def __init__(self, threshold: float = 0.4, share: float = 0.75, grid: int = 4) -> None:
        self.threshold, self.share, self.grid = float(threshold), float(share), int(grid)
        self._hists: list | None = None

    def __call__(self, frame: np.ndarray) -> bool:
        """Whether ``frame`` (``H x W x 3`` uint8 RGB) starts a new shot (never the first)."""
        import cv2

        small = cv2.resize(frame, (64, 48), interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        g = self.grid
        hists = [
            cv2.calcHist([cell], [0], None, [16], [0, 256]).astype(np.float32)
            for rows in np.array_split(grey, g, axis=0)
            for cell in np.array_split(rows, g, axis=1)
        ]
        prev, self._hists = self._hists, hists
        if prev is None:
            return False
        changed = [
            cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA) > self.threshold
            for a, b in zip(prev, hists, strict=True)
        ]
        return float(np.mean(changed)) >= self.share
