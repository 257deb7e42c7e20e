import subprocess
import sys

import numpy as np
import torch

from unmask.training.common import photo_batch, photo_jitter


def test_photo_batch_is_nchw_in_unit_range_whatever_the_input_strides():
    x = np.random.default_rng(0).integers(0, 256, (2, 6, 5, 3), dtype=np.uint8)
    flipped = x[:, :, ::-1]  # negative strides, as a random mirror leaves them
    t = photo_batch(flipped)
    assert t.shape == (2, 3, 6, 5) and t.dtype == torch.float32
    assert t.is_contiguous() and not t.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(t, torch.from_numpy(flipped.transpose(0, 3, 1, 2) / 255).float())


def test_a_narrow_strided_network_trains_on_photo_batches():
    # in its own process: the failure this guards against aborts the interpreter
    code = (
        "import numpy as np, torch; from unmask.training.common import photo_batch\n"
        "torch.set_num_threads(1)\n"
        "net = torch.nn.Conv2d(4, 4, 1, 2, bias=False)\n"
        "x = photo_batch(np.zeros((8, 16, 16, 4), np.uint8)).requires_grad_()\n"
        "for _ in range(3): net(x).sum().backward()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-400:]


def test_photo_jitter_changes_contrast_and_brightness_per_image_within_its_ranges():
    t = torch.rand(16, 3, 8, 8) * 0.5 + 0.25
    same = photo_jitter(t, np.random.default_rng(0), 0.0, 0.0)
    assert torch.allclose(same, t)
    out = photo_jitter(t, np.random.default_rng(0), 0.3, 0.1)
    assert out.shape == t.shape and out.min() >= 0 and out.max() <= 1
    spread = (out.std((1, 2, 3)) / t.std((1, 2, 3))).numpy()
    assert spread.min() >= 0.7 - 1e-5 and spread.max() <= 1.3 + 1e-5 and spread.std() > 0.05
    moved = (out.mean((1, 2, 3)) - t.mean((1, 2, 3))).abs()
    assert moved.max() <= 0.1 + 1e-5 and moved.std() > 0.01
