import numpy as np
import pytest

from unmask.metrics.images import laplacian_energy
from unmask.stages.finish import FinishConfig, finish_face, skin_region

#: grain only, aiming at the ring's own detail energy
MATCH = FinishConfig(tone=False, detail_ratio=1.0)

cv2 = pytest.importorskip("cv2")


def _skin(shape=(160, 160), seed=0, grain=6.0):
    """A skin-toned photo with fine grain (sigma ~1 px noise, blurred a little)."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, grain, shape).astype(np.float32), (0, 0), 0.7)
    base = np.array([190, 140, 120], np.float32)
    return np.clip(base + noise[..., None], 0, 255).astype(np.uint8)


def _hole(shape=(160, 160)):
    m = np.zeros(shape, np.uint8)
    cv2.ellipse(m, (80, 95), (40, 28), 0, 0, 360, 1, -1)
    return m


def test_tone_moves_a_wrongly_toned_hole_to_the_visible_skin_and_leaves_the_rest():
    photo = _skin()
    hole = _hole()
    rebuilt = photo.copy()
    off = photo.astype(np.int16) + np.array([40, 10, 30])  # a pink, lighter patch
    rebuilt[hole > 0] = np.clip(off, 0, 255).astype(np.uint8)[hole > 0]
    out = finish_face(photo, rebuilt, hole, model_px=1.0, cfg=FinishConfig(tone=True, grain=0.0))
    assert np.array_equal(out[hole == 0], rebuilt[hole == 0])
    before = np.abs(rebuilt[hole > 0].astype(float).mean(0) - photo[hole > 0].mean(0)).max()
    after = np.abs(out[hole > 0].astype(float).mean(0) - photo[hole > 0].mean(0)).max()
    assert before > 25 and after < 3


def test_grain_restores_the_ring_detail_on_a_smooth_hole_without_exceeding_it():
    photo = _skin()
    hole = _hole()
    smooth = cv2.GaussianBlur(photo, (0, 0), 3)
    rebuilt = np.where(hole[..., None] > 0, smooth, photo)
    inner = cv2.erode(hole, np.ones((5, 5), np.uint8))
    truth = laplacian_energy(photo, inner)
    assert laplacian_energy(rebuilt, inner) / truth < 0.3
    out = finish_face(photo, rebuilt, hole, model_px=2.5, cfg=MATCH)
    assert 0.7 < laplacian_energy(out, inner) / truth < 1.3
    # below the grain's threshold scale the network's detail is left as it is
    same = finish_face(photo, rebuilt, hole, model_px=1.0, cfg=MATCH)
    assert np.array_equal(same, rebuilt)


def test_small_faces_get_grain_in_the_finest_band_only_when_asked():
    photo = _skin()
    hole = _hole()
    rebuilt = np.where(hole[..., None] > 0, cv2.GaussianBlur(photo, (0, 0), 3), photo)
    inner = cv2.erode(hole, np.ones((5, 5), np.uint8))
    truth = laplacian_energy(photo, inner)
    small = FinishConfig(tone=False, detail_ratio=1.0, small_faces=True)
    assert laplacian_energy(rebuilt, inner) / truth < 0.1
    out = finish_face(photo, rebuilt, hole, model_px=0.6, cfg=small)
    assert np.array_equal(out[hole == 0], rebuilt[hole == 0])
    # the band under a Gaussian of 0.625 px holds most, not all, of this skin's fine detail
    assert 0.5 < laplacian_energy(out, inner) / truth < 1.0


def test_grain_adds_nothing_where_the_hole_already_has_the_rings_detail():
    photo = _skin()
    hole = _hole()
    rebuilt = np.where(hole[..., None] > 0, _skin(seed=1), photo)
    out = finish_face(photo, rebuilt, hole, model_px=2.5, cfg=MATCH)
    inner = cv2.erode(hole, np.ones((5, 5), np.uint8))
    ratio = laplacian_energy(out, inner) / laplacian_energy(rebuilt, inner)
    assert ratio < 1.1


def test_finish_is_deterministic_for_a_seed():
    photo, hole = _skin(), _hole()
    rebuilt = np.where(hole[..., None] > 0, cv2.GaussianBlur(photo, (0, 0), 3), photo)
    a = finish_face(photo, rebuilt, hole, 2.5, seed=3)
    b = finish_face(photo, rebuilt, hole, 2.5, seed=3)
    assert np.array_equal(a, b)


def test_skin_region_leaves_out_the_eyes():
    from unmask.faces.align import MEAN_68
    from unmask.faces.landmarks import EYES

    lm = MEAN_68 * 200
    skin = skin_region((200, 200), lm)
    for i in EYES:
        x, y = np.round(lm[i]).astype(int)
        assert not skin[y, x]
    x, y = np.round(lm[30]).astype(int)  # nose tip
    assert skin[y, x]


def test_the_detail_step_changes_the_hole_alone_and_the_grain_adds_only_what_is_missing():
    photo = _skin()
    hole = _hole()
    smooth = cv2.GaussianBlur(photo, (0, 0), 3)
    rebuilt = np.where(hole[..., None] > 0, smooth, photo)
    inner = cv2.erode(hole, np.ones((5, 5), np.uint8))
    calls = []

    def grainy(region, model_px):  # a restorer that draws skin grain over the whole region
        calls.append(model_px)
        return region + _skin(region.shape[:2], seed=3).astype(np.float32) - 190

    detail_only = FinishConfig(tone=False, grain=0.0)
    same = finish_face(photo, rebuilt, hole, 2.5, detail_only, detail=lambda r, s: r)
    assert np.array_equal(same, rebuilt)  # an identity restorer changes nothing
    out = finish_face(photo, rebuilt, hole, 2.5, detail_only, detail=grainy)
    assert calls == [2.5]
    assert np.array_equal(out[hole == 0], rebuilt[hole == 0])
    assert laplacian_energy(out, inner) > 3 * laplacian_energy(rebuilt, inner)
    # the grain after it aims at the ring's detail: it adds little to a hole that has it
    truth = laplacian_energy(photo, inner)
    both = finish_face(photo, rebuilt, hole, 2.5, MATCH, detail=grainy)
    assert laplacian_energy(both, inner) / truth < 1.3
    # below the finishing's scale threshold the detail step is not run
    calls.clear()
    finish_face(photo, rebuilt, hole, 1.0, detail_only, detail=grainy)
    assert calls == []
