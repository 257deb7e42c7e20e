import numpy as np
import pytest

from unmask.faces.align import Alignment
from unmask.faces.paste import paste_hole, seam_alpha


def test_a_refined_hole_is_replaced_and_nothing_beyond_its_seam_changes():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 255, (120, 100, 3), np.uint8)
    # the crop is the photo's box (20, 10)..(84, 74) at half resolution
    m = np.array([[0.5, 0, -10.0], [0, 0.5, -5.0]])
    al = Alignment(np.zeros((32, 32, 3), np.uint8), m, 32)
    restored = np.full((32, 32, 3), 7, np.uint8)
    hole = np.zeros((120, 100), np.uint8)
    hole[40:60, 35:70] = 1
    out = paste_hole(photo, restored, al, hole, outside=2.0, inside=0.0)
    assert (out[hole > 0] == 7).all()
    changed = np.abs(out.astype(int) - photo).max(-1) > 0
    ys, xs = np.nonzero(changed)
    assert ys.min() >= 39 and ys.max() <= 60 and xs.min() >= 34 and xs.max() <= 70
    assert changed[50, 34] and not changed[50, 33]  # one pixel of seam, half blended
    assert np.array_equal(paste_hole(photo, restored, al, np.zeros_like(hole)), photo)


def test_the_seam_is_one_on_the_hole_and_zero_beyond_its_outside_reach():
    hole = np.zeros((40, 40), np.uint8)
    hole[10:30, 10:30] = 1
    a = seam_alpha(hole, outside=2.0, inside=0.0)
    assert (a[hole > 0] == 1).all()
    assert a[20, 9] == pytest.approx(0.5) and a[20, 8] == 0 and a[20, 5] == 0
    b = seam_alpha(hole, outside=2.0, inside=3.0)
    assert b[20, 10] < 1 and b[20, 14] == 1 and b[20, 8] == 0


def test_a_filled_rim_fades_in_from_the_visible_face_not_the_mask():
    from unmask.faces.paste import paste_back

    # the photo: skin (200) around a dark mask (20); the crop is the photo at the same scale
    photo = np.full((64, 64, 3), 200, np.uint8)
    photo[20:50, 12:52] = 20
    al = Alignment(np.zeros((64, 64, 3), np.uint8), np.array([[1.0, 0, 0], [0, 1.0, 0]]), 64)
    hole = np.zeros((64, 64), np.uint8)
    hole[20:50, 12:52] = 1
    restored = np.full((64, 64, 3), 190, np.uint8)  # a rebuilt face of a slightly other tone
    plain = paste_back(photo, restored, al, hole, feather=0.05, inside=True)
    filled = paste_back(photo, restored, al, hole, feather=0.05, inside=True, fill_rim=True)
    outside = hole == 0
    assert np.array_equal(filled[outside], photo[outside])  # still nothing outside changes
    inner = np.zeros_like(hole)
    inner[21:49, 13:51] = 1
    rim = (hole > 0) & (inner == 0)  # the hole's outermost pixels
    # the plain inside seam keeps a dark line of the mask's rim, the filled one does not
    assert plain[rim].min() < 120
    assert filled[rim].min() >= 189 and filled[rim].max() <= 200
    core = np.zeros_like(hole, bool)
    core[30:40, 25:40] = True
    assert (filled[core] == 190).all()
