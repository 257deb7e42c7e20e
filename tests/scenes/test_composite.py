import numpy as np
import pytest
import torch

from unmask.data.face_sources import canonical_box, crop_faces
from unmask.faces.align import MEAN_68
from unmask.scenes.backgrounds import Backgrounds
from unmask.scenes.composite import SceneConfig, build_maker
from unmask.scenes.dataset import CompositeScenes, render_targets
from unmask.scenes.effects import degrade
from unmask.scenes.maker import SceneMaker
from unmask.scenes.patterns import procedural


def _maker(ds, **kw):
    cfg = SceneConfig(size=64, min_face=6.0, **kw)
    return SceneMaker(crop_faces(ds, ("train",)), [], Backgrounds("train"), cfg)


def test_canonical_box_spans_jaw_brows_and_chin():
    lm = MEAN_68 * 100
    box = canonical_box(lm)
    assert box[0] == pytest.approx(lm[:, 0].min()) and box[2] == pytest.approx(lm[:, 0].max())
    assert box[3] == pytest.approx(lm[:, 1].max()) and box[1] < lm[17:27, 1].min()


def test_render_targets_peak_weights_and_values():
    boxes = np.array([[10, 10, 42, 50], [40, 4, 56, 20]], np.float32)
    kps = np.random.default_rng(0).random((2, 5, 2)).astype(np.float32) * 64
    t = render_targets(boxes, kps, 64, 4)
    assert t["heat"].shape == (1, 16, 16) and t["box"].shape == (4, 16, 16)
    assert t["heat"][0, 7, 6] == 1.0 and t["heat"][0, 3, 12] == 1.0
    assert (t["heat"] == 1).sum() == 2
    assert t["weight"].sum() == pytest.approx(2.0, abs=1e-4)
    assert np.allclose(t["box"][:, 3, 12], boxes[1])
    assert np.allclose(t["kps"][:, 7, 6], kps[0].ravel())
    empty = render_targets(np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32), 64, 4)
    assert empty["heat"].max() == 0 and empty["weight"].sum() == 0


def test_scenes_are_deterministic_and_well_formed(tiny_dataset):
    maker = _maker(tiny_dataset)
    kinds = set()
    for i in range(12):
        a = maker(np.random.default_rng([0, 0, i]))
        b = maker(np.random.default_rng([0, 0, i]))
        assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)
        assert a.image.dtype == np.uint8 and a.image.ndim == 3
        assert a.boxes.shape == (len(a.masked), 4) and a.keypoints.shape == (len(a.masked), 5, 2)
        kinds.add(a.kind)
        if a.kind == "negative":
            assert len(a.boxes) == 0
        else:
            assert len(a.boxes) >= 1 or a.kind == "scene"
        h, w = a.image.shape[:2]
        for box, kp in zip(a.boxes, a.keypoints, strict=True):
            assert box[2] > box[0] and box[3] > box[1]
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            assert -1 <= cx <= w and -1 <= cy <= h
            assert kp[0, 0] < kp[1, 0]  # image-left eye first, also after mirroring
    assert kinds >= {"tight", "scene"}


def test_force_unmasked(tiny_dataset):
    maker = _maker(tiny_dataset)
    maker.force_masked = False
    scenes = [maker(np.random.default_rng(i)) for i in range(8)]
    assert not any(s.masked.any() for s in scenes)


def test_dataset_items_and_epochs(tiny_dataset):
    ds = CompositeScenes(_maker(tiny_dataset, max_objects=4), length=5, stride=4, seed=1)
    item = ds[0]
    assert item["image"].shape == (3, 64, 64) and item["image"].dtype == torch.uint8
    assert item["heat"].shape == (1, 16, 16) and item["kps"].shape == (10, 16, 16)
    assert item["boxes"].shape == (4, 4) and item["keypoints"].shape == (4, 5, 2)
    n = int(item["count"])
    assert (item["heat"] == 1).sum() <= n <= 4
    assert torch.equal(ds[0]["image"], item["image"])
    ds.set_epoch(1)
    assert not torch.equal(ds[0]["image"], item["image"])


