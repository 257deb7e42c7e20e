"""Run a stage's network on numpy arrays, with PyTorch or with ONNX Runtime (no torch needed).

A *net* is a callable ``net(**inputs) -> dict[str, np.ndarray]`` taking float32 numpy arrays by
input name and returning float32 numpy arrays by output name. The names per architecture are in
:mod:`unmask.registry` (:class:`~unmask.registry.Architecture`); the ONNX files written by
:mod:`unmask.runtime.export` use the same names, so the stages in :mod:`unmask.stages` do their
pre- and post-processing in numpy and never care which backend runs the network.

Backends: ``"torch"`` (the ``.safetensors`` weights, eager PyTorch, CPU or CUDA), ``"onnx"``
(the ``.onnx`` file on ONNX Runtime's CPU provider) and ``"auto"`` (ONNX when the file exists
and onnxruntime is installed and the device is the CPU, else torch).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np

from unmask import registry
from unmask.runtime import weights

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "onnx")


def input_names(arch: str, args: dict) -> tuple[str, ...]:
    """Inputs the network built from ``arch(**args)`` actually takes (the unguided inpainter
    has no landmark map and no gender)."""
    names = registry.architecture(arch).inputs
    if arch == "InpaintGenerator":
        drop = set()
        if not args.get("landmark_channels", 5):
            drop.add("landmark_map")
        if not args.get("gender_film", True):
            drop.add("gender")
        names = tuple(n for n in names if n not in drop)
    return names


def have(module: str) -> bool:
    """Whether ``module`` is importable (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


class TorchNet:
    """A PyTorch module behind the numpy net interface.

    Args:
        module: the network (put in eval mode here).
        arch: its architecture name (see :mod:`unmask.registry`); default: the class name.
        args: its constructor arguments (to know which optional inputs it takes).
    """

    backend = "torch"

    def __init__(self, module, arch: str | None = None, args: dict | None = None) -> None:
        self.module = module.eval()
        self.arch = arch or type(module).__name__
        args = _guess_args(module) if args is None else args
        self.outputs = registry.architecture(self.arch).outputs_of(args)
        self.inputs = input_names(self.arch, args)

    @property
    def device(self):
        return next(self.module.parameters()).device

    @property
    def num_params(self) -> int:
        return int(sum(p.numel() for p in self.module.parameters()))

    def __call__(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        import torch

        device = self.device
        with torch.inference_mode():
            args = [
                torch.from_numpy(np.ascontiguousarray(inputs[n], np.float32)).to(device)
                if n in inputs
                else None
                for n in self.inputs
            ]
            out = self.module(*args)
        if not isinstance(out, dict):
            out = {self.outputs[0]: out}
        return {k: out[k].float().cpu().numpy() for k in self.outputs}


def _guess_args(module) -> dict:
    """Constructor flags that change the inputs, read off a built module."""
    return {
        "landmark_channels": getattr(module, "landmark_channels", 5),
        "gender_film": getattr(module, "gender_film", True),
        "adult_head": getattr(module, "adult_head", None) is not None,
    }


class OrtNet:
    """An ONNX file on ONNX Runtime's CPU provider, behind the numpy net interface.

    Args:
        path: the ``.onnx`` file.
        threads: intra-op threads (0 = ONNX Runtime's default, one per core).
    """

    backend = "onnx"
    num_params = None

    def __init__(self, path: str | Path, threads: int = 0) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = int(threads)
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        # Idle pool threads must not spin: the pipeline runs several sessions one after the
        # other, and spinning threads of one steal the cores of the next (measured here).
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # int8 weights (weights.save(int8=True)) are stored behind DequantizeLinear: treat it
        # as a plain op so constant folding turns the weights back to float32 at load time
        # (measured here: attr ensemble 9.9 -> 7.8 ms per call) instead of on every run
        so.add_session_config_entry("session.disable_quant_qdq", "1")
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.inputs = tuple(i.name for i in self.session.get_inputs())
        self.outputs = tuple(o.name for o in self.session.get_outputs())

    def __call__(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        missing = [n for n in self.inputs if n not in inputs]
        if missing:
            raise ValueError(f"missing network inputs: {', '.join(missing)}")
        feed = {n: np.ascontiguousarray(inputs[n], np.float32) for n in self.inputs}
        return dict(zip(self.outputs, self.session.run(None, feed), strict=True))


def to_nchw(images: np.ndarray) -> np.ndarray:
    """``N x H x W x 3`` uint8 RGB -> ``N x 3 x H x W`` float32 in [0, 1]."""
    return np.ascontiguousarray(np.asarray(images).transpose(0, 3, 1, 2), np.float32) / 255


def from_nchw(images) -> np.ndarray:
    """``N x 3 x H x W`` float in [0, 1] (array or CPU tensor) -> ``N x H x W x 3`` uint8 RGB,
    clipped and rounded (the inverse of :func:`to_nchw`)."""
    a = np.clip(np.asarray(images, dtype=np.float32), 0, 1)
    return np.ascontiguousarray((a * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1))


def resize_batch(images: np.ndarray, size: int) -> np.ndarray:
    """Every image of an ``N x H x W [x C]`` batch resized to ``size x size`` (area averaging
    when shrinking, bilinear when enlarging); the batch itself when it already has that size.

    Examples::

        >>> import numpy as np
        >>> from unmask.runtime.backend import resize_batch
        >>> resize_batch(np.zeros((2, 64, 64, 3), np.uint8), 32).shape
        (2, 32, 32, 3)
    """
    import cv2

    h, w = images.shape[1:3]
    if (h, w) == (size, size):
        return images
    inter = cv2.INTER_AREA if min(h, w) > size else cv2.INTER_LINEAR
    return np.stack([cv2.resize(im, (size, size), interpolation=inter) for im in images])


def as_net(model, arch: str | None = None):
    """A net as is, or a torch module wrapped in :class:`TorchNet` with the signature of
    ``arch`` (default: its class name)."""
    return model if isinstance(model, (TorchNet, OrtNet)) else TorchNet(model, arch)


def choose_backend(info: weights.WeightsInfo, backend: str = "auto", device: str = "cpu") -> str:
    """Resolve ``auto`` for one stage's weights; raise a clear error when nothing can run."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: use {', '.join(BACKENDS)}")
    onnx_ok = info.onnx is not None and have("onnxruntime")
    torch_ok = info.path is not None and have("torch")
    if backend == "auto":
        backend = "onnx" if onnx_ok and device == "cpu" else "torch" if torch_ok else "onnx"
    if backend == "onnx" and not onnx_ok:
        why = "no .onnx file (run `unmask export`)" if info.onnx is None else "no onnxruntime"
        raise RuntimeError(f"cannot run stage {info.stage!r} with ONNX Runtime: {why}")
    if backend == "torch" and not torch_ok:
        why = "no .safetensors file" if info.path is None else "torch is not installed"
        raise RuntimeError(
            f"cannot run stage {info.stage!r} with PyTorch: {why} "
            "(install the extra: pip install 'unmask[train]')"
        )
    return backend


def open_net(
    stage: str,
    weights_dir=None,
    backend: str = "auto",
    device: str = "cpu",
    threads: int = 0,
    prepare=None,
) -> tuple[TorchNet | OrtNet, weights.WeightsInfo]:
    """Find a stage's weights and open its network.

    Args:
        stage: weights name, e.g. ``"attr"``.
        weights_dir: folder searched first (see :func:`unmask.runtime.weights.find`).
        backend: ``"auto"``, ``"torch"`` or ``"onnx"``.
        device: ``"cpu"`` or ``"cuda"`` (torch only).
        threads: ONNX Runtime intra-op threads (0 = default).
        prepare: optional ``module -> module`` applied to the torch module (e.g. BN fusion).
    Returns:
        ``(net, info)``.
    """
    info = weights.find(stage, weights_dir)
    chosen = choose_backend(info, backend, device)
    if chosen == "onnx":
        net = OrtNet(info.onnx, threads)
    else:
        module = weights.load_module(info, device)
        if prepare is not None:
            module = prepare(module)
        net = TorchNet(module, info.arch, info.args)
    log.debug("stage %s: %s backend", stage, chosen)
    return net, info


class OutputOf:
    """One output of a net, behind the net interface (``{output: array}``)."""

    def __init__(self, net, output: str) -> None:
        self.net, self.output = net, output
        self.inputs, self.outputs = net.inputs, (output,)
        self.backend = net.backend

    def __call__(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        return {self.output: self.net(**inputs)[self.output]}


def open_part(net, info: weights.WeightsInfo, output: str, threads: int = 0):
    """A net answering only ``output``: the ``<stage>.<output>.onnx`` written beside the
    stage's ONNX file (see :func:`unmask.runtime.export.export_part`) when ``net`` runs on
    ONNX Runtime and the file exists, else ``net`` itself with the other outputs dropped."""
    if isinstance(net, OrtNet) and info.onnx is not None:
        part = Path(info.onnx).with_name(f"{Path(info.onnx).stem}.{output}.onnx")
        if part.is_file():
            return OrtNet(part, threads)
    return OutputOf(net, output)
