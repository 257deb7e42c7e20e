"""unmask: rebuild the part of a face hidden under a face mask.

The outputs are plausible syntheses guided by landmarks and gender, not the person's real face.

Example::

    >>> from unmask import Unmasker, example_photo
    >>> photo = example_photo()          # the built-in masked example, H x W x 3 uint8 RGB
    >>> photo.shape, photo.dtype.name
    ((512, 512, 3), 'uint8')

``import unmask`` does no work: :class:`Unmasker` and :func:`example_photo` are imported on
first access (module ``__getattr__``), and the heavy modules (ONNX Runtime, torch, cv2, dlib)
only when a stage first runs.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: Public name -> module that defines it, imported on first access.
_LAZY = {
    "Unmasker": "unmask.api",
    "Result": "unmask.types",
    "FaceResult": "unmask.types",
    "example_photo": "unmask.demo",
    "run_batch": "unmask.batch",
    "merge_shards": "unmask.report",
    "run_cluster": "unmask.cluster",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'unmask' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
