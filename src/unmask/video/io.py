"""Streaming video decode and encode with PyAV (the ``video`` extra), audio kept.

Frames cross this module as RGB uint8 ``H x W x 3`` arrays, one at a time: nothing holds a
whole clip in memory. Output is H.264 in MP4 at the source's frame rate and resolution
(``yuv420p`` when both sides are even, ``yuv444p`` otherwise); the source's first audio track is
copied packet for packet when MP4 can hold its codec, else re-encoded to AAC.
"""

from __future__ import annotations

import heapq
import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

#: File suffixes treated as video (lower case).
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".webm", ".avi", ".mkv", ".gif")
#: Audio codecs copied into MP4 as they are; others are re-encoded to AAC.
MP4_AUDIO = ("aac", "mp3", "alac", "ac3", "eac3", "opus", "flac")
INSTALL_HINT = "video support needs PyAV: pip install 'unmask[video]'"


class VideoError(ValueError):
    """A file that is not a usable video; the message is the skip reason."""


def require_av():
    """Import and return :mod:`av`, or raise :class:`RuntimeError` with install advice."""
    try:
        import av
    except ImportError:
        raise RuntimeError(INSTALL_HINT) from None
    av.logging.set_level(None)  # FFmpeg's own log lines would interleave with the progress bar
    return av


