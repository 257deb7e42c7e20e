import numpy as np
import pytest
import torch

from unmask.models.face_attr import FaceAttrEnsemble
from unmask.runtime import weights
from unmask.stages.attr import FaceAttributes
from unmask.training.adult_head import ADULT_FROM, add_adult_head, fit_bands, fit_head

TINY = {"image_size": 32, "widths": [4, 8, 8, 8], "blocks": 1, "head_channels": 4}


def test_the_head_reads_adults_from_features_that_tell_them_apart():
    torch.manual_seed(0)
    model = FaceAttrEnsemble([TINY, TINY]).eval()
    rng = np.random.default_rng(0)
    ages = rng.integers(1, 80, 400).astype(float)
    x = rng.normal(0, 1, (400, 16))
    x[:, 3] += np.where(ages >= ADULT_FROM, 2.0, -2.0)  # one feature carries the band
    ages[:10] = -1  # unknown ages are left out
    fit_head(model, x, ages)
    with torch.no_grad():
        read = model.adult_head(torch.from_numpy(x).float()).squeeze(1).numpy() > 0
    known = ages >= 0
    assert ((read == (ages >= ADULT_FROM))[known]).mean() > 0.95
    assert model(torch.rand(2, 3, 32, 32))["adult_logit"].shape == (2,)


def test_each_band_gets_its_own_temperature_and_bias():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, 4000)
    adult = np.where(np.arange(4000) % 2 == 0, 1.0, -1.0)
    # adults lean male (true bias +0.8 at T 2), the others are calibrated as they are
    p = np.where(adult > 0, 1 / (1 + np.exp(-(z / 2 + 0.8))), 1 / (1 + np.exp(-z)))
    female = (rng.random(4000) < p).astype(float)
    female[:20] = -1
    bands = fit_bands(z, adult, female)
    assert bands["adult"][0] == pytest.approx(2.0, rel=0.15)
    assert bands["adult"][1] == pytest.approx(0.8, abs=0.15)
    assert bands["young"][0] == pytest.approx(1.0, rel=0.15)
    assert abs(bands["young"][1]) < 0.15
    stage = FaceAttributes(FaceAttrEnsemble([TINY]), 32, temperature=1.0, bands=bands)
    both = stage.p_female(np.zeros(2), np.array([1.0, -1.0]))
    assert both[0] > 0.65 and abs(both[1] - 0.5) < 0.05
    thin = fit_bands(z[:60], adult[:60], female[:60], temperature=1.5)
    assert thin == {"adult": [1.5, 0.0], "young": [1.5, 0.0]}  # too few crops to fit


def test_an_ensemble_gets_the_head_and_the_stage_uses_its_bands(tmp_path, tiny_dataset):
    torch.manual_seed(0)
    model = FaceAttrEnsemble([TINY, TINY]).eval()
    args = {"members": [TINY, TINY], "landmark_members": [0, 1], "temperatures": [1.0, 1.0]}
    meta = {"flip_tta": True, "image_size": 32}
    weights.save(tmp_path / "e", "attr", model, "FaceAttrEnsemble", args, meta)
    path, report = add_adult_head(tmp_path / "e", tiny_dataset, tmp_path / "a", min_crops=2)
    info = weights.find("attr", path.parent)
    assert info.args["adult_head"] and set(info.meta["gender_bands"]) == {"adult", "young"}
    assert 0 <= report["adult_accuracy"] <= 1
    stage = FaceAttributes.from_weights(path.parent, backend="torch")
    crops = (np.random.default_rng(0).random((3, 32, 32, 3)) * 255).astype(np.uint8)
    lm, p = stage(crops)
    before = FaceAttributes.from_weights(tmp_path / "e", backend="torch")(crops)
    np.testing.assert_allclose(lm, before[0], atol=1e-5)  # the landmarks do not change
    x = crops.transpose(0, 3, 1, 2).astype(np.float32) / 255
    _, logit, adult = stage.raw(x)
    np.testing.assert_allclose(p, stage.p_female(logit, adult), atol=1e-6)
    with pytest.raises(FileNotFoundError):
        add_adult_head(tmp_path / "nowhere", tiny_dataset, tmp_path / "b")


def test_the_head_is_exported_and_the_onnx_stage_calibrates_as_the_torch_one(tmp_path):
    from unmask.runtime.export import export_stage

    torch.manual_seed(0)
    args = {"members": [TINY, TINY], "temperatures": [1.0, 1.0], "adult_head": True}
    model = weights.build_module("FaceAttrEnsemble", args).eval()
    meta = {"image_size": 32, "gender_bands": {"adult": [2.0, 1.0], "young": [0.5, -1.0]}}
    weights.save(tmp_path, "attr", model, "FaceAttrEnsemble", args, meta)
    export_stage("attr", tmp_path)
    onnx = FaceAttributes.from_weights(tmp_path, backend="onnx")
    assert "adult_logit" in onnx.net.outputs
    crops = (np.random.default_rng(2).random((4, 32, 32, 3)) * 255).astype(np.uint8)
    got = onnx(crops)[1]
    want = FaceAttributes.from_weights(tmp_path, backend="torch")(crops)[1]
    np.testing.assert_allclose(got, want, atol=2e-3)
