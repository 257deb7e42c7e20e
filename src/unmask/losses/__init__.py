"""Training losses (torch): image reconstruction terms, adversarial terms and a helper for
losses over the labelled samples of a batch.

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
from unmask.losses.labels import over_known

__all__ = [
    "d_loss",
    "feature_matching",
    "g_loss",
    "high_frequency_l1",
    "hole_l1",
    "laplacian",
    "laplacian_energy_gap",
    "over_known",
    "patch_weight",
    "ssim_loss",
    "ssim_map",
    "weighted_mean",
]
