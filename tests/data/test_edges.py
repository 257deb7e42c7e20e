import numpy as np

from unmask.data.edges import EdgeSampling, dark_rim, patches
from unmask.stages.refine import Window


def _square(h=60, w=80):
    mask = np.zeros((h, w), bool)
    mask[20:50, 15:65] = True
    return mask


def test_the_dark_rim_lies_along_the_mask_outside_it_and_is_darker():
    image = np.full((60, 80, 3), 200, np.uint8)
    mask = _square()
    for seed in range(6):
        out, band = dark_rim(image, mask, np.random.default_rng(seed))
        assert band.any() and not (band & mask).any()
        assert (out[band] < 200).all() and (out[~band] == 200).all()
        ys, xs = np.nonzero(band)
        assert ys.min() >= 17 and ys.max() <= 52 and xs.min() >= 12 and xs.max() <= 67


def test_patches_are_cut_around_the_edge_and_where_the_coarse_mask_is_wrong():
    target = _square()
    coarse = np.zeros(target.shape, np.float32)
    coarse[24:50, 15:65] = 1.0  # misses the mask's top four rows
    win = Window((0, 0, 80, 60), 1.0, np.zeros((60, 80, 3), np.uint8), coarse)
    cfg = EdgeSampling(patch=16, per_photo=20)
    out = patches(win, target, cfg, np.random.default_rng(0))
    assert len(out["target"]) == 21
    assert out["image"][0].shape == (16, 16, 3) and out["coarse"][0].dtype == np.uint8
    mixed = [t.min() != t.max() for t in out["target"][1:]]  # the 20 placed around the edge
    assert sum(mixed) == 20
    assert patches(win, target[:10, :10], cfg, np.random.default_rng(0)) == {}


def test_thin_wrong_pieces_get_their_share_of_patches():
    target = _square(60, 120)
    target[30:32, 90:118] = True  # a thin loop the coarse mask misses
    coarse = np.zeros(target.shape, np.float32)
    coarse[20:50, 15:65] = 1.0
    win = Window((0, 0, 120, 60), 1.0, np.zeros((60, 120, 3), np.uint8), coarse)
    cfg = EdgeSampling(patch=16, per_photo=10, wrong_share=1.0)
    out = patches(win, target, cfg, np.random.default_rng(0))
    on_loop = [0 < t.sum() <= 32 for t in out["target"][1:]]
    assert len(out["target"]) == 11 and all(on_loop)  # every patch of the loop alone
