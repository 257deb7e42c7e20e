"""Rebuild the masked region of aligned face crops with the shipped inpainting generator.

The crop is resized to the model's side, the landmarks are rendered as contour maps, the
generator fills the hole conditioned on them and on the gender, and the prediction is resized
back and pasted *only inside the mask* at the input's own resolution (outside pixels stay
bit-identical).
"""

from __future__ import annotations

import numpy as np

from unmask.runtime.backend import as_net, open_net, to_nchw

GENDER_PROB = {"female": 1.0, "male": 0.0}


def gender_prob(gender) -> float:
    """``"female"`` -> 1, ``"male"`` -> 0, ``None`` -> 0.5 (unknown), a number -> P(female)."""
    if gender is None:
        return 0.5
    if isinstance(gender, str):
        try:
            return GENDER_PROB[gender]
        except KeyError:
            msg = f"gender must be 'female', 'male', None or P(female): {gender!r}"
            raise ValueError(msg) from None
    return float(np.clip(float(gender), 0.0, 1.0))


def hole_radius(margin: float, side: int) -> int:
    """Pixels a hole grows by for a margin given as a fraction of a ``side``-pixel crop (the
    same at training and at inference)."""
    return int(round(margin * side))


def _resize(images: np.ndarray, size: int, interpolation_down, interpolation_up) -> np.ndarray:
    import cv2

    s = images.shape[1]
    if s == size:
        return images
    inter = interpolation_down if s > size else interpolation_up
    return np.stack([cv2.resize(im, (size, size), interpolation=inter) for im in images])


def check_destripe_centre(centre: float) -> float:
    """The row filter's centre weight as a float; raises ``ValueError`` unless positive."""
    if not centre > 0:
        raise ValueError(f"the destripe centre weight must be positive, got {centre}")
    return float(centre)


def destripe(images: np.ndarray, centre: float = 2.0) -> np.ndarray:
    """Take the near-Nyquist horizontal oscillation (fine vertical streaks) out of float32
    ``N x C x H x W`` images: each row filtered with ``[1, c, 1] / (c + 2)`` (edges
    reflected), ``c`` = ``centre`` > 0; the larger ``c``, the weaker the filter (its gain at
    the Nyquist frequency is ``(c - 2) / (c + 2)``)."""
    centre = check_destripe_centre(centre)
    padded = np.pad(images, ((0, 0), (0, 0), (0, 0), (1, 1)), mode="reflect")
    out = padded[..., :-2] + centre * padded[..., 1:-1] + padded[..., 2:]
    return (out / (centre + 2)).astype(images.dtype, copy=False)


