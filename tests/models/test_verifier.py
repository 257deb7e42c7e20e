import pytest
import torch

from unmask.models.verifier import FaceVerifier


def test_one_logit_per_crop():
    model = FaceVerifier(image_size=32, widths=(4, 8)).eval()
    with torch.no_grad():
        out = model(torch.rand(3, 3, 32, 32))
    assert out.shape == (3,) and out.dtype == torch.float32
    assert model.image_size == 32


def test_size_must_fit_the_stages():
    with pytest.raises(ValueError, match="multiple of 16"):
        FaceVerifier(image_size=40, widths=(4, 8, 8, 8))


def test_default_is_small():
    n = sum(p.numel() for p in FaceVerifier().parameters())
    assert n < 400_000
