import numpy as np
import pytest
import torch

from support import mean_face_with_mask
from unmask.augment.darken import MASK_GAIN, SURROUND_GAIN, darken, darken_batch, lower_surroundings
from unmask.faces.landmarks import NOSE_TIP, face_outline

S = 64


def _face():
    return mean_face_with_mask(S)


def test_face_outline_covers_the_nose_and_not_the_corners():
    lm, _ = _face()
    m = face_outline(lm, S)
    assert m.dtype == np.uint8 and set(np.unique(m)) == {0, 1}
    x, y = np.round(lm[NOSE_TIP]).astype(int)
    assert m[y, x] == 1 and m[0, 0] == 0 and m[-1, -1] == 0


def test_lower_surroundings_is_below_the_nose_outside_face_and_mask():
    lm, mask = _face()
    region = lower_surroundings(lm, mask)
    ys, _ = np.nonzero(region)
    assert region.any() and ys.min() > lm[NOSE_TIP, 1]
    assert not (region & (mask > 0)).any() and not (region & (face_outline(lm, S) > 0)).any()


def test_darken_scales_mask_and_surroundings_only():
    lm, mask = _face()
    img = np.full((S, S, 3), 200, np.uint8)
    out = darken(img, mask, lm, mask_gain=0.5, surround_gain=0.25)
    assert out.dtype == np.uint8
    assert (out[mask > 0] == 100).all()
    assert (out[lower_surroundings(lm, mask)] == 50).all()
    assert (out[:5] == 200).all()  # above the nose: untouched
    assert (darken(img, mask, lm, 1.0, 1.0) == img).all()


def test_darken_batch_changes_the_drawn_share_and_leaves_inputs():
    lm, mask = _face()
    n = 64
    x = torch.full((n, 3, S, S), 0.8)
    y = torch.from_numpy(mask).float()[None, None].repeat(n, 1, 1, 1)
    lms = torch.from_numpy(lm)[None].repeat(n, 1, 1)
    assert darken_batch(x, y, lms, 0.0) is x
    out = darken_batch(x, y, lms, 0.5, torch.Generator().manual_seed(0), blur_px=0)
    assert (x == 0.8).all() and out.shape == x.shape
    changed = (out != x).flatten(1).any(1)
    assert 16 < int(changed.sum()) < 48
    region = torch.from_numpy(lower_surroundings(lm, mask))
    s = out[changed][:, 0][:, region] / 0.8
    assert s.min() >= SURROUND_GAIN[0] - 1e-6 and s.max() <= SURROUND_GAIN[1] + 1e-6
    m = out[changed][:, 0][:, torch.from_numpy(mask > 0)] / 0.8
    dark_mask = m.amax(1) < 1
    assert 0 < int(dark_mask.sum()) < int(changed.sum())  # about half also darken the mask
    assert m[dark_mask].min() >= MASK_GAIN[0] - 1e-6
    again = darken_batch(x, y, lms, 0.5, torch.Generator().manual_seed(0), blur_px=0)
    assert torch.equal(out, again)


@pytest.mark.parametrize("bad", [np.zeros((5, 2)), np.zeros((68, 3))])
def test_face_outline_rejects_bad_landmarks(bad):
    with pytest.raises(ValueError):
        face_outline(bad, S)
