"""Gender and 68 landmarks from aligned (masked) face crops, with the shipped network."""

from __future__ import annotations

import numpy as np

from unmask.faces.landmarks import FLIP_68
from unmask.metrics.calibration import sigmoid
from unmask.runtime.backend import as_net, open_net, open_part, resize_batch, to_nchw


class FaceAttributes:
    """Predict gender and 68 landmarks on aligned crops.

    Args:
        model: a :class:`~unmask.models.face_attr.FaceAttrNet` or a net of
            :mod:`unmask.runtime.backend` running one.
        image_size: the model's input side.
        temperature: gender logit temperature fitted on validation data (calibration).
        bands: a gender calibration per age band, used where the network gives an
            ``adult_logit``: ``{"adult": (T, b), "young": (T, b)}``; P(female) is then
            ``sigmoid(logit / T + b)`` with the pair of the band the adult logit reads
            (positive = adult), instead of ``temperature`` alone.
        flip: also run the mirrored crop and average both answers (test-time augmentation;
            twice the compute, more accurate). The temperature must be fitted the same way.
        second_look: whether the pipeline should follow each answer with :meth:`look_again`
            (the stage itself sees crops, not photos: the caller runs it);
            ``docs/robustness.md`` has its measured effect and cost.
        landmark_net: a net answering ``landmarks`` alone (an ensemble's landmark members),
            for :meth:`look_again`; default: ``model``.
        first_look_flip: with ``flip``, whether a first look that only places a second look's
            crop (``before_look=True``) runs the mirrored crop too; its gender is the answer's
            either way.
        second_look_flip: with ``flip``, whether :meth:`look_again` runs the mirrored crop too.
    """

    def __init__(
        self,
        model,
        image_size: int,
        temperature: float = 1.0,
        flip: bool = False,
        second_look: bool = False,
        landmark_net=None,
        first_look_flip: bool = True,
        second_look_flip: bool = True,
        bands: dict | None = None,
    ) -> None:
        ensemble = type(model).__name__ == "FaceAttrEnsemble"  # a module: its own outputs
        self.net = as_net(model, "FaceAttrEnsemble" if ensemble else "FaceAttrNet")
        self.landmark_net = self.net if landmark_net is None else landmark_net
        self.image_size = int(image_size)
        self.temperature = float(temperature)
        self.flip = bool(flip)
        self.second_look = bool(second_look)
        self.first_look_flip = bool(first_look_flip)
        self.second_look_flip = bool(second_look_flip)
        self.bands = None
        if bands:
            self.bands = {k: tuple(float(v) for v in bands[k]) for k in ("adult", "young")}

    @classmethod
    def from_weights(
        cls, weights_dir=None, device: str = "cpu", name: str = "attr", backend: str = "auto"
    ):
        """Load the ``attr`` weights (see :func:`unmask.runtime.backend.open_net`)."""
        net, info = open_net(name, weights_dir, backend, device)
        meta = info.meta
        return cls(
            net,
            info.args.get("image_size", meta.get("image_size", 128)),  # ensembles: in meta
            meta.get("gender_temperature", 1),
            meta.get("flip_tta", False),
            meta.get("second_look", False),
            open_part(net, info, "landmarks"),
            meta.get("first_look_flip_tta", True),
            meta.get("second_look_flip_tta", True),
            meta.get("gender_bands"),
        )

    @property
    def lean_first_look(self) -> bool:
        """Whether a first look before a second one (``before_look=True``) skips the mirrored
        crop that other calls run."""
        return self.flip and not self.first_look_flip

    @property
    def gender_flip(self) -> bool:
        """Whether the look that gives a photo's gender runs the mirrored crop too (the first
        look, which skips it where it only places a second look)."""
        return self.flip and not (self.second_look and self.lean_first_look)

    def raw(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The network's answers for float32 ``N x 3 x S x S`` RGB in [0, 1] at ``image_size``.

        Returns:
            ``(landmarks, logits, adult_logits)``: float32 ``N x 68 x 2`` xy in units of the
            crop side (pixel ``x = u * S - 0.5``), float32 ``N`` uncalibrated gender logits
            (female = 1) and float32 ``N`` adult logits (adult = positive; ``None`` when the
            network has no adult head); with ``flip``, the mean over the crop and its
            un-mirrored mirror image.
        """
        return self._run(self.net, x, self.flip)

    def p_female(self, logits: np.ndarray, adult_logits: np.ndarray | None) -> np.ndarray:
        """Calibrated P(female), float64 ``N``, of :meth:`raw`'s logits (per age band where
        ``bands`` and adult logits are given)."""
        if self.bands is None or adult_logits is None:
            return sigmoid(logits / self.temperature)
        pairs = np.where(
            (np.asarray(adult_logits) > 0)[:, None], self.bands["adult"], self.bands["young"]
        )
        return sigmoid(logits / pairs[:, 0] + pairs[:, 1])

    def _run(self, net, x: np.ndarray, flip: bool):
        n = x.shape[0]
        if flip:
            x = np.concatenate([x, x[..., ::-1]])
        out = net(image=np.ascontiguousarray(x, np.float32))
        lm = np.asarray(out["landmarks"], np.float32).reshape(-1, 68, 2)
        logit = out.get("gender_logit")
        logit = None if logit is None else np.asarray(logit, np.float32).reshape(-1)
        adult = out.get("adult_logit")
        adult = None if adult is None else np.asarray(adult, np.float32).reshape(-1)
        if flip:
            mirrored = lm[n:, FLIP_68]
            mirrored[..., 0] = 1 - mirrored[..., 0]
            lm = (lm[:n] + mirrored) / 2
            logit = None if logit is None else (logit[:n] + logit[n:]) / 2
            adult = None if adult is None else (adult[:n] + adult[n:]) / 2
        return lm, logit, adult

    def __call__(
        self, crops: np.ndarray, before_look: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run on a batch.

        Args:
            crops: ``N x S x S x 3`` uint8 RGB aligned crops (any S; resized to the model's).
            before_look: the landmarks only place a :meth:`look_again` crop (then the mirrored
                crop runs only with ``first_look_flip``).
        Returns:
            ``(landmarks, p_female)``: float32 ``N x 68 x 2`` pixel xy in the *input* crop's grid,
            and float32 ``N`` calibrated probability that the face is female.
        """
        crops = np.asarray(crops)
        if crops.ndim == 3:
            crops = crops[None]
        n, s = crops.shape[0], crops.shape[1]
        size = self.image_size
        flip = self.flip and not (before_look and self.lean_first_look)
        lm, logit, adult = self._run(self.net, to_nchw(resize_batch(crops, size)), flip)
        p = self.p_female(logit, adult)
        return (lm * s - 0.5).astype(np.float32).reshape(n, 68, 2), p.astype(np.float32)

    def look_again(self, image: np.ndarray, alignment, landmarks: np.ndarray) -> np.ndarray:
        """A second look at one face's landmarks: re-align the photo on the five keypoints
        fitted to a first answer's 68 points and predict the landmarks again (with the
        landmark net alone; the gender stays the first answer's).

        Args:
            image: ``H x W x 3`` uint8 RGB photo the crop was cut from.
            alignment: the first crop's :class:`~unmask.faces.align.Alignment`.
            landmarks: float32 ``(68, 2)`` first answer, pixel xy in that crop.
        Returns:
            The second answer's 68 points mapped into the *first* crop's grid, float32
            ``(68, 2)``; the first landmarks when the fitted keypoints are degenerate.
        """
        from unmask.faces.align import align
        from unmask.faces.landmarks import five_from_68

        try:
            again = align(image, five_from_68(alignment.to_photo(landmarks)), alignment.size)
        except ValueError:
            return np.asarray(landmarks, np.float32)
        x = to_nchw(resize_batch(again.crop[None], self.image_size))
        flip = self.flip and self.second_look_flip
        lm = self._run(self.landmark_net, x, flip)[0][0] * alignment.size - 0.5
        return alignment.to_crop(again.to_photo(lm)).astype(np.float32)
