import numpy as np
import pytest

from unmask.metrics.detection import (
    box_iou,
    collect,
    false_faces,
    hits,
    match,
    negatives_metrics,
    real_photo_metrics,
    synthetic_metrics,
)
from unmask.scenes.composite import Scene


def _scene(boxes):
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    kps = np.repeat(((boxes[:, :2] + boxes[:, 2:]) / 2)[:, None], 5, 1)
    return Scene(np.zeros((100, 200, 3), np.uint8), boxes, kps, np.ones(len(boxes), bool), "scene")


def test_iou_match_and_hits():
    a = np.array([[0, 0, 10, 10], [100, 100, 110, 110]], np.float32)
    b = np.array([[0, 0, 10, 20]], np.float32)
    assert box_iou(a, b)[:, 0] == pytest.approx([0.5, 0.0])
    tp, owner = match(a, b, 0.5)
    assert tp.tolist() == [True, False] and owner.tolist() == [0]
    assert hits(a, b)[:, 0].tolist() == [True, False]
    assert not hits(np.array([[0, 0, 40, 40]], np.float32), b)[0, 0]  # centre out


def test_synthetic_and_negative_metrics():
    scenes = [_scene([[10, 10, 50, 60]]), _scene([[100, 20, 140, 70], [150, 10, 170, 30]])]

    def predict(image, threshold):
        idx = 0 if image is scenes[0].image else 1
        gt = scenes[idx].boxes[:1]
        boxes = np.concatenate([gt, [[0, 80, 10, 90]]]).astype(np.float32)
        scores = np.array([0.9, 0.4], np.float32)
        keep = scores >= threshold
        return (
            boxes[keep],
            scores[keep],
            np.repeat(((boxes[:, :2] + boxes[:, 2:]) / 2)[:, None], 5, 1)[keep],
        )

    res = synthetic_metrics(predict, scenes, (0.3, 0.5))
    assert res["faces"] == 3 and res["recall_0.5"] == pytest.approx(2 / 3, abs=1e-3)
    assert res["fp_per_image_0.3"] == pytest.approx(1.0) and res["fp_per_image_0.5"] == 0
    assert res["kp_nme"] == pytest.approx(0.0)
    assert res["breakdown"]["masked"]["faces"] == 3
    quick = synthetic_metrics(predict, scenes, (0.3, 0.5), breakdown=False)
    assert "breakdown" not in quick and "kp_nme" not in quick
    # the same figures, but for the time each run took
    assert all(quick[k] == res[k] for k in quick if k != "ms")
    neg = negatives_metrics(predict, [scenes[0].image], (0.3, 0.5))
    assert neg["neg_fp_per_image_0.3"] == 2 and neg["neg_image_share_0.5"] == 1.0
    got = collect(predict, [scenes[0].image, scenes[1].image])
    found = false_faces(got, 0.5)
    assert [f["image"] for f in found] == [0, 1] and found[0]["boxes"] == 1
    assert found[0]["sides"] == [pytest.approx(np.sqrt(40 * 50), abs=0.1)]
    assert found[1]["max_score"] == pytest.approx(0.9)
    assert false_faces(got, 0.95) == []
    halved = false_faces(got, 0.5, scales=[0.5, 1.0])
    assert halved[0]["sides"] == [pytest.approx(np.sqrt(40 * 50) / 2, abs=0.1)]
    real = real_photo_metrics(predict, [scenes[0].image, scenes[1].image], 0.5)
    assert real["found_share"] == 1.0 and real["whole_photo_share"] == 0.0
    assert 0 < real["area_ratio"]["50"] < 0.2
