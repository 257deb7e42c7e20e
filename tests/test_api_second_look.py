import numpy as np

from support import make_tiny_weights
from unmask import Unmasker


def test_second_look_changes_only_the_guidance(tmp_path):
    folder = make_tiny_weights(tmp_path)
    image = (np.random.default_rng(0).random((96, 96, 3)) * 255).astype(np.uint8)
    first = Unmasker(folder, device="cpu", detector="aligned", second_look=False)(image)
    second = Unmasker(folder, device="cpu", detector="aligned", second_look=True)(image)
    assert len(first.faces) == len(second.faces) > 0
    for a, b in zip(first.faces, second.faces, strict=True):
        assert np.array_equal(a.alignment.matrix, b.alignment.matrix)
        assert np.array_equal(a.crop_mask, b.crop_mask)
        assert a.landmarks.shape == b.landmarks.shape == (68, 2)
        assert a.gender_score == b.gender_score  # the second look re-reads landmarks only
