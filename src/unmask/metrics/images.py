"""Image reconstruction metrics (numpy in, floats out): PSNR, SSIM, L1 over the hole and the
whole crop, and a sharpness ratio.

Images are ``H x W x 3`` RGB, uint8 in [0, 255] or float in [0, 1] (both images of a pair
alike); masks are ``H x W``, nonzero = hole.

Sharpness: the mean absolute 4-neighbour Laplacian of the grey image inside the hole *eroded*
by a few pixels (so the mask border's edge does not count). The ratio output / ground truth is
1 for detail of the right strength, < 1 for blur, > 1 for noise or over-sharpening. Over a data
set it is the ratio of the summed energies (:func:`summarize`), not a mean of per-image ratios.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: Keys of :func:`image_metrics` (the ``lap_*`` energies feed the sharpness ratio, the ``d*``
#: energies the streak ratio).
KEYS = (
    "psnr_hole",
    "psnr_all",
    "ssim_hole",
    "ssim_all",
    "l1_hole",
    "l1_all",
    "lap_out",
    "lap_gt",
    "dxx_out",
    "dyy_out",
    "dxx_gt",
    "dyy_gt",
)


def _unit(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    return a.astype(np.float64) / 255.0 if a.dtype == np.uint8 else a.astype(np.float64)


def _sel(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    if mask is None:
        return np.ones(shape[:2], bool)
    return np.asarray(mask) > 0


def l1(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute error in [0, 1] units over the mask pixels (all channels); NaN if empty."""
    sel = _sel(mask, np.shape(pred))
    if not sel.any():
        return float("nan")
    return float(np.abs(_unit(pred) - _unit(target))[sel].mean())


