import json

import numpy as np
import pytest

from unmask.detection.base import Detection
from unmask.detection.net import NetDetector
from unmask.runtime import weights
from unmask.training.detector import DetectorTrainConfig, promote, train
from unmask.training.runs import Run


def _cfg(ds, tmp_path, steps):
    return DetectorTrainConfig(
        dataset=str(ds),
        photos=None,
        templates=None,
        size=64,
        widths=[4, 8, 8, 8, 8],
        blocks=1,
        fpn_channels=8,
        head_channels=8,
        scene={"min_face": 6.0, "max_objects": 4},
        batch=2,
        steps=steps,
        warmup=1,
        eval_every=3,
        eval_images=3,
        epoch_size=8,
        workers=0,
        threads=1,
        recalibrate_batches=1,
        runs=str(tmp_path / "runs"),
        tag="t",
    )


def test_train_resume_promote_load_detect(tiny_dataset, tmp_path, monkeypatch):
    run = train(_cfg(tiny_dataset, tmp_path, 3))
    recs = run.records()
    assert any(r.get("split") == "val" and "recall_0.5" in r for r in recs)
    assert run.load_checkpoint()["step"] == 3
    run2 = train(_cfg(tiny_dataset, tmp_path, 5), Run(run.folder))
    assert run2.folder == run.folder and run2.load_checkpoint()["step"] == 5
    path = promote(run2, tmp_path / "w")
    info = weights.find("detector", tmp_path / "w")
    assert info.path == path and info.arch == "FaceDetector"
    meta = json.loads((tmp_path / "w" / "detector.json").read_text())["meta"]
    assert 0.2 <= meta["score_threshold"] <= 0.9 and meta["input_size"] == 64
    det = NetDetector.from_weights(tmp_path / "w", score_threshold=0.0)
    assert det.input_size == 64 and det.stride == 4
    img = (np.random.default_rng(1).random((50, 80, 3)) * 255).astype(np.uint8)
    found = det.detect(img)
    assert found and isinstance(found[0], Detection)
    assert all(0 <= d.score <= 1 and d.keypoints.shape == (5, 2) for d in found)
    assert not det.flip and meta["flip_tta"] is False
    promote(run2, tmp_path / "w2", overrides={"flip_tta": True, "max_fp": 1.0})
    meta2 = json.loads((tmp_path / "w2" / "detector.json").read_text())["meta"]
    assert meta2["flip_tta"] is True and NetDetector.from_weights(tmp_path / "w2").flip
    rules = {"small_sides": [16.0], "small_penalties": [0.1, 0.2], "min_recall": 0.5}
    rules["zoom"] = [[1e6, 3.0, 32]]
    promote(run2, tmp_path / "w4", overrides=rules)
    meta4 = json.loads((tmp_path / "w4" / "detector.json").read_text())["meta"]
    assert (meta4["small_side"], meta4["small_penalty"]) in [(0, 0), (16, 0.1), (16, 0.2)]
    assert (meta4["zoom_side"], meta4["zoom_input"]) in [(0, 160), (1e6, 32)]
    det4 = NetDetector.from_weights(tmp_path / "w4")
    assert (det4.small_side, det4.small_penalty) == (meta4["small_side"], meta4["small_penalty"])
    assert (det4.zoom_side, det4.zoom_input) == (meta4["zoom_side"], meta4["zoom_input"])
    with pytest.raises(ValueError, match="unknown"):
        promote(run2, tmp_path / "w3", overrides={"no_such_key": 1})


def test_rules_key_prefers_the_wider_margin():
    from unmask.training.detector import rules_key

    val = {"recall_0.3": 0.97, "neg_fp_per_image_0.3": 0.05, "bars_margin": 3.2}
    worse = {**val, "bars_margin": 2.1}
    assert rules_key(val, 0.3, 0.95) > rules_key(worse, 0.3, 0.95)
    assert rules_key(val, 0.3, None) == (0.97, -0.05)
