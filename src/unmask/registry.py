"""The one registry of the package: pipeline stages, network architectures and detector
backends, each by name.

Everything that maps a name to code reads this module: the weights loader
(:func:`unmask.runtime.weights.build_module`), both backends and the ONNX export (the named
inputs and outputs of :class:`Architecture`), ``unmask train`` (each :class:`Stage`'s trainer
and config) and :func:`unmask.detection.create`. Entries name their code as
``"module:attribute"`` strings, imported on first use, so reading the registry imports neither
torch nor any stage.

Examples::

    >>> from unmask import registry
    >>> registry.ARCHITECTURES["InpaintGenerator"].inputs
    ('image', 'mask', 'landmark_map', 'gender')
    >>> sorted(registry.trainable())
    ['attr', 'detail', 'detector', 'inpainter', 'refiner', 'segmenter', 'verifier']
    >>> registry.STAGES["attr"].config
    'unmask.training.attr:AttrTrainConfig'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Architecture:
    """A network class and its named arrays.

    Attributes:
        target: ``"module:Class"`` of the ``nn.Module``.
        inputs: names of ``forward``'s arguments, in order. Images are float32 ``N x 3 x H x W``
            RGB in [0, 1], ``mask`` ``N x 1 x S x S`` {0, 1}, ``landmark_map`` ``N x C x S x S``
            in [0, 1], ``gender`` ``N`` P(female).
        outputs: names of ``forward``'s outputs, in order (the ONNX graph uses the same names).
        parts: outputs that are also exported alone, as ``<stage>.<output>.onnx`` holding
            only the graph that computes them (cheaper when only that output is needed).
        optional: outputs that a network built with the named constructor flag also gives
            (``{output: flag}``); exported and returned when it does.
        any_size: fully convolutional: the exported graph takes any height and width.
    """

    target: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    parts: tuple[str, ...] = ()
    any_size: bool = False
    optional: dict[str, str] = field(default_factory=dict)

    def outputs_of(self, args: dict) -> tuple[str, ...]:
        """The outputs of a network built with constructor arguments ``args``."""
        return self.outputs + tuple(k for k, flag in self.optional.items() if args.get(flag))


@dataclass(frozen=True)
class Stage:
    """A stage whose network is trained and shipped as ``<name>.safetensors`` + ``.json``.

    Attributes:
        trainer: ``"module"`` with ``train(cfg, run)`` and ``promote(run, out, ...)``.
        config: ``"module:Class"`` of its typed training config.
        architectures: the architectures its weights may hold.
    """

    trainer: str
    config: str
    architectures: tuple[str, ...] = field(default=())


ARCHITECTURES: dict[str, Architecture] = {
    "FaceAttrNet": Architecture(
        "unmask.models.face_attr:FaceAttrNet", ("image",), ("landmarks", "gender_logit")
    ),
    "FaceAttrEnsemble": Architecture(
        "unmask.models.face_attr:FaceAttrEnsemble",
        ("image",),
        ("landmarks", "gender_logit"),
        parts=("landmarks",),  # the second look needs the landmark members only
        optional={"adult_logit": "adult_head"},
    ),
    "MaskSegNet": Architecture("unmask.models.segmenter:MaskSegNet", ("image",), ("logits",)),
    "MaskSegEnsemble": Architecture(
        "unmask.models.segmenter:MaskSegEnsemble", ("image",), ("logits",)
    ),
    "MaskRCNNSegmenter": Architecture(
        "unmask.models.maskrcnn:MaskRCNNSegmenter", ("image",), ("logits",)
    ),
    "FaceDetector": Architecture(
        "unmask.models.detector:FaceDetector",
        ("image",),
        ("heatmap", "box", "keypoints"),
        any_size=True,
    ),
    "MaskRefiner": Architecture(
        "unmask.models.refiner:MaskRefiner", ("image", "coarse"), ("logits",), any_size=True
    ),
    "DetailNet": Architecture(
        "unmask.models.detail:DetailNet", ("image", "scale"), ("restored",), any_size=True
    ),
    "InpaintGenerator": Architecture(
        "unmask.models.inpainter:InpaintGenerator",
        ("image", "mask", "landmark_map", "gender"),
        ("restored",),
    ),
    "FaceVerifier": Architecture("unmask.models.verifier:FaceVerifier", ("image",), ("logit",)),
}

STAGES: dict[str, Stage] = {
    "detector": Stage(
        "unmask.training.detector",
        "unmask.training.detector:DetectorTrainConfig",
        ("FaceDetector",),
    ),
    "verifier": Stage(
        "unmask.training.verifier",
        "unmask.training.verifier:VerifierTrainConfig",
        ("FaceVerifier",),
    ),
    "attr": Stage(
        "unmask.training.attr",
        "unmask.training.attr:AttrTrainConfig",
        ("FaceAttrNet", "FaceAttrEnsemble"),
    ),
    "segmenter": Stage(
        "unmask.training.segmenter",
        "unmask.training.segmenter:SegTrainConfig",
        ("MaskSegNet", "MaskSegEnsemble", "MaskRCNNSegmenter"),
    ),
    "inpainter": Stage(
        "unmask.training.inpainter",
        "unmask.training.inpainter:InpaintTrainConfig",
        ("InpaintGenerator",),
    ),
    "refiner": Stage(
        "unmask.training.refiner",
        "unmask.training.refiner:RefinerTrainConfig",
        ("MaskRefiner",),
    ),
    "detail": Stage(
        "unmask.training.detail",
        "unmask.training.detail:DetailTrainConfig",
        ("DetailNet",),
    ),
}

#: Detector backends: name -> (``"module:callable"`` returning a detector, fixed keyword
#: arguments). ``unmask`` takes ``weights_dir``, ``device`` and ``backend``.
DETECTORS: dict[str, tuple[str, dict[str, Any]]] = {
    "unmask": ("unmask.detection.net:NetDetector.from_weights", {}),
    "hog": ("unmask.detection.dlib_detector:DlibDetector", {"kind": "hog"}),
    "cnn": ("unmask.detection.dlib_detector:DlibDetector", {"kind": "cnn"}),
    "aligned": ("unmask.detection.base:AlignedInput", {}),
}


def resolve(target: str) -> Any:
    """The object named ``"module:attribute[.attribute...]"`` (imported now)."""
    module, _, attrs = target.partition(":")
    obj: Any = importlib.import_module(module)
    for name in filter(None, attrs.split(".")):
        obj = getattr(obj, name)
    return obj


def architecture(name: str) -> Architecture:
    """The :class:`Architecture` called ``name``; ``ValueError`` for an unknown one."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}") from None


def trainable() -> list[str]:
    """Names of the stages ``unmask train`` trains."""
    return list(STAGES)


def train_config(stage: str) -> type:
    """The typed training config class of ``stage``."""
    return resolve(STAGES[stage].config)
