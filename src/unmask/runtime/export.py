"""Export a stage's PyTorch weights to ONNX and check the file against PyTorch.

The graph takes and returns the named arrays of :data:`unmask.registry.ARCHITECTURES`
(batch dimension dynamic; height and width dynamic for fully convolutional networks). With
``fp16`` the large weight tensors are stored as float16 and cast back to float32 inside the
graph (ONNX Runtime folds the casts at load time, so inference runs in float32 at the same
speed); the export keeps fp16 only when the parity check passes, else it writes float32.
Weights saved as int8 (``weights.save(..., int8=True)``) are exported as int8 with a
DequantizeLinear per tensor, under the same check.

Needs ``torch`` and ``onnx`` (the ``train`` extra); the result runs on ``onnxruntime`` alone.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from unmask.registry import ARCHITECTURES
from unmask.runtime import weights
from unmask.runtime.backend import OrtNet, TorchNet, input_names

log = logging.getLogger(__name__)

#: Allowed |onnx - torch| per output: ``TOLERANCE * (1 + max |torch output|)`` (so logits of
#: magnitude 20 may differ by 0.2, [0, 1] images by 0.02).
TOLERANCE = 1e-2
OPSET = 17


@dataclass
class ExportReport:
    """What :func:`export_stage` wrote and how close ONNX Runtime is to PyTorch."""

    stage: str
    path: str
    size_mb: float
    precision: str  # "int8" (weights of int8 safetensors), "fp16" or "fp32"
    max_abs_diff: dict[str, float]
    params: int

    def to_dict(self) -> dict:
        return asdict(self)


def _adapter(module, arch: str, args: dict):
    """A module whose forward takes the signature's inputs positionally and returns a tuple."""
    import torch

    names = input_names(arch, args)
    outputs = ARCHITECTURES[arch].outputs_of(args)

    class Adapter(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = module

        def forward(self, *xs):
            given = dict(zip(names, xs, strict=True))
            full = [given.get(n) for n in ARCHITECTURES[arch].inputs]
            out = self.net(*full)
            return tuple(out[k] for k in outputs) if isinstance(out, dict) else (out,)

    return Adapter().eval(), names, outputs


def sample_inputs(arch: str, args: dict, meta: dict, batch: int = 2, seed: int = 0) -> dict:
    """Deterministic float32 inputs for export and parity checks."""
    from unmask.faces.align import MEAN_68
    from unmask.faces.landmark_map import render, sigma_for

    rng = np.random.default_rng(seed)
    size = int(meta.get("input_size", meta.get("image_size", args.get("image_size", 128))))
    h, w = (size, size * 3 // 4 // 32 * 32) if arch == "FaceDetector" else (size, size)
    x = {"image": rng.random((batch, 3, h, w), dtype=np.float32)}
    if arch == "InpaintGenerator":
        mask = np.zeros((batch, 1, size, size), np.float32)
        mask[:, :, size // 2 : size - size // 8, size // 5 : size - size // 5] = 1
        lm = np.repeat((MEAN_68 * size - 0.5)[None], batch, 0).astype(np.float32)
        x["mask"] = mask
        x["landmark_map"] = render(lm, size, sigma_for(size, meta.get("landmark_sigma", 0.01)))
        x["gender"] = np.linspace(0, 1, batch, dtype=np.float32)
    if arch == "MaskRefiner":
        x["coarse"] = rng.random((batch, 1, h, w), dtype=np.float32)
    if arch == "DetailNet":
        x["scale"] = np.full((batch, 1, h, w), 1.5, np.float32)
    return {k: v for k, v in x.items() if k in input_names(arch, args)}


def _rewrite_initializers(model, convert) -> None:
    """Replace each initializer for which ``convert(init)`` returns ``(stored, node)`` by the
    ``stored`` initializers and a node (placed first) that rebuilds the float32 tensor under
    its old name; others stay (in place on an ``onnx.ModelProto``)."""
    graph = model.graph
    nodes, keep = [], []
    for init in graph.initializer:
        done = convert(init)
        if done is None:
            keep.append(init)
        else:
            keep += done[0]
            nodes.append(done[1])
    del graph.initializer[:]
    graph.initializer.extend(keep)
    rest = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + rest)


def weights_to_int8(model):
    """Store float32 initializers that :func:`unmask.runtime.weights.int8_candidate` selects
    as int8 with a scale per index of axis 0, followed by a DequantizeLinear back to float32
    (weight-only: inference runs in float32; in place on an ``onnx.ModelProto``)."""
    from onnx import TensorProto, helper, numpy_helper

    def convert(init):
        shape = tuple(init.dims)
        if init.data_type != TensorProto.FLOAT or not weights.int8_candidate(shape, True):
            return None
        q, scale = weights.quantize_int8(numpy_helper.to_array(init))
        names = [init.name + "__int8", init.name + "__scale", init.name + "__zero"]
        arrays = zip((q, scale, np.zeros(shape[0], np.int8)), names, strict=True)
        node = helper.make_node("DequantizeLinear", names, [init.name], axis=0)
        return [numpy_helper.from_array(a, n) for a, n in arrays], node

    _rewrite_initializers(model, convert)
    return model


def weights_to_fp16(model, min_elements: int = weights.MIN_ELEMENTS):
    """Store float32 initializers with at least ``min_elements`` values as float16 followed by
    a Cast back to float32 (in place on an ``onnx.ModelProto``)."""
    from onnx import TensorProto, helper, numpy_helper

    def convert(init):
        if init.data_type != TensorProto.FLOAT or np.prod(init.dims) < min_elements:
            return None
        half = numpy_helper.from_array(
            numpy_helper.to_array(init).astype(np.float16), init.name + "__fp16"
        )
        return [half], helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT)

    _rewrite_initializers(model, convert)
    return model


def _export_file(module, arch, args, inputs: dict, path: Path, precision: str) -> None:
    import onnx
    import torch

    adapter, names, outputs = _adapter(module, arch, args)
    dynamic = {n: {0: "batch"} for n in (*names, *outputs)}
    if ARCHITECTURES[arch].any_size:
        for n in names:
            dynamic[n] = {0: "batch", 2: "height", 3: "width"}
        for n in outputs:
            dynamic[n] = {0: "batch", 2: "rows", 3: "cols"}
    tensors = tuple(torch.from_numpy(inputs[n]) for n in names)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        raw = Path(tmp) / "model.onnx"
        torch.onnx.export(
            adapter,
            tensors,
            str(raw),
            input_names=list(names),
            output_names=list(outputs),
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
        model = onnx.load(str(raw))
    if precision == "int8":
        weights_to_int8(model)
    elif precision == "fp16":
        weights_to_fp16(model)
    onnx.checker.check_model(model)
    tmp_path = path.with_suffix(".onnx.tmp")
    onnx.save(model, str(tmp_path))
    tmp_path.replace(path)


def export_part(path: Path, output: str) -> Path:
    """Write ``<stage>.<output>.onnx`` beside the ``<stage>.onnx`` at ``path``: the subgraph
    from the inputs to ``output`` alone (same weights and arithmetic, none of the rest).

    Returns:
        The written path.
    """
    import onnx
    from onnx.utils import Extractor

    model = onnx.load(str(path))
    names = [i.name for i in model.graph.input]
    part = Extractor(model).extract_model(names, [output])
    onnx.checker.check_model(part)
    out = path.with_name(f"{path.stem}.{output}.onnx")
    tmp = out.with_suffix(".onnx.tmp")
    onnx.save(part, str(tmp))
    tmp.replace(out)
    return out


def parity(
    torch_net: TorchNet, onnx_path: Path, inputs: dict, tolerance: float = TOLERANCE
) -> tuple[dict[str, float], bool]:
    """Largest absolute difference per output between PyTorch and ONNX Runtime, and whether
    every output is within ``tolerance * (1 + max |reference|)``."""
    ref = torch_net(**inputs)
    got = OrtNet(onnx_path)(**inputs)
    diffs = {k: float(np.max(np.abs(ref[k] - got[k]))) for k in ref}
    ok = all(diffs[k] <= tolerance * (1 + float(np.max(np.abs(ref[k])))) for k in ref)
    return diffs, ok


def exportable(folder) -> list[str]:
    """Stages in ``folder`` with ``.json`` + ``.safetensors`` and an ONNX signature."""
    import json

    found = []
    for js in sorted(Path(folder).glob("*.json")):
        st = js.with_suffix(".safetensors")
        if st.is_file() and json.loads(js.read_text()).get("arch") in ARCHITECTURES:
            found.append(js.stem)
    return found


def export_stage(
    stage: str, folder, fp16: bool = True, tolerance: float = TOLERANCE
) -> ExportReport:
    """Write ``<folder>/<stage>.onnx`` from ``<folder>/<stage>.safetensors`` + ``.json``.

    Args:
        stage: weights name (``detector``, ``attr``, ``segmenter``, ``inpainter``, ...).
        folder: the weights folder (only this one: nothing is looked up elsewhere).
        fp16: store weights as float16 when the parity check allows it (int8 when the
            safetensors hold int8 weights and the check allows it).
        tolerance: accepted difference to PyTorch, relative to ``1 + max |output|``.
    Raises:
        RuntimeError: the float32 export still differs from PyTorch by more than ``tolerance``.
    """
    folder = Path(folder)
    info = weights.find_here(stage, folder)
    if info.arch not in ARCHITECTURES:
        raise ValueError(f"stage {stage!r} ({info.arch}) has no ONNX signature")
    module = weights.load_module(info, "cpu")
    torch_net = TorchNet(module, info.arch, info.args)
    path = folder / f"{stage}.onnx"
    inputs = sample_inputs(info.arch, info.args, info.meta)
    diffs: dict[str, float] = {}
    precisions = ["int8"] if weights.stored_int8(info.path) else []
    precisions += ["fp16", "fp32"] if fp16 else ["fp32"]
    for precision in precisions:
        _export_file(module, info.arch, info.args, inputs, path, precision)
        diffs, ok = parity(torch_net, path, inputs, tolerance)
        log.info("%s: %s max |onnx - torch| %s", stage, precision, diffs)
        if ok:
            break
    else:
        path.unlink(missing_ok=True)
        raise RuntimeError(f"{stage}: ONNX differs from PyTorch by {diffs} > {tolerance}")
    for output in ARCHITECTURES[info.arch].parts:
        export_part(path, output)
    return ExportReport(
        stage,
        str(path),
        round(path.stat().st_size / 2**20, 3),
        precision,
        diffs,
        torch_net.num_params,
    )
