import cv2
import numpy as np
import pytest
import torch

from support import mean_face_with_mask
from unmask.augment.mask_prints import PRINTS, print_pattern, random_colour, repaint_batch

S = 64


def test_every_print_is_one_or_two_colours_of_the_right_shape():
    for kind in PRINTS:
        p = print_pattern(np.random.default_rng(3), S, kind)
        assert p.shape == (3, S, S) and p.dtype == np.float32
        assert p.min() >= 0 and p.max() <= 1
        flat = p.reshape(3, -1)
        sv = np.linalg.svd(flat - flat.mean(1, keepdims=True), compute_uv=False)
        if kind == "solid":
            assert sv[0] < 1e-4
        else:  # every pixel lies between the two colours: a rank-one spread, not flat
            assert sv[0] > 1.0 and sv[1] < 1e-3 * sv[0], kind
    with pytest.raises(ValueError, match="unknown print"):
        print_pattern(np.random.default_rng(0), S, "tartan")


def test_random_colours_cover_hue_and_brightness():
    c = np.stack([random_colour(np.random.default_rng(i)) for i in range(400)])
    assert c.min() >= 0 and c.max() <= 1
    assert (c.argmax(1)[:, None] == np.arange(3)).any(0).all()  # red, green and blue dominant
    assert c.max(1).min() < 0.2 and c.max(1).max() > 0.9


def test_repaint_batch_changes_only_the_drawn_masks_and_follows_the_seed():
    _, mask = mean_face_with_mask(S)
    x = torch.rand(6, 3, S, S) * 0.3 + 0.35
    masks = torch.from_numpy(np.repeat(mask[None, None], 6, 0).astype(np.float32))
    assert repaint_batch(x, masks, 0.0) is x
    out = repaint_batch(x, masks, 1.0, torch.Generator().manual_seed(0))
    again = repaint_batch(x, masks, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    away = torch.from_numpy(cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0)
    assert torch.equal(out[:, :, away], x[:, :, away])  # nothing changes away from the mask
    inside = torch.from_numpy(mask > 0)
    assert (out - x).abs()[:, :, inside].mean() > 0.05  # the masks are repainted
    half = repaint_batch(x, masks, 0.5, torch.Generator().manual_seed(1))
    changed = (half - x).abs().flatten(1).amax(1) > 0
    assert 0 < int(changed.sum()) < 6
