"""Face-free imagery for detector composites: backgrounds and distractor objects.

Everything here is RGB ``uint8`` (or float32 0-255 where noted) and draws its randomness only
from the ``numpy.random.Generator`` it is given, so a seed reproduces a picture.

Background sources: face-free scikit-image sample photos (people and faces left out), crops of
the labelled masked-face photos that avoid the face, fabric textures of the mask templates,
and procedural pictures (:mod:`unmask.scenes.patterns`: gradients, value noise, shapes,
stripes, blurred skin tones).
Distractors are objects that look a little like parts of a face: masks *without* a face,
skin-coloured ovals and hands, fabric patches.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from unmask.scenes.patterns import _colour, procedural, skin_colour, value_noise

log = logging.getLogger(__name__)

#: scikit-image sample photos without people or faces, by split. ``astronaut``, ``camera`` and
#: ``lfw_subset`` show people and are never used.
SKIMAGE_TRAIN = (
    "cell.png",
    "chessboard_RGB.png",
    "color.png",
    "grass.png",
    "horse.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "logo.png",
    "microaneurysms.png",
    "moon.png",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "phantom.png",
    "retina.jpg",
)
#: Held out for validation, so that thresholds chosen there see backgrounds the detector never
#: trained on (with training pictures, validation showed 0.017 false faces per face-free picture
#: against 0.137 with held-out ones).
SKIMAGE_VAL = ("brick.png", "clock_motion.png", "coins.png", "text.png")
SKIMAGE_TEST = ("chelsea.png", "coffee.png", "gravel.png", "page.png", "rocket.jpg")


@cache
def skimage_photo(name: str) -> np.ndarray:
    """A bundled scikit-image sample photo by file name, ``H x W x 3`` uint8 RGB (cached)."""
    import skimage.data
    from PIL import Image

    with Image.open(Path(skimage.data.__file__).parent / name) as im:
        return np.asarray(im.convert("RGB"))


class Backgrounds:
    """Face-free backgrounds and distractor objects for one split.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"``: natural pictures from
            :data:`SKIMAGE_TRAIN`, :data:`SKIMAGE_VAL` or :data:`SKIMAGE_TEST`.
        template_dir: MaskTheFace-format folder (``templates/*.png`` masks drawn as objects,
            ``textures/`` fabric pictures); ``None`` leaves those out.
        photos: ``(path, face_box)`` pairs: photos with one face whose other regions are used
            as real-world context (the face box enlarged 1.6x is avoided).
    """

    def __init__(
        self,
        split: str = "train",
        template_dir: str | Path | None = None,
        photos: list[tuple[Path, np.ndarray]] | None = None,
    ) -> None:
        natural = {"train": SKIMAGE_TRAIN, "val": SKIMAGE_VAL, "test": SKIMAGE_TEST}
        if split not in natural:
            raise ValueError(f"unknown split {split!r}: use train, val or test")
        self.natural = natural[split]
        self.photos = list(photos or [])
        self.templates: list[Path] = []
        self.textures: list[Path] = []
        if template_dir is not None:
            root = Path(template_dir)
            self.templates = sorted((root / "templates").glob("*.png"))
            exts = {".png", ".jpg", ".jpeg"}
            self.textures = sorted(
                p for p in (root / "textures").rglob("*") if p.suffix.lower() in exts
            )

    def sample(self, rng: np.random.Generator, h: int, w: int, textures: float = 0.0) -> np.ndarray:
        """A background picture, ``h x w x 3`` uint8 RGB; with probability ``textures`` a
        procedural natural texture (:mod:`unmask.scenes.textures`; no draw when 0, so scenes of
        a seed stay as they were)."""
        if textures and rng.random() < textures:
            from unmask.scenes.textures import KINDS

            return procedural(rng, h, w, str(rng.choice(KINDS)))
        u = rng.random()
        if u < 0.25:
            src = skimage_photo(self.natural[int(rng.integers(len(self.natural)))])
        elif u < 0.45 and self.photos:
            src = self._photo_crop(rng)
        elif u < 0.55 and self.textures:
            src = _texture(self.textures[int(rng.integers(len(self.textures)))])
        else:
            return procedural(rng, h, w)
        return _fit(src, rng, h, w)

    def _photo_crop(self, rng: np.random.Generator) -> np.ndarray:
        """A crop of a face photo that avoids its (enlarged) face box."""
        path, box = self.photos[int(rng.integers(len(self.photos)))]
        img = _read_rgb(path, 512)
        f = img.shape[1] / _image_width(path)
        bx = np.asarray(box, np.float32) * f
        cx, cy, bw, bh = (bx[0] + bx[2]) / 2, (bx[1] + bx[3]) / 2, bx[2] - bx[0], bx[3] - bx[1]
        avoid = np.array([cx - 0.8 * bw, cy - 0.8 * bh, cx + 0.8 * bw, cy + 0.8 * bh])
        h, w = img.shape[:2]
        for _ in range(12):
            s = int(rng.uniform(0.12, 0.45) * min(h, w))
            x, y = int(rng.integers(0, w - s)), int(rng.integers(0, h - s))
            if x + s < avoid[0] or x > avoid[2] or y + s < avoid[1] or y > avoid[3]:
                return img[y : y + s, x : x + s]
        a = np.clip(avoid, 0, [w, h, w, h]).astype(int)
        strips = [img[: a[1]], img[a[3] :], img[:, : a[0]], img[:, a[2] :]]
        best = max(strips, key=lambda x: min(x.shape[:2]))
        return best if min(best.shape[:2]) >= 8 else procedural(rng, 64, 64)

    def distractor(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """A face-free object about ``size`` px: float32 RGB ``h x w x 3`` and alpha in [0, 1].

        Kinds: a face-mask template without a face (recoloured or textured at times), a
        skin-coloured oval, a hand, a fabric patch.
        """
        rgb, alpha = self._object(rng, size)
        return rgb, np.clip(alpha, 0.0, 1.0)

    def _object(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        u = rng.random()
        if u < 0.4 and self.templates:
            return self._mask_object(rng, size)
        if u < 0.6:
            return _hand(rng, size)
        if u < 0.8:
            rgb = np.empty((size, size, 3), np.float32)
            rgb[:] = skin_colour(rng)
            rgb *= (0.6 + 0.5 * value_noise(rng, size, size, 2))[..., None]
            alpha = np.zeros((size, size), np.float32)
            ax = (max(1, int(size * rng.uniform(0.25, 0.48))), max(1, int(size * 0.48)))
            cv2.ellipse(alpha, (size // 2, size // 2), ax, 0, 0, 360, 1.0, -1, cv2.LINE_AA)
            return rgb, cv2.GaussianBlur(alpha, (0, 0), max(0.5, size * 0.02))
        rgb = self.sample(rng, size, size).astype(np.float32)
        alpha = np.zeros((size, size), np.float32)
        pts = (size / 2 + rng.normal(0, size / 4, (int(rng.integers(3, 8)), 2))).astype(np.int32)
        cv2.fillPoly(alpha, [cv2.convexHull(pts)], 1.0, cv2.LINE_AA)
        return rgb, alpha

    def _mask_object(self, rng: np.random.Generator, size: int):
        rgba = _template(self.templates[int(rng.integers(len(self.templates)))])
        f = size / max(rgba.shape[:2])
        rgba = cv2.resize(rgba, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        rgb, alpha = rgba[..., :3], rgba[..., 3] / 255.0
        if rng.random() < 0.4:
            shade = (rgb @ np.array([0.299, 0.587, 0.114], np.float32)) / 255.0
            rgb = shade[..., None] * _colour(rng)[None, None] * 1.2
        return np.clip(rgb, 0, 255), alpha


def _hand(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A crude skin-coloured hand (palm and fingers), float32 RGB and alpha."""
    alpha = np.zeros((size, size), np.float32)
    c = np.array([size * 0.5, size * 0.62])
    palm = (max(1, int(size * 0.22)), max(1, int(size * 0.25)))
    cv2.ellipse(alpha, tuple(int(v) for v in c), palm, 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    for k, ang in enumerate(np.linspace(-0.9, 0.6, 5)):
        length = size * (0.28 if k else 0.2) * rng.uniform(0.8, 1.1)
        a = ang - np.pi / 2 + (0.5 if k == 0 else 0.0)
        end = c + length * 1.6 * np.array([np.cos(a), np.sin(a)])
        cv2.line(
            alpha,
            tuple(int(v) for v in c),
            tuple(int(v) for v in end),
            1.0,
            max(1, int(size * 0.07)),
            cv2.LINE_AA,
        )
    rgb = np.empty((size, size, 3), np.float32)
    rgb[:] = skin_colour(rng)
    rgb *= (0.7 + 0.4 * value_noise(rng, size, size, 2))[..., None]
    m = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-60, 60), 1.0)
    alpha = cv2.warpAffine(alpha, m, (size, size))
    return rgb, cv2.GaussianBlur(alpha, (0, 0), max(0.5, size * 0.01))


@cache
def _template(path: Path) -> np.ndarray:
    """A mask template as float32 RGBA, longer side at most 256 px (cached)."""
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None or raw.ndim != 3 or raw.shape[2] != 4:
        raise ValueError(f"template {path} must be an RGBA image")
    rgba = cv2.cvtColor(raw, cv2.COLOR_BGRA2RGBA).astype(np.float32)
    f = 256 / max(rgba.shape[:2])
    return cv2.resize(rgba, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else rgba


@cache
def _texture(path: Path) -> np.ndarray:
    """A fabric texture as uint8 RGB, longer side at most 384 px (cached)."""
    img = _read_rgb(path)
    f = 384 / max(img.shape[:2])
    return cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else img


@cache
def _image_width(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as im:
        return im.size[0]


def _read_rgb(path: Path, max_side: int | None = None) -> np.ndarray:
    """Decode an image as RGB uint8; JPEGs are decoded at a reduced scale when ``max_side``
    allows it (at least ``max_side`` px remain on the longer side)."""
    from PIL import Image

    with Image.open(path) as im:
        if max_side is not None and im.format == "JPEG":
            w, h = im.size
            f = max_side / max(w, h)
            im.draft("RGB", (max(1, int(w * f)), max(1, int(h * f))))
        if im.mode == "RGBA":
            back = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(back, im)
        return np.asarray(im.convert("RGB"))


def _fit(src: np.ndarray, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Random crop of ``src`` at a random scale, flipped at times, resized to ``h x w``."""
    sh, sw = src.shape[:2]
    s = rng.uniform(0.35, 1.0)
    ch, cw = max(4, int(sh * s)), max(4, int(sw * s))
    if cw / ch > w / h:
        cw = max(4, int(ch * w / h))
    else:
        ch = max(4, int(cw * h / w))
    cw, ch = min(cw, sw), min(ch, sh)
    y, x = int(rng.integers(0, sh - ch + 1)), int(rng.integers(0, sw - cw + 1))
    crop = src[y : y + ch, x : x + cw]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    inter = cv2.INTER_AREA if cw > w else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(crop), (w, h), interpolation=inter)


def paste(canvas: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, m: np.ndarray) -> None:
    """Alpha-composite ``rgb`` (float32 0-255) warped by the ``2 x 3`` affine ``m`` onto the
    float32 ``canvas`` in place, touching only the warped object's bounding box."""
    h, w = canvas.shape[:2]
    sh, sw = alpha.shape
    corners = np.array([[0, 0], [sw, 0], [0, sh], [sw, sh]], np.float64) @ m[:, :2].T + m[:, 2]
    x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int) + 2, [w, h])
    if x1 <= x0 or y1 <= y0:
        return
    mm = m.copy()
    mm[:, 2] -= (x0, y0)
    size = (int(x1 - x0), int(y1 - y0))
    a = cv2.warpAffine(alpha.astype(np.float32), mm, size, flags=cv2.INTER_LINEAR)[..., None]
    col = cv2.warpAffine(
        rgb.astype(np.float32), mm, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    region = canvas[y0:y1, x0:x1]
    region *= 1 - a
    region += col * a
