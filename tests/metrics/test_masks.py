import math

import numpy as np
import pytest

from unmask.metrics.masks import (
    MaskScores,
    boundary,
    boundary_f,
    boundary_tolerance,
    mask_metrics,
    summarize,
)


def _box(y0, y1, x0, x1, size=20):
    m = np.zeros((size, size), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def test_overlapping_boxes_have_known_iou_dice_leftover_and_extra():
    true = _box(0, 10, 0, 10)  # 100 px
    pred = _box(0, 10, 5, 15)  # 100 px, 50 shared
    m = mask_metrics(pred, true)
    assert m["iou"] == pytest.approx(50 / 150)
    assert m["dice"] == pytest.approx(100 / 200)
    assert m["leftover"] == pytest.approx(0.5)
    assert m["extra_area"] == pytest.approx(0.5)


def test_superset_prediction_has_no_leftover():
    true = _box(5, 15, 5, 15)
    pred = _box(4, 16, 4, 16)
    m = mask_metrics(pred, true)
    assert m["leftover"] == 0
    assert m["extra_area"] == pytest.approx((144 - 100) / 100)
    assert m["bf"] == 0.0  # boundaries 1 px apart; default tolerance at 20 px is 0.31 px
    assert boundary_f(pred, true, tol=1.5) == 1.0  # corners are sqrt(2) apart


def test_boundary_f_respects_tolerance():
    true = _box(5, 15, 5, 15, size=40)
    shifted = _box(5, 15, 8, 18, size=40)  # 3 px to the right
    assert boundary_f(shifted, true, tol=3.0) == 1.0
    assert boundary_f(shifted, true, tol=0.5) < 0.7
    assert boundary_f(true, true, tol=0.0) == 1.0
    assert boundary_tolerance(128) == 2.0 and boundary_tolerance(256) == 4.0


def test_boundary_is_the_inner_ring():
    b = boundary(_box(2, 6, 2, 6, size=8))
    assert b.sum() == 12 and not b[3:5, 3:5].any()


def test_empty_masks():
    empty = np.zeros((8, 8), np.uint8)
    m = mask_metrics(empty, empty)
    assert m["iou"] == 1 and m["dice"] == 1 and m["bf"] == 1
    assert math.isnan(m["leftover"]) and math.isnan(m["extra_area"])
    m = mask_metrics(empty, _box(0, 2, 0, 2, 8))
    assert m["iou"] == 0 and m["leftover"] == 1 and m["bf"] == 0


def test_mean_and_pooled_aggregates_differ_as_expected():
    big, small = _box(0, 10, 0, 10), _box(0, 2, 0, 2)  # 100 px and 4 px
    scores = MaskScores(boundary_f=False)
    scores.add(big, big)  # perfect
    scores.add(np.zeros_like(small), small)  # all 4 px missed
    s = scores.summary()
    assert s["n"] == 2 and "bf" not in s
    assert s["leftover"] == pytest.approx(0.5)  # mean of 0 and 1
    assert s["leftover_pooled"] == pytest.approx(4 / 104)
    assert s["iou"] == pytest.approx(0.5) and s["iou_pooled"] == pytest.approx(100 / 104)
    batch = summarize([(np.stack([big, small]), np.stack([big, small]))])
    assert batch["n"] == 2 and batch["iou"] == 1


def test_shape_mismatch_raises():
    with pytest.raises(ValueError):
        mask_metrics(np.zeros((4, 4)), np.zeros((4, 5)))
