import numpy as np
import pytest

from unmask.scenes.backgrounds import Backgrounds
from unmask.scenes.patterns import procedural
from unmask.scenes.textures import KINDS, texture


@pytest.mark.parametrize("kind", KINDS)
def test_textures_are_seeded_busy_pictures(kind):
    a = texture(np.random.default_rng(3), 60, 90, kind)
    b = texture(np.random.default_rng(3), 60, 90, kind)
    assert a.shape == (60, 90, 3) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert not np.array_equal(a, texture(np.random.default_rng(4), 60, 90, kind))
    # busy, not flat: neighbouring pixels differ
    assert np.abs(np.diff(a.mean(2), axis=1)).mean() > 1.0
    big = procedural(np.random.default_rng(0), 400, 300, kind)
    assert big.shape == (400, 300, 3) and big.dtype == np.uint8


def test_unknown_texture_is_refused():
    with pytest.raises(ValueError, match="unknown texture"):
        texture(np.random.default_rng(0), 8, 8, "bark")


def test_backgrounds_draw_textures_only_when_asked():
    bg = Backgrounds("train")
    for i in range(5):
        plain = bg.sample(np.random.default_rng(i), 50, 70)
        assert np.array_equal(plain, bg.sample(np.random.default_rng(i), 50, 70, 0.0))
        rng = np.random.default_rng(i)
        rng.random()  # the draw that decides for a texture
        kind = str(rng.choice(KINDS))
        expected = procedural(rng, 50, 70, kind)
        assert np.array_equal(bg.sample(np.random.default_rng(i), 50, 70, 1.0), expected)
