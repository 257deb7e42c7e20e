import numpy as np
import pytest
import torch

from unmask.detection.net import NetDetector
from unmask.detection.zoom import (
    ZOOM_FLOOR,
    detector_look,
    expected_box,
    second_look,
    zoom_crop,
)
from unmask.models.detector import FaceDetector


def test_zoom_crop_puts_the_candidate_in_the_expected_box():
    img = np.zeros((120, 200, 3), np.uint8)
    box = np.array([150.0, 30.0, 170.0, 50.0], np.float32)
    img[30:50, 150:170] = 255
    crop = zoom_crop(img, box, 3.0, 60)
    assert crop.shape == (60, 60, 3) and crop.dtype == np.uint8
    x0, y0, x1, y1 = expected_box(3.0, 60)[0]
    assert (x0, y0, x1, y1) == (20.0, 20.0, 40.0, 40.0)
    inside = crop[22:38, 22:38].mean()
    outside = np.concatenate([crop[:, :17].ravel(), crop[:, 43:].ravel()]).mean()
    assert inside > 200 and outside < 20


def test_detector_look_is_used_only_where_asked():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 99, 99]], np.float32)
    scores = np.array([0.64, 0.64, ZOOM_FLOOR / 2, 0.64], np.float32)
    small = np.array([True, True, True, False])
    centre = expected_box(3.0, 30)
    looks = iter(
        [
            (np.concatenate([centre, [[0, 0, 3, 3]]]), np.array([0.25, 0.99], np.float32)),
            (np.array([[0, 0, 3, 3]], np.float32), np.array([0.99], np.float32)),
        ]
    )
    calls = []

    def second(crop):
        calls.append(crop.shape)
        return next(looks)

    img = np.zeros((40, 40, 3), np.uint8)
    out = second_look(detector_look(second, 3.0, 30), img, boxes, scores, small, 3.0, 30)
    assert calls == [(30, 30, 3), (30, 30, 3)]  # the low and the large candidate are not looked at
    np.testing.assert_allclose(out, [0.25, 0.0, ZOOM_FLOOR / 2, 0.64], atol=1e-6)
    assert np.all(out <= scores)  # a veto: no score rises
    look = detector_look(second, 3.0, 30)
    unchanged = second_look(look, img, boxes, scores, small, 3.0, 30, floor=0.7)
    np.testing.assert_array_equal(unchanged, scores)  # none reaches the floor: no look


def test_detector_with_zoom_only_lowers_small_candidates():
    torch.manual_seed(0)
    model = FaceDetector(widths=(4, 8, 8, 8, 8), blocks=1, fpn_channels=8, head_channels=8).eval()
    with torch.no_grad():
        model.cls_head[-1].bias.fill_(0.0)  # scores near 0.5: over the zoom floor
    img = (np.random.default_rng(0).random((90, 70, 3)) * 255).astype(np.uint8)
    plain = NetDetector(model, 64, 0.0).predict(img)
    off = NetDetector(model, 64, 0.0, zoom_side=1e-3, zoom_input=32).predict(img)
    np.testing.assert_array_equal(off[1], plain[1])  # no box is that small
    zoomed = NetDetector(model, 64, 0.0, zoom_side=1e6, zoom_input=32).predict(img)
    assert zoomed[0].shape[1:] == (4,) and zoomed[2].shape[1:] == (5, 2)
    assert np.all((zoomed[1] >= 0) & (zoomed[1] <= 1))
    assert not np.array_equal(np.sort(zoomed[1]), np.sort(plain[1]))
    assert len(zoomed[1]) <= len(plain[1]) and zoomed[1].max() <= plain[1].max()


def test_verifier_look_gives_one_probability_per_crop_in_one_batch():
    from unmask.detection.zoom import verifier_look
    from unmask.models.verifier import FaceVerifier
    from unmask.runtime.backend import as_net

    calls = []

    class Net:
        def __call__(self, image):
            calls.append(image.shape)
            return {"logit": np.array([-20.0, 0.0, 20.0], np.float32)[: len(image)]}

    crops = [np.zeros((16, 16, 3), np.uint8)] * 3
    np.testing.assert_allclose(verifier_look(Net())(crops), [0, 0.5, 1], atol=1e-6)
    assert calls == [(3, 3, 16, 16)]
    real = verifier_look(as_net(FaceVerifier(16, (4, 8)).eval()))(crops[:2])
    assert real.shape == (2,) and np.all((real > 0) & (real < 1))


def test_detector_with_a_verifier_vetoes_small_candidates_only():
    from unmask.models.verifier import FaceVerifier

    torch.manual_seed(0)
    model = FaceDetector(widths=(4, 8, 8, 8, 8), blocks=1, fpn_channels=8, head_channels=8).eval()
    with torch.no_grad():
        model.cls_head[-1].bias.fill_(0.0)
    no = FaceVerifier(16, (4, 8)).eval()
    with torch.no_grad():
        no.head.bias.fill_(-30.0)  # "not a face" for every crop
    img = (np.random.default_rng(0).random((90, 70, 3)) * 255).astype(np.uint8)
    plain = NetDetector(model, 64, 0.0).predict(img)
    vetoed = NetDetector(model, 64, 0.0, verifier=no, verify_side=1e6).predict(img)
    assert vetoed[1].max() < 1e-6 < plain[1].max()  # every candidate is small enough: all vetoed
    kept = NetDetector(model, 64, 0.0, verifier=no, verify_side=1e-3).predict(img)
    np.testing.assert_array_equal(kept[1], plain[1])  # none is that small
    with pytest.raises(ValueError, match="input size"):
        NetDetector(model, 64, verifier=lambda image: {"logit": image[:, 0, 0, 0]})
