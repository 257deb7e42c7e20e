"""The contract every synthetic mask source follows.

Conventions: images are RGB ``uint8`` ``H x W x 3``; landmarks ``(68, 2)`` float pixel xy in iBUG
order (see :mod:`unmask.faces.landmarks`); masks ``uint8`` ``H x W`` with 1 = face-mask pixel;
alpha ``float32`` ``H x W`` in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from unmask.faces.landmarks import NOSE_TIP


@dataclass(frozen=True)
class MaskedFace:
    """A face with a synthetic mask drawn on it.

    Attributes:
        image: ``H x W x 3`` uint8 RGB, the face wearing the mask.
        mask: ``H x W`` uint8 in {0, 1}; 1 where the mask covers the face (``alpha > 0.5``).
        alpha: ``H x W`` float32 in [0, 1], the soft opacity used to composite the mask.
        source: ``"template"`` or ``"procedural"``.
        kind: mask style, e.g. ``"surgical"``, ``"cloth"``, ``"n95"``, ``"kn95"``, ``"gas"``.
        nose_covered: whether the mask covers the nose tip (landmark 30).
        params: free-form description of the random choices (colour, texture, ...), JSON-safe.
    """

    image: np.ndarray
    mask: np.ndarray
    alpha: np.ndarray
    source: str
    kind: str
    nose_covered: bool
    params: dict

    @property
    def coverage(self) -> float:
        """Share of image pixels covered by the mask."""
        return float(self.mask.mean())


@runtime_checkable
class MaskSource(Protocol):
    """Something that draws a face mask onto a face given its 68 landmarks."""

    #: ``"template"`` or ``"procedural"``.
    name: str

    def apply(
        self, image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator
    ) -> MaskedFace:
        """Draw one random mask.

        Args:
            image: ``H x W x 3`` uint8 RGB face (any size; typically an aligned crop).
            landmarks: ``(68, 2)`` float pixel xy of that face, iBUG order.
            rng: the only source of randomness, so a seed reproduces the result.
        Returns:
            The masked face. Unless ``nose_covered`` is False, the mask covers the nose tip
            (landmark 30); it always covers every mouth point (48-67).
        """
        ...


def finish(
    image: np.ndarray,
    layer: np.ndarray,
    alpha: np.ndarray,
    landmarks: np.ndarray,
    source: str,
    kind: str,
    params: dict,
) -> MaskedFace:
    """Composite an RGB ``layer`` over ``image`` with ``alpha`` and build the :class:`MaskedFace`.

    Args:
        image: ``H x W x 3`` uint8 RGB face.
        layer: ``H x W x 3`` float32 or uint8 RGB mask appearance (0-255).
        alpha: ``H x W`` float32 in [0, 1].
        landmarks: ``(68, 2)`` pixel xy, used to decide ``nose_covered``.
    """
    a = np.clip(alpha.astype(np.float32), 0.0, 1.0)
    out = image.astype(np.float32) * (1.0 - a[..., None]) + layer.astype(np.float32) * a[..., None]
    out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    mask = (a > 0.5).astype(np.uint8)
    h, w = mask.shape
    x, y = np.round(np.asarray(landmarks[NOSE_TIP], dtype=np.float64)).astype(int)
    nose = bool(0 <= x < w and 0 <= y < h and mask[y, x])
    return MaskedFace(out, mask, a, source, kind, nose, dict(params))