def psnr(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB (peak 1 in [0, 1] units) over the mask pixels; NaN if empty, capped at 100."""
    sel = _sel(mask, np.shape(pred))
    if not sel.any():
        return float("nan")
    mse = float(((_unit(pred) - _unit(target)) ** 2)[sel].mean())
    return 100.0 if mse <= 1e-10 else float(10 * np.log10(1.0 / mse))


def ssim_map(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """SSIM map of Wang et al. (2004), ``H x W`` float64, the mean over the RGB channels.

    Gaussian window sigma 1.5 truncated at 3.5 sigma (11 taps), mirrored borders, constants
    ``(0.01 L)^2`` and ``(0.03 L)^2`` for data range L = 1, population (not sample) variances;
    equal to scikit-image's ``structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1, full=True)`` map averaged over channels.
    """
    import cv2

    x, y = _unit(pred), _unit(target)
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]

    def blur(a: np.ndarray) -> np.ndarray:
        out = cv2.GaussianBlur(a, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)
        return out.reshape(a.shape)

    c1, c2 = 0.01**2, 0.03**2
    ux, uy = blur(x), blur(y)
    vx = blur(x * x) - ux * ux
    vy = blur(y * y) - uy * uy
    vxy = blur(x * y) - ux * uy
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s.mean(axis=2)


def ssim(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean of :func:`ssim_map` over the mask pixels; NaN if empty."""
    sel = _sel(mask, np.shape(pred))
    if not sel.any():
        return float("nan")
    return float(ssim_map(pred, target)[sel].mean())


def erode(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary erosion by an elliptical disc of ``radius`` pixels; returns bool ``H x W``."""
    import cv2

    m = (np.asarray(mask) > 0).astype(np.uint8)
    if radius <= 0:
        return m.astype(bool)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    return cv2.erode(m, k, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)


def erode_radius(size: int) -> int:
    """Default erosion for the sharpness region: 3 px at 128, scaled with the side."""
    return max(1, round(3 * size / 128))


#: The filters of the detail energies and their OpenCV borders: the 4-neighbour Laplacian (as
#: ``cv2.Laplacian(ksize=1)``) and the second differences along x and along y.
_DETAIL_KERNELS = {
    "lap": (np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]), "BORDER_REFLECT_101"),
    "dxx": (np.array([[1.0, -2.0, 1.0]]), "BORDER_REPLICATE"),
    "dyy": (np.array([[1.0], [-2.0], [1.0]]), "BORDER_REPLICATE"),
}


def _detail_energies(image: np.ndarray, region: np.ndarray, kinds) -> dict[str, float]:
    """Mean |filtered grey image| over ``region`` for each of ``kinds`` (keys of
    :data:`_DETAIL_KERNELS`), the grey image computed once; NaN where the region is empty."""
    import cv2

    sel = np.asarray(region) > 0
    if not sel.any():
        return dict.fromkeys(kinds, float("nan"))
    grey = _unit(image) @ np.array([0.299, 0.587, 0.114])
    out = {}
    for k in kinds:
        kernel, border = _DETAIL_KERNELS[k]
        filtered = cv2.filter2D(grey, cv2.CV_64F, kernel, borderType=getattr(cv2, border))
        out[k] = float(np.abs(filtered)[sel].mean())
    return out


def laplacian_energy(image: np.ndarray, region: np.ndarray) -> float:
    """Mean |Laplacian| (4-neighbour kernel, grey image in [0, 1]) over ``region``; NaN if empty."""
    return _detail_energies(image, region, ("lap",))["lap"]


def sharpness_ratio(
    pred: np.ndarray, target: np.ndarray, mask: np.ndarray, radius: int | None = None
) -> float:
    """Laplacian energy of ``pred`` over that of ``target`` inside the eroded mask."""
    region = erode(mask, erode_radius(np.shape(mask)[0]) if radius is None else radius)
    return laplacian_energy(pred, region) / max(laplacian_energy(target, region), 1e-12)


def image_metrics(
    pred: np.ndarray, target: np.ndarray, mask: np.ndarray, radius: int | None = None
) -> dict[str, float]:
    """All :data:`KEYS` for one image pair (``*_hole`` over the mask, ``*_all`` over the crop)."""
    region = erode(mask, erode_radius(np.shape(mask)[0]) if radius is None else radius)
    return {
        "psnr_hole": psnr(pred, target, mask),
        "psnr_all": psnr(pred, target),
        "ssim_hole": ssim(pred, target, mask),
        "ssim_all": ssim(pred, target),
        "l1_hole": l1(pred, target, mask),
        "l1_all": l1(pred, target),
        **{
            f"{k}_{who}": v
            for who, img in (("out", pred), ("gt", target))
            for k, v in _detail_energies(img, region, _DETAIL_KERNELS).items()
        },
    }


def summarize(records: Iterable[dict[str, float]]) -> dict[str, float]:
    """Means of per-image :func:`image_metrics` (NaNs skipped), the data-set sharpness ratio
    ``sum(lap_out) / sum(lap_gt)`` and the streak ratio: the output's x over y second-difference
    energy relative to the truth's (1 = the truth's balance; above 1, vertical streaks)."""
    recs = list(records)
    out: dict[str, float] = {"n": float(len(recs))}
    for k in KEYS:
        vals = np.array([r[k] for r in recs if k in r], np.float64)
        vals = vals[np.isfinite(vals)]
        out[k] = float(vals.mean()) if vals.size else float("nan")
    pairs = np.array([(r["lap_out"], r["lap_gt"]) for r in recs], np.float64).reshape(-1, 2)
    pairs = pairs[np.isfinite(pairs).all(1)]
    out["sharpness"] = float(pairs[:, 0].sum() / pairs[:, 1].sum()) if pairs.size else float("nan")
    keys = ("dxx_out", "dyy_out", "dxx_gt", "dyy_gt")
    d = np.array([[r.get(k, np.nan) for k in keys] for r in recs], np.float64).reshape(-1, 4)
    d = d[np.isfinite(d).all(1)]
    out["streaks"] = (
        float((d[:, 0].sum() / d[:, 1].sum()) / (d[:, 2].sum() / d[:, 3].sum()))
        if d.size
        else float("nan")
    )
    return out
