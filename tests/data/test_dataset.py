import numpy as np
import torch

from unmask.data.dataset import Augment, FaceMaskDataset
from unmask.faces.landmarks import FLIP_68


def test_items_have_documented_shapes_and_ranges(tiny_dataset):
    ds = FaceMaskDataset(tiny_dataset, "train", size=32, augment=None)
    item = ds[0]
    assert item["masked"].shape == (3, 32, 32) and item["masked"].dtype == torch.float32
    assert item["clean"].shape == (3, 32, 32)
    assert item["mask"].shape == (1, 32, 32)
    assert set(torch.unique(item["mask"]).tolist()) <= {0.0, 1.0}
    assert 0 <= item["masked"].min() and item["masked"].max() <= 1
    assert item["landmarks"].shape == (68, 2)
    assert item["gender"].item() in (0, 1)


def test_resize_scales_landmarks(tiny_dataset):
    full = FaceMaskDataset(tiny_dataset, "train", size=64, augment=None)[0]["landmarks"]
    half = FaceMaskDataset(tiny_dataset, "train", size=32, augment=None)[0]["landmarks"]
    assert torch.allclose((full + 0.5) / 2 - 0.5, half, atol=1e-3)


def test_flip_mirrors_image_mask_and_landmarks(tiny_dataset):
    plain = FaceMaskDataset(tiny_dataset, "train", size=64, augment=None)
    aug = Augment.none()
    aug.flip = 1.0
    flipped = FaceMaskDataset(tiny_dataset, "train", size=64, augment=aug)
    a, b = plain[1], flipped[1]
    assert torch.allclose(a["clean"].flip(-1), b["clean"])
    assert torch.equal(a["mask"].flip(-1), b["mask"])
    expect = a["landmarks"].numpy()[FLIP_68].copy()
    expect[:, 0] = 63 - expect[:, 0]
    assert np.allclose(b["landmarks"].numpy(), expect, atol=1e-4)


def test_augmentation_is_deterministic_and_shared_between_masked_and_clean(tiny_dataset):
    ds = FaceMaskDataset(tiny_dataset, "train", size=48, augment=Augment(), seed=3)
    a, b = ds[2], ds[2]
    assert torch.equal(a["masked"], b["masked"])
    ds.set_epoch(1)
    c = ds[2]
    assert not torch.equal(a["masked"], c["masked"])
    outside = c["mask"] == 0
    diff = (c["masked"] - c["clean"]).abs()[outside.expand_as(c["clean"])]
    assert diff.mean() < 0.05


def test_exclude_and_only_kinds(tiny_dataset):
    only = FaceMaskDataset(tiny_dataset, None, size=32, only_kinds=("cloth",))
    assert {r["mask_type"] for r in only.rows} == {"cloth"}
    rest = FaceMaskDataset(tiny_dataset, None, size=32, exclude_kinds=("cloth",))
    assert {r["mask_type"] for r in rest.rows} == {"surgical"}
