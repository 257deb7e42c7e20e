"""Generated test clips with a known camera path, and the steadiness measures made on them.

A still photo (masked with the synthetic mask engine, and its unmasked original) is filmed by
a virtual camera: smooth pan, zoom, a small rotation, brightness drift, JPEG compression, a few
motion-blurred frames, optionally an object passing over the face and a cut to a second shot.
Because every frame's warp from the still is known, frames can be warped back onto the still's
grid ("undoing the camera motion"), where a steady result does not change from frame to frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Still:
    """One shot's source: ``original`` and ``masked`` ``H x W x 3`` uint8 RGB, the drawn
    ``mask`` ``H x W`` uint8 {0, 1} and the original's 68 ``landmarks`` (pixel xy)."""

    original: np.ndarray
    masked: np.ndarray
    mask: np.ndarray
    landmarks: np.ndarray


def example_still(seed: int = 3) -> Still:
    """The built-in example photo with a procedural mask (see :mod:`unmask.demo`)."""
    from unmask.demo import example_face, masked_example

    original, masked, mask = masked_example(seed)
    return Still(original, masked, mask, example_face()[1])


def mask_still(original: np.ndarray, landmarks: np.ndarray, seed: int = 0) -> Still:
    """Draw a procedural mask on ``original`` (``H x W x 3`` uint8 RGB) from its 68
    ``landmarks`` (see :func:`unmask.demo.mask_photo`)."""
    from unmask.demo import mask_photo

    return Still(original, *mask_photo(original, landmarks, seed), landmarks)


@dataclass(frozen=True)
class ClipSpec:
    """The camera and the degradations of a generated clip.

    size: ``(width, height)``; frames: count; fps; pan: amplitude as a share of the frame;
    zoom: relative amplitude (0.12 = +-12 %); rotation: degrees; brightness: relative drift;
    jpeg: quality (0 = none); blur: frame indices with horizontal motion blur of ``blur_px``
    pixels; occlude:
    ``(first, last)`` frames during which a grey bar crosses the face; cut: frame index of a
    cut to the second shot (0 = none); fill: how much of the frame's height the face's still
    fills at zoom 1; seed: the phases of pan, zoom and rotation (0: the default path; other
    seeds draw them at random).
    """

    size: tuple[int, int] = (320, 240)
    frames: int = 64
    fps: float = 25.0
    pan: float = 0.06
    zoom: float = 0.12
    rotation: float = 4.0
    brightness: float = 0.08
    jpeg: int = 70
    blur: tuple[int, ...] = (20, 21, 45)
    blur_px: int = 11
    occlude: tuple[int, int] | None = None
    cut: int = 0
    fill: float = 1.1
    seed: int = 0
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Frame:
    """One generated frame: ``masked`` (the input) and ``source`` (the same frame without the
    mask), ``H x W x 3`` uint8 RGB; ``matrix`` the ``2 x 3`` still -> frame warp; ``shot``
    the still's index; ``occluder`` ``H x W`` uint8 {0, 1} where the passing bar is."""

    index: int
    masked: np.ndarray
    source: np.ndarray
    matrix: np.ndarray
    shot: int
    occluder: np.ndarray


def _phases(seed: int) -> np.ndarray:
    """Phase offsets (radians) of the camera's zoom, rotation and x/y pan; none for seed 0."""
    if not seed:
        return np.zeros(4)
    return np.random.default_rng(seed).uniform(0, 2 * math.pi, 4)


def camera(spec: ClipSpec, k: int, still_shape: tuple[int, int]) -> np.ndarray:
    """The ``2 x 3`` still -> frame warp of frame ``k`` (smooth pan, zoom and rotation)."""
    w, h = spec.size
    sh, sw = still_shape
    u = k / max(spec.frames - 1, 1)
    base = spec.fill * h / sh
    pz, pr, px, py = _phases(spec.seed)
    s = base * (1 + spec.zoom * math.sin(2 * math.pi * u + pz))
    a = math.radians(spec.rotation * math.sin(2 * math.pi * 1.5 * u + 0.5 + pr))
    tx = w / 2 + spec.pan * w * math.sin(2 * math.pi * u + 1.0 + px)
    ty = h / 2 + spec.pan * h * math.cos(2 * math.pi * 0.7 * u + py)
    c, si = s * math.cos(a), s * math.sin(a)
    m = np.array([[c, -si, 0.0], [si, c, 0.0]])
    m[:, 2] = [tx, ty] - m[:, :2] @ np.array([sw / 2, sh / 2])
    return m


