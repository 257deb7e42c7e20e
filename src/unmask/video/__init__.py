"""Video: rebuild the masked faces of a clip, steady from frame to frame.

Entry points (PyAV, the ``video`` extra, is imported only when a clip is read or written):

- :func:`is_video` -- whether a path names a video file (by suffix; no extra needed).
- :func:`process_video` -- a clip file in, ``<dst>`` MP4 out (same rate, size and audio), and
  a report entry.
- :func:`restore_frames` -- the streaming API: RGB frames in, ``(frame, faces)`` out.
"""

from __future__ import annotations

from unmask.video.io import VIDEO_SUFFIXES, is_video

__all__ = ["VIDEO_SUFFIXES", "is_video", "process_video", "restore_frames", "VideoRestorer"]

_LAZY = {
    "process_video": "unmask.video.process",
    "restore_frames": "unmask.video.pipeline",
    "VideoRestorer": "unmask.video.pipeline",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'unmask.video' has no attribute {name!r}")
