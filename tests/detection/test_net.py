import numpy as np
import pytest
import torch

from unmask.detection.base import Detection
from unmask.detection.decode import decode, letterbox, nms, small_face_penalty
from unmask.detection.net import NetDetector
from unmask.models.detector import FaceDetector


def test_letterbox_maps_points_consistently():
    img = np.zeros((100, 50, 3), np.uint8)
    img[10, 20] = 255
    canvas, scale, pad = letterbox(img, 64)
    assert canvas.shape == (64, 64, 3)
    assert np.allclose(scale, [32 / 50, 64 / 100]) and np.allclose(pad, [16, 0])
    x, y = (np.array([20, 10]) + 0.5) * scale - 0.5 + pad
    assert canvas[int(round(y)), int(round(x))].max() > 0
    free, _, pad2 = letterbox(np.zeros((100, 300, 3), np.uint8), 320, square=False)
    assert free.shape == (128, 320, 3) and pad2[0] == 0


def test_decode_recovers_a_box_and_keypoints():
    stride, n = 4, 16
    heat = np.zeros((n, n), np.float32)
    heat[5, 7] = 0.9
    heat[5, 8] = 0.6  # not a local maximum
    box = np.full((4, n, n), np.log(3.0), np.float32)  # 12 px to each side
    kps = np.zeros((10, n, n), np.float32)
    kps[0, 5, 7], kps[1, 5, 7] = -0.25, -0.1
    boxes, scores, pts = decode(heat, box, kps, stride, 0.3)
    cx, cy = 7 * stride + 1.5, 5 * stride + 1.5
    assert scores.tolist() == pytest.approx([0.9])
    assert boxes[0] == pytest.approx([cx - 12, cy - 12, cx + 12, cy + 12], abs=1e-4)
    assert pts[0, 0] == pytest.approx([cx - 6, cy - 2.4], abs=1e-4)
    assert pts.shape == (1, 5, 2)


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    keep = nms(boxes, np.array([0.5, 0.9, 0.7], np.float32), 0.4)
    assert keep.tolist() == [1, 2]


def test_detect_returns_valid_sorted_detections():
    torch.manual_seed(0)
    model = FaceDetector(widths=(4, 8, 8, 8, 8), blocks=1, fpn_channels=8, head_channels=8).eval()
    det = NetDetector(model, input_size=64, score_threshold=0.0)
    img = (np.random.default_rng(0).random((90, 70, 3)) * 255).astype(np.uint8)
    found = det.detect(img)
    assert found and all(isinstance(d, Detection) for d in found)
    scores = [d.score for d in found]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    for d in found:
        assert d.box.shape == (4,) and d.box.dtype == np.float32
        assert d.keypoints.shape == (5, 2) and np.isfinite(d.keypoints).all()
        assert 0 <= d.box[0] <= d.box[2] <= 69 and 0 <= d.box[1] <= d.box[3] <= 89
    with pytest.raises(ValueError):
        det.detect(img.astype(np.float32))


def test_flip_tta_is_mirror_equivariant():
    """With flip averaging, the maps of a mirrored canvas are the mirrored maps."""
    torch.manual_seed(0)
    net = FaceDetector(widths=[4, 8, 8, 8, 8], blocks=1, fpn_channels=8, head_channels=8).eval()
    det = NetDetector(net, input_size=64, flip=True)
    img = (np.random.default_rng(0).random((64, 96, 3)) * 255).astype(np.uint8)
    heat, box, kps = det.maps(img)
    heat_m, box_m, kps_m = det.maps(np.ascontiguousarray(img[:, ::-1]))
    assert heat.shape == (16, 24) and box.shape == (4, 16, 24) and kps.shape == (10, 16, 24)
    np.testing.assert_allclose(heat_m[:, ::-1], heat, atol=1e-5)
    np.testing.assert_allclose(box_m[[2, 1, 0, 3], :, ::-1], box, atol=1e-5)
    k_m = (
        kps_m[:, :, ::-1].reshape(5, 2, 16, 24)[[1, 0, 2, 4, 3]] * np.array([-1, 1])[:, None, None]
    )
    np.testing.assert_allclose(k_m.reshape(10, 16, 24), kps, atol=1e-5)
    plain = NetDetector(net, input_size=64)
    assert not np.allclose(plain.maps(img)[0], heat, atol=1e-6)


def test_small_face_penalty_lowers_only_small_boxes():
    boxes = np.array([[0, 0, 20, 20], [0, 0, 100, 100]], np.float32)  # on a 640-px photo
    scores = np.array([0.5, 0.5], np.float32)
    # at a 320 letterbox the boxes are 10 and 50 px
    got = small_face_penalty(boxes, scores, (480, 640, 3), 320, side=24, penalty=0.2)
    assert got.tolist() == pytest.approx([0.3, 0.5])
    assert small_face_penalty(boxes, scores, (480, 640, 3), 320, 24, 0.9).tolist() == [0, 0.5]
    np.testing.assert_array_equal(small_face_penalty(boxes, scores, (48, 64), 320, 0, 0.2), scores)


def test_detector_drops_small_faces_below_the_penalised_threshold():
    torch.manual_seed(0)
    model = FaceDetector(widths=(4, 8, 8, 8, 8), blocks=1, fpn_channels=8, head_channels=8).eval()
    img = (np.random.default_rng(0).random((90, 70, 3)) * 255).astype(np.uint8)
    plain = NetDetector(model, input_size=64, score_threshold=1e-4).predict(img)
    assert len(plain[0])
    strict = NetDetector(model, 64, 1e-4, small_side=1e6, small_penalty=1.0).predict(img)
    assert len(strict[0]) == 0  # every box is "small" and loses all its score
    loose = NetDetector(model, 64, 1e-4, small_side=1e6, small_penalty=0.0).predict(img)
    np.testing.assert_array_equal(loose[1], plain[1])
