import torch

from unmask.models.detail import DetailNet


def test_an_untrained_detail_net_returns_its_input_at_any_size():
    net = DetailNet(width=4, dilations=(1, 2)).eval()
    for h, w in ((17, 40), (64, 64)):
        image = torch.rand(2, 3, h, w)
        out = net(image, torch.ones(2, 1, h, w))
        assert out.shape == (2, 3, h, w)
        assert torch.equal(out, image)


def test_the_scale_changes_the_output_once_the_head_is_trained():
    torch.manual_seed(0)
    net = DetailNet(width=4, dilations=(1,))
    torch.nn.init.normal_(net.head.weight)
    image = torch.rand(1, 3, 8, 8)
    a = net(image, torch.zeros(1, 1, 8, 8))
    b = net(image, torch.full((1, 1, 8, 8), 2.0))
    assert not torch.allclose(a, b)