def test_degrade_and_procedural_keep_shape():
    rng = np.random.default_rng(0)
    img = procedural(rng, 40, 70)
    assert img.shape == (40, 70, 3) and img.dtype == np.uint8
    for kind in ("gradient", "noise", "shapes", "stripes", "skin"):
        assert procedural(rng, 300, 20, kind).shape == (300, 20, 3)
    cfg = SceneConfig(gray=1, blur=1, lowres=1, noise=1, jpeg=1)
    out = degrade(img, rng, cfg)
    assert out.shape == img.shape and out.dtype == np.uint8


def test_build_maker_with_shared_templates(tiny_dataset):
    from support import shared_path

    templates = shared_path("mask-templates")
    maker = build_maker(
        tiny_dataset, "test", SceneConfig(size=64, negative=1.0), templates=templates
    )
    assert maker.bg.templates and maker.masks is not None
    rng = np.random.default_rng(0)
    for _ in range(6):
        rgb, alpha = maker.bg.distractor(rng, 40)
        assert rgb.shape[:2] == alpha.shape and 0 <= alpha.min() and alpha.max() <= 1
    assert maker(rng).boxes.shape == (0, 4)


def test_natural_backgrounds_are_disjoint_by_split():
    from unmask.scenes.backgrounds import SKIMAGE_TEST, SKIMAGE_TRAIN, SKIMAGE_VAL

    lists = {"train": SKIMAGE_TRAIN, "val": SKIMAGE_VAL, "test": SKIMAGE_TEST}
    for split, names in lists.items():
        assert Backgrounds(split).natural == names
        others = set().union(*(set(v) for k, v in lists.items() if k != split))
        assert not set(names) & others
    with pytest.raises(ValueError, match="unknown split"):
        Backgrounds("all")


def test_accessories_and_squash_change_faces_only_when_asked(tiny_dataset):
    plain = _maker(tiny_dataset, tight=1.0, negative=0.0)
    same = _maker(tiny_dataset, tight=1.0, negative=0.0, glasses=0.0, squash=0.0, text=0.0)
    worn = _maker(tiny_dataset, tight=1.0, negative=0.0, sunglasses=1.0, squash=1.0)
    widths = []
    for i in range(6):
        a, b = plain(np.random.default_rng(i)), same(np.random.default_rng(i))
        assert np.array_equal(a.image, b.image)
        c = worn(np.random.default_rng(i))
        assert c.boxes.shape == (1, 4)
        widths.append((c.boxes[0, 2] - c.boxes[0, 0]) / (c.boxes[0, 3] - c.boxes[0, 1]))
        widths.append(-(a.boxes[0, 2] - a.boxes[0, 0]) / (a.boxes[0, 3] - a.boxes[0, 1]))
    squeezed, normal = np.array(widths[0::2]), -np.array(widths[1::2])
    assert squeezed.mean() < normal.mean()  # squashed faces are narrower for their height


def test_text_only_on_scenes_that_ask_for_it(tiny_dataset):
    plain = _maker(tiny_dataset, tight=0.0, negative=1.0)
    printed = _maker(tiny_dataset, tight=0.0, negative=1.0, text=1.0)
    differ = sum(
        not np.array_equal(
            plain(np.random.default_rng(i)).image, printed(np.random.default_rng(i)).image
        )
        for i in range(4)
    )
    assert differ == 4


def test_texture_backgrounds_only_on_scenes_that_ask_for_it(tiny_dataset):
    plain = _maker(tiny_dataset, tight=0.0, negative=1.0)
    off = _maker(tiny_dataset, tight=0.0, negative=1.0, textures=0.0)
    on = _maker(tiny_dataset, tight=0.0, negative=1.0, textures=1.0)
    for i in range(3):
        a = plain(np.random.default_rng(i)).image
        assert np.array_equal(a, off(np.random.default_rng(i)).image)
        assert not np.array_equal(a, on(np.random.default_rng(i)).image)
