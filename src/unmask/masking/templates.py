"""Template face masks in the MaskTheFace format, warped onto a face by a homography.

The template folder and its ``masks.cfg`` are read by :mod:`unmask.masking.template_files`;
optional ``textures/<category>/*.png|jpg`` give cloth patterns.

Placement: six face-side points come from the 68 landmarks
(:func:`~unmask.masking.template_fit.face_points`: nose bridge, chin, and jaw points near the
ears and at lower-lip height) and ``cv2.findHomography`` maps the anchors onto them. The view
(front, ``_left``, ``_right``) is the one whose anchor layout best matches the head yaw
(:func:`~unmask.masking.template_fit.estimate_yaw`). The warped mask always covers every mouth
point and (unless worn under the nose) the nose tip: failed placements are retried larger, then
with the front view, and a hull fill is the last resort. Appearance: optional texture or solid
colour (the template's shading kept), brightness, colour cast and saturation matched to the
photo. The array work (warp, coverage, hull fill, texture tiling, lighting) is in
:mod:`unmask.masking.template_drawing`.
"""

from __future__ import annotations

import colorsys
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from unmask.faces.landmarks import (
    MOUTH,
    NOSE_TIP,
    check_landmarks,
)
from unmask.masking.base import MaskedFace, finish
from unmask.masking.template_drawing import LUMA, alpha_at, force, scene, tile, warp
from unmask.masking.template_files import MaskTemplate, parse_masks_cfg
from unmask.masking.template_fit import estimate_yaw, face_box, face_points

log = logging.getLogger(__name__)

#: Kinds never recoloured, textured or worn under the nose (rubber respirators with filters).
RIGID_KINDS = frozenset({"gas"})
#: Common solid mask colours, RGB.
PALETTE = (
    (20, 20, 24),
    (240, 240, 236),
    (150, 200, 230),
    (40, 60, 110),
    (235, 170, 190),
    (120, 120, 125),
    (200, 60, 60),
    (70, 110, 80),
    (215, 200, 170),
)


