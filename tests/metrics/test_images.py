import cv2
import numpy as np
import pytest

from unmask.metrics.images import (
    erode,
    image_metrics,
    l1,
    psnr,
    sharpness_ratio,
    ssim,
    summarize,
)


def _face(s=64, seed=0):
    rng = np.random.default_rng(seed)
    img = cv2.resize((rng.random((16, 16, 3)) * 255).astype(np.uint8), (s, s))
    img = np.clip(img.astype(int) + rng.integers(-20, 20, img.shape), 0, 255).astype(np.uint8)
    mask = np.zeros((s, s), np.uint8)
    mask[s // 2 :, 8:-8] = 1
    return img, mask


def test_psnr_l1_over_mask_and_whole():
    img, mask = _face()
    out = img.copy().astype(int)
    out[mask > 0] = np.clip(out[mask > 0] + 10, 0, 255)
    out = out.astype(np.uint8)
    diff = np.abs(out.astype(float) - img)[mask > 0] / 255
    assert l1(out, img, mask) == pytest.approx(diff.mean())
    assert psnr(out, img, mask) == pytest.approx(10 * np.log10(1 / (diff**2).mean()))
    assert psnr(out, img) > psnr(out, img, mask)  # error diluted over the crop
    assert psnr(img, img) == 100.0 and l1(img, img) == 0
    assert np.isnan(psnr(out, img, np.zeros_like(mask)))


def test_ssim_and_float_inputs():
    img, mask = _face()
    assert ssim(img, img, mask) == pytest.approx(1.0)
    noisy = np.clip(img + np.random.default_rng(1).normal(0, 25, img.shape), 0, 255)
    assert ssim(noisy.astype(np.uint8), img, mask) < 0.9
    assert ssim(img / 255.0, img / 255.0) == pytest.approx(1.0)


def test_sharpness_ratio_flags_blur_and_erodes_the_border():
    img, mask = _face()
    blurred = img.copy()
    blurred[mask > 0] = cv2.GaussianBlur(img, (0, 0), 2)[mask > 0]
    assert sharpness_ratio(img, img, mask) == pytest.approx(1.0)
    assert sharpness_ratio(blurred, img, mask) < 0.6
    assert erode(mask, 3).sum() < mask.sum()


def test_summarize_pools_sharpness():
    img, mask = _face()
    blurred = cv2.GaussianBlur(img, (0, 0), 2)
    recs = [image_metrics(img, img, mask), image_metrics(blurred, img, mask)]
    s = summarize(recs)
    assert s["n"] == 2 and s["psnr_hole"] > 50
    expected = (recs[0]["lap_out"] + recs[1]["lap_out"]) / (2 * recs[0]["lap_gt"])
    assert s["sharpness"] == pytest.approx(expected)


def test_ssim_equals_scikit_image_on_noisy_photos():
    skm = pytest.importorskip("skimage.metrics", reason="scikit-image is in the train extra")
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (40, 56, 3)).astype(np.uint8)
    img = np.clip(img.astype(int) // 2 + np.arange(56)[None, :, None] * 2, 0, 255).astype(np.uint8)
    noisy = np.clip(img + rng.normal(0, 25, img.shape), 0, 255).astype(np.uint8)
    mask = np.zeros((40, 56), np.uint8)
    mask[5:30, 10:50] = 1
    _, ref = skm.structural_similarity(
        noisy / 255.0,
        img / 255.0,
        channel_axis=2,
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        full=True,
    )
    assert ssim(noisy, img, mask) == pytest.approx(float(ref[mask > 0].mean()), abs=1e-9)
    assert ssim(noisy, img) == pytest.approx(float(ref.mean()), abs=1e-9)


def test_the_streak_ratio_reads_one_for_the_truth_and_more_for_vertical_streaks():
    from unmask.metrics.images import image_metrics, summarize

    rng = np.random.default_rng(0)
    truth = (rng.random((32, 32, 3)) * 255).astype(np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 1
    streaked = truth.astype(int)
    streaked[:, ::2] += 40  # every other column brighter: vertical streaks
    streaked = np.clip(streaked, 0, 255).astype(np.uint8)
    same = summarize([image_metrics(truth, truth, mask)])
    assert same["streaks"] == pytest.approx(1.0)
    assert summarize([image_metrics(streaked, truth, mask)])["streaks"] > 1.2
    rotated = summarize(
        [image_metrics(streaked.transpose(1, 0, 2), truth.transpose(1, 0, 2), mask)]
    )
    assert rotated["streaks"] < 1 / 1.2  # streaks along the other axis read below one
