import pytest
import torch

from unmask.models.segmenter import MaskSegNet, fuse_conv_bn


def test_masksegnet_shapes_and_size():
    model = MaskSegNet().eval()
    n = sum(p.numel() for p in model.parameters())
    assert 0.15e6 < n < 1.0e6
    with torch.no_grad():
        out = model(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, 1, 64, 64) and out.dtype == torch.float32


def test_masksegnet_rejects_indivisible_side():
    with pytest.raises(ValueError):
        MaskSegNet(widths=(4, 8, 8))(torch.rand(1, 3, 30, 30))


def test_fuse_conv_bn_keeps_outputs():
    model = MaskSegNet(widths=(4, 8, 8), blocks=1)
    model.train()
    model(torch.rand(4, 3, 32, 32))  # move BN statistics away from the identity
    model.eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        ref = model(x)
        fused = fuse_conv_bn(model)(x)
    assert torch.allclose(ref, fused, atol=1e-4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def test_mask_targets_make_one_instance_per_face_mask():
    from unmask.models.maskrcnn import mask_targets

    masks = torch.zeros(2, 1, 64, 64)
    masks[0, :, 35:60, 12:52] = 1  # second image: no face-mask pixels
    targets = mask_targets(masks)
    assert targets[0]["boxes"].tolist() == [[12.0, 35.0, 52.0, 60.0]]
    assert targets[0]["masks"].shape == (1, 64, 64) and targets[0]["labels"].tolist() == [1]
    assert targets[1]["boxes"].shape == (0, 4) and targets[1]["masks"].shape == (0, 64, 64)


@pytest.mark.parametrize("backbone", ["compact", "resnet18", "mobilenet_v3"])
def test_maskrcnn_backbones_give_a_logit_map(backbone):
    pytest.importorskip("torchvision")
    from unmask.models.maskrcnn import MaskRCNNSegmenter

    torch.manual_seed(0)
    kw = {"widths": (8, 8, 16, 16, 16)} if backbone == "compact" else {}
    model = MaskRCNNSegmenter(64, backbone, fpn_channels=16, representation=16, **kw).eval()
    model.score_threshold = 0.0  # an untrained model scores low; keep every instance
    with torch.no_grad():
        out = model(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, 1, 64, 64) and torch.isfinite(out).all()
    if backbone == "compact":  # training losses, with one image that has no face mask
        from unmask.models.maskrcnn import mask_targets

        masks = torch.zeros(2, 1, 64, 64)
        masks[0, :, 35:60, 12:52] = 1
        model.train()
        losses = model(torch.rand(2, 3, 64, 64), mask_targets(masks))
        assert {"loss_mask", "loss_classifier", "loss_objectness"} <= set(losses)
        sum(losses.values()).backward()


def test_maskrcnn_default_size_fits_in_16_mb_fp16():
    pytest.importorskip("torchvision")
    from unmask.models.maskrcnn import MaskRCNNSegmenter

    n = sum(p.numel() for p in MaskRCNNSegmenter(128).parameters())
    assert n * 2 < 16 * 2**20


def test_segmenter_ensemble_averages_member_probabilities():
    from unmask.models.segmenter import MaskSegEnsemble

    tiny = {"widths": (4, 8, 8), "blocks": 1}
    torch.manual_seed(0)
    model = MaskSegEnsemble([tiny, tiny]).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        got = torch.sigmoid(model(x))
        want = (torch.sigmoid(model.members[0](x)) + torch.sigmoid(model.members[1](x))) / 2
    assert got.shape == (2, 1, 32, 32)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="stride"):
        MaskSegEnsemble([tiny, {"widths": (4, 8, 8, 8), "blocks": 1}])
    with pytest.raises(ValueError, match="at least one"):
        MaskSegEnsemble([])
