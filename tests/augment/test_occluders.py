import numpy as np
import pytest
import torch

from support import mean_face_with_mask
from unmask.augment.occluders import OCCLUDERS, occlude, occlude_batch
from unmask.faces.landmarks import EYES

S = 96
SKIN = np.array([0.78, 0.58, 0.45], np.float32)
MASK_RGB = np.array([0.1, 0.3, 0.9], np.float32)


def _crop():
    lm, mask = mean_face_with_mask(S)
    image = np.broadcast_to(SKIN[:, None, None], (3, S, S)).copy()
    image[:, mask > 0] = MASK_RGB[:, None]
    return image, mask, lm


def _changed(a, b, tol=0.03):
    return np.abs(a - b).max(0) > tol


@pytest.mark.parametrize("kind", OCCLUDERS)
def test_every_occluder_covers_part_of_the_face_and_leaves_the_input_alone(kind):
    image, mask, lm = _crop()
    before = image.copy()
    for seed in range(5):
        out = occlude(image, mask, lm, np.random.default_rng(seed), kind)
        assert out.shape == image.shape and out.dtype == np.float32
        assert out.min() >= 0 and out.max() <= 1
        share = _changed(out, image).mean()
        assert 0.01 < share < 0.6, (kind, seed, share)  # a part of the crop, never all of it
    assert np.array_equal(image, before)
    again = occlude(image, mask, lm, np.random.default_rng(4), kind)
    assert np.array_equal(again, out)


@pytest.mark.parametrize("kind", ["hand", "scarf", "phone"])
def test_hands_scarves_and_phones_stay_below_the_eyes(kind):
    image, mask, lm = _crop()
    above = int(lm[list(EYES), 1].max() - 0.1 * S)  # the soft edge and the shadow's blur
    for seed in range(10):
        out = occlude(image, mask, lm, np.random.default_rng(seed), kind)
        assert not _changed(out[:, :above], image[:, :above], 1e-3).any()


def test_hair_falls_from_above_over_one_side():
    image, mask, lm = _crop()
    brow = int(lm[19, 1])
    for seed in range(10):
        hit = _changed(occlude(image, mask, lm, np.random.default_rng(seed), "hair"), image)
        assert hit[:brow].any()  # it reaches over the forehead, unlike the others
        cols = np.nonzero(hit)[1]
        left, right = (cols < S / 2).sum(), (cols >= S / 2).sum()
        assert min(left, right) < 0.2 * max(left, right)


def test_hands_take_the_face_s_own_skin_tone():
    image, mask, lm = _crop()
    image[:, mask > 0] = 0.2  # a dark grey mask: the shadow only darkens it, a hand lightens it
    for seed in range(5):
        out = occlude(image, mask, lm, np.random.default_rng(seed), "hand")
        hand = out[:, (mask > 0) & (out.mean(0) > 0.4)]
        assert hand.shape[1] > 20
        chroma = np.median(hand, 1) / np.median(hand, 1).sum()
        assert np.abs(chroma - SKIN / SKIN.sum()).max() < 0.03


def test_an_unknown_occluder_is_refused():
    image, mask, lm = _crop()
    with pytest.raises(ValueError, match="unknown occluder"):
        occlude(image, mask, lm, np.random.default_rng(0), "umbrella")


def test_occlude_batch_follows_its_probability_and_seed():
    image, mask, lm = _crop()
    n = 8
    x = torch.from_numpy(np.repeat(image[None], n, 0))
    batch = {
        "mask": torch.from_numpy(np.repeat(mask[None, None], n, 0).astype(np.float32)),
        "landmarks": torch.from_numpy(np.repeat(lm[None], n, 0)),
    }
    assert occlude_batch(x, batch, 0.0) is x
    out = occlude_batch(x, batch, 1.0, torch.Generator().manual_seed(0))
    again = occlude_batch(x, batch, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    assert ((out - x).abs().flatten(1).amax(1) > 0.05).all()
    half = occlude_batch(x, batch, 0.5, torch.Generator().manual_seed(2))
    hit = (half - x).abs().flatten(1).amax(1) > 0
    assert 0 < int(hit.sum()) < n
    assert torch.equal(half[~hit], x[~hit])
