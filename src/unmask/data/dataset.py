"""PyTorch dataset over a built dataset (``unmask data build``), with augmentation.

Each item is a dict of tensors at side ``size``:
    ``masked``, ``clean``: float32 ``3 x S x S`` RGB in [0, 1];
    ``mask``: float32 ``1 x S x S`` in {0, 1}, 1 = face-mask pixel (conservative: any pixel
    partly covered after resizing counts as mask);
    ``inside``: float32 ``1 x S x S`` in {0, 1}, 1 = pixel of the source photo, 0 = padding
    (all ones for datasets built before the builder wrote ``inside/`` maps);
    ``landmarks``: float32 ``68 x 2`` pixel xy at side S, iBUG order;
    ``gender``: int64, 0 male, 1 female, -1 unknown; ``age``: float32, -1 unknown;
    ``index``: int64 row index in the manifest selection.
Masked and clean images get the same geometric and photometric transform.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from unmask.data.manifest import load_manifest, read_crop
from unmask.faces.landmarks import flip_landmarks

GENDER_INDEX = {"male": 0, "female": 1}


@dataclass
class Augment:
    """Augmentation strengths (all off with :meth:`none`)."""

    flip: float = 0.5
    rotate_deg: float = 8.0
    scale: float = 0.06
    shift: float = 0.04
    brightness: float = 0.25
    contrast: float = 0.25
    saturation: float = 0.3
    gamma: float = 0.2
    grayscale: float = 0.05
    noise: float = 0.02
    blur: float = 0.1

    @classmethod
    def none(cls) -> Augment:
        return cls(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


class FaceMaskDataset(Dataset):
    """Masked samples of one split of a built dataset.

    Args:
        root: the dataset folder.
        split: ``"train"``, ``"val"``, ``"test"`` or ``None`` for all.
        size: output side in pixels (the dataset's crops are resized).
        augment: augmentation strengths, or ``None`` for none (evaluation).
        exclude_kinds: mask kinds to leave out (held-out-style experiments).
        only_kinds: if given, keep only these mask kinds.
        seed: base seed of the augmentation stream (combined with the index and epoch).
        detector_align: with augmentation, the probability that a sample is first re-cut as
            photo mode would cut it: aligned on the face detector's keypoints (from
            :mod:`unmask.data.detector_points`) instead of the teacher's, errors included.
    """

    def __init__(
        self,
        root: str | Path,
        split: str | None = "train",
        size: int = 128,
        augment: Augment | None = None,
        exclude_kinds: tuple[str, ...] = (),
        only_kinds: tuple[str, ...] | None = None,
        seed: int = 0,
        detector_align: float = 0.0,
    ) -> None:
        self.root = Path(root)
        rows = load_manifest(self.root, split, exclude_kinds)
        if only_kinds is not None:
            rows = [r for r in rows if r["mask_type"] in only_kinds]
        if not rows:
            raise ValueError(f"no samples in {root} for split={split!r}")
        self.rows = rows
        self.size = int(size)
        self.augment = augment
        self.seed = seed
        self.epoch = 0
        self.detector_align = float(detector_align)
        self.points = {}
        if self.detector_align > 0:
            from unmask.data.detector_points import load

            self.points = load(self.root)

    def __len__(self) -> int:
        return len(self.rows)

    def set_epoch(self, epoch: int) -> None:
        """Change the augmentation stream (call once per epoch)."""
        self.epoch = epoch

    def _matrix(self, src: int, rng: np.random.Generator) -> np.ndarray:
        """Affine matrix (2x3, pixel-centre convention) from the stored crop to the output
        crop, with random rotation, scale and shift when augmenting."""
        s = self.size / src
        a = self.augment
        ang = sc = tx = ty = 0.0
        if a is not None:
            ang = np.deg2rad(rng.uniform(-a.rotate_deg, a.rotate_deg))
            sc = rng.uniform(-a.scale, a.scale)
            tx, ty = rng.uniform(-a.shift, a.shift, 2) * self.size
        cos, sin = np.cos(ang) * s * (1 + sc), np.sin(ang) * s * (1 + sc)
        cs, c = (src - 1) / 2, (self.size - 1) / 2
        return np.array(
            [[cos, -sin, c + tx - cos * cs + sin * cs], [sin, cos, c + ty - sin * cs - cos * cs]]
        )

    def _photo_mode(self, r: dict, rng: np.random.Generator, m: np.ndarray) -> np.ndarray:
        """``m`` preceded, with probability ``detector_align``, by the similarity that moves
        the detector's keypoints onto the teacher's: the crop photo mode would have cut."""
        from unmask.faces.align import umeyama
        from unmask.faces.landmarks import five_from_68

        kp = self.points.get(r["image"])
        if kp is None or rng.random() >= self.detector_align:
            return m
        teacher = five_from_68(np.asarray(r["landmarks"], np.float32))
        fix = np.vstack([umeyama(np.asarray(kp, np.float64), teacher), [0, 0, 1]])
        return m @ fix

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        import cv2

        r = self.rows[i]
        rng = np.random.default_rng([self.seed, self.epoch, i])
        masked, clean = read_crop(self.root / r["image"]), read_crop(self.root / r["clean"])
        mask = read_crop(self.root / r["mask"], gray=True).astype(np.float32) / 255.0
        inside = (
            read_crop(self.root / r["inside"], gray=True).astype(np.float32) / 255.0
            if "inside" in r
            else np.ones_like(mask)
        )
        src = masked.shape[0]
        m = self._matrix(src, rng)
        if self.detector_align > 0 and self.augment is not None:
            m = self._photo_mode(r, rng, m)
        lm = np.asarray(r["landmarks"], np.float32) @ m[:, :2].T.astype(np.float32) + m[:, 2]
        out = (self.size, self.size)
        # Shrink with area averaging first (no aliasing), then warp at the output scale.
        f = self.size / src
        if f < 1:
            masked, clean, mask, inside = (
                cv2.resize(x, out, interpolation=cv2.INTER_AREA)
                for x in (masked, clean, mask, inside)
            )
            m = m @ np.array([[1 / f, 0, (1 / f - 1) / 2], [0, 1 / f, (1 / f - 1) / 2], [0, 0, 1]])
        if not np.allclose(m, [[1, 0, 0], [0, 1, 0]]):
            kw = dict(dsize=out, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            masked, clean = cv2.warpAffine(masked, m, **kw), cv2.warpAffine(clean, m, **kw)
            mask = cv2.warpAffine(mask, m, dsize=out, flags=cv2.INTER_LINEAR)
            inside = cv2.warpAffine(inside, m, dsize=out, flags=cv2.INTER_LINEAR)
        mask = (mask > 0.02).astype(np.float32)
        inside = (inside > 0.5).astype(np.float32)
        if self.augment is not None and rng.random() < self.augment.flip:
            masked, clean, mask = masked[:, ::-1], clean[:, ::-1], mask[:, ::-1]
            inside = inside[:, ::-1]
            lm = flip_landmarks(lm, self.size)
        x = np.stack([masked, clean]).astype(np.float32) / 255.0
        if self.augment is not None:
            x = photometric(x, self.augment, rng)
        return {
            "masked": torch.from_numpy(np.ascontiguousarray(x[0].transpose(2, 0, 1))),
            "clean": torch.from_numpy(np.ascontiguousarray(x[1].transpose(2, 0, 1))),
            "mask": torch.from_numpy(np.ascontiguousarray(mask[None])),
            "inside": torch.from_numpy(np.ascontiguousarray(inside[None])),
            "landmarks": torch.from_numpy(np.ascontiguousarray(lm, dtype=np.float32)),
            "gender": torch.tensor(GENDER_INDEX.get(r.get("gender"), -1), dtype=torch.int64),
            "age": torch.tensor(-1.0 if r.get("age") is None else float(r["age"])),
            "index": torch.tensor(i, dtype=torch.int64),
        }


def photometric(x: np.ndarray, a: Augment, rng: np.random.Generator) -> np.ndarray:
    """The same random colour transform on every image of ``x`` (``K x H x W x 3`` in [0, 1])."""
    x = x * (1 + rng.uniform(-a.brightness, a.brightness))
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    x = (x - mean) * (1 + rng.uniform(-a.contrast, a.contrast)) + mean
    gray = x @ np.array([0.299, 0.587, 0.114], np.float32)
    sat = 0.0 if rng.random() < a.grayscale else 1 + rng.uniform(-a.saturation, a.saturation)
    x = gray[..., None] + (x - gray[..., None]) * sat
    x = np.clip(x, 0, 1) ** np.exp(rng.uniform(-a.gamma, a.gamma))
    if rng.random() < a.blur:
        import cv2

        k = rng.uniform(0.5, 1.2)
        x = np.stack([cv2.GaussianBlur(im, (0, 0), k) for im in x])
    if a.noise > 0:
        x = x + rng.normal(0, rng.uniform(0, a.noise), x.shape[1:]).astype(np.float32)
    return np.clip(x, 0, 1).astype(np.float32)
