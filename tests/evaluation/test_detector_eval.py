import numpy as np
import pytest
import torch

from support import research
from unmask.detection.net import NetDetector
from unmask.evaluation.detector import evaluate
from unmask.evaluation.detector_report import markdown
from unmask.models.detector import FaceDetector


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
    res["acceptance"] = research("bars").detector(res)
    assert "face_free_fp_per_image" in res["acceptance"]
    n, thr = res["negatives"]["neg_images"], res["threshold"]
    boxes = sum(f["boxes"] for f in res["false_faces"])
    assert boxes == pytest.approx(res["negatives"][f"neg_fp_per_image_{thr}"] * n, abs=1e-3)
    text = markdown(res)
    assert "| ours |" in text and "acceptance" in text and "synthetic_worn" in text
    assert "Pictures with false faces" in text
    assert res["small_faces"] == {"side": 0.0, "penalty": 0.0}
    assert res["second_looks"] == {"zoom_side": 0.0, "verify_side": 0.0}
    assert "verifier" not in text
    looks = markdown({**res, "second_looks": {"zoom_side": 0.0, "verify_side": 48.0}})
    assert "face verifier under 48 px" in looks.splitlines()[0]


def _fake_detector_sets():
    """Scenes whose large faces score 0.35 and tiny ones 0.7, and face-free pictures with one
    tiny false face at 0.44 each (640 x 480 photos: boxes halve on a 320 letterbox)."""
    from unmask.scenes.composite import Scene

    rng = np.random.default_rng(0)
    scenes, negs, answers = [], [], {}
    for i in range(30):
        img = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
        big, tiny = [100, 100, 200, 200], [400, 300, 430, 330]
        boxes = np.array([big, tiny] if i < 10 else [big], np.float32)
        kps = np.repeat(((boxes[:, :2] + boxes[:, 2:]) / 2)[:, None], 5, 1)
        scenes.append(Scene(img, boxes, kps, np.ones(len(boxes), bool), "scene"))
        answers[id(img)] = (boxes, np.array([0.35, 0.7][: len(boxes)], np.float32), kps)
    for _ in range(20):
        img = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
        box = np.array([[10, 10, 40, 40]], np.float32)
        negs.append(img)
        answers[id(img)] = (box, np.array([0.44], np.float32), np.zeros((1, 5, 2), np.float32))

    def predict(image, threshold):
        b, s, k = answers[id(image)]
        order = np.argsort(-s)
        keep = order[s[order] >= threshold]
        return b[keep], s[keep], k[keep]

    return predict, scenes, negs


def test_choose_threshold_finds_the_small_face_rule():
    from unmask.validation.detector import choose_threshold

    predict, scenes, negs = _fake_detector_sets()
    thr, val = choose_threshold(predict, scenes, negs, max_fp=0.1)
    assert thr == pytest.approx(0.45) and val["small_penalty"] == 0
    assert val["recall_0.45"] == pytest.approx(10 / 40)  # only the tiny faces are left
    small = [(0.0, 0.0), (24.0, 0.15)]
    thr, val = choose_threshold(predict, scenes, negs, max_fp=0.1, small=small)
    assert (val["small_side"], val["small_penalty"]) == (24.0, 0.15)
    assert thr == pytest.approx(0.3) and val[f"recall_{thr}"] == 1.0
    assert val[f"neg_fp_per_image_{thr}"] == 0
    thr, val = choose_threshold(predict, scenes, negs, 0.1, min_recall=0.5, small=small)
    assert (val["small_side"], thr) == (24.0, pytest.approx(0.3))
    assert val["bars_margin"] > 0


def test_bars_margin_widens_the_error_of_clustered_false_faces():
    from unmask.validation.detector import bars_margin

    spread = [1] * 10 + [0] * 90  # 10 boxes on 10 of 100 pictures
    cluster = [5, 5] + [0] * 98  # 10 boxes on 2 pictures
    base = bars_margin(0.99, 1000, 0.1, 100, 0.95, 0.2)
    assert bars_margin(0.99, 1000, 0.1, 100, 0.95, 0.2, spread) == pytest.approx(base, rel=0.1)
    assert bars_margin(0.99, 1000, 0.1, 100, 0.95, 0.2, cluster) < base / 2
