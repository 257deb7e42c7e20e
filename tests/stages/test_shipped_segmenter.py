"""The shipped segmenter finds a synthetic mask on the built-in example (real behaviour)."""

import numpy as np
import pytest

from unmask.demo import example_face
from unmask.faces.align import align
from unmask.faces.landmarks import five_from_68
from unmask.masking.procedural import ProceduralMasks
from unmask.metrics.masks import mask_metrics
from unmask.runtime import weights


def _shipped():
    try:
        weights.find("segmenter", weights.shipped_dir())
    except FileNotFoundError:
        pytest.skip("no shipped segmenter weights")
    from unmask.stages.segment import Segmenter

    image, lm = example_face()
    return Segmenter.from_weights(weights.shipped_dir()), align(image, five_from_68(lm), 256), lm


def test_shipped_segmenter_finds_synthetic_masks_on_example():
    seg, al, lm = _shipped()
    rng = np.random.default_rng(0)
    ious = []
    for _ in range(4):
        mf = ProceduralMasks().apply(al.crop, al.to_crop(lm), rng)
        pred = seg(mf.image)
        assert pred.shape == (256, 256) and pred.dtype == np.uint8
        ious.append(mask_metrics(pred, mf.mask)["iou"])
    assert np.mean(ious) > 0.85, ious


def test_shipped_segmenter_leaves_unmasked_face_empty():
    seg, al, _ = _shipped()
    assert seg(al.crop).mean() < 0.02
