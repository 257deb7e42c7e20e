import numpy as np
import pytest
import torch

from unmask.faces.align import MEAN_68
from unmask.faces.landmark_map import NUM_CHANNELS, PARTS, render
from unmask.models.discriminator import PatchDiscriminator
from unmask.models.inpainter import InpaintGenerator, composite

TINY = dict(widths=(4, 8, 8, 8), dilations=(1, 2), embed_dim=8)


def _inputs(n=2, s=32):
    torch.manual_seed(0)
    x = torch.rand(n, 3, s, s)
    m = torch.zeros(n, 1, s, s)
    m[:, :, s // 2 :, 4:-4] = 1
    lm = torch.from_numpy(MEAN_68 * s - 0.5).float()[None].repeat(n, 1, 1)
    return x, m, render(lm, s), torch.tensor([0.0, 1.0])[:n]


def test_generator_shapes_range_and_hole_is_ignored():
    g = InpaintGenerator(**TINY).eval()
    x, m, lmap, gender = _inputs()
    y = g(x, m, lmap, gender)
    assert y.shape == x.shape and y.dtype == torch.float32
    assert 0 <= y.min() and y.max() <= 1
    x2 = torch.where(m.bool(), torch.rand_like(x), x)  # different hole content
    assert torch.allclose(g(x2, m, lmap, gender), y)
    c = composite(y, x, m)
    assert torch.equal(c[m.expand_as(c) == 0], x[m.expand_as(x) == 0])


def test_gender_film_starts_neutral_and_conditions_after_training():
    g = InpaintGenerator(**TINY).eval()
    x, m, lmap, _ = _inputs()
    male, female = torch.zeros(2), torch.ones(2)
    assert torch.allclose(g(x, m, lmap, male), g(x, m, lmap, female))
    for mod in g.modules():
        if mod.__class__.__name__ == "FiLM":
            torch.nn.init.normal_(mod.proj.weight, std=0.5)
    assert not torch.allclose(g(x, m, lmap, male), g(x, m, lmap, female))


def test_unguided_generator_and_missing_map():
    x, m, lmap, gender = _inputs()
    g = InpaintGenerator(landmark_channels=0, gender_film=False, **TINY)
    assert g(x, m).shape == x.shape
    guided = InpaintGenerator(**TINY)
    with pytest.raises(ValueError, match="landmark map"):
        guided(x, m, None, gender)
    n_guided = sum(p.numel() for p in guided.parameters())
    assert sum(p.numel() for p in g.parameters()) < n_guided


def test_default_generator_size():
    n = sum(p.numel() for p in InpaintGenerator().parameters())
    assert 2e6 < n < 4e6


def test_discriminator_patches_and_features():
    d = PatchDiscriminator(cond_channels=1 + NUM_CHANNELS, widths=(8, 16, 16, 16))
    x, m, lmap, _ = _inputs(s=64)
    logits, feats = d(x, torch.cat([m, lmap], 1))
    assert logits.shape == (2, 1, 6, 6) and len(feats) == 4
    assert any("parametrizations" in n for n, _ in d.named_parameters())


def test_landmark_map_draws_parts_at_the_points():
    s = 64
    lm = torch.from_numpy(MEAN_68 * s - 0.5).float()[None]
    maps = render(lm, s, sigma=1.0)
    assert maps.shape == (1, len(PARTS), s, s) and 0 <= maps.min() and maps.max() <= 1
    x, y = np.round(lm[0, 8].numpy()).astype(int)  # chin tip: on the jaw line
    jaw = list(PARTS).index("jaw")
    assert maps[0, jaw, y, x] > 0.6 and maps[0, jaw, 0, 0] < 1e-6
    lips = list(PARTS).index("lips")
    x, y = np.round(lm[0, 48].numpy()).astype(int)
    assert maps[0, lips, y, x] > 0.6 and maps[0, jaw, y, x] < 0.1
    with pytest.raises(ValueError):
        render(torch.zeros(1, 5, 2), s)


def test_landmark_map_tensor_path_matches_numpy():
    """A tensor renders on its own device the maps the torch-free runtime renders from numpy."""
    rng = np.random.default_rng(0)
    lm = (rng.random((3, 68, 2)) * 64).astype(np.float32)
    ref = render(lm, 64, sigma=0.9)
    out = render(torch.from_numpy(lm), 64, sigma=0.9)
    assert isinstance(ref, np.ndarray) and isinstance(out, torch.Tensor)
    assert ref.dtype == np.float32 and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-5)
