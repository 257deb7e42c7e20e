import numpy as np
import pytest
import torch

from unmask.models.face_attr import FaceAttrEnsemble, FaceAttrNet
from unmask.runtime import weights
from unmask.stages.attr import FaceAttributes
from unmask.training.ensemble import build, promote

TINY = {"image_size": 32, "widths": [4, 8, 8, 8], "blocks": 1, "head_channels": 4}


def _member(folder, seed):
    torch.manual_seed(seed)
    net = FaceAttrNet(**TINY).eval()
    weights.save(folder, "attr", net, "FaceAttrNet", TINY, {"run": f"r{seed}", "step": 1})
    return net


def test_ensemble_averages_its_members(tmp_path):
    nets = [_member(tmp_path / f"m{i}", i) for i in range(2)]
    model, picked = build([tmp_path / "m0", tmp_path / "m1"])
    assert [p["meta"]["run"] for p in picked] == ["r0", "r1"]
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        got, outs = model(x), [n(x) for n in nets]
    for k in ("landmarks", "gender_logit"):
        torch.testing.assert_close(got[k], (outs[0][k] + outs[1][k]) / 2)
    first, _ = build([tmp_path / "m0", tmp_path / "m1"], landmark_members=[0])
    with torch.no_grad():
        one = first(x)
    torch.testing.assert_close(one["landmarks"], outs[0]["landmarks"])
    torch.testing.assert_close(one["gender_logit"], got["gender_logit"])
    hot = FaceAttrEnsemble([TINY, TINY], temperatures=[2.0, 4.0]).eval()
    hot.load_state_dict(model.state_dict())
    with torch.no_grad():
        tempered = hot(x)["gender_logit"]
    torch.testing.assert_close(
        tempered, (outs[0]["gender_logit"] / 2 + outs[1]["gender_logit"] / 4) / 2
    )
    with pytest.raises(ValueError, match="temperature"):
        FaceAttrEnsemble([TINY, TINY], temperatures=[1.0])
    with pytest.raises(ValueError, match="landmark_members"):
        FaceAttrEnsemble([TINY, TINY], landmark_members=[2])
    with pytest.raises(ValueError, match="differ"):
        FaceAttrEnsemble([TINY, {**TINY, "image_size": 64}])
    with pytest.raises(ValueError, match="no FaceAttrNet"):
        build([tmp_path])


def test_promoted_int8_ensemble_runs_in_the_stage(tmp_path, tiny_dataset):
    for i in range(2):
        _member(tmp_path / f"m{i}", i)
    members = [tmp_path / "m0", tmp_path / "m1"]
    path = promote(members, tiny_dataset, tmp_path / "e", int8=True, landmark_members=[1])
    assert weights.stored_int8(path)
    info = weights.find("attr", tmp_path / "e")
    assert info.args["landmark_members"] == [1]
    assert info.arch == "FaceAttrEnsemble" and info.meta["flip_tta"]
    assert [m["run"] for m in info.meta["members"]] == ["r0", "r1"]
    stage = FaceAttributes.from_weights(tmp_path / "e", backend="torch")
    crops = (np.random.default_rng(0).random((2, 40, 40, 3)) * 255).astype(np.uint8)
    lm, p = stage(crops)
    assert lm.shape == (2, 68, 2) and np.all((p > 0) & (p < 1))


def test_a_member_of_an_ensemble_joins_a_new_one(tmp_path, tiny_dataset):
    nets = [_member(tmp_path / f"m{i}", i) for i in range(3)]
    promote([tmp_path / "m0", tmp_path / "m1"], tiny_dataset, tmp_path / "e")
    old = weights.find("attr", tmp_path / "e")
    model, picked = build([tmp_path / "m2", f"{tmp_path / 'e'}#1"], landmark_members=[0])
    assert [p["meta"]["run"] for p in picked] == ["r2", "r1"]
    assert model.temperatures == [1.0, old.args["temperatures"][1]]
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.members[1](x), nets[1](x))
    path = promote([tmp_path / "m2", f"{tmp_path / 'e'}#1"], tiny_dataset, tmp_path / "e2")
    assert [m["run"] for m in weights.find("attr", path.parent).meta["members"]] == ["r2", "r1"]
    for bad in (f"{tmp_path / 'e'}#2", f"{tmp_path / 'm0'}#0", f"{tmp_path / 'e'}#x"):
        with pytest.raises(ValueError, match="no member"):
            build([bad])


SEG = {"widths": [4, 8, 8], "blocks": 1}


def _segmenter(folder, seed):
    from unmask.models.segmenter import MaskSegNet

    torch.manual_seed(seed)
    net = MaskSegNet(**SEG).eval()
    meta = {"run": f"s{seed}", "step": 2, "image_size": 32, "licence": "test"}
    weights.save(folder, "segmenter", net, "MaskSegNet", SEG, meta)
    return net


def test_segmenter_ensemble_is_promoted_exported_and_run_by_the_stage(tmp_path, tiny_dataset):
    from unmask.runtime.export import export_stage
    from unmask.stages.segment import Segmenter
    from unmask.training.ensemble import promote_segmenter

    nets = [_segmenter(tmp_path / f"s{i}", i) for i in range(2)]
    path = promote_segmenter([tmp_path / "s0", tmp_path / "s1"], tiny_dataset, tmp_path / "e")
    info = weights.find("segmenter", tmp_path / "e")
    assert path.parent == tmp_path / "e" and info.arch == "MaskSegEnsemble"
    assert [m["run"] for m in info.meta["members"]] == ["s0", "s1"]
    assert 0.2 <= info.meta["postprocess"]["threshold"] <= 0.5
    assert set(info.meta["val_raw"]) == {"synthetic"} and info.meta["licence"] == "test"
    crops = (np.random.default_rng(0).random((2, 32, 32, 3)) * 255).astype(np.uint8)
    x = torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        want = (torch.sigmoid(nets[0](x)) + torch.sigmoid(nets[1](x)))[:, 0].numpy() / 2
    torch_stage = Segmenter.from_weights(tmp_path / "e", backend="torch")
    np.testing.assert_allclose(torch_stage.predict_prob(crops), want, atol=1e-4)
    report = export_stage("segmenter", tmp_path / "e")
    assert max(report.max_abs_diff.values()) < 1e-2
    onnx_stage = Segmenter.from_weights(tmp_path / "e", backend="onnx")
    np.testing.assert_allclose(onnx_stage.predict_prob(crops), want, atol=1e-2)
    assert onnx_stage(crops).shape == (2, 32, 32)
    with pytest.raises(ValueError, match="no MaskSegNet"):
        promote_segmenter([tmp_path / "e"], tiny_dataset, tmp_path / "e2")


def test_train_ensemble_cli_refuses_options_of_the_other_stage(tmp_path, tiny_dataset):
    from click.testing import CliRunner

    from unmask.cli.main import cli

    _segmenter(tmp_path / "s0", 0)
    args = ["train", "ensemble", str(tmp_path / "s0"), "--dataset", str(tiny_dataset)]
    res = CliRunner().invoke(
        cli, [*args, "--out", str(tmp_path / "o"), "--stage", "segmenter", "--int8"]
    )
    assert res.exit_code == 2 and "attr ensembles only" in res.output
    res = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "o"), "--real", str(tmp_path)])
    assert res.exit_code == 2 and "segmenter ensembles only" in res.output
    res = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "o"), "--stage", "segmenter"])
    assert res.exit_code == 0, res.output
    assert weights.find("segmenter", tmp_path / "o").arch == "MaskSegEnsemble"
