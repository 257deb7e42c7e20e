import numpy as np
import pytest
import torch

from unmask.evaluation.attr import evaluate, markdown
from unmask.models.face_attr import FaceAttrNet
from unmask.runtime import weights

ATTR = dict(image_size=32, widths=(8, 8, 16, 16), blocks=1, head_channels=4)


def test_evaluate_judge_on_clean_and_masked_crops(tiny_dataset, tmp_path):
    torch.manual_seed(0)
    net = FaceAttrNet(**ATTR)
    weights.save(tmp_path, "gender_judge", net, "FaceAttrNet", ATTR, {"gender_temperature": 1})
    res = {
        inputs: evaluate(
            tiny_dataset, tmp_path, baseline_limit=0, name="gender_judge", inputs=inputs
        )
        for inputs in ("clean", "masked")
    }
    for inputs, r in res.items():
        assert r["weights"] == "gender_judge" and r["inputs"] == inputs
        g = r["groups"]["all (seen styles)"]
        assert g["n"] == r["samples"] > 0
        assert 0 <= g["gender_acc"] <= 1 and np.isfinite(g["nme_all"])
        assert f"on {inputs} crops" in markdown(r)
    # the same network sees different pixels, so its landmarks differ between the two inputs
    nme = {k: r["groups"]["all (seen styles)"]["nme_all"] for k, r in res.items()}
    assert nme["clean"] != nme["masked"]


def test_evaluate_rejects_unknown_inputs(tiny_dataset, tmp_path):
    with pytest.raises(ValueError, match="masked"):
        evaluate(tiny_dataset, tmp_path, inputs="grey")


def test_evaluate_scores_the_onnx_file_when_asked(tiny_dataset, tmp_path):
    from unmask.runtime.export import export_stage

    pytest.importorskip("onnxruntime")
    torch.manual_seed(1)
    net = FaceAttrNet(**ATTR)
    weights.save(tmp_path, "attr", net, "FaceAttrNet", ATTR, {"gender_temperature": 1})
    export_stage("attr", tmp_path)
    res = {
        b: evaluate(tiny_dataset, tmp_path, baseline_limit=0, backend=b) for b in ("torch", "onnx")
    }
    assert "(onnx)" in markdown(res["onnx"]) and "(torch)" in markdown(res["torch"])
    a, b = (res[k]["groups"]["all (seen styles)"]["nme_all"] for k in ("torch", "onnx"))
    assert res["onnx"]["backend"] == "onnx" and abs(a - b) < 1e-3 * max(a, 1e-6) + 1e-6
    # a file that differs from the network is what the onnx backend reads, not the network
    (tmp_path / "attr.onnx").write_bytes(b"not a graph")
    with pytest.raises(Exception, match="INVALID_PROTOBUF"):  # noqa: B017 (ORT's own class)
        evaluate(tiny_dataset, tmp_path, baseline_limit=0, backend="onnx")
    assert (
        evaluate(tiny_dataset, tmp_path, baseline_limit=0)["groups"]["all (seen styles)"]["nme_all"]
        == a
    )
