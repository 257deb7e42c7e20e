import numpy as np
import pytest

from unmask.faces.align import MEAN_68
from unmask.models.inpainter import InpaintGenerator
from unmask.runtime import weights
from unmask.stages.inpaint import Inpainter, gender_prob

TINY = dict(widths=[4, 8, 8, 8], dilations=[1, 2], embed_dim=8)


def _save(folder, guided=True, **meta):
    args = dict(landmark_channels=5 if guided else 0, gender_film=guided, **TINY)
    weights.save(
        folder,
        "inpainter",
        InpaintGenerator(**args),
        "InpaintGenerator",
        args,
        {"image_size": 32, "landmark_sigma": 0.02, **meta},
    )
    return folder


def _crop(s=64):
    rng = np.random.default_rng(0)
    crop = (rng.random((s, s, 3)) * 255).astype(np.uint8)
    mask = np.zeros((s, s), np.uint8)
    mask[s // 2 :, s // 4 : 3 * s // 4] = 255
    return crop, mask, MEAN_68 * s - 0.5


def test_restores_only_inside_the_mask_at_input_resolution(tmp_path):
    inp = Inpainter.from_weights(_save(tmp_path))
    assert inp.image_size == 32 and inp.guided
    crop, mask, lm = _crop()
    out = inp(crop, mask, lm, "female")
    assert out.shape == crop.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask == 0], crop[mask == 0])
    assert not np.array_equal(out[mask > 0], crop[mask > 0])
    same = inp(crop, mask, lm, 1.0)
    assert np.array_equal(out, same)
    batch = inp.batch(np.stack([crop, crop]), np.stack([mask, mask]), np.stack([lm, lm]))
    assert batch.shape == (2, 64, 64, 3)
    with pytest.raises(ValueError, match="landmark"):
        inp(crop, mask, None, None)


def test_unguided_model_needs_no_landmarks(tmp_path):
    inp = Inpainter.from_weights(_save(tmp_path, guided=False))
    crop, mask, _ = _crop(32)
    assert not inp.guided
    assert inp(crop, mask).shape == crop.shape


def test_gender_prob():
    assert gender_prob("female") == 1 and gender_prob("male") == 0 and gender_prob(None) == 0.5
    assert gender_prob(1.7) == 1.0
    with pytest.raises(ValueError):
        gender_prob("unknown")


def test_hole_grows_the_mask_by_the_stored_margin(tmp_path):
    inp = Inpainter.from_weights(_save(tmp_path, hole_margin=0.05))
    _, mask, _ = _crop(64)
    hole = inp.hole(mask)
    assert hole.dtype == np.uint8 and set(np.unique(hole)) == {0, 1}
    assert np.all(hole[mask > 0] == 1)
    rows = np.flatnonzero(hole.any(1))
    cols = np.flatnonzero(hole.any(0))
    assert rows[0] == 32 - 3 and cols[0] == 16 - 3 and cols[-1] == 47 + 3  # round(0.05 * 64)
    assert inp.hole(np.stack([mask, mask])).shape == (2, 64, 64)
    inp.hole_margin = 0.0
    assert np.array_equal(inp.hole(mask), (mask > 0).astype(np.uint8))


def test_destripe_takes_out_vertical_streaks_and_keeps_horizontal_structure():
    from unmask.stages.inpaint import destripe

    streaks = np.tile(np.array([0.0, 1.0], np.float32), 8)[None, None, None].repeat(16, 2)
    out = destripe(streaks)
    assert out.shape == streaks.shape and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 1:-1], 0.5)  # the alternation is gone
    bands = np.tile(np.array([0.0, 1.0], np.float32)[:, None], (8, 16))[None, None]
    np.testing.assert_allclose(destripe(bands), bands)  # horizontal lines are untouched
    ramp = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (16, 1))[None, None]
    np.testing.assert_allclose(destripe(ramp)[..., 1:-1], ramp[..., 1:-1], atol=1e-6)


def test_a_larger_destripe_centre_keeps_more_of_the_streaks(tmp_path):
    from unmask.stages.inpaint import destripe

    streaks = np.tile(np.array([0.0, 1.0], np.float32), 8)[None, None, None].repeat(16, 2)
    amplitude = {c: np.ptp(destripe(streaks, c)[..., 2:-2]) for c in (2.0, 4.0, 6.0)}
    assert amplitude[2.0] < 1e-6  # [1, 2, 1] / 4 removes the Nyquist alternation
    np.testing.assert_allclose(amplitude[4.0], 2 / 6, rtol=1e-5)  # gain (c - 2) / (c + 2)
    np.testing.assert_allclose(amplitude[6.0], 4 / 8, rtol=1e-5)
    with pytest.raises(ValueError, match="positive"):
        destripe(streaks, 0.0)
    from unmask import Unmasker

    folder = _save(tmp_path)
    for make in (
        lambda: Unmasker(destripe_centre=-1),
        lambda: Inpainter.from_weights(folder, destripe_centre=0),
    ):
        with pytest.raises(ValueError, match="centre weight must be positive"):
            make()


def test_a_destriping_inpainter_changes_only_the_hole_and_only_what_it_filters(tmp_path):
    folder = _save(tmp_path)
    plain, filtered = Inpainter.from_weights(folder), Inpainter.from_weights(folder, destripe=True)
    assert filtered.destripe and not plain.destripe
    crop, mask, lm = _crop()
    a, b = plain(crop, mask, lm, "male"), filtered(crop, mask, lm, "male")
    assert np.array_equal(b[mask == 0], crop[mask == 0])
    assert not np.array_equal(a[mask > 0], b[mask > 0])
    weaker = Inpainter.from_weights(folder, destripe=True, destripe_centre=4.0)
    c = weaker(crop, mask, lm, "male")
    assert np.array_equal(c[mask == 0], crop[mask == 0])
    assert not np.array_equal(b[mask > 0], c[mask > 0])


def test_loaders_share_stages_only_when_every_stage_setting_agrees():
    import inspect
    import re

    from unmask import Unmasker
    from unmask.stages import loader

    assert Unmasker().same_stages(Unmasker(seam="fill", soft_edge=None))
    assert not Unmasker().same_stages(Unmasker(destripe=False))
    assert not Unmasker().same_stages(Unmasker(destripe_centre=4.0))
    assert not Unmasker().same_stages(Unmasker(backend="torch"))
    # every attribute the loader reads decides what it loads
    read = set(re.findall(r"self\.([a-z]\w*)", inspect.getsource(loader.StageLoader)))
    assert read - {"same_stages"} <= set(loader.StageLoader.STAGE_ATTRS)
