import torch

from unmask.models.refiner import MaskRefiner


def test_an_untrained_refiner_returns_the_coarse_mask_at_any_size():
    net = MaskRefiner(width=4, dilations=(1, 2)).eval()
    for h, w in ((17, 40), (64, 64)):
        coarse = torch.rand(2, 1, h, w)
        out = net(torch.rand(2, 3, h, w), coarse)
        assert out.shape == (2, 1, h, w)
        assert torch.allclose(torch.sigmoid(out), coarse.clamp(1e-3, 1 - 1e-3), atol=1e-5)


def test_the_photo_changes_the_output_once_the_head_is_trained():
    torch.manual_seed(0)
    net = MaskRefiner(width=4, dilations=(1,))
    torch.nn.init.normal_(net.head.weight)
    coarse = torch.full((1, 1, 8, 8), 0.5)
    a = net(torch.zeros(1, 3, 8, 8), coarse)
    b = net(torch.ones(1, 3, 8, 8), coarse)
    assert not torch.allclose(a, b)
