"""Stages of the pipeline, loaded on first use: the part of :class:`unmask.Unmasker` that
finds each stage's weights and opens its network once."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

#: ``segmenter=`` names -> weights names.
SEGMENTERS = {"default": "segmenter", "unet": "segmenter", "maskrcnn": "segmenter_maskrcnn"}


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; validates the name."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}: use auto, cpu or cuda")
    if device == "cpu":
        return device
    from unmask.runtime.backend import have

    if not have("torch"):
        if device == "cuda":
            raise ValueError("device 'cuda' needs PyTorch: pip install 'unmask[train]'")
        return "cpu"
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA GPU is available")
    return "cuda" if torch.cuda.is_available() else "cpu"


class StageLoader:
    """Lazily loaded stages. Reads ``weights_dir``, ``device``, ``backend``, ``detector_name``,
    ``segmenter_name``, ``refine``, ``detail``, ``destripe`` and ``destripe_centre`` of the
    instance and keeps what it loads in ``_stages``."""

    #: The attributes that decide what the stages are: two loaders that agree on them may
    #: share their ``_stages``.
    STAGE_ATTRS = (
        "weights_dir",
        "device",
        "backend",
        "detector_name",
        "segmenter_name",
        "refine",
        "detail",
        "destripe",
        "destripe_centre",
    )

    def same_stages(self, other: StageLoader) -> bool:
        """Whether ``other`` would load the same stages (see :data:`STAGE_ATTRS`)."""
        return all(getattr(self, a) == getattr(other, a) for a in self.STAGE_ATTRS)

    def _stage(self, key: str, factory):
        if key not in self._stages:
            t = time.perf_counter()
            self._stages[key] = factory()
            log.info("loaded %s in %.0f ms", key, 1000 * (time.perf_counter() - t))
        return self._stages[key]

    @property
    def detector(self):
        from unmask import detection as detect
        from unmask.faces.teacher import TeacherUnavailable

        def make():
            name = self.detector_name
            if name == "auto":
                name = "unmask" if self._has_weights("detector") else "cnn"
            kwargs = {"weights_dir": self.weights_dir, "device": self.device}
            kwargs["backend"] = self.backend
            try:
                return detect.create(name, **(kwargs if name == "unmask" else {}))
            except TeacherUnavailable as exc:
                if self.detector_name != "auto":
                    raise
                raise RuntimeError(
                    f"no face detector: no trained detector weights were found and {exc}; "
                    "use --aligned for canonical crops"
                ) from None

        return self._stage("detector", make)

    @property
    def attributes(self):
        from unmask.stages.attr import FaceAttributes

        return self._stage(
            "attr",
            lambda: FaceAttributes.from_weights(
                self.weights_dir, self.device, backend=self.backend
            ),
        )

    @property
    def segmenter(self):
        from unmask.stages.segment import Segmenter

        name = SEGMENTERS[self.segmenter_name]

        def load():
            try:
                return Segmenter.from_weights(
                    self.weights_dir, name=name, device=self.device, backend=self.backend
                )
            except FileNotFoundError as exc:
                if name != "segmenter_maskrcnn":
                    raise
                msg = (
                    f"{exc}. Mask R-CNN weights are not shipped (they would break the 40 MB "
                    "weights budget): train them with `unmask train segmenter --arch maskrcnn` "
                    "(see MODEL_CARD.md), promote them into a folder and pass it as weights_dir "
                    "(--weights-dir)"
                )
                raise FileNotFoundError(msg) from None

        return self._stage("segment", load)

    @property
    def inpainter(self):
        from unmask.stages.inpaint import Inpainter

        return self._stage(
            "inpaint",
            lambda: Inpainter.from_weights(
                self.weights_dir,
                self.device,
                backend=self.backend,
                destripe=self.destripe,
                destripe_centre=self.destripe_centre,
            ),
        )

    @property
    def refiner(self):
        """The edge refiner, or ``None`` when it is off (or, by default, has no weights)."""
        from unmask.stages.refine import EdgeRefiner

        if self.refine is False or (self.refine is None and not self._has_weights("refiner")):
            return None
        return self._stage(
            "refine",
            lambda: EdgeRefiner.from_weights(self.weights_dir, self.device, backend=self.backend),
        )

    @property
    def detail_restorer(self):
        """The detail network of the finishing, or ``None`` when it is off (or, by default,
        has no weights)."""
        from unmask.stages.detail import DetailRestorer

        if self.detail is False or (self.detail is None and not self._has_weights("detail")):
            return None
        return self._stage(
            "detail",
            lambda: DetailRestorer.from_weights(self.weights_dir, self.device, self.backend),
        )

    def _has_weights(self, stage: str) -> bool:
        from unmask.runtime import weights

        try:
            weights.find(stage, self.weights_dir)
        except FileNotFoundError:
            return False
        return True
