"""The public :class:`unmask.Unmasker` with tiny random weights: what each stage is handed."""

import numpy as np
import pytest

from support import make_tiny_weights
from unmask.api import Unmasker
from unmask.demo import masked_example


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return make_tiny_weights(tmp_path_factory.mktemp("w"))


def _spy_gender(unmasker, monkeypatch) -> list:
    seen = []
    inpainter = unmasker.inpainter
    original = type(inpainter).__call__

    def spy(self, crop, mask, landmarks=None, gender=None):
        seen.append(gender)
        return original(self, crop, mask, landmarks, gender)

    monkeypatch.setattr(type(inpainter), "__call__", spy)
    return seen


@pytest.mark.parametrize("forced", [None, "male"])
def test_inpainter_gets_the_predicted_probability_unless_the_user_forces_a_gender(
    weights, monkeypatch, forced
):
    unmasker = Unmasker(weights, backend="torch", detector="aligned", crop_size=32)
    seen = _spy_gender(unmasker, monkeypatch)
    _, masked, _ = masked_example()
    result = unmasker(masked, gender=forced)
    assert result.faces and result.faces[0].masked
    face = result.faces[0]
    if forced is None:
        assert isinstance(seen[0], float) and 0.0 <= seen[0] <= 1.0
        p_female = face.gender_score if face.gender == "female" else 1 - face.gender_score
        assert seen[0] == pytest.approx(p_female)
        assert not face.gender_forced
    else:
        assert seen == ["male"] and face.gender == "male" and face.gender_forced
    assert np.array_equal(result.restored.shape, masked.shape)