def _degrade(img: np.ndarray, spec: ClipSpec, k: int) -> np.ndarray:
    import cv2

    gain = 1 + spec.brightness * math.sin(2 * math.pi * k / max(spec.frames, 1) * 2)
    out = np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    if k in spec.blur:
        kernel = np.full((1, spec.blur_px), 1 / spec.blur_px, np.float32)
        out = cv2.filter2D(out, -1, kernel, borderType=cv2.BORDER_REFLECT)
    if spec.jpeg:
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, spec.jpeg])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
    return out


def generate(spec: ClipSpec, stills: list[Still]) -> Iterator[Frame]:
    """Film ``stills`` (the first, then the second after ``spec.cut``) frame by frame."""
    import cv2

    w, h = spec.size
    for k in range(spec.frames):
        shot = 1 if spec.cut and k >= spec.cut and len(stills) > 1 else 0
        st = stills[shot]
        m = camera(spec, k - (spec.cut if shot else 0), st.original.shape[:2])
        warp = [
            cv2.warpAffine(im, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            for im in (st.masked, st.original)
        ]
        occ = np.zeros((h, w), np.uint8)
        if spec.occlude and spec.occlude[0] <= k <= spec.occlude[1]:
            a, b = spec.occlude
            face = (st.landmarks @ m[:, :2].T + m[:, 2]).astype(np.float32)
            x0, y0 = face.min(0)
            x1, y1 = face.max(0)
            u = (k - a) / max(b - a, 1)
            cx = x0 - 0.4 * (x1 - x0) + u * 1.8 * (x1 - x0)
            half = 0.45 * (x1 - x0)
            occ[max(0, int(y0 - 20)) : int(y1 + 20), max(0, int(cx - half)) : int(cx + half)] = 1
            for im in warp:
                im[occ > 0] = (90, 110, 90)
        masked, source = (_degrade(im, spec, k) for im in warp)
        yield Frame(k, masked, source, m, shot, occ)


def to_still(frame: np.ndarray, matrix: np.ndarray, still_shape: tuple[int, int]) -> np.ndarray:
    """Warp a frame (any dtype, ``H x W [x C]``) back onto the still's grid (0 outside)."""
    import cv2

    inv = cv2.invertAffineTransform(matrix)
    sh, sw = still_shape
    return cv2.warpAffine(frame, inv, (sw, sh), flags=cv2.INTER_LINEAR, borderValue=0)


def region_and_ring(mask: np.ndarray, ring: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """The rebuilt region (the drawn ``mask`` grown by 4 px) and the visible ring of ``ring``
    pixels around it, both ``H x W`` bool on the still's grid."""
    import cv2

    m = (mask > 0).astype(np.uint8)
    region = cv2.dilate(m, np.ones((9, 9), np.uint8))
    outer = cv2.dilate(region, np.ones((2 * ring + 1,) * 2, np.uint8))
    return region > 0, (outer > 0) & (region == 0)


class Instability:
    """Mean absolute frame-to-frame change (grey levels) inside a still-grid region and its
    ring, after undoing the camera motion; feed frames with :meth:`add`, read
    :meth:`figures`. Pairs across a cut, and pixels any frame does not see, are left out."""

    def __init__(self, mask: np.ndarray, shot: int = 0) -> None:
        self.region, self.ring = region_and_ring(mask)
        self.shot = shot
        self.shape = mask.shape[:2]
        self._prev = None
        self.sums = {"region": [], "ring": []}

    def add(self, frame: np.ndarray, matrix: np.ndarray, shot: int, hide=None) -> None:
        """One frame (``H x W x 3`` uint8 RGB) of the clip; ``hide``: ``H x W`` pixels to
        leave out (e.g. an occluder)."""
        if shot != self.shot:
            self._prev = None
            return
        grey = frame.astype(np.float32).mean(-1)
        valid = np.ones(frame.shape[:2], np.float32)
        if hide is not None:
            valid[hide > 0] = 0
        cur = (to_still(grey, matrix, self.shape), to_still(valid, matrix, self.shape) > 0.999)
        if self._prev is not None:
            diff = np.abs(cur[0] - self._prev[0])
            ok = cur[1] & self._prev[1]
            for name, area in (("region", self.region), ("ring", self.ring)):
                sel = ok & area
                if sel.sum() > 50:
                    self.sums[name].append(float(diff[sel].mean()))
        self._prev = cur

    def figures(self) -> dict:
        """``{"region": mean change, "ring": mean change, "ratio": region / ring}``."""
        r = float(np.mean(self.sums["region"])) if self.sums["region"] else float("nan")
        g = float(np.mean(self.sums["ring"])) if self.sums["ring"] else float("nan")
        return {"region": r, "ring": g, "ratio": r / g if g else float("nan")}


def landmark_jitter(tracks: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Frame-to-frame NME after motion compensation: ``tracks`` is a list of consecutive
    ``(landmarks (68, 2) in frame pixels, still -> frame matrix)``; the landmarks are mapped
    back to the still, and the mean point distance between consecutive frames is divided by
    the eye distance there. Returns the mean over pairs."""
    import cv2

    from unmask.video.track import eye_distance

    out, prev = [], None
    for lm, m in tracks:
        inv = cv2.invertAffineTransform(m)
        p = np.asarray(lm, np.float64) @ inv[:, :2].T + inv[:, 2]
        if prev is not None:
            out.append(np.linalg.norm(p - prev, axis=1).mean() / eye_distance(p))
        prev = p
    return float(np.mean(out)) if out else float("nan")


#: Video and audio codecs :func:`write_clip` uses per container suffix.
CODECS = {
    ".mp4": ("libx264", "aac"),
    ".mov": ("libx264", "pcm_s16le"),
    ".mkv": ("libx264", "pcm_s16le"),
    ".avi": ("mpeg4", "pcm_s16le"),
    ".webm": ("libvpx-vp9", "libopus"),
    ".gif": ("gif", None),
}


def write_clip(path, frames, fps: float = 25.0, audio: bool = True) -> None:
    """Write ``frames`` (``H x W x 3`` uint8 RGB, streamed) to ``path`` with a 440 Hz tone as
    its audio track (when ``audio`` and the container has one in :data:`CODECS`)."""
    from fractions import Fraction
    from pathlib import Path

    from unmask.video.io import require_av

    av = require_av()
    vcodec, acodec = CODECS[Path(path).suffix.lower()]
    rate = Fraction(fps).limit_denominator(1000)
    with av.open(str(path), "w") as out:
        vs, aus, n = None, None, 0
        for frame in frames:
            if vs is None:
                vs = out.add_stream(vcodec, rate=rate)
                vs.height, vs.width = frame.shape[:2]
                vs.pix_fmt = "rgb8" if vcodec == "gif" else "yuv420p"
                if audio and acodec:
                    aus = out.add_stream(acodec, rate=48000)
                    aus.layout = "mono"
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            out.mux(vs.encode(vf))
            if aus is not None:
                t0, t1 = int(n * 48000 / fps), int((n + 1) * 48000 / fps)
                tone = 0.2 * np.sin(2 * np.pi * 440 * np.arange(t0, t1) / 48000)
                af = av.AudioFrame.from_ndarray(tone.astype(np.float32)[None], "flt", "mono")
                af.sample_rate, af.pts = 48000, t0
                out.mux(aus.encode(af))
            n += 1
        out.mux(vs.encode(None))
        if aus is not None:
            out.mux(aus.encode(None))
