import numpy as np
import pytest

from unmask.faces.align import Alignment
from unmask.models.refiner import MaskRefiner
from unmask.stages.refine import EdgeRefiner, photo_side, window


def _alignment(scale: float, shift=(10.0, 6.0), size: int = 64) -> Alignment:
    """photo -> crop: crop = scale * (photo - shift)."""
    m = np.array([[scale, 0, -scale * shift[0]], [0, scale, -scale * shift[1]]])
    return Alignment(np.zeros((size, size, 3), np.uint8), m, size)


def _square_prob(side: int = 64) -> np.ndarray:
    prob = np.zeros((side, side), np.float32)
    prob[30:50, 20:44] = 1.0
    return prob


def test_photo_side_is_the_crops_side_in_photo_pixels():
    assert photo_side(_alignment(0.5)) == pytest.approx(128.0)


def test_the_window_holds_the_mask_and_its_margin_in_the_photo_grid():
    photo = np.random.default_rng(0).integers(0, 255, (200, 240, 3), np.uint8)
    al = _alignment(0.5)  # one crop pixel = two photo pixels
    win = window(photo, al, _square_prob(), margin=0.0, max_side=1000)
    # crop columns 20..44 and rows 30..50 -> photo x 50..98, y 66..106
    assert win.box == (50, 66, 98, 106)
    assert win.scale == 1.0 and win.image.shape == (40, 48, 3)
    assert np.array_equal(win.image, photo[66:106, 50:98])
    assert win.coarse[5:35, 5:43].min() > 0.99  # inside the mask, away from its edge
    wide = window(photo, al, _square_prob(), margin=0.1, max_side=1000)
    assert wide.box[0] < 50 and wide.box[3] > 106


def test_a_large_face_is_shrunk_to_the_working_side():
    photo = np.zeros((400, 400, 3), np.uint8)
    win = window(photo, _alignment(0.25, (0, 0)), _square_prob(), 0.0, max_side=128)
    assert win.scale == pytest.approx(0.5)
    x1, y1, x2, y2 = win.box
    assert win.coarse.shape == (round((y2 - y1) / 2), round((x2 - x1) / 2))


def test_no_mask_no_window():
    photo = np.zeros((50, 50, 3), np.uint8)
    assert window(photo, _alignment(1.0), np.zeros((64, 64)), 0, 99) is None


def test_an_untrained_refiner_draws_the_coarse_mask_at_the_photos_resolution():
    refiner = EdgeRefiner(MaskRefiner(width=4, dilations=(1,)).eval(), max_side=1000)
    photo = np.random.default_rng(1).integers(0, 255, (200, 240, 3), np.uint8)
    box, hole = refiner(photo, _alignment(0.5), _square_prob())
    x1, y1, x2, y2 = box
    assert hole.shape == (y2 - y1, x2 - x1) and hole.dtype == bool
    ys, xs = np.nonzero(hole)
    # crop columns 20..43 -> photo 50..96 (97 maps to crop 43.5, half in), rows 66..104
    assert (xs.min() + x1, xs.max() + x1) == (50, 96)
    assert (ys.min() + y1, ys.max() + y1) == (66, 104)
    assert refiner(photo, _alignment(0.5), np.zeros((64, 64), np.float32)) is None


def test_the_crop_hole_covers_every_crop_pixel_the_photo_hole_reads():
    import cv2

    from unmask.stages.refine import place_hole

    al = _alignment(0.5)  # one crop pixel = two photo pixels
    box_hole = np.zeros((30, 40), bool)
    box_hole[5:25, 8:30] = True
    photo, crop = place_hole(((50, 60, 90, 90), box_hole), (200, 240), al, 64)
    assert photo.shape == (200, 240) and photo.sum() == box_hole.sum()
    assert photo[65:85, 58:80].all()
    back = cv2.warpAffine(crop.astype(np.float32), al.inverse, (240, 200), flags=cv2.INTER_LINEAR)
    assert (back[photo > 0] >= 0.999).all()  # the warp back reads rebuilt pixels only
    assert crop.sum() < 1.6 * box_hole.sum() / 4  # and the crop hole is not much larger
