import pytest
import torch

from unmask.models.detector import FaceDetector

TINY = dict(widths=(4, 8, 8, 8, 8), blocks=1, fpn_channels=8, head_channels=8)


@pytest.mark.parametrize("stride", [4, 8])
def test_output_shapes_and_initial_prior(stride):
    model = FaceDetector(**TINY, out_stride=stride).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 3, 64, 96))
    h, w = 64 // stride, 96 // stride
    assert out["heatmap"].shape == (2, 1, h, w)
    assert out["box"].shape == (2, 4, h, w)
    assert out["keypoints"].shape == (2, 10, h, w)
    assert model.out_stride == stride
    # focal-loss prior: every cell starts near p = 0.01; boxes start at exp(2) strides
    assert torch.sigmoid(out["heatmap"]).max() < 0.05
    assert torch.allclose(out["box"], torch.full_like(out["box"], 2.0))


def test_bad_stride_is_rejected():
    with pytest.raises(ValueError, match="out_stride"):
        FaceDetector(**TINY, out_stride=6)
    with pytest.raises(ValueError, match="out_stride"):
        FaceDetector(widths=(4, 8), out_stride=8)


def test_default_size_is_about_1_6m_parameters():
    n = sum(p.numel() for p in FaceDetector().parameters())
    assert 1.0e6 < n < 2.5e6
