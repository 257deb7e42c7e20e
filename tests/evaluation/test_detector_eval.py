import numpy as np
import pytest
import torch

from unmask.evaluation.detector import dlib_predict, evaluate, markdown
from unmask.models.detector import FaceDetector
from unmask.stages.detector import NetDetector


def test_evaluate_and_markdown_with_a_tiny_model(tiny_dataset, tmp_path):
    torch.manual_seed(0)
    model = FaceDetector(widths=(4, 8, 8, 8, 8), blocks=1, fpn_channels=8, head_channels=8)
    det = NetDetector(model.eval(), input_size=64, score_threshold=0.5)
    dev = tmp_path / "dev"
    dev.mkdir()
    from PIL import Image

    Image.fromarray(np.full((40, 30, 3), 128, np.uint8)).save(dev / "a.png")
    res = evaluate(
        tiny_dataset,
        dev=dev,
        photos=None,
        templates=None,
        synthetic=3,
        negatives=2,
        kinds=(),
        baseline_images=2,
        baseline_cache=None,
        detector=det,
        timing_repeats=2,
        sheet_path=tmp_path / "sheet.png",
    )
    assert (tmp_path / "sheet.png").is_file()
    assert res["synthetic"]["images"] == 3 and res["paired"]["images"] == 2
    assert res["synthetic_worn"]["images"] == 3
    assert res["real_dev"]["ours"]["photos"] == 1
    assert set(res["cpu_ms_640x480"]) == {"threads_1", "threads_2"}
    assert "face_free_fp_per_image" in res["acceptance"]
    n, thr = res["negatives"]["neg_images"], res["threshold"]
    boxes = sum(f["boxes"] for f in res["false_faces"])
    assert boxes == pytest.approx(res["negatives"][f"neg_fp_per_image_{thr}"] * n, abs=1e-3)
    text = markdown(res)
    assert "| ours |" in text and "acceptance" in text and "synthetic_worn" in text
    assert "Pictures with false faces" in text


def test_dlib_baseline_finds_a_real_face():
    from support import require_dlib, shared_path

    require_dlib()
    path = sorted(shared_path("faces-utk").glob("*.jpg"))[0]
    from PIL import Image

    img = np.asarray(Image.open(path).convert("RGB"))
    boxes, scores, kps = dlib_predict("hog")(img, 0.0)
    assert len(boxes) >= 1 and boxes.shape[1] == 4 and kps.shape == (len(boxes), 5, 2)
