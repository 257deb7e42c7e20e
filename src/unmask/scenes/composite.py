"""Composite photos for training and testing the face detector.

A *scene* is a synthetic photo at its own ("native") resolution with the boxes and five
keypoints of every face in it. Three kinds, chosen per index:

``tight``
    one face filling 35-130 % of the photo width, often cut by the border, in portrait, square
    or landscape photos from 40 to 900 px: the shape of most masked-face photos people have.
``scene``
    1-6 faces of 10 px to 60 % of the letterbox side pasted with feathered head-shaped alpha
    onto a background (see :mod:`unmask.scenes.backgrounds`), among distractor objects.
``negative``
    a face-free background with distractors (masks without a face, hands, skin ovals).

Faces come from a built dataset (aligned crops with teacher landmarks; masked with the
dataset's own variants or freshly with the mask engine; about 20 % left unmasked) and from
:func:`photo_faces` (photos with masks already on and photo-level landmarks). Photo effects
(colour, grey, blur, low resolution, noise, JPEG) are applied at the native resolution. Faces
can wear glasses, sunglasses or headwear (:mod:`unmask.scenes.accessories`) and be squashed
sideways like a turned head, and scenes can carry printed text (:mod:`unmask.scenes.text`);
those are off in :class:`SceneConfig`'s defaults (the held-out
test scenes) and on in the detector's training recipe.
This module holds the mix (:class:`SceneConfig`), the result (:class:`Scene`) and
:func:`build_maker`; :class:`~unmask.scenes.maker.SceneMaker` draws the scenes,
:class:`~unmask.scenes.dataset.CompositeScenes` letterboxes each scene to ``size`` and renders
CenterNet-style targets; photo effects are :func:`~unmask.scenes.effects.degrade`.
Everything is deterministic per ``(seed, epoch, index)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from unmask.data.face_sources import canonical_box
from unmask.scenes.backgrounds import Backgrounds

if TYPE_CHECKING:
    from unmask.scenes.maker import SceneMaker

log = logging.getLogger(__name__)


@dataclass
class SceneConfig:
    """Scene mix and photo-effect strengths (probabilities unless stated)."""

    size: int = 320
    tight: float = 0.45
    negative: float = 0.15
    max_faces: int = 6
    unmasked: float = 0.2
    fresh_mask: float = 0.3
    photo_faces: float = 0.15
    min_face: float = 10.0
    distractors: float = 0.5
    occlude: float = 0.12
    rotate_deg: float = 25.0
    colour: float = 0.3
    gray: float = 0.1
    blur: float = 0.2
    lowres: float = 0.15
    noise: float = 0.2
    jpeg: float = 0.4
    max_objects: int = 16
    # face accessories and pose (off by default so the held-out test scenes stay as they were)
    glasses: float = 0.0
    sunglasses: float = 0.0
    headwear: float = 0.0
    squash: float = 0.0
    text: float = 0.0  # a block of printed text on a scene's background (unmask.scenes.text)
    textures: float = 0.0  # backgrounds drawn as pebbles or fur (unmask.scenes.textures)

    @classmethod
    def from_dict(cls, data: dict | None) -> SceneConfig:
        """Build from a dict of overrides, rejecting unknown keys."""
        names = {f.name for f in fields(cls)}
        bad = sorted(set(data or {}) - names)
        if bad:
            raise ValueError(f"unknown scene keys {bad}; known: {sorted(names)}")
        return cls(**(data or {}))


@dataclass
class Scene:
    """One composite photo.

    Attributes:
        image: ``H x W x 3`` uint8 RGB.
        boxes: float32 ``(n, 4)`` xyxy pixels (canonical face boxes, may extend past the border).
        keypoints: float32 ``(n, 5, 2)`` pixel xy.
        masked: bool ``(n,)``, whether each face wears a mask.
        kind: ``"tight"``, ``"scene"`` or ``"negative"``.
    """

    image: np.ndarray
    boxes: np.ndarray
    keypoints: np.ndarray
    masked: np.ndarray
    kind: str


def build_maker(
    dataset: str | Path,
    split: str,
    scene: SceneConfig,
    photos: str | Path | None = None,
    photo_cache: str | Path | None = None,
    templates: str | Path | None = None,
    force_masked: bool | None = None,
    compute_landmarks: bool = True,
) -> SceneMaker:
    """A :class:`~unmask.scenes.maker.SceneMaker` over the faces, photos and backgrounds of one
    split.

    Args:
        dataset: built dataset folder (crop faces of ``split``).
        split: ``train``, ``val`` or ``test``; faces, photos and natural backgrounds of other
            splits are never used.
        scene: the scene mix.
        photos: ``masked-seg-train``-style folder of masked photos, or ``None``.
        photo_cache: JSON cache of the photos' landmarks (required with ``photos``).
        templates: MaskTheFace-format folder (fresh masks, mask objects, textures), or ``None``.
        force_masked: see :class:`~unmask.scenes.maker.SceneMaker`.
        compute_landmarks: find landmarks of uncached photos with dlib (else skip them).
    """
    from unmask.data.face_sources import crop_faces, photo_faces
    from unmask.scenes.maker import SceneMaker  # imported here: the maker imports this module

    faces = crop_faces(dataset, (split,))
    pf = []
    if photos is not None:
        if photo_cache is None:
            raise ValueError("photo faces need a landmark cache file (photo_cache)")
        pf = photo_faces(photos, photo_cache, (split,), compute_landmarks)
    from unmask.masking.compose import make_mask_source

    mix = {"procedural": 1.0, "template": 1.0 if templates is not None else 0.0}
    masks = make_mask_source(mix, templates)
    bg = Backgrounds(
        split,
        templates,
        [(f.image, canonical_box(f.landmarks)) for f in pf],
    )
    log.info("%s scenes: %d crop faces, %d photo faces", split, len(faces), len(pf))
    return SceneMaker(faces, pf, bg, scene, masks, force_masked)
