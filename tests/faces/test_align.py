import numpy as np
import pytest

from unmask.faces.align import (
    MEAN_68,
    align,
    invert,
    repad,
    template,
    transform_points,
    umeyama,
)
from unmask.faces.landmarks import five_from_68
from unmask.faces.padding import inside_photo
from unmask.faces.paste import paste_back, photo_mask


def test_umeyama_recovers_similarity():
    rng = np.random.default_rng(0)
    src = rng.random((5, 2)) * 100
    ang, s, t = 0.3, 1.7, np.array([12.0, -4.0])
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    dst = src @ (s * rot).T + t
    m = umeyama(src, dst)
    assert np.allclose(transform_points(src, m), dst, atol=1e-4)
    assert np.allclose(transform_points(dst, invert(m)), src, atol=1e-4)


@pytest.mark.parametrize("size", [64, 128, 256])
def test_align_maps_keypoints_to_template(size):
    rng = np.random.default_rng(1)
    photo = (rng.random((480, 640, 3)) * 255).astype(np.uint8)
    lm = MEAN_68 * 150 + np.array([300.0, 120.0])
    al = align(photo, five_from_68(lm), size)
    assert al.crop.shape == (size, size, 3) and al.crop.dtype == np.uint8
    assert np.allclose(al.to_crop(five_from_68(lm)), template(size), atol=0.05 * size)
    assert np.allclose(al.to_photo(al.to_crop(lm)), lm, atol=1e-3)


def test_default_padding_is_the_training_crops_blur_not_edge_streaks():
    """A face near the photo's bottom edge: replicate padding copies the last row down as
    vertical streaks; the default (what every crop network was trained on) mirrors and blurs."""
    rng = np.random.default_rng(2)
    photo = (rng.random((200, 200, 3)) * 255).astype(np.uint8)
    lm = MEAN_68 * 150 + np.array([25.0, 90.0])  # the chin leaves the photo
    rep = align(photo, five_from_68(lm), 128, border="replicate").crop
    blur = align(photo, five_from_68(lm), 128).crop
    bottom = slice(118, 128)
    assert rep[bottom].std(axis=0).mean() < 1.0  # every row the same: streaks
    streaks = rep[bottom].std(axis=1).mean()  # the edge row's noise, column by column
    assert streaks > 20 and blur[bottom].std(axis=1).mean() < streaks / 3
    # Inside the photo nothing changes, up to one grey level of rounding (OpenCV 5 rounds
    # the two border modes' bilinear sums differently in a few pixels); a streak is tens.
    inside = np.abs(blur[:40].astype(int) - rep[:40])
    assert inside.max() <= 1 and (inside > 0).mean() < 0.01
    with pytest.raises(ValueError, match="border"):
        align(photo, five_from_68(lm), 128, border="zeros")


def _green_mask_at_the_edge():
    """A grey photo whose face's lower half, down to the photo's edge, wears a green 'mask'."""
    photo = np.full((200, 200, 3), 128, np.uint8)
    photo[120:, 40:160] = (0, 255, 0)
    lm = MEAN_68 * 150 + np.array([25.0, 90.0])  # the chin leaves the photo
    return photo, align(photo, five_from_68(lm), 128)


def test_repad_keeps_a_mask_at_the_photo_edge_out_of_the_padding():
    photo, al = _green_mask_at_the_edge()
    green = (al.crop[..., 1] > 200) & (al.crop[..., 0] < 60)
    inside = inside_photo(photo.shape[:2], al.matrix, 128) > 0
    assert (green & ~inside).sum() > 200  # plain mirroring repeats the mask below the chin
    hole = green.astype(np.uint8)
    out = repad(photo, al, hole)
    assert np.array_equal(out[inside], al.crop[inside])  # the photo's own pixels stay
    pad = ~inside & ~green
    again = (out[..., 1] > 200) & (out[..., 0] < 60)
    assert not (again & ~inside).any()  # no green mirrored into the padding any more
    assert np.abs(out[pad].astype(int) - 128).max() < 30  # it is the grey around the mask
    # nothing to ignore: the same crop as plain alignment
    assert np.array_equal(repad(photo, al, np.zeros_like(hole)), al.crop)


def test_align_rejects_bad_keypoints():
    with pytest.raises(ValueError):
        align(np.zeros((10, 10, 3), np.uint8), np.full((5, 2), np.nan))


def test_mean_shape_fits_inside_crop():
    assert MEAN_68.min() > 0.15 and MEAN_68.max() < 0.9


def _paste_case(seed: int):
    """A random photo, a face's alignment in it, a rectangular crop hole and a flat crop."""
    rng = np.random.default_rng(seed)
    photo = (rng.random((300, 400, 3)) * 255).astype(np.uint8)
    lm = MEAN_68 * 120 + np.array([150.0, 80.0])
    al = align(photo, five_from_68(lm), 128)
    mask = np.zeros((128, 128), np.uint8)
    mask[70:110, 30:100] = 1
    return photo, al, mask, np.full((128, 128, 3), 7, np.uint8)


def test_paste_back_changes_only_the_masked_region():
    photo, al, mask, restored = _paste_case(2)
    out = paste_back(photo, restored, al, mask, feather=0.02)
    pm = photo_mask(al, mask, photo.shape[:2])
    assert pm.sum() > 0
    inner = pm.astype(bool)
    # every hole pixel is replaced (interior, away from interpolation at the edge)
    import cv2

    core = cv2.erode(pm, np.ones((5, 5), np.uint8)).astype(bool)
    assert np.abs(out[core].astype(int) - 7).max() <= 1
    # far from the mask nothing changes
    far = cv2.dilate(pm, np.ones((15, 15), np.uint8)) == 0
    assert np.array_equal(out[far], photo[far])
    assert inner.sum() < photo.shape[0] * photo.shape[1]


def test_an_inside_seam_changes_nothing_outside_the_hole_and_fills_its_core():
    import cv2

    photo, al, mask, restored = _paste_case(3)
    out = paste_back(photo, restored, al, mask, feather=0.04, inside=True)
    pm = photo_mask(al, mask, photo.shape[:2])
    changed = np.abs(out.astype(int) - photo).max(-1) > 0
    # only the hole and the one-pixel rim that bilinear warping of its edge touches
    assert not (changed & (cv2.dilate(pm, np.ones((3, 3), np.uint8)) == 0)).any()
    core = cv2.erode(pm, np.ones((15, 15), np.uint8)).astype(bool)
    assert core.any() and np.abs(out[core].astype(int) - 7).max() <= 1
    # the outside seam, by contrast, repaints a band beyond the hole
    wide = paste_back(photo, restored, al, mask, feather=0.04)
    assert ((np.abs(wide.astype(int) - photo).max(-1) > 0) & (pm == 0)).sum() > changed.sum() // 10
