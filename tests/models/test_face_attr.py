import pytest
import torch

from unmask.models.face_attr import FaceAttrNet

SMALL = dict(image_size=32, widths=(8, 8, 16, 16), blocks=1, head_channels=4)


def test_default_head_keeps_the_shipped_layout_and_has_no_age():
    net = FaceAttrNet(**SMALL)
    keys = set(net.state_dict())
    assert "gender_head.3.weight" in keys and not any(k.startswith("age_head") for k in keys)
    out = net.eval()(torch.rand(2, 3, 32, 32))
    assert set(out) == {"landmarks", "gender_logit"}


def test_attention_pooling_and_age_head_shapes():
    net = FaceAttrNet(**SMALL, gender_pool="attention", age_head=True).eval()
    out = net(torch.rand(3, 3, 32, 32))
    assert out["landmarks"].shape == (3, 68, 2)
    assert out["gender_logit"].shape == (3,) and out["age"].shape == (3,)
    assert net.gender_head[-1].in_features == 2 * 16


def test_attention_pool_follows_the_highest_scored_position():
    from unmask.models.face_attr import AttentionPool

    pool = AttentionPool(2)
    with torch.no_grad():
        pool.score.weight.zero_()
        pool.score.weight[0, 0] = 50.0  # score = 50 * channel 0
        pool.score.bias.zero_()
    x = torch.zeros(1, 2, 3, 3)
    x[0, 0, 0, 1], x[0, 1, 0, 1] = 1.0, 7.0
    with torch.no_grad():
        out = pool(x)
    assert out.shape == (1, 4)
    assert torch.allclose(out[0, :2], x.mean((2, 3))[0])
    assert out[0, 3] == pytest.approx(7.0, abs=1e-3)


def test_unknown_pooling_is_rejected():
    with pytest.raises(ValueError, match="gender_pool"):
        FaceAttrNet(**SMALL, gender_pool="max")
