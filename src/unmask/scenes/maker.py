"""Drawing composite scenes: :class:`SceneMaker` picks faces, backgrounds and distractors with
a random generator and pastes them into one :class:`~unmask.scenes.composite.Scene`.

The scene kinds and the mix they are drawn from are described in
:mod:`unmask.scenes.composite`; a scene depends only on the generator it is given.
"""

from __future__ import annotations

import numpy as np

from unmask.data.face_sources import FaceSource, canonical_box
from unmask.faces.landmarks import FLIP_5, five_from_68
from unmask.scenes.accessories import accessorize
from unmask.scenes.backgrounds import Backgrounds, _image_width, _read_rgb, paste
from unmask.scenes.composite import Scene, SceneConfig
from unmask.scenes.effects import degrade
from unmask.scenes.placement import (
    affine_box,
    edge_alpha,
    head_alpha,
    overlap,
    photo_aspect,
    prescale,
    similarity,
    squeeze,
)
from unmask.scenes.text import draw_text


class SceneMaker:
    """Renders :class:`~unmask.scenes.composite.Scene` objects from face sources and backgrounds.

    Args:
        faces: crop faces (:func:`unmask.data.face_sources.crop_faces`).
        photos: photo faces (masked, real context), may be empty.
        backgrounds: face-free pictures and distractors of the same split.
        cfg: the scene mix.
        masks: a mask source (``make_mask_source``) for fresh masks, or ``None``.
        force_masked: ``True`` / ``False`` puts / leaves a mask on every face (photo faces
            have no unmasked version and are replaced by crop faces when ``False``);
            ``None`` follows ``cfg.unmasked``.
    """

    def __init__(
        self,
        faces: list[FaceSource],
        photos: list[FaceSource],
        backgrounds: Backgrounds,
        cfg: SceneConfig,
        masks=None,
        force_masked: bool | None = None,
    ) -> None:
        if not faces:
            raise ValueError("no crop faces to compose scenes from")
        self.faces, self.photos, self.bg, self.cfg = faces, photos, backgrounds, cfg
        self.masks, self.force_masked = masks, force_masked

    def __call__(self, rng: np.random.Generator) -> Scene:
        cfg = self.cfg
        u = rng.random()
        kind = (
            "negative" if u < cfg.negative else "tight" if u < cfg.negative + cfg.tight else "scene"
        )
        if kind == "tight":
            canvas, faces = self._tight(rng)
        else:
            canvas, faces = self._scene(rng, kind == "negative")
        img = degrade(np.clip(canvas + 0.5, 0, 255).astype(np.uint8), rng, cfg)
        boxes = np.array([f[0] for f in faces], np.float32).reshape(-1, 4)
        kps = np.array([f[1] for f in faces], np.float32).reshape(-1, 5, 2)
        masked = np.array([f[2] for f in faces], bool)
        if rng.random() < 0.5:  # mirror the whole photo (pixel-centre convention)
            w = img.shape[1]
            img = np.ascontiguousarray(img[:, ::-1])
            boxes = np.stack(
                [w - 1 - boxes[:, 2], boxes[:, 1], w - 1 - boxes[:, 0], boxes[:, 3]], 1
            )
            kps = kps[:, FLIP_5]
            kps[..., 0] = w - 1 - kps[..., 0]
        return Scene(img, boxes.astype(np.float32), kps.astype(np.float32), masked, kind)

    def _face(self, rng: np.random.Generator):
        """Pick and load a face, with accessories drawn when the config asks for them:
        ``(rgb uint8, landmarks68, masked)``."""
        img, lm, masked = self._pick_face(rng)
        cfg = self.cfg
        if cfg.glasses or cfg.sunglasses or cfg.headwear:  # no draw: scene streams unchanged
            img = accessorize(img, lm, rng, cfg.glasses, cfg.sunglasses, cfg.headwear)
        return img, lm, masked

    def _pick_face(self, rng: np.random.Generator):
        use_photo = rng.random() < self.cfg.photo_faces
        pick = rng.random()
        want_masked = rng.random() >= self.cfg.unmasked
        fresh = rng.random() < self.cfg.fresh_mask
        mask_seed = int(rng.integers(2**31))
        if self.force_masked is not None:
            want_masked = self.force_masked
        if use_photo and self.photos and want_masked:
            f = self.photos[int(pick * len(self.photos))]
            img = _read_rgb(f.image, 512)
            return img, f.landmarks * (img.shape[1] / _image_width(f.image)), True
        f = self.faces[int(pick * len(self.faces))]
        if not want_masked and f.clean is not None:
            return _read_rgb(f.clean), f.landmarks, False
        if fresh and self.masks is not None and f.clean is not None:
            rng_mask = np.random.default_rng(mask_seed)
            return (
                self.masks.apply(_read_rgb(f.clean), f.landmarks, rng_mask).image,
                f.landmarks,
                True,
            )
        return _read_rgb(f.image), f.landmarks, f.masked

    def _tight(self, rng: np.random.Generator):
        img, lm, masked = self._face(rng)
        aspect = photo_aspect(rng)
        side = float(np.exp(rng.uniform(np.log(40), np.log(640))))
        w, h = (side, side / aspect) if aspect >= 1 else (side * aspect, side)
        w, h = max(int(w), 16), max(int(h), 16)
        frac = float(np.exp(rng.uniform(np.log(0.35), np.log(1.3))))
        box, angle, sx = canonical_box(lm), self._angle(rng), self._squash(rng)
        for _try in range(8):  # both eyes and the box centre inside the photo
            centre = np.array([w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.72)])
            m = squeeze(similarity(box, frac * w, angle, centre), sx, centre)
            lm2 = lm @ m[:, :2].T.astype(np.float32) + m[:, 2].astype(np.float32)
            eyes = five_from_68(lm2)[:2]
            if np.all((eyes >= 0) & (eyes < [w, h])):
                break
            frac *= 0.9
        canvas = self.bg.sample(rng, h, w, self.cfg.textures).astype(np.float32)
        src, m2 = prescale(img, m)
        paste(canvas, src.astype(np.float32), edge_alpha(src.shape[:2], rng), m2)
        faces = [(canonical_box(lm2), five_from_68(lm2), masked)]
        if rng.random() < self.cfg.occlude:
            self._occlude(canvas, faces[0][0], rng)
        return canvas, faces

    def _scene(self, rng: np.random.Generator, negative: bool):
        cfg = self.cfg
        aspect = photo_aspect(rng)
        side = float(np.exp(rng.uniform(np.log(200), np.log(640))))
        w, h = (side, side / aspect) if aspect >= 1 else (side * aspect, side)
        w, h = int(w), int(h)
        canvas = self.bg.sample(rng, h, w, self.cfg.textures).astype(np.float32)
        if negative or rng.random() < cfg.distractors:
            for _ in range(int(rng.integers(1, 5))):
                self._distractor(canvas, rng)
        if cfg.text and rng.random() < cfg.text:  # no draw when off: test scenes unchanged
            draw_text(canvas, rng)
        faces: list = []
        if negative:
            return canvas, faces
        n = 1 + min(int(rng.geometric(0.45)) - 1, cfg.max_faces - 1)
        to_native = max(w, h) / cfg.size
        for _ in range(n):
            img, lm, masked = self._face(rng)
            box = canonical_box(lm)
            size = float(np.exp(rng.uniform(np.log(cfg.min_face), np.log(0.6 * cfg.size))))
            bw = size * to_native
            for _try in range(6):
                centre = rng.uniform([0.05 * w, 0.05 * h], [0.95 * w, 0.95 * h])
                cand = np.array([*(centre - bw / 2), *(centre + bw / 2)])
                if all(overlap(cand, f[0]) < 0.2 for f in faces):
                    break
            else:
                continue
            m = squeeze(similarity(box, bw, self._angle(rng), centre), self._squash(rng), centre)
            src, m2 = prescale(img, m)
            alpha = head_alpha(src.shape[:2], affine_box(box, m2, m), rng)
            paste(canvas, src.astype(np.float32), alpha, m2)
            lm2 = lm @ m[:, :2].T.astype(np.float32) + m[:, 2].astype(np.float32)
            faces.append((canonical_box(lm2), five_from_68(lm2), masked))
            if rng.random() < cfg.occlude:
                self._occlude(canvas, faces[-1][0], rng)
        return canvas, faces

    def _squash(self, rng: np.random.Generator) -> float:
        """Horizontal scale of a face (1 = none; 0.65-0.95 with probability ``squash``): a
        crude stand-in for a head turned away from the camera."""
        p = self.cfg.squash
        return float(rng.uniform(0.65, 0.95)) if p and rng.random() < p else 1.0

    def _angle(self, rng: np.random.Generator) -> float:
        r = self.cfg.rotate_deg
        return float(np.clip(rng.normal(0, r / 2), -r, r)) if r > 0 else 0.0

    def _distractor(self, canvas: np.ndarray, rng: np.random.Generator) -> None:
        h, w = canvas.shape[:2]
        size = max(8, int(min(h, w) * rng.uniform(0.08, 0.6)))
        rgb, alpha = self.bg.distractor(rng, size)
        ang = np.deg2rad(rng.uniform(-40, 40))
        c = rng.uniform([0, 0], [w, h])
        rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        centre = np.array([alpha.shape[1], alpha.shape[0]]) / 2
        m = np.hstack([rot, (c - rot @ centre)[:, None]])
        paste(canvas, rgb, alpha, m)

    def _occlude(self, canvas: np.ndarray, box: np.ndarray, rng: np.random.Generator) -> None:
        """Cover a part (up to about 40 %) of the face with a hand or an object."""
        bw, bh = box[2] - box[0], box[3] - box[1]
        size = max(6, int(max(bw, bh) * rng.uniform(0.3, 0.6)))
        rgb, alpha = self.bg.distractor(rng, size)
        side = rng.integers(4)
        cx = box[0] + bw * (
            rng.uniform(-0.1, 0.1)
            if side == 0
            else rng.uniform(0.9, 1.1)
            if side == 1
            else rng.uniform(0.2, 0.8)
        )
        cy = box[1] + bh * (rng.uniform(0.85, 1.1) if side >= 2 else rng.uniform(0.3, 0.9))
        m = np.array([[1.0, 0, cx - size / 2], [0, 1.0, cy - size / 2]])
        paste(canvas, rgb, alpha, m)