class Inpainter:
    """Fill face-mask holes in aligned crops.

    Args:
        model: an :class:`~unmask.models.inpainter.InpaintGenerator` or a net of
            :mod:`unmask.runtime.backend` running one.
        image_size: the model's side (a multiple of 8).
        landmark_sigma: contour line sigma as a fraction of the side (as in training).
        hole_margin: how far :meth:`hole` grows a face-mask map, as a fraction of the side
            (the model was trained on holes grown by about this much).
        destripe: filter the generator's output horizontally with ``[1, c, 1] / (c + 2)`` on
            the model grid (:func:`destripe`): the network adds fine vertical streaks that
            faces do not have.
        destripe_centre: the filter's centre weight ``c``.
    """

    def __init__(
        self,
        model,
        image_size: int,
        landmark_sigma: float = 0.01,
        hole_margin: float = 0.0,
        destripe: bool = False,
        destripe_centre: float = 2.0,
    ) -> None:
        self.net = as_net(model, "InpaintGenerator")
        self.image_size = int(image_size)
        self.landmark_sigma = float(landmark_sigma)
        self.hole_margin = float(hole_margin)
        self.destripe = bool(destripe)
        self.destripe_centre = check_destripe_centre(destripe_centre)

    @classmethod
    def from_weights(
        cls,
        weights_dir=None,
        device: str = "cpu",
        name: str = "inpainter",
        backend: str = "auto",
        destripe: bool = False,
        destripe_centre: float = 2.0,
    ):
        """Load ``<name>`` weights (see :func:`unmask.runtime.backend.open_net`)."""
        net, info = open_net(name, weights_dir, backend, device)
        meta = info.meta
        return cls(
            net,
            meta.get("image_size", 128),
            meta.get("landmark_sigma", 0.01),
            meta.get("hole_margin", 0.0),
            destripe,
            destripe_centre,
        )

    def hole(self, mask: np.ndarray, margin: float | None = None) -> np.ndarray:
        """The region to rebuild for a face-mask map: ``mask`` (uint8 ``S x S`` or
        ``N x S x S``, nonzero = face mask) grown by ``margin * S`` pixels (default: the
        ``hole_margin`` the model was trained with), so that the soft edge, cast shadow and
        ear-loop pixels a binary mask map leaves out are rebuilt too.
        Returns uint8 in {0, 1}, same shape."""
        from unmask.stages.segment import dilate

        mask = np.asarray(mask)
        margin = self.hole_margin if margin is None else margin
        return dilate(mask, hole_radius(margin, mask.shape[-1]))

    @property
    def guided(self) -> bool:
        """Whether the model takes landmarks and gender (False for the unguided ablation)."""
        return "landmark_map" in self.net.inputs or "gender" in self.net.inputs

    def __call__(self, crop: np.ndarray, mask: np.ndarray, landmarks=None, gender=None):
        """Restore one crop.

        Args:
            crop: ``S x S x 3`` uint8 RGB aligned crop (any S).
            mask: ``S x S`` uint8 (or bool), nonzero = hole (see :meth:`hole` to get it from
                a face-mask map).
            landmarks: ``(68, 2)`` float pixel xy in the crop (needed by a guided model).
            gender: ``"female"``, ``"male"``, ``None`` (unknown) or P(female) in [0, 1].
        Returns:
            ``S x S x 3`` uint8 RGB: the crop with the hole rebuilt.
        """
        lm = None if landmarks is None else np.asarray(landmarks, np.float32)[None]
        return self.batch(crop[None], np.asarray(mask)[None], lm, [gender_prob(gender)])[0]

    def batch(self, crops: np.ndarray, masks: np.ndarray, landmarks=None, p_female=None):
        """Restore ``N`` crops of one size: ``N x S x S x 3`` uint8, masks ``N x S x S``
        (nonzero = hole), landmarks ``N x 68 x 2`` px or None, ``p_female`` ``N`` floats or
        None (unknown). Returns ``N x S x S x 3`` uint8."""
        import cv2

        from unmask.faces.landmark_map import render, sigma_for

        crops = np.asarray(crops)
        if crops.dtype != np.uint8 or crops.ndim != 4 or crops.shape[-1] != 3:
            raise ValueError(f"expected N x S x S x 3 uint8 crops, got {crops.dtype} {crops.shape}")
        n, s = crops.shape[:2]
        hole = np.asarray(masks).reshape(n, s, s) > 0
        size = self.image_size
        x = to_nchw(_resize(crops, size, cv2.INTER_AREA, cv2.INTER_LINEAR))
        m = (_resize(hole.astype(np.float32), size, cv2.INTER_AREA, cv2.INTER_LINEAR) > 0)[:, None]
        m = m.astype(np.float32)
        inputs = {"image": x, "mask": m}
        if "landmark_map" in self.net.inputs:
            if landmarks is None:
                raise ValueError("this inpainter is landmark-guided: pass 68 landmarks")
            lm = (np.asarray(landmarks, np.float32).reshape(n, 68, 2) + 0.5) * size / s - 0.5
            inputs["landmark_map"] = render(lm, size, sigma_for(size, self.landmark_sigma))
        p = np.full(n, 0.5, np.float32) if p_female is None else np.asarray(p_female, np.float32)
        inputs["gender"] = p
        pred = self.net(**{k: v for k, v in inputs.items() if k in self.net.inputs})["restored"]
        if self.destripe:
            pred = destripe(pred, self.destripe_centre)
        pred = m * pred + (1 - m) * x
        out = np.round(np.clip(pred, 0, 1) * 255).astype(np.uint8).transpose(0, 2, 3, 1)
        out = _resize(out, s, cv2.INTER_AREA, cv2.INTER_CUBIC)
        return np.where(hole[..., None], out, crops)
