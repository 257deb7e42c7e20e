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


def test_photo_mode_crops_follow_the_detectors_points(tiny_dataset):
    import json

    import pytest

    from unmask.data.detector_points import FILE, nearest_detection
    from unmask.data.manifest import load_manifest, read_crop
    from unmask.faces.landmarks import five_from_68

    with pytest.raises(FileNotFoundError, match="detector-points"):
        FaceMaskDataset(tiny_dataset, "train", 64, Augment.none(), detector_align=1.0)
    rows = load_manifest(tiny_dataset, "train")
    shift = np.array([3.0, -2.0])  # the detector's points lie 3 px right and 2 px up
    pts = {r["image"]: (five_from_68(np.array(r["landmarks"])) + shift).tolist() for r in rows}
    pts[rows[1]["image"]] = None  # no detection: the teacher's alignment
    (tiny_dataset / FILE).write_text(json.dumps(pts))
    plain = FaceMaskDataset(tiny_dataset, "train", 64, Augment.none())
    photo = FaceMaskDataset(tiny_dataset, "train", 64, Augment.none(), detector_align=1.0)
    side = 64 / read_crop(tiny_dataset / plain.rows[0]["image"]).shape[0]
    moved = photo[0]["landmarks"].numpy() - plain[0]["landmarks"].numpy()
    assert np.allclose(moved, -shift * side, atol=0.05)  # the face moves against the error
    assert torch.equal(photo[1]["landmarks"], plain[1]["landmarks"])

    # a detection is matched to the teacher's face only when it lies near it
    class Det:
        def __init__(self, kp):
            self.keypoints = kp

    t5 = np.zeros((5, 2)) + [10, 10]
    assert nearest_detection([Det(t5 + 50), Det(t5 + 1)], t5, 10.0)[0, 0] == 11
    assert nearest_detection([Det(t5 + 50)], t5, 10.0) is None