def is_video(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a video file by its suffix (see :data:`VIDEO_SUFFIXES`)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def is_clip(path: str | os.PathLike) -> bool:
    """Whether the file at ``path`` is a clip to restore frame by frame: a video by its suffix,
    except a GIF of a single frame, which is a photo."""
    if not is_video(path):
        return False
    if Path(path).suffix.lower() != ".gif":
        return True
    from PIL import Image

    try:
        with Image.open(path) as im:
            return getattr(im, "n_frames", 1) > 1
    except (OSError, ValueError):
        return False  # not a readable GIF: the photo reader says why


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` reads from a video file.

    Attributes:
        width, height: frame size in pixels; fps: average frame rate (frames per second).
        frames: the container's frame count (0 when it does not say); duration: seconds (0 if
        unknown); audio: codec name of the first audio track, ``None`` without one.
    """

    width: int
    height: int
    fps: Fraction
    frames: int
    duration: float
    audio: str | None


def _open(path):
    av = require_av()
    try:
        return av.open(str(path))
    except av.FFmpegError as exc:
        raise VideoError(f"not a readable video ({_why(exc)})") from None


def _why(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _video_stream(container):
    if not container.streams.video:
        raise VideoError("no video stream")
    return container.streams.video[0]


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read a video's size, rate, length and audio codec without decoding it.

    Raises:
        VideoError: unreadable file or no video stream (message = skip reason).
    """
    with _open(path) as c:
        s = _video_stream(c)
        fps = s.average_rate or s.guessed_rate or Fraction(25)
        dur = float(s.duration * s.time_base) if s.duration else (c.duration or 0) / 1e6
        audio = c.streams.audio[0].codec_context.name if c.streams.audio else None
        return VideoInfo(s.width, s.height, Fraction(fps), int(s.frames or 0), dur, audio)


def read_frames(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Decode the first video stream frame by frame.

    Yields:
        ``H x W x 3`` uint8 RGB arrays, in presentation order.
    Raises:
        VideoError: unreadable file, no video stream, or a decoding error part way (the
        message says after how many frames).
    """
    av = require_av()
    with _open(path) as c:
        s = _video_stream(c)
        s.thread_type = "AUTO"
        n = 0
        try:
            for frame in c.decode(s):
                yield frame.to_ndarray(format="rgb24")
                n += 1
        except av.FFmpegError as exc:
            raise VideoError(f"broken video after {n} frames ({_why(exc)})") from None
        if n == 0:
            raise VideoError("no decodable video frames")


class VideoWriter:
    """Encode RGB frames to an H.264 MP4 one at a time (context manager).

    Args:
        path: output file (``.mp4``).
        fps: frame rate; width, height: frame size in pixels.
        crf: x264 quality (lower = better, 18 is visually lossless); preset: x264 speed.
    """

    def __init__(self, path, fps, width: int, height: int, crf: int = 18, preset="veryfast"):
        av = require_av()
        self._av = av
        self.path = Path(path)
        self.frames = 0
        self._c = av.open(str(self.path), "w", format="mp4")
        even = width % 2 == 0 and height % 2 == 0
        self._s = self._c.add_stream("libx264", rate=Fraction(fps).limit_denominator(100000))
        self._s.width, self._s.height = int(width), int(height)
        self._s.pix_fmt = "yuv420p" if even else "yuv444p"
        self._s.options = {"crf": str(crf), "preset": preset}
        self._s.thread_type = "AUTO"

    def write(self, frame: np.ndarray) -> None:
        """Encode one ``H x W x 3`` uint8 RGB frame of the writer's size."""
        vf = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        for packet in self._s.encode(vf):
            self._c.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and close the file."""
        if self._c is None:
            return
        for packet in self._s.encode():
            self._c.mux(packet)
        self._c.close()
        self._c = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _timed(container, stream, out_stream, order: int) -> Iterator[tuple]:
    """``(seconds, order, tie, packet, out_stream)`` for each packet of ``stream`` with a
    timestamp (``order`` and ``tie`` keep :func:`heapq.merge` from comparing packets)."""
    tie = itertools.count()
    for packet in container.demux(stream):
        if packet.dts is None:  # the demuxer's end-of-stream flush packet
            continue
        yield float(packet.dts * packet.time_base), order, next(tie), packet, out_stream


def add_audio(video: str | os.PathLike, source: str | os.PathLike, dst: str | os.PathLike) -> str:
    """Write ``dst``: the video stream of ``video`` (copied) with the first audio track of
    ``source`` (copied when MP4 can hold its codec, else re-encoded to AAC), streaming.

    Returns:
        ``"copied"``, ``"aac"`` (re-encoded) or ``"none"`` (``source`` has no audio: ``video``
        is copied alone).
    """
    av = require_av()
    with av.open(str(video)) as vin, av.open(str(source)) as ain, av.open(str(dst), "w") as out:
        vs = vin.streams.video[0]
        vout = out.add_stream_from_template(vs)
        if not ain.streams.audio:
            for *_, packet, _ in _timed(vin, vs, vout, 0):
                packet.stream = vout
                out.mux(packet)
            return "none"
        a = ain.streams.audio[0]
        if a.codec_context.name in MP4_AUDIO:
            aout = out.add_stream_from_template(a)
            packets = heapq.merge(_timed(vin, vs, vout, 0), _timed(ain, a, aout, 1))
            for *_, packet, stream in packets:
                packet.stream = stream
                out.mux(packet)
            return "copied"
        aout = out.add_stream("aac", rate=a.codec_context.sample_rate or 48000)
        merged = heapq.merge(_timed(vin, vs, vout, 0), _timed(ain, a, aout, 1))
        for *_, packet, stream in merged:
            if stream is vout:
                packet.stream = vout
                out.mux(packet)
                continue
            for frame in packet.decode():
                frame.pts = None
                out.mux(aout.encode(frame))
        out.mux(aout.encode(None))
        return "aac"


def write_video(
    frames: Iterable[np.ndarray], dst: str | os.PathLike, source: str | os.PathLike, **kw
) -> dict:
    """Encode ``frames`` to ``dst`` at ``source``'s rate and size, with ``source``'s audio.

    The frames are encoded to ``<dst>.video.mp4`` first and muxed with the audio into ``dst``
    (both steps stream); the temporary file is removed, also on errors.

    Returns:
        ``{"frames": encoded frames, "audio": "copied" | "aac" | "none"}``.
    """
    info = probe(source)
    dst = Path(dst)
    tmp = dst.with_name(dst.stem + ".video.mp4")
    try:
        with VideoWriter(tmp, info.fps, info.width, info.height, **kw) as w:
            for frame in frames:
                w.write(frame)
        audio = add_audio(tmp, source, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return {"frames": w.frames, "audio": audio}
