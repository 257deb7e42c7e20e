import numpy as np
import pytest
import torch
import torch.nn.functional as F

from unmask.losses import (
    d_loss,
    feature_matching,
    g_loss,
    high_frequency_l1,
    hole_l1,
    laplacian,
    laplacian_energy_gap,
    patch_weight,
    ssim_loss,
    ssim_map,
)


def _pair(s=32):
    torch.manual_seed(0)
    x = torch.rand(2, 3, s, s)
    m = torch.zeros(2, 1, s, s)
    m[:, :, 8:24, 8:24] = 1
    return x, m


def test_hole_l1_weights_hole_and_valid_parts():
    x, m = _pair()
    y = x + 0.1 * m  # error only inside the hole
    assert hole_l1(y, x, m).item() == pytest.approx(0.1, abs=1e-6)
    z = x + 0.2 * (1 - m)  # error only outside
    assert hole_l1(z, x, m).item() == 0
    assert hole_l1(z, x, m, valid_weight=0.5).item() == pytest.approx(0.1, abs=1e-6)


def test_ssim_matches_skimage_and_is_zero_loss_for_identical():
    from skimage.metrics import structural_similarity

    x, m = _pair(48)
    y = (x + 0.2 * torch.randn_like(x)).clamp(0, 1)
    assert ssim_loss(x, x, m).item() == pytest.approx(0, abs=1e-5)
    ours = ssim_map(x[:1], y[:1])[0].permute(1, 2, 0).numpy()
    _, ref = structural_similarity(
        x[0].permute(1, 2, 0).numpy(),
        y[0].permute(1, 2, 0).numpy(),
        channel_axis=2,
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        full=True,
    )
    inner = (slice(6, -6), slice(6, -6))
    assert np.abs(ours[inner] - ref[inner]).max() < 1e-4
    assert 0 < ssim_loss(y, x, m).item() < 2


def test_high_frequency_terms_catch_blur():
    x, m = _pair()
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1)
    assert laplacian(torch.ones(1, 3, 8, 8)).abs().max() == 0
    assert high_frequency_l1(x, x, m).item() == 0
    assert high_frequency_l1(blurred, x, m).item() > 0.05
    gap = laplacian_energy_gap(blurred, x, m).item()
    assert 0.3 < gap < 1
    assert laplacian_energy_gap(x, x, m).item() == pytest.approx(0, abs=1e-6)


def test_adversarial_losses():
    real, fake = torch.full((2, 1, 4, 4), 2.0), torch.full((2, 1, 4, 4), -2.0)
    assert d_loss(real, fake, "hinge").item() == 0
    assert d_loss(fake, real, "hinge").item() == pytest.approx(6.0)
    assert g_loss(fake, "hinge").item() == pytest.approx(2.0)
    assert d_loss(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), "lsgan").item() == 0
    assert g_loss(torch.ones(1, 1, 2, 2), "lsgan").item() == 0
    with pytest.raises(ValueError):
        g_loss(fake, "wgan")


def test_patch_weight_selects_patches_touching_the_hole():
    _, m = _pair()
    logits = torch.zeros(2, 1, 4, 4)
    w = patch_weight(m, logits)
    assert w.shape == logits.shape and w[0, 0, 0, 0] == 0 and w[0, 0, 1, 1] == 1
    logits[w.bool()] = 5.0  # only hole patches count
    assert g_loss(logits, "hinge", w).item() == pytest.approx(-5.0)


def test_feature_matching():
    a = [torch.ones(1, 2, 3, 3), torch.zeros(1, 1, 2, 2)]
    assert feature_matching(a, a).item() == 0
    b = [torch.zeros(1, 2, 3, 3), torch.zeros(1, 1, 2, 2)]
    assert feature_matching(a, b).item() == pytest.approx(0.5)


def test_the_directional_energy_gap_sees_streaks_that_the_laplacian_energy_takes_for_detail():
    torch.manual_seed(0)
    target = torch.rand(1, 3, 32, 32)
    m = torch.ones(1, 1, 32, 32)
    # the same mean |Laplacian| as the target's, all of it in a one-axis Nyquist oscillation
    streaks = torch.tensor([0.0, 1.0]).repeat(16).view(1, 1, 1, 32).expand(1, 3, 32, 32)
    e_target = laplacian(target).abs().mean()
    pred = 0.5 + (streaks - 0.5) * (e_target / laplacian(streaks).abs().mean())
    assert laplacian_energy_gap(pred, target, m).item() < 0.05
    assert laplacian_energy_gap(pred, target, m, mode="directional").item() > 0.4
    assert laplacian_energy_gap(target, target, m, mode="directional").item() == pytest.approx(0)
    # streaks across the other axis match each axis's energy apart; the band mode sees them too
    across = pred.transpose(2, 3)
    assert laplacian_energy_gap(across, target, m, mode="band").item() > 0.9
    assert laplacian_energy_gap(target, target, m, mode="band").item() == pytest.approx(0)
    with pytest.raises(ValueError, match="energy mode"):
        laplacian_energy_gap(target, target, m, mode="loud")


def test_the_band_energy_gap_lets_pixel_detail_up_to_the_truths_go_free():
    torch.manual_seed(0)
    target = torch.rand(1, 3, 32, 32)
    m = torch.ones(1, 1, 32, 32)
    smooth = target + 0.5 * (target.mean() - target)  # less detail at every scale
    gap = laplacian_energy_gap(smooth, target, m, mode="band").item()
    # half the detail: the mid band's gap (0.5) alone, nothing on the one-sided axes
    assert gap == pytest.approx(0.5, abs=0.01)
