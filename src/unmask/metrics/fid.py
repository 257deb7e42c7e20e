"""Distribution distances between generated and real face crops, on features of *our own*
trained network (the pooled last stage of a :class:`~unmask.models.face_attr.FaceAttrNet`
trunk), not Inception: report them as "FID (unmask <stage> features)" and "KID (...)", never as
Inception-FID. Values are comparable only between rows computed with the same network.
"""

from __future__ import annotations

import numpy as np


def attr_features(model, images: np.ndarray, batch: int = 64) -> np.ndarray:
    """Global-average-pooled last-stage features of a FaceAttrNet's encoder.

    Args:
        model: a :class:`~unmask.models.face_attr.FaceAttrNet`, or a
            :class:`~unmask.models.face_attr.FaceAttrEnsemble` (its members' features side by
            side); put in eval mode here.
        images: ``N x S x S x 3`` uint8 RGB aligned crops (resized to the model's input side).
    Returns:
        float64 ``N x D`` features (D = the last encoder width, summed over members).
    """
    import torch

    from unmask.models.face_attr import member_nets
    from unmask.runtime.backend import resize_batch

    model.eval()
    size = model.image_size
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(images), batch):
        chunk = resize_batch(np.asarray(images[i : i + batch]), size)
        x = torch.from_numpy(chunk).permute(0, 3, 1, 2).float().div_(255).to(device)
        with torch.inference_mode():
            feats = torch.cat([n.features(x)[-1].mean((2, 3)) for n in member_nets(model)], 1)
        out.append(feats.double().cpu().numpy())
    return np.concatenate(out)


def _psd_sqrt(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a`` (N x D) and ``b`` (M x D):
    ``|mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2))``, with the trace of the matrix square
    root computed stably as ``tr((S C_b S)^(1/2))``, ``S = C_a^(1/2)`` (symmetric PSD)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu1, mu2 = a.mean(0), b.mean(0)
    c1, c2 = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    s1 = _psd_sqrt(c1)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(s1 @ c2 @ s1), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * cross)


def kernel_inception_distance(
    a: np.ndarray, b: np.ndarray, subsets: int = 20, subset_size: int = 500, seed: int = 0
) -> tuple[float, float]:
    """KID (unbiased MMD^2 with the cubic polynomial kernel ``(x.y / D + 1)^3``) averaged over
    random subsets; returns ``(mean, std)``. The name follows Bińkowski et al.; the features here
    are whatever the caller passes (ours, not Inception's)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = a.shape[1]
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError("KID needs at least 2 samples per set")
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
        sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        syy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        vals.append(sxx + syy - 2 * kxy.mean())
    return float(np.mean(vals)), float(np.std(vals))
