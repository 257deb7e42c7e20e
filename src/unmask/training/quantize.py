"""Integer arithmetic for a stage's ONNX file: static int8 quantization, calibrated on the
inputs the network receives while the pipeline runs on real photos.

The result is a QOperator graph (``QLinearConv`` and friends) that ONNX Runtime runs on the
CPU in 8-bit integers: int8 weights per output channel in the 7-bit range (``reduce_range``:
CPUs without VNNI instructions would otherwise saturate), uint8 activations whose ranges are
the minima and maxima seen during calibration. It is not checked against PyTorch element by
element (8-bit arithmetic differs by more than :data:`unmask.runtime.export.TOLERANCE`): judge
it on the stage's own figures (``docs/history.md`` records how the shipped files were judged).

Needs ``torch``, ``onnx`` and ``onnxruntime`` (the ``train`` extra); the result runs on
``onnxruntime`` alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from unmask.registry import ARCHITECTURES
from unmask.runtime import weights
from unmask.runtime.backend import OrtNet

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Int8Recipe:
    """How one stage is quantized.

    Attributes:
        op_types: operator types quantized (``None`` = every one ONNX Runtime can).
        keep_float: node names, by substring, kept in float.
        percentile: activation ranges at this percentile of the calibration values (e.g.
            99.99), instead of their minimum and maximum (``None``).
    """

    op_types: tuple[str, ...] | None = None
    keep_float: tuple[str, ...] = ()
    percentile: float | None = None


#: Stages whose int8 files run faster than their float ones on a 2-core x86 CPU (the segmenter
#: does not: its int8 graph measured 10.0 ms against 8.0 ms in float), each with its recipe,
#: chosen on validation (``docs/history.md``). The attr network's landmark head and the
#: detector's regression head stay float: in 8 bits their coordinates move by a share of a
#: pixel that the landmark error sees. Percentile ranges clip the rare extreme activations
#: that would otherwise stretch each 8-bit range.
INT8_STAGES: dict[str, Int8Recipe] = {
    "attr": Int8Recipe(("Conv",), ("lm_head",), percentile=99.99),
    "inpainter": Int8Recipe(percentile=99.99),
    "detector": Int8Recipe(keep_float=("reg_head",)),
}


@contextlib.contextmanager
def recording():
    """Record the inputs of every :class:`OrtNet` call made inside the ``with`` block.

    Yields:
        ``{onnx file name: [ {input name: float32 array}, ... ]}``, filled as calls happen.
    """
    feeds: dict[str, list[dict[str, np.ndarray]]] = defaultdict(list)
    call = OrtNet.__call__

    def spy(self, **inputs):
        feeds[self.path.name].append({n: np.array(inputs[n], np.float32) for n in self.inputs})
        return call(self, **inputs)

    OrtNet.__call__ = spy
    try:
        yield feeds
    finally:
        OrtNet.__call__ = call


def calibration_photos(source, count: int = 64, seed: int = 0) -> list[np.ndarray]:
    """``count`` photos picked by ``seed``: from a dataset built by ``unmask data build`` (its
    *train* split's masked crops, so that nothing judged later is seen), else from a folder of
    images. Returns ``H x W x 3`` uint8 RGB arrays."""
    from unmask.data.manifest import load_manifest, manifest_path
    from unmask.io import ImageError, is_image_path, iter_inputs, load_image

    source = Path(source)
    try:
        manifest_path(source)
        files = [source / r["image"] for r in load_manifest(source, "train")]
    except FileNotFoundError:
        files = [it.path for it in iter_inputs([source]) if is_image_path(it.path)]
    if not files:
        raise ValueError(f"no calibration photos in {source}")
    photos = []
    for i in np.random.default_rng(seed).permutation(len(files)):
        if len(photos) == count:
            break
        try:
            photos.append(load_image(files[i]))
        except ImageError as e:
            log.warning("calibration: skipping %s (%s)", files[i], e)
    if not photos:
        raise ValueError(f"no calibration photos in {source}")
    return photos


def calibration_feeds(
    photos: list[np.ndarray], weights_dir=None, **options
) -> dict[str, list[dict]]:
    """Inputs of every ONNX network while the pipeline (ONNX Runtime; ``options`` go to
    :class:`unmask.Unmasker`) restores ``photos`` (``H x W x 3`` uint8 RGB each), keyed by ONNX
    file name."""
    from unmask import Unmasker

    unmasker = Unmasker(weights_dir=weights_dir, backend="onnx", device="cpu", **options)
    with recording() as feeds:
        for photo in photos:
            unmasker(photo)
    return dict(feeds)


def per_sample(feeds: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """The feeds split along their batch axis into feeds of one sample each: the same values,
    in arrays of one shape (ONNX Runtime's histogram calibrators stack every call's arrays, so
    calls of different batch sizes, e.g. a look with and one without the mirrored crop, would
    not stack)."""
    out = []
    for feed in feeds:
        n = min(len(v) for v in feed.values())
        out += [{k: v[i : i + 1] for k, v in feed.items()} for i in range(n)]
    return out


def quantize_file(
    src: Path,
    dst: Path,
    feeds: list[dict[str, np.ndarray]],
    recipe: Int8Recipe = Int8Recipe(),
) -> None:
    """Write ``dst``: the float32 ONNX graph ``src`` quantized to int8 arithmetic as
    ``recipe`` says, with activation ranges from running ``feeds`` (``{input name: float32
    array}`` each)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not feeds:
        raise ValueError(f"no calibration inputs for {src.name}")

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(per_sample(feeds))

        def get_next(self):
            return next(self.items, None)

    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        names = [n.name for n in onnx.load(str(pre)).graph.node]
        exclude = [n for n in names if any(k in n for k in recipe.keep_float)]
        ranges = {}
        if recipe.percentile is not None:
            ranges = dict(
                calibrate_method=CalibrationMethod.Percentile,
                extra_options={"CalibPercentile": recipe.percentile},
            )
        out = Path(tmp) / "int8.onnx"
        quantize_static(
            str(pre),
            str(out),
            Reader(),
            quant_format=QuantFormat.QOperator,
            per_channel=True,
            reduce_range=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
            op_types_to_quantize=list(recipe.op_types) if recipe.op_types else None,
            nodes_to_exclude=exclude,
            **ranges,
        )
        out.replace(dst)


def write_float_graph(info: weights.WeightsInfo, path: Path) -> Path:
    """Write the stage's network (``info``, from :func:`unmask.runtime.weights.find_here`) to
    ``path`` as a float32 ONNX graph, the input of :func:`quantize_file`; returns ``path``."""
    from unmask.runtime.export import _export_file, sample_inputs

    module = weights.load_module(info, "cpu")
    inputs = sample_inputs(info.arch, info.args, info.meta)
    _export_file(module, info.arch, info.args, inputs, path, "fp32")
    return path


def quantize_stage(
    stage: str,
    folder,
    photos: list[np.ndarray],
    percentile: float | None = None,
    **options,
) -> dict:
    """Replace ``<folder>/<stage>.onnx`` (and its part files) by int8 arithmetic calibrated on
    the pipeline's inputs for ``photos``, and record it in the stage's JSON under
    ``meta.onnx_compute``.

    Args:
        stage: one of :data:`INT8_STAGES`.
        folder: a weights folder holding ``<stage>.safetensors`` + ``.json`` (exported with
            ``unmask export`` first, so that the pipeline can run on ONNX Runtime).
        photos: ``H x W x 3`` uint8 RGB masked photos (not from the split the stage is judged on).
        percentile: activation ranges at this percentile of the calibration values (e.g.
            99.99) instead of the stage's recipe in :data:`INT8_STAGES` (``None``: as recipe).
        options: :class:`unmask.Unmasker` options for the calibration run (default: as shipped).
    Returns:
        What was written: ``{"stage", "path", "size_mb", "calibration_calls"}``.
    """
    from unmask.runtime.export import export_part

    if stage not in INT8_STAGES:
        raise ValueError(f"int8 arithmetic is for {', '.join(INT8_STAGES)}, not {stage!r}")
    folder = Path(folder)
    info = weights.find_here(stage, folder)
    if info.onnx is None:
        raise FileNotFoundError(f"{folder}/{stage}.onnx: run `unmask export {folder}` first")
    feeds = calibration_feeds(photos, folder, **options)
    path = Path(info.onnx)
    ours = [f for name, f in feeds.items() if name.split(".")[0] == stage]
    calls = [x for f in ours for x in f]
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = write_float_graph(info, Path(tmp) / "fp32.onnx")
        recipe = INT8_STAGES[stage]
        if percentile is not None:
            recipe = dataclasses.replace(recipe, percentile=percentile)
        quantize_file(fp32, path.with_suffix(".onnx.tmp"), calls, recipe)
    path.with_suffix(".onnx.tmp").replace(path)
    for output in ARCHITECTURES[info.arch].parts:
        export_part(path, output)
    js = folder / f"{stage}.json"
    card = json.loads(js.read_text())
    card.setdefault("meta", {})["onnx_compute"] = {
        "precision": "int8",
        "operators": list(recipe.op_types) if recipe.op_types else "all",
        "float_nodes": list(recipe.keep_float),
        "weights": "int8 per output channel, 7-bit range",
        "activations": "uint8, "
        + (
            f"the {recipe.percentile} percentile range of the calibration inputs"
            if recipe.percentile is not None
            else "min/max over the calibration inputs"
        ),
        "calibration_photos": len(photos),
        "calibration_calls": len(calls),
    }
    js.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")  # as weights.save
    log.info("%s: int8 arithmetic from %d calibration calls", stage, len(calls))
    return {
        "stage": stage,
        "path": str(path),
        "size_mb": round(path.stat().st_size / 2**20, 3),
        "calibration_calls": len(calls),
    }
