import cv2
import numpy as np
import torch

from support import mean_face_with_mask
from unmask.augment.mask_reach import Reach, reshape_batch, reshape_mask
from unmask.faces.landmarks import EYES

S = 96
MASK_RGB = np.array([0.1, 0.3, 0.9], np.float32)


def _crop(seed: int = 0):
    lm, mask = mean_face_with_mask(S)
    rng = np.random.default_rng(seed)
    clean = (rng.random((3, S, S)) * 0.2 + 0.5).astype(np.float32)
    masked = np.where(mask[None] > 0, MASK_RGB[:, None, None], clean).astype(np.float32)
    return masked, clean, mask, lm


def test_the_mask_moves_as_one_layer_and_the_true_face_shows_where_it_left():
    masked, clean, mask, lm = _crop()
    changed = 0
    for seed in range(12):
        out, new = reshape_mask(masked, clean, mask, lm, np.random.default_rng(seed))
        assert out.shape == masked.shape and out.dtype == np.float32 and new.dtype == np.uint8
        solid = new > 0
        # inside the new mask, away from its soft edge, the pixels are the mask's own colour
        core = (
            cv2.erode(new, np.ones((5, 5), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
            > 0
        )
        assert np.abs(out[:, core] - MASK_RGB[:, None]).max() < 0.02
        # outside the old and the new mask (and their edge pixels) the crop is the true face
        near = cv2.dilate((solid | (mask > 0)).astype(np.uint8), np.ones((5, 5), np.uint8))
        far = near == 0
        assert np.abs(out[:, far] - clean[:, far]).max() < 0.02
        changed += int((solid != (mask > 0)).sum() > 0.05 * mask.sum())
    assert changed >= 10  # the shape really changes, not just by a pixel


def test_the_mask_never_rises_over_the_eyes():
    masked, clean, mask, lm = _crop()
    reach = Reach(rotate_deg=30, up=(2.0, 2.5), down=(1.0, 1.0))  # always far too high
    lid = lm[list(EYES), 1].max()
    for seed in range(6):
        out, new = reshape_mask(masked, clean, mask, lm, np.random.default_rng(seed), reach)
        rows = np.nonzero(new)[0]
        assert rows.min() > lid
        above = int(lid) + 1
        assert np.abs(out[:, :above] - clean[:, :above]).max() < 1e-6


def test_without_a_mask_the_crop_is_returned_unchanged():
    masked, clean, mask, lm = _crop()
    out, new = reshape_mask(clean, clean, np.zeros_like(mask), lm, np.random.default_rng(0))
    assert np.array_equal(out, clean) and not new.any()


def test_reshape_batch_follows_its_probability_and_seed():
    crops = [_crop(i) for i in range(16)]
    batch = {
        "masked": torch.from_numpy(np.stack([c[0] for c in crops])),
        "clean": torch.from_numpy(np.stack([c[1] for c in crops])),
        "mask": torch.from_numpy(np.stack([c[2][None] for c in crops]).astype(np.float32)),
        "landmarks": torch.from_numpy(np.stack([c[3] for c in crops])),
    }
    x, m = reshape_batch(batch, 0.0)
    assert x is batch["masked"] and m is batch["mask"]
    x, m = reshape_batch(batch, 1.0, torch.Generator().manual_seed(0))
    again, _ = reshape_batch(batch, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(x, again) and m.shape == batch["mask"].shape
    assert (m != batch["mask"]).flatten(1).any(1).all()
    x, m = reshape_batch(batch, 0.5, torch.Generator().manual_seed(3))
    moved = (m != batch["mask"]).flatten(1).any(1)
    assert 0 < int(moved.sum()) < 16
    assert torch.equal(x[~moved], batch["masked"][~moved])
