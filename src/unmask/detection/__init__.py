"""Face detector backends, chosen by name: :func:`create` ``("unmask")`` is the trained
masked-face detector (:mod:`unmask.detection.net`), ``"hog"`` and ``"cnn"`` dlib's detectors
(:mod:`unmask.detection.dlib_detector`), ``"aligned"`` an input that already is a canonical
crop. Every backend returns :class:`~unmask.detection.base.Detection` objects.

Examples::

    >>> from unmask import detection
    >>> detection.available()
    ['aligned', 'cnn', 'hog', 'unmask']
    >>> import numpy as np
    >>> [face] = detection.create("aligned").detect(np.zeros((256, 256, 3), np.uint8))
    >>> face.box.tolist(), face.score
    ([0.0, 0.0, 256.0, 256.0], 1.0)
"""

from __future__ import annotations

from unmask.detection.base import Detector


def _trained(**kwargs) -> Detector:
    from unmask.detection.net import NetDetector

    return NetDetector.from_weights(**kwargs)


def _dlib(kind: str):
    def make(**kwargs) -> Detector:
        from unmask.detection.dlib_detector import DlibDetector

        return DlibDetector(kind, **kwargs)

    return make


def _aligned(**kwargs) -> Detector:
    from unmask.detection.base import AlignedInput

    return AlignedInput()


_BACKENDS = {"unmask": _trained, "hog": _dlib("hog"), "cnn": _dlib("cnn"), "aligned": _aligned}


def available() -> list[str]:
    """Names of the detector backends."""
    return sorted(_BACKENDS)


def create(name: str, **kwargs) -> Detector:
    """Build the detector backend called ``name`` (see :func:`available`)."""
    try:
        factory = _BACKENDS[name]
    except KeyError:
        raise ValueError(
            f"unknown detector {name!r}; choose from {', '.join(available())}"
        ) from None
    return factory(**kwargs)
