"""Training samples for the mask-edge refiner (:mod:`unmask.stages.refine`).

Each sample is a masked photo as the pipeline meets it: the shipped detector finds the face
on the masked photo, the crop is aligned on its keypoints, and the shipped segmenter's
probability is warped into the refiner's working grid (:func:`unmask.stages.refine.window`),
so the refiner learns to mend exactly the coarse masks it will be given. Two sources:

* unmasked face photos (UTKFace) with a synthetic mask drawn on them (procedural, ear loops
  included, and MaskTheFace templates), at their own size or enlarged; on some, a dark band is
  drawn along the mask's rim (a seam or a shadow) and counted as mask. Target: the mask's
  alpha above :data:`ALPHA_MASK`, so its soft edge is hole;
* masked FFHQ photos (MaskedFace-Net, 1024 px) with pixel labels, shrunk to a random face size.

Square patches are cut around the places where the coarse mask and the target differ or
change, plus one at random per photo. Arrays: ``image`` uint8 ``N x P x P x 3`` RGB, ``coarse``
and ``target`` uint8 ``N x P x P`` (probability x 255; 0/1).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

#: Opacity above which a drawn mask's pixel is hole (its blurred edge included).
ALPHA_MASK = 0.1


@dataclass(frozen=True)
class EdgeSampling:
    """How samples are drawn.

    Attributes:
        patch: patch side, working-grid pixels.
        per_photo: patches around the edge per photo (one more at random).
        wrong_share: share of those centred on one of the coarse mask's wrong pieces (connected
            regions where it disagrees with the target), each piece equally likely, so that
            thin ear loops and straps are seen as often as long stretches of edge.
        enlarge: largest factor a face photo is enlarged by before its mask is drawn (1 = none).
        rim_prob: share of drawn masks that get a dark rim.
        face_sides: range of the crop's side, in pixels, that labelled photos are shrunk to.
        margin, max_side: the pipeline's window (see :func:`unmask.stages.refine.window`).
    """

    patch: int = 64
    per_photo: int = 8
    wrong_share: float = 0.0
    enlarge: float = 2.0
    rim_prob: float = 0.4
    face_sides: tuple[float, float] = (180.0, 700.0)
    margin: float = 0.04
    max_side: float = 384.0


def dark_rim(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator):
    """Darken a band 1-3 px wide along the mask's rim (all of it, or its upper half).

    Returns ``(image, band)``: the new uint8 image and the bool band, which belongs to the mask.
    """
    import cv2

    m = (mask > 0).astype(np.uint8)
    width = int(rng.integers(1, 4))
    grown = cv2.dilate(m, np.ones((2 * width + 1, 2 * width + 1), np.uint8))
    band = (grown > 0) & (m == 0)
    if rng.random() < 0.5:  # only the upper rim, where a shadow or a seam line shows
        ys = np.nonzero(m)[0]
        band &= np.arange(m.shape[0])[:, None] < (ys.min() + ys.max()) / 2
    gain = rng.uniform(0.35, 0.8)
    out = image.astype(np.float32)
    out[band] *= gain
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), band


def patches(win, target: np.ndarray, cfg: EdgeSampling, rng: np.random.Generator) -> dict:
    """Cut ``cfg.per_photo + 1`` patches of a :class:`~unmask.stages.refine.Window` and its
    working-grid ``target`` (bool); an empty dict when the window is smaller than a patch."""
    import cv2

    p = cfg.patch
    h, w = target.shape
    if h < p or w < p:
        return {}
    t8 = target.astype(np.uint8)
    wrong = (win.coarse > 0.5) != target
    edge = cv2.morphologyEx(t8, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    edge |= wrong
    ys, xs = np.nonzero(edge)
    centres = [(rng.integers(h), rng.integers(w))]
    n_wrong = int(round(cfg.wrong_share * cfg.per_photo)) if wrong.any() else 0
    if n_wrong:
        count, labels = cv2.connectedComponents(wrong.astype(np.uint8))
        wy, wx = np.nonzero(labels)
        piece = labels[wy, wx]
        for k in rng.integers(1, count, size=n_wrong):
            j = rng.choice(np.flatnonzero(piece == k))
            centres.append((wy[j], wx[j]))
    if len(ys):
        j = rng.integers(len(ys), size=cfg.per_photo - n_wrong)
        centres += list(zip(ys[j], xs[j], strict=True))
    out = {"image": [], "coarse": [], "target": []}
    for cy, cx in centres:
        y0 = int(np.clip(cy - p // 2, 0, h - p))
        x0 = int(np.clip(cx - p // 2, 0, w - p))
        sl = np.s_[y0 : y0 + p, x0 : x0 + p]
        out["image"].append(win.image[sl])
        out["coarse"].append(np.round(win.coarse[sl] * 255).astype(np.uint8))
        out["target"].append(t8[sl])
    return out


class CoarseMasks:
    """The pipeline's front half: detector -> alignment -> segmenter probability."""

    def __init__(self, weights_dir=None) -> None:
        from unmask.api import Unmasker

        self.u = Unmasker(weights_dir=weights_dir, finish=False)

    def __call__(self, photo: np.ndarray, near: np.ndarray):
        """``(alignment, prob)`` of the detected face nearest ``near`` (``(x, y)``), or None."""
        from unmask.faces.align import align

        dets = self.u.detector.detect(photo)
        if not len(dets):
            return None
        centres = np.array([[(d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2] for d in dets])
        det = dets[int(np.argmin(np.linalg.norm(centres - near, axis=1)))]
        al = align(photo, det.keypoints, self.u.crop_size)
        return al, self.u.segmenter.predict_prob(al.crop)


def _target_in(win, target_photo: np.ndarray) -> np.ndarray:
    """The photo-grid target (float in [0, 1]) in a window's working grid, as bool."""
    import cv2

    x1, y1, x2, y2 = win.box
    t = target_photo[y1:y2, x1:x2].astype(np.float32)
    h, w = win.coarse.shape
    if t.shape != (h, w):
        t = cv2.resize(t, (w, h), interpolation=cv2.INTER_AREA)
    return t > 0.5


def sample_photo(photo, target, coarse: CoarseMasks, cfg: EdgeSampling, rng) -> dict:
    """Patches of one masked photo whose true hole is ``target`` (``H x W`` float in [0, 1])."""
    from unmask.stages.refine import window

    ys, xs = np.nonzero(target > 0.5)
    if not len(xs):
        return {}
    found = coarse(photo, np.array([xs.mean(), ys.mean()]))
    if found is None:
        return {}
    al, prob = found
    win = window(photo, al, prob, cfg.margin, cfg.max_side)
    if win is None:
        return {}
    return patches(win, _target_in(win, target), cfg, rng)


def drawn_photos(faces_dir, split: str, templates, cfg: EdgeSampling, seed: int, limit: int):
    """``(photo, target)`` of unmasked face photos of ``split`` with a mask drawn on them."""
    import cv2

    from unmask.data.face_sources import split_photos
    from unmask.faces.teacher import teacher_landmarks
    from unmask.io import load_image
    from unmask.masking.compose import MaskMix
    from unmask.masking.procedural import ProceduralMasks

    sources, weights = [ProceduralMasks(loop_prob=0.6)], [1.0]
    if templates:
        from unmask.masking.templates import TemplateMasks

        sources.append(TemplateMasks(templates))
        weights.append(1.0)
    mix = MaskMix(sources, weights)
    for k, path in enumerate(split_photos(faces_dir, split, limit)):
        rng = np.random.default_rng([seed, k])
        image = load_image(path)
        f = rng.uniform(1.0, cfg.enlarge)
        if f > 1.05:
            image = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
        found = teacher_landmarks(image)
        if found is None:
            continue
        try:
            masked = mix.apply(image, found[0], rng)
        except ValueError:
            continue
        photo, target = masked.image, masked.alpha > ALPHA_MASK
        if rng.random() < cfg.rim_prob:
            photo, band = dark_rim(photo, target, rng)
            target = target | band
        yield photo, target.astype(np.float32)


def labelled_photos(src, split: str, cfg: EdgeSampling, seed: int, limit: int):
    """``(photo, target)`` of masked FFHQ photos of ``split`` with pixel labels, shrunk so that
    the face (about 60 % of the photo's side) is ``cfg.face_sides`` px across."""
    import cv2

    from unmask.data.face_sources import photo_split
    from unmask.data.realseg import MASK_CLASS, decode_labels, list_sources
    from unmask.io import load_image

    rows = [r for r in list_sources(src) if photo_split(r[1]) == split]
    for k, (_, img, lab) in enumerate(rows[:limit]):
        rng = np.random.default_rng([seed, 7, k])
        photo = load_image(img)
        target = (decode_labels(load_image(lab)) == MASK_CLASS).astype(np.float32)
        side = rng.uniform(*cfg.face_sides) / 0.6
        f = min(1.0, side / photo.shape[0])
        size = (round(photo.shape[1] * f), round(photo.shape[0] * f))
        photo = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
        yield photo, cv2.resize(target, size, interpolation=cv2.INTER_AREA)


def mine(photos, coarse: CoarseMasks, cfg: EdgeSampling, seed: int) -> dict[str, np.ndarray]:
    """Stack the patches of every ``(photo, target)`` of ``photos``."""
    out = {"image": [], "coarse": [], "target": []}
    rng = np.random.default_rng([seed, 3])
    n = 0
    for n, (photo, target) in enumerate(photos, 1):
        for key, items in sample_photo(photo, target, coarse, cfg, rng).items():
            out[key] += items
        if n % 200 == 0:
            log.info("edge samples: %d photos, %d patches", n, len(out["target"]))
    if not out["target"]:
        raise RuntimeError(f"no edge patches from {n} photos")
    return {k: np.stack(v) for k, v in out.items()}