class TemplateMasks:
    """:class:`~unmask.masking.base.MaskSource` drawing MaskTheFace templates onto faces.

    Each call picks a family uniformly from ``kinds``, a colour variant of it uniformly
    (``surgical``, ``surgical_blue``, ...), and the view (front / left / right) whose
    :attr:`MaskTemplate.yaw` is closest to the face's :func:`estimate_yaw`.

    Args:
        folder: folder with ``masks.cfg``, ``templates/`` and optionally ``textures/``.
        kinds: families to draw from (default: all in the cfg).
        exclude_kinds: families to leave out (names the cfg lacks are ignored).
        texture_prob: chance of a fabric texture from ``textures/`` (not for ``RIGID_KINDS``).
        colour_prob: chance of a random solid colour, shading kept; exclusive with a texture.
        nose_out_prob: chance (at most 0.15) of a mask worn under the nose (not for
            ``RIGID_KINDS``); the nose tip is then left uncovered, ``nose_covered`` False.
        match_lighting: fit the mask to the photo: brightness from the cheeks (a left/right
            ramp), the highlights' colour cast, and no colour in a greyscale photo.
    Raises:
        FileNotFoundError: missing folder, cfg or template file.
        ValueError: bad cfg, unknown kinds or probabilities out of range.
    """

    name = "template"

    def __init__(
        self,
        folder: str | Path,
        kinds: Sequence[str] | None = None,
        texture_prob: float = 0.3,
        colour_prob: float = 0.3,
        nose_out_prob: float = 0.1,
        match_lighting: bool = True,
        *,
        exclude_kinds: Sequence[str] = (),
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(
                f"mask template folder not found: {self.folder} (expected "
                "MaskTheFace's masks.cfg, templates/ and textures/)"
            )
        if not (
            0 <= texture_prob <= 1 and 0 <= colour_prob <= 1 and texture_prob + colour_prob <= 1
        ):
            raise ValueError("texture_prob and colour_prob must lie in [0, 1] and sum to <= 1")
        if not 0 <= nose_out_prob <= 0.15:
            raise ValueError(f"nose_out_prob must lie in [0, 0.15], got {nose_out_prob}")
        self.templates = parse_masks_cfg(self.folder / "masks.cfg")
        available = sorted({t.kind for t in self.templates})
        drop = {k.lower() for k in exclude_kinds}
        self.kinds = tuple(
            k for k in (available if kinds is None else [k.lower() for k in kinds]) if k not in drop
        )
        bad = sorted(set(self.kinds) - set(available))
        if bad or not self.kinds:
            raise ValueError(
                f"unknown or no mask kinds {bad or list(self.kinds)} (kinds={kinds}, "
                f"exclude_kinds={list(exclude_kinds)}); the cfg has {available}"
            )
        self._bases = {
            k: sorted({t.base for t in self.templates if t.kind == k}) for k in self.kinds
        }
        tex = self.folder / "textures"
        self.textures = (
            sorted(p for p in tex.rglob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
            if tex.is_dir()
            else []
        )
        self.texture_prob, self.colour_prob = float(texture_prob), float(colour_prob)
        self.nose_out_prob, self.match_lighting = float(nose_out_prob), bool(match_lighting)
        self._levels: dict[tuple[str, int], tuple] = {}
        self._texture_cache: dict[Path, np.ndarray] = {}

    def _level(self, t: MaskTemplate, k: int) -> tuple:
        """Template at scale ``2**-k``: straight RGB, alpha, luma, luma reference, anchors."""
        if (t.name, k) not in self._levels:
            raw = cv2.imread(str(t.path), cv2.IMREAD_UNCHANGED)
            if raw is None or raw.ndim != 3 or raw.shape[2] != 4 or raw.dtype != np.uint8:
                raise ValueError(f"template {t.path} must be an 8-bit RGBA image")
            rgba = cv2.cvtColor(raw, cv2.COLOR_BGRA2RGBA).astype(np.float32)
            alpha = rgba[..., 3] / 255.0
            prem = rgba[..., :3] * alpha[..., None]
            h, w = alpha.shape
            size = (max(round(w * 0.5**k), 8), max(round(h * 0.5**k), 8))
            if k:
                prem = cv2.resize(prem, size, interpolation=cv2.INTER_AREA)
                alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
            rgb = prem / np.maximum(alpha, 1e-3)[..., None]
            lum = rgb @ LUMA
            solid = alpha > 0.5
            ref = max(float(np.percentile(lum[solid], 90)) if solid.any() else 255.0, 1.0)
            anchors = (t.anchors + 0.5) * np.array([size[0] / w, size[1] / h], np.float32) - 0.5
            self._levels[t.name, k] = (rgb, alpha, lum, ref, anchors)
        return self._levels[t.name, k]

    def _texture(self, path: Path) -> np.ndarray:
        """A texture as float32 RGB (transparent parts on white), longest side <= 384 px."""
        if path not in self._texture_cache:
            from PIL import Image

            with Image.open(path) as im:
                rgba = im.convert("RGBA")
            back = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            arr = np.asarray(Image.alpha_composite(back, rgba).convert("RGB"), np.float32)
            s = 384 / max(arr.shape[:2])
            if s < 1:
                arr = cv2.resize(arr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            self._texture_cache[path] = arr
        return self._texture_cache[path]

    def _styled(
        self, t: MaskTemplate, image: np.ndarray, lm: np.ndarray, span: float, look: dict
    ) -> tuple[np.ndarray, np.ndarray]:
        """Premultiplied float32 RGBA template (``look`` applied) at a scale near the face's
        ``span`` (pixels between ``a`` and ``c``), and its anchors at that scale."""
        ratio = span / max(float(np.hypot(*(t.anchors[2] - t.anchors[0]))), 1e-6)
        k = int(np.clip(round(-math.log2(max(ratio, 1e-6))), 0, 5))
        rgb, alpha, lum, ref, anchors = self._level(t, k)
        if look["texture"] is not None or look["colour"] is not None:
            shade = np.clip(lum / ref, 0, 1.15)[..., None]  # keep the template's shading
            if look["texture"] is not None:
                period = look["period"] * float(np.hypot(*(anchors[2] - anchors[0])))
                rgb = tile(self._texture(look["texture"]), lum.shape, period, look["phase"])
            else:
                rgb = np.asarray(look["colour"], np.float32)
            rgb = rgb * shade
            lum = rgb @ LUMA
        gain = np.full(rgb.shape[1], look["bright"], np.float32)
        sat, cast = look["sat"], np.ones(3, np.float32)
        if self.match_lighting:  # per-column ramp between the image-left and -right cheeks
            gains, cast, chroma = scene(image, lm)
            gain *= np.interp(np.arange(rgb.shape[1]), anchors[[0, 2], 0], gains)
            sat *= chroma
        rgb = rgb * (sat * cast) + lum[..., None] * ((1 - sat) * cast)
        rgb *= (alpha * gain)[..., None]
        return cv2.merge([*cv2.split(np.maximum(rgb, 0, out=rgb)), alpha]), anchors

    def apply(
        self, image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator
    ) -> MaskedFace:
        """Draw one random template mask (see :meth:`MaskSource.apply`).

        ``params``: ``template``, ``side``, ``texture`` (path under ``textures/`` or None),
        ``colour`` (RGB ints or None), ``nose_out``, ``attempts`` (placements tried) and
        ``forced`` (True when a last-resort hull fill completed the mouth / nose coverage).
        """
        img = np.asarray(image)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {img.dtype} {img.shape}")
        lm = check_landmarks(landmarks)
        kind = self.kinds[int(rng.integers(len(self.kinds)))]
        base = self._bases[kind][int(rng.integers(len(self._bases[kind])))]
        views = [t for t in self.templates if t.base == base]
        yaw = estimate_yaw(lm)
        views.sort(key=lambda t: (abs(t.yaw - yaw), t.side != "front"))
        views = views[:1] + [t for t in views[1:2] if t.side == "front"]  # front = fallback
        rigid = kind in RIGID_KINDS
        nose_out = float(rng.uniform(0.05, 0.35)) if rng.random() < self.nose_out_prob else None
        nose_out = None if rigid else nose_out
        top, drop, out = rng.uniform(0.35, 0.55), rng.uniform(0.0, 0.05), rng.uniform(0.0, 0.04)
        style = rng.random()
        look = {
            "texture": None,
            "colour": None,
            "sat": rng.uniform(0.85, 1.1),
            "bright": rng.uniform(0.92, 1.05),
            "period": rng.uniform(0.3, 0.8),
            "phase": rng.random(2),
        }
        if not rigid and style < self.texture_prob and self.textures:
            look["texture"] = self.textures[int(rng.integers(len(self.textures)))]
        elif not rigid and style >= 1 - self.colour_prob:
            if rng.random() < 0.5:
                look["colour"] = list(PALETTE[int(rng.integers(len(PALETTE)))])
            else:
                hsv = rng.random(), rng.uniform(0.25, 0.9), rng.uniform(0.3, 0.95)
                look["colour"] = [round(255 * c) for c in colorsys.hsv_to_rgb(*hsv)]

        fw = face_box(lm)[2]
        sigma = float(np.clip(0.004 * fw, 0.5, 1.5))
        mouth, nose = lm[list(MOUTH)], lm[NOSE_TIP][None]
        plan = [(g, nose_out) for g in range(3) if nose_out is not None]
        plan += [(g, None) for g in range(4)]
        warped, attempts, done = None, 0, False
        for t in views:  # the closest view, then the front view if that one cannot be placed
            pts = face_points(lm, t.anchors, top, drop, out)
            prem, anchors = self._styled(t, img, lm, float(np.hypot(*(pts[2] - pts[0]))), look)
            for grow, n_out in plan:
                attempts += 1
                pts = face_points(lm, anchors, top, drop, out, grow, n_out)
                res = warp(prem, anchors, pts, img.shape[:2], sigma, affine=t is views[-1])
                if res is None:  # degenerate homography: go to the next view
                    break
                warped = res
                (at_nose,), at_mouth = alpha_at(res[0], nose), alpha_at(res[0], mouth)
                # points off the image (alpha -1) cannot be covered and do not count
                nose_ok = at_nose <= 0.5 if n_out is not None else at_nose > 0.5 or at_nose < 0
                done = bool(nose_ok and np.all((at_mouth > 0.5) | (at_mouth < 0)))
                if done:
                    break
            if done:
                break
        if not done:
            n_out = None
            if warped is None:
                warped = (
                    np.zeros(img.shape[:2], np.float32),
                    np.zeros((*img.shape[:2], 3), np.float32),
                )
            force(*warped, np.concatenate([mouth, nose]), fw)
            log.debug("template %s needed the hull fill to cover mouth/nose", t.name)
        tex = look["texture"]
        params = {
            "template": t.name,
            "side": t.side,
            "nose_out": n_out is not None,
            "texture": None
            if tex is None
            else tex.relative_to(self.folder / "textures").as_posix(),
            "colour": look["colour"],
            "attempts": attempts,
            "forced": not done,
        }
        return finish(img, warped[1], warped[0], lm, self.name, kind, params)
