import json

import numpy as np
import pytest
from click.testing import CliRunner

from support import make_tiny_dataset, make_tiny_weights, masked_photos
from unmask.runtime import weights
from unmask.runtime.backend import OrtNet, open_net
from unmask.runtime.export import export_stage, sample_inputs
from unmask.training.quantize import (
    Int8Recipe,
    calibration_photos,
    quantize_file,
    quantize_stage,
    recording,
    write_float_graph,
)

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime.quantization")


def _op_types(path) -> set[str]:
    import onnx

    return {n.op_type for n in onnx.load(str(path)).graph.node}


def _float_graph(tmp_path, stage: str, n_feeds: int):
    """A tiny random ``stage`` network as a float32 ONNX graph, and ``n_feeds`` batches of
    calibration inputs for it."""
    info = weights.find_here(stage, make_tiny_weights(tmp_path, stages=(stage,)))
    fp32 = write_float_graph(info, tmp_path / "fp32.onnx")
    feeds = [
        sample_inputs(info.arch, info.args, info.meta, batch=2, seed=s) for s in range(n_feeds)
    ]
    return info, fp32, feeds


def test_recording_keeps_each_files_inputs_and_restores_the_net(tmp_path):
    folder = make_tiny_weights(tmp_path, stages=("segmenter",))
    export_stage("segmenter", folder)
    net, info = open_net("segmenter", folder, backend="onnx")
    x = sample_inputs(info.arch, info.args, info.meta, batch=1)
    call = OrtNet.__call__
    with recording() as feeds:
        net(**x)
        net(**{"image": x["image"] * 0.5})
    assert OrtNet.__call__ is call
    assert list(feeds) == ["segmenter.onnx"] and len(feeds["segmenter.onnx"]) == 2
    np.testing.assert_array_equal(feeds["segmenter.onnx"][1]["image"], x["image"] * 0.5)
    net(**x)
    assert len(feeds["segmenter.onnx"]) == 2  # nothing recorded after the block


def test_quantized_inpainter_runs_in_int8_close_to_float(tmp_path):
    info, fp32, feeds = _float_graph(tmp_path, "inpainter", 6)
    out = tmp_path / "int8.onnx"
    quantize_file(fp32, out, feeds)
    assert "QLinearConv" in _op_types(out) and "QLinearConv" not in _op_types(fp32)
    x = sample_inputs(info.arch, info.args, info.meta, batch=2, seed=99)
    a, b = OrtNet(fp32)(**x), OrtNet(out)(**x)
    for k in a:
        assert a[k].shape == b[k].shape
        spread = float(a[k].max() - a[k].min())
        assert np.abs(a[k] - b[k]).mean() < 0.05 * spread + 1e-3, k


def test_quantize_file_refuses_an_empty_calibration(tmp_path):
    with pytest.raises(ValueError, match="no calibration inputs"):
        quantize_file(tmp_path / "x.onnx", tmp_path / "y.onnx", [])


def test_calibration_photos_come_from_the_train_split_or_a_folder(tmp_path):
    data = make_tiny_dataset(tmp_path / "d", n_faces=9)
    picked = calibration_photos(data, count=10, seed=0)
    assert len(picked) == 3  # faces 0, 3, 6 are the train split of the first nine
    assert all(p.shape == (64, 64, 3) and p.dtype == np.uint8 for p in picked)
    folder = masked_photos(tmp_path / "photos", n=3)
    assert len(calibration_photos(folder, count=2, seed=1)) == 2
    assert len(calibration_photos(folder, count=99)) == 3  # notes.png is not an image
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no calibration photos"):
        calibration_photos(tmp_path / "empty")


def test_quantize_stage_writes_int8_file_and_card_and_the_pipeline_runs(tmp_path):
    from unmask import Unmasker

    folder = make_tiny_weights(tmp_path / "w")
    for stage in ("detector", "attr", "segmenter", "inpainter"):
        export_stage(stage, folder)
    photos = calibration_photos(masked_photos(tmp_path / "p", n=2))
    rep = quantize_stage("inpainter", folder, photos, detector="aligned")
    assert rep["calibration_calls"] > 0
    assert "QLinearConv" in _op_types(folder / "inpainter.onnx")
    card = json.loads((folder / "inpainter.json").read_text())["meta"]["onnx_compute"]
    assert card["precision"] == "int8" and card["calibration_photos"] == len(photos)
    result = Unmasker(weights_dir=folder, backend="onnx", detector="aligned")(photos[0])
    assert result.restored.shape == photos[0].shape
    with pytest.raises(ValueError, match="not 'segmenter'"):
        quantize_stage("segmenter", folder, photos)


def test_cli_int8_needs_calibration_and_a_known_stage(tmp_path):
    from unmask.cli.main import cli

    folder = make_tiny_weights(tmp_path, stages=("segmenter",))
    r = CliRunner().invoke(cli, ["export", str(folder), "--int8", "segmenter"])
    assert r.exit_code != 0 and "use attr, inpainter, detector" in r.output
    r = CliRunner().invoke(cli, ["export", str(folder), "--int8", "attr"])
    assert r.exit_code != 0 and "--int8 needs --calibration" in r.output


def test_keep_float_and_op_types_leave_those_nodes_in_float(tmp_path):
    import onnx

    _, fp32, feeds = _float_graph(tmp_path, "attr", 4)
    out = tmp_path / "int8.onnx"
    quantize_file(fp32, out, feeds, Int8Recipe(("Conv",), ("lm_head",)))
    nodes = onnx.load(str(out)).graph.node
    float_convs = [n.name for n in nodes if n.op_type == "Conv"]
    assert float_convs and all("lm_head" in n for n in float_convs)
    assert any(n.op_type == "QLinearConv" for n in nodes)
    assert not any(n.op_type in ("QLinearAdd", "QGemm", "QLinearMatMul") for n in nodes)


def test_a_percentile_recipe_takes_other_ranges_than_min_max(tmp_path):
    import onnx
    from onnx import numpy_helper

    _, fp32, feeds = _float_graph(tmp_path, "inpainter", 4)

    def activation_scales(recipe):
        out = tmp_path / f"q{recipe.percentile}.onnx"
        quantize_file(fp32, out, feeds, recipe)
        inits = onnx.load(str(out)).graph.initializer
        return {
            i.name: float(numpy_helper.to_array(i))
            for i in inits
            if i.name.endswith("_scale") and not i.dims  # per-tensor: activations
        }

    full, narrow = activation_scales(Int8Recipe()), activation_scales(Int8Recipe(percentile=90.0))
    shared = sorted(set(full) & set(narrow))
    assert shared
    # ranges from the calibration histogram's percentile, not its extremes: most scales move
    moved = sum(abs(narrow[k] - full[k]) > 0.01 * full[k] for k in shared)
    assert moved > len(shared) / 4


def test_percentile_calibration_takes_calls_of_different_batch_sizes(tmp_path):
    from unmask.training.quantize import per_sample

    info, fp32, feeds = _float_graph(tmp_path, "attr", 2)
    one = sample_inputs(info.arch, info.args, info.meta, batch=1, seed=5)  # a look without mirror
    split = per_sample([*feeds, one])
    assert len(split) == 5 and all(v.shape[0] == 1 for f in split for v in f.values())
    assert np.array_equal(split[1]["image"][0], feeds[0]["image"][1])
    out = tmp_path / "int8.onnx"
    quantize_file(fp32, out, [*feeds, one], Int8Recipe(("Conv",), percentile=99.0))
    assert "QLinearConv" in _op_types(out)
