import numpy as np
import pytest

from support import make_tiny_weights
from unmask.runtime import weights
from unmask.runtime.backend import OrtNet, TorchNet, choose_backend, input_names, open_net
from unmask.runtime.export import export_stage, exportable, sample_inputs

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

STAGES = ("detector", "attr", "segmenter", "inpainter")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = make_tiny_weights(tmp_path_factory.mktemp("w"))
    reports = {s: export_stage(s, folder) for s in STAGES}
    return folder, reports


def test_every_stage_exports_within_tolerance(exported):
    folder, reports = exported
    assert exportable(folder) == sorted(STAGES)
    for stage, rep in reports.items():
        assert (folder / f"{stage}.onnx").is_file()
        assert rep.params > 0 and rep.size_mb > 0
        assert max(rep.max_abs_diff.values()) < 0.05, (stage, rep.max_abs_diff)


@pytest.mark.parametrize("stage", STAGES)
def test_onnx_and_torch_nets_agree_on_new_inputs(exported, stage):
    folder, _ = exported
    torch_net, info = open_net(stage, folder, backend="torch")
    onnx_net, _ = open_net(stage, folder, backend="onnx")
    assert isinstance(torch_net, TorchNet) and isinstance(onnx_net, OrtNet)
    assert onnx_net.inputs == input_names(info.arch, info.args)
    x = sample_inputs(info.arch, info.args, info.meta, batch=3, seed=7)
    a, b = torch_net(**x), onnx_net(**x)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].shape == b[k].shape and a[k].dtype == np.float32
        assert np.abs(a[k] - b[k]).max() < 0.05 * (1 + np.abs(a[k]).max())


def test_detector_onnx_takes_any_photo_shape(exported):
    folder, _ = exported
    net, _ = open_net("detector", folder, backend="onnx")
    out = net(image=np.random.rand(1, 3, 96, 160).astype(np.float32))
    assert out["heatmap"].shape == (1, 1, 24, 40)


def test_auto_prefers_onnx_on_cpu_and_torch_on_cuda(exported):
    folder, _ = exported
    info = weights.find("attr", folder)
    assert choose_backend(info, "auto", "cpu") == "onnx"
    assert choose_backend(info, "auto", "cuda") == "torch"
    with pytest.raises(ValueError, match="backend"):
        choose_backend(info, "tensorrt")


def test_missing_onnx_file_is_a_clear_error_and_save_drops_stale_onnx(tmp_path):
    folder = make_tiny_weights(tmp_path, stages=("segmenter",))
    export_stage("segmenter", folder)
    info = weights.find("segmenter", folder)
    model = weights.load_module(info)
    weights.save(folder, "segmenter", model, info.arch, info.args, info.meta)
    assert not (folder / "segmenter.onnx").exists()  # would no longer match the weights
    with pytest.raises(RuntimeError, match="unmask export"):
        open_net("segmenter", folder, backend="onnx")


def test_onnx_only_folder_is_found(exported, tmp_path):
    folder, _ = exported
    for ext in (".json", ".onnx"):
        (tmp_path / f"attr{ext}").write_bytes((folder / f"attr{ext}").read_bytes())
    info = weights.find("attr", tmp_path)
    assert info.path is None and info.onnx == tmp_path / "attr.onnx"
    net, _ = open_net("attr", tmp_path)
    assert net.backend == "onnx"
    with pytest.raises(RuntimeError, match="safetensors"):
        open_net("attr", tmp_path, backend="torch")


def test_unguided_inpainter_takes_no_landmarks_or_gender():
    args = {"landmark_channels": 0, "gender_film": False}
    assert input_names("InpaintGenerator", args) == ("image", "mask")
    assert input_names("InpaintGenerator", {}) == ("image", "mask", "landmark_map", "gender")


def test_int8_weights_round_trip_and_export_as_int8(tmp_path):
    import torch

    from unmask.models.verifier import FaceVerifier

    torch.manual_seed(0)
    net = FaceVerifier(32, (8, 16, 32)).eval()
    args = {"image_size": 32, "widths": [8, 16, 32]}
    path = weights.save(tmp_path, "verifier", net, "FaceVerifier", args, {}, int8=True)
    assert weights.stored_int8(path)
    loaded = weights.load_module(weights.find("verifier", tmp_path))
    for (k, a), b in zip(net.state_dict().items(), loaded.state_dict().values(), strict=True):
        tol = 0.6 * a.abs().max().item() / 127 + 1e-7  # half a quantisation step
        assert (a.float() - b.float()).abs().max().item() <= tol, k
    rep = export_stage("verifier", tmp_path)
    assert rep.precision == "int8"
    weights.save(tmp_path / "plain", "verifier", net, "FaceVerifier", args, {})
    plain = export_stage("verifier", tmp_path / "plain")
    assert plain.precision == "fp16" and plain.size_mb > rep.size_mb
    x = {"image": np.random.default_rng(0).random((2, 3, 32, 32), dtype=np.float32)}
    a = TorchNet(loaded, "FaceVerifier")(**x)["logit"]
    b = open_net("verifier", tmp_path, backend="onnx")[0](**x)["logit"]
    assert np.abs(a - b).max() < 0.05 * (1 + np.abs(a).max())
