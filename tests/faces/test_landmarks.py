import numpy as np
import pytest

from unmask.faces.align import MEAN_68
from unmask.faces.landmarks import (
    FLIP_68,
    check_landmarks,
    five_from_68,
    flip_landmarks,
    interocular,
)


def test_flip_permutation_is_an_involution():
    assert sorted(FLIP_68.tolist()) == list(range(68))
    assert np.array_equal(FLIP_68[FLIP_68], np.arange(68))


def test_flip_of_mean_shape_is_close_to_itself():
    size = 100
    lm = MEAN_68 * size
    flipped = flip_landmarks(lm, size)
    assert np.abs(flipped - lm).mean() < 0.02 * size
    assert np.allclose(flip_landmarks(flipped, size), lm)


def test_five_from_68_order():
    five = five_from_68(MEAN_68 * 100)
    assert five[0, 0] < five[1, 0] and five[3, 0] < five[4, 0]
    assert five[0, 1] < five[2, 1] < five[3, 1]
    assert interocular(MEAN_68 * 100) > 0


def test_check_landmarks_rejects_bad_shapes():
    with pytest.raises(ValueError):
        check_landmarks(np.zeros((67, 2)))
    with pytest.raises(ValueError):
        check_landmarks(np.full((68, 2), np.inf))
