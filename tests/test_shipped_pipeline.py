"""The whole pipeline with the shipped weights on the built-in example (real behaviour)."""

import numpy as np
import pytest

from unmask.demo import masked_example
from unmask.runtime import weights


@pytest.fixture(scope="module")
def unmasker():
    for stage in ("detector", "attr", "segmenter", "inpainter"):
        try:
            weights.find(stage, weights.shipped_dir())
        except FileNotFoundError:
            pytest.skip(f"no shipped {stage} weights")
    from unmask.api import Unmasker

    return Unmasker()


def test_an_unmasked_face_is_found_and_left_untouched(unmasker):
    original, _, _ = masked_example()
    result = unmasker(original)
    assert len(result.faces) == 1 and not result.faces[0].masked
    assert np.array_equal(result.restored, original) and not result.mask.any()


def test_a_masked_face_is_rebuilt_inside_its_mask_only(unmasker):
    original, masked, mask = masked_example()
    result = unmasker(masked)
    assert len(result.faces) == 1 and result.faces[0].masked
    changed = np.any(result.restored != masked, axis=-1)
    grown = result.mask > 0
    assert grown[mask > 0].mean() > 0.97  # the drawn mask is (nearly) all rebuilt
    assert not changed[~grown].any() or changed[~grown].mean() < 0.02  # blend rim only
    # closer to the hidden face than the mask was
    err = np.abs(result.restored.astype(int) - original)[mask > 0].mean()
    assert err < np.abs(masked.astype(int) - original)[mask > 0].mean()


def test_every_stage_of_a_rebuilt_face_is_timed(unmasker):
    _, masked, _ = masked_example()
    face = unmasker(masked).faces[0]
    stages = {"align", "attributes", "segment", "inpaint", "paste", "finish"}
    assert stages <= set(face.timings_ms) and all(face.timings_ms[k] > 0 for k in stages)
