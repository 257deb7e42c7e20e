import numpy as np

from unmask.faces.align import MEAN_68
from unmask.scenes.accessories import accessorize, draw_glasses, draw_headwear


def _face(size: int = 160):
    img = np.full((size, size, 3), 170, np.uint8)
    return img, (MEAN_68 * size).astype(np.float32)


def _mean(img, pts, pad=2):
    x0, y0 = np.floor(pts.min(0)).astype(int) - pad
    x1, y1 = np.ceil(pts.max(0)).astype(int) + pad
    return float(img[y0:y1, x0:x1].mean())


def test_sunglasses_darken_the_eyes_and_leave_the_mouth():
    img, lm = _face()
    out = draw_glasses(img, lm, np.random.default_rng(0), dark=True)
    assert out.dtype == np.uint8 and out.shape == img.shape
    assert (img == 170).all()  # input untouched
    assert _mean(out, lm[36:42]) < 120 and _mean(out, lm[42:48]) < 120
    assert _mean(out, lm[48:68]) == 170


def test_clear_glasses_keep_the_eyes_visible():
    img, lm = _face()
    for seed in range(5):
        out = draw_glasses(img, lm, np.random.default_rng(seed), dark=False)
        centre = np.round(lm[36:42].mean(0)).astype(int)
        assert abs(int(out[centre[1], centre[0]].astype(int).mean()) - 170) < 40
        assert (out != img).any()  # a frame was drawn


def test_headwear_covers_the_forehead_not_the_chin():
    img, lm = _face()
    changed_top = changed_chin = 0
    for seed in range(8):
        out = draw_headwear(img, lm, np.random.default_rng(seed))
        changed_top += bool((out[:5] != 170).any())
        changed_chin += bool((out[int(lm[8, 1]) - 3 : int(lm[8, 1])] != 170).any())
    assert changed_top == 8 and changed_chin == 0


def test_accessorize_with_zero_probabilities_is_identity():
    img, lm = _face()
    assert accessorize(img, lm, np.random.default_rng(0)) is img
    drawn = accessorize(img, lm, np.random.default_rng(0), sunglasses=1.0, headwear=1.0)
    assert _mean(drawn, lm[36:42]) < 120 and (drawn[:5] != 170).any()
