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

from unmask import registry
from unmask.detection.base import Detector


def available() -> list[str]:
    """Names of the detector backends (:data:`unmask.registry.DETECTORS`)."""
    return sorted(registry.DETECTORS)


def create(name: str, **kwargs) -> Detector:
    """Build the detector backend called ``name`` (see :func:`available`); ``kwargs`` go to the
    trained detector (``weights_dir``, ``device``, ``backend``)."""
    try:
        target, fixed = registry.DETECTORS[name]
    except KeyError:
        raise ValueError(
            f"unknown detector {name!r}; choose from {', '.join(available())}"
        ) from None
    return registry.resolve(target)(**fixed, **kwargs)
