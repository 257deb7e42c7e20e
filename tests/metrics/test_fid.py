import numpy as np
import pytest
import torch

from unmask.metrics.fid import attr_features, frechet_distance, kernel_inception_distance
from unmask.models.face_attr import FaceAttrNet


def test_frechet_and_kid_separate_shifted_features():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    c = rng.normal(size=(400, 8)) + 1.0
    assert frechet_distance(a, b) < 0.3
    assert frechet_distance(a, c) == pytest.approx(8.0, rel=0.2)
    same, _ = kernel_inception_distance(a, b, subsets=5, subset_size=100)
    diff, _ = kernel_inception_distance(a, c, subsets=5, subset_size=100)
    assert abs(same) < 0.05 < diff


def test_attr_features_pool_the_last_stage():
    torch.manual_seed(0)
    net = FaceAttrNet(32, (8, 8, 16, 16), 1, 68, 4)
    imgs = (np.random.default_rng(0).random((3, 64, 64, 3)) * 255).astype(np.uint8)
    f = attr_features(net, imgs, batch=2)
    assert f.shape == (3, 16) and np.isfinite(f).all()
    # the shipped attr network is an ensemble: its members' features side by side
    from unmask.models.face_attr import FaceAttrEnsemble

    member = dict(image_size=32, widths=(8, 8, 16, 16), blocks=1, head_channels=4)
    ens = FaceAttrEnsemble([member, member])
    ens.members[0].load_state_dict(net.state_dict())
    both = attr_features(ens, imgs, batch=2)
    assert both.shape == (3, 32) and np.allclose(both[:, :16], f)
