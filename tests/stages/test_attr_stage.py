import numpy as np
import pytest

from support import TINY_ARCH
from unmask.faces.landmarks import flip_landmarks
from unmask.runtime import weights
from unmask.stages.attr import FaceAttributes


@pytest.fixture(scope="module")
def tiny_net():
    import torch

    torch.manual_seed(0)
    arch, args = TINY_ARCH["attr"]
    return weights.build_module(arch, args).eval()


def _crops(n=3, size=48):
    return (np.random.default_rng(1).random((n, size, size, 3)) * 255).astype(np.uint8)


def test_flip_tta_is_mirror_equivariant(tiny_net):
    """With flip averaging, the answer for a mirrored crop is the mirrored answer."""
    stage = FaceAttributes(tiny_net, 32, flip=True)
    crops = _crops()
    lm, p = stage(crops)
    lm_m, p_m = stage(crops[:, :, ::-1])
    assert lm.shape == (3, 68, 2) and p.shape == (3,)
    np.testing.assert_allclose(p_m, p, atol=1e-5)
    for a, b in zip(lm, lm_m, strict=True):
        np.testing.assert_allclose(flip_landmarks(b, crops.shape[2]), a, atol=1e-3)


def test_flip_tta_averages_the_two_passes(tiny_net):
    crops = _crops(2, 32)
    plain = FaceAttributes(tiny_net, 32)
    lm, _ = plain(crops)
    lm_m, _ = plain(crops[:, :, ::-1])
    both, _ = FaceAttributes(tiny_net, 32, flip=True)(crops)
    expect = (lm + np.stack([flip_landmarks(x, 32) for x in lm_m])) / 2
    np.testing.assert_allclose(both, expect, atol=1e-4)
    assert not np.allclose(both, lm, atol=1e-4)


def test_from_weights_reads_flip_from_meta(tmp_path, tiny_net):
    arch, args = TINY_ARCH["attr"]
    weights.save(
        tmp_path, "attr", tiny_net, arch, args, {"gender_temperature": 1.3, "flip_tta": True}
    )
    stage = FaceAttributes.from_weights(tmp_path, backend="torch")
    assert stage.flip and stage.temperature == pytest.approx(1.3)
