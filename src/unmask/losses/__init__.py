"""Training losses (torch): image reconstruction terms and adversarial terms.

All take float32 ``N x C x H x W`` tensors; images are RGB in [0, 1] and masks are ``N x 1 x H x W``
in {0, 1} with 1 = hole. Each returns a scalar tensor.
"""

from unmask.losses.adversarial import (
    d_loss,
    feature_matching,
    g_loss,
    patch_weight,
)
from unmask.losses.image import (
    high_frequency_l1,
    hole_l1,
    laplacian,
    laplacian_energy_gap,
    ssim_loss,
    ssim_map,
    weighted_mean,
)

__all__ = [
    "d_loss",
    "feature_matching",
    "g_loss",
    "high_frequency_l1",
    "hole_l1",
    "laplacian",
    "laplacian_energy_gap",
    "patch_weight",
    "ssim_loss",
    "ssim_map",
    "weighted_mean",
]
