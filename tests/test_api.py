"""The public :class:`unmask.Unmasker` with tiny random weights: what each stage is handed."""

import numpy as np
import pytest

from support import make_tiny_weights
from unmask.api import Unmasker
from unmask.demo import masked_example


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return make_tiny_weights(tmp_path_factory.mktemp("w"))


def _spy_gender(unmasker, monkeypatch) -> list:
    seen = []
    inpainter = unmasker.inpainter
    original = type(inpainter).__call__

    def spy(self, crop, mask, landmarks=None, gender=None):
        seen.append(gender)
        return original(self, crop, mask, landmarks, gender)

    monkeypatch.setattr(type(inpainter), "__call__", spy)
    return seen


@pytest.mark.parametrize("forced", [None, "male"])
def test_inpainter_gets_the_predicted_probability_unless_the_user_forces_a_gender(
    weights, monkeypatch, forced
):
    unmasker = Unmasker(weights, backend="torch", detector="aligned", crop_size=32)
    seen = _spy_gender(unmasker, monkeypatch)
    _, masked, _ = masked_example()
    result = unmasker(masked, gender=forced)
    assert result.faces and result.faces[0].masked
    face = result.faces[0]
    if forced is None:
        assert isinstance(seen[0], float) and 0.0 <= seen[0] <= 1.0
        p_female = face.gender_score if face.gender == "female" else 1 - face.gender_score
        assert seen[0] == pytest.approx(p_female)
        assert not face.gender_forced
    else:
        assert seen and set(seen) == {"male"} and face.gender == "male" and face.gender_forced
    assert np.array_equal(result.restored.shape, masked.shape)


@pytest.mark.parametrize("passes", [1, 2])
def test_a_mask_at_the_photo_edge_is_not_mirrored_into_the_inpainters_context(
    weights, monkeypatch, passes
):
    """Photo cut through the mask: plain alignment mirrors the mask below the chin; the
    inpainter must get the crop with the padding remade (``repad``), and the returned crop is
    the aligned crop outside the hole. A second pass sees the padding mirrored from the first
    result pasted into the photo."""
    import cv2

    from unmask.demo import example_face
    from unmask.detection.base import Detection
    from unmask.faces.align import align, repad
    from unmask.faces.landmarks import five_from_68
    from unmask.faces.padding import inside_photo

    _, masked, mask = masked_example()
    _, landmarks = example_face()
    ys = np.nonzero(mask)[0]
    cut = int((ys.min() + ys.max()) / 2)  # the photo ends half-way down the mask
    photo, photo_m = masked[:cut].copy(), mask[:cut]
    five = five_from_68(landmarks)
    unmasker = Unmasker(weights, backend="torch", crop_size=32, passes=passes)

    class OneFace:
        def detect(self, image):
            return [Detection(np.array([0, 0, 1, 1], np.float32), 1.0, five)]

    al = align(photo, five, 32)
    hole_in = cv2.warpAffine(photo_m, al.matrix, (32, 32), flags=cv2.INTER_NEAREST)
    unmasker._stages["detector"] = OneFace()
    seg = type(unmasker.segmenter)
    monkeypatch.setattr(seg, "predict_prob", lambda self, crop: hole_in.astype(np.float32))
    monkeypatch.setattr(seg, "postprocess", lambda self, prob, params=None: hole_in)
    seen = []
    original = type(unmasker.inpainter).__call__

    def spy(self, crop, mask, landmarks=None, gender=None):
        seen.append((crop, mask))
        return original(self, crop, mask, landmarks, gender)

    monkeypatch.setattr(type(unmasker.inpainter), "__call__", spy)
    face = unmasker(photo).faces[0]
    assert len(seen) == passes
    context, hole = seen[0]
    assert np.array_equal(context, repad(photo, al, hole))
    outside = inside_photo(photo.shape[:2], al.matrix, 32) == 0
    assert (context != al.crop)[outside].any()  # the padding was remade
    if passes == 2:  # the second pass: padding from the photo with the first result in it
        assert (seen[1][0] != context)[outside].any()
        near = cv2.dilate(hole, np.ones((7, 7), np.uint8)) > 0  # the paste's feathered edge
        kept = ~outside & ~near
        assert kept.sum() > 100 and np.array_equal(seen[1][0][kept], al.crop[kept])
    keep = hole == 0
    assert np.array_equal(face.restored[keep], al.crop[keep])


def test_a_refined_hole_is_the_one_rebuilt_and_nothing_beyond_its_seam_changes(
    weights, tmp_path, monkeypatch
):
    import shutil

    import cv2

    from unmask.models.refiner import MaskRefiner
    from unmask.runtime import weights as saved

    folder = tmp_path / "w"
    shutil.copytree(weights, folder)
    args = {"width": 4, "dilations": [1]}
    saved.save(folder, "refiner", MaskRefiner(**args).eval(), "MaskRefiner", args, {})
    prob = np.zeros((32, 32), np.float32)
    prob[18:28, 8:24] = 1.0  # an untrained refiner draws this square at the photo's size
    seg = type(Unmasker(folder, backend="torch").segmenter)
    monkeypatch.setattr(seg, "predict_prob", lambda self, crop: prob)
    monkeypatch.setattr(seg, "postprocess", lambda self, p, params=None: (p > 0.5).astype(np.uint8))
    _, masked, _ = masked_example()
    kw = {"backend": "torch", "detector": "aligned", "crop_size": 32, "finish": False}
    result = Unmasker(folder, **kw)(masked)
    face = result.faces[0]
    assert face.refined and np.array_equal(result.mask, face.mask)
    # crop rows 18..27 and columns 8..23 at 16 photo pixels per crop pixel
    ys, xs = np.nonzero(face.mask)
    assert abs(ys.min() - 18 * 16) <= 8 and abs(xs.max() - 24 * 16) <= 8
    changed = np.abs(result.restored.astype(int) - masked).max(-1) > 0
    seam = cv2.dilate(face.mask, np.ones((5, 5), np.uint8)) > 0
    assert changed[face.mask > 0].mean() > 0.9 and not (changed & ~seam).any()
    plain = Unmasker(folder, refine=False, **kw)(masked).faces[0]
    assert not plain.refined and "refine" not in plain.timings_ms


def test_detail_weights_in_the_folder_join_the_finishing_and_can_be_turned_off(weights, tmp_path):
    import shutil

    import torch

    from unmask.models.detail import DetailNet
    from unmask.runtime import weights as saved

    folder = tmp_path / "w"
    shutil.copytree(weights, folder)
    args = {"width": 4, "dilations": [1]}
    net = DetailNet(**args).eval()
    torch.nn.init.normal_(net.head.weight, std=0.5)  # a restorer that visibly changes pixels
    saved.save(folder, "detail", net, "DetailNet", args, {"sampling": {"scales": [1.25, 6]}})
    _, masked, _ = masked_example()
    kw = {"backend": "torch", "detector": "aligned", "crop_size": 32}
    on = Unmasker(folder, **kw)
    result = on(masked)
    assert on.detail_restorer is not None
    off = Unmasker(folder, detail=False, **kw)
    plain = off(masked)
    assert off.detail_restorer is None
    face = result.faces[0]
    assert np.array_equal(result.restored[face.mask == 0], plain.restored[face.mask == 0])
    assert (result.restored != plain.restored)[face.mask > 0].mean() > 0.5
