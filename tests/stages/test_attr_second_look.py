import numpy as np

from support import make_tiny_weights
from unmask.faces.align import MEAN_68, align
from unmask.faces.landmarks import five_from_68
from unmask.stages.attr import FaceAttributes


def test_look_again_answers_in_the_first_crops_grid(tmp_path):
    attr = FaceAttributes.from_weights(make_tiny_weights(tmp_path, ("attr",)), backend="torch")
    rng = np.random.default_rng(0)
    photo = (rng.random((120, 150, 3)) * 255).astype(np.uint8)
    al = align(photo, five_from_68(MEAN_68 * 100 + [30, 10]), 64)
    first, _ = attr(al.crop)
    lm = attr.look_again(photo, al, first[0])
    assert lm.shape == (68, 2) and lm.dtype == np.float32
    # re-aligned on the mean face's own points, the second crop is the first one
    same = MEAN_68 * 64
    lm2 = attr.look_again(photo, al, same)
    direct, _ = attr(al.crop)
    assert np.abs(lm2 - direct[0]).max() < 0.5


def test_look_again_keeps_the_first_answer_on_degenerate_points(tmp_path):
    attr = FaceAttributes.from_weights(make_tiny_weights(tmp_path, ("attr",)), backend="torch")
    photo = np.zeros((64, 64, 3), np.uint8)
    al = align(photo, five_from_68(MEAN_68 * 64), 64)
    lm = attr.look_again(photo, al, np.full((68, 2), 7.0, np.float32))
    assert np.all(lm == 7.0)


def test_an_ensembles_landmark_part_is_exported_and_answers_as_the_whole(tmp_path):
    import torch

    from support import TINY_ARCH
    from unmask.models.face_attr import FaceAttrEnsemble
    from unmask.runtime import weights
    from unmask.runtime.backend import OrtNet
    from unmask.runtime.export import export_stage

    torch.manual_seed(0)
    member = TINY_ARCH["attr"][1]
    args = {"members": [member, member], "landmark_members": [0], "temperatures": [1.0, 2.0]}
    model = weights.build_module("FaceAttrEnsemble", args).eval()
    assert isinstance(model, FaceAttrEnsemble)
    meta = {"image_size": 32, "gender_temperature": 1.0, "flip_tta": True}
    weights.save(tmp_path, "attr", model, "FaceAttrEnsemble", args, meta)
    export_stage("attr", tmp_path)
    part = tmp_path / "attr.landmarks.onnx"
    assert part.is_file() and part.stat().st_size < (tmp_path / "attr.onnx").stat().st_size
    attr = FaceAttributes.from_weights(tmp_path, backend="onnx")
    assert isinstance(attr.landmark_net, OrtNet) and attr.landmark_net.outputs == ("landmarks",)
    rng = np.random.default_rng(1)
    photo = (rng.random((120, 150, 3)) * 255).astype(np.uint8)
    al = align(photo, five_from_68(MEAN_68 * 100 + [30, 10]), 32)
    first, _ = attr(al.crop)
    again = attr.look_again(photo, al, first[0])
    whole = FaceAttributes.from_weights(tmp_path, backend="onnx")
    whole.landmark_net = whole.net  # the full ensemble, both members run
    np.testing.assert_allclose(again, whole.look_again(photo, al, first[0]), atol=1e-5)
    # saving new weights removes the stale ONNX files, the part included
    weights.save(tmp_path, "attr", model, "FaceAttrEnsemble", args, meta)
    assert not part.exists() and not (tmp_path / "attr.onnx").exists()


def batch_sizes(monkeypatch) -> list[int]:
    """The batch size of every call of a torch-backed net from now on (filled as they run)."""
    from unmask.runtime.backend import TorchNet

    calls = []
    call = TorchNet.__call__

    def spy(self, **inputs):
        calls.append(inputs["image"].shape[0])
        return call(self, **inputs)

    monkeypatch.setattr(TorchNet, "__call__", spy)
    return calls


def test_a_first_look_before_a_second_skips_the_mirror_only_when_told(tmp_path, monkeypatch):
    net = FaceAttributes.from_weights(make_tiny_weights(tmp_path, ("attr",)), backend="torch").net
    calls = batch_sizes(monkeypatch)
    crop = (np.random.default_rng(2).random((1, 32, 32, 3)) * 255).astype(np.uint8)
    plain = FaceAttributes(net, 32, flip=False)
    mirrored = FaceAttributes(net, 32, flip=True)
    lean = FaceAttributes(net, 32, flip=True, first_look_flip=False)
    plain(crop)
    mirrored(crop, before_look=True)
    lean(crop)  # no second look follows: the mirror runs
    lm_lean, p_lean = lean(crop, before_look=True)
    lm_plain, p_plain = plain(crop)
    assert calls == [1, 2, 2, 1, 1]
    assert lean.lean_first_look and not mirrored.lean_first_look and not plain.lean_first_look
    np.testing.assert_allclose(lm_lean, lm_plain, atol=1e-6)
    np.testing.assert_allclose(p_lean, p_plain, atol=1e-6)


def test_a_second_look_skips_the_mirror_only_when_told(tmp_path, monkeypatch):
    net = FaceAttributes.from_weights(make_tiny_weights(tmp_path, ("attr",)), backend="torch").net
    rng = np.random.default_rng(3)
    photo = (rng.random((120, 150, 3)) * 255).astype(np.uint8)
    al = align(photo, five_from_68(MEAN_68 * 100 + [30, 10]), 32)
    first = MEAN_68 * 32 + 0.5
    calls = batch_sizes(monkeypatch)
    mirrored = FaceAttributes(net, 32, flip=True)
    lean = FaceAttributes(net, 32, flip=True, second_look_flip=False)
    plain = FaceAttributes(net, 32, flip=False)
    mirrored.look_again(photo, al, first)
    lm_lean = lean.look_again(photo, al, first)
    lm_plain = plain.look_again(photo, al, first)
    assert calls == [2, 1, 1]
    np.testing.assert_allclose(lm_lean, lm_plain, atol=1e-6)


def test_the_gender_look_skips_the_mirror_only_before_a_second_look_that_says_so():
    from support import TINY_ARCH
    from unmask.models.face_attr import FaceAttrNet

    net = FaceAttrNet(**TINY_ARCH["attr"][1])
    cases = [
        (dict(flip=True, second_look=True, first_look_flip=False), False),
        (dict(flip=True, second_look=True, first_look_flip=True), True),
        (dict(flip=True, second_look=False, first_look_flip=False), True),
        (dict(flip=False, second_look=False, first_look_flip=True), False),
    ]
    for kw, mirrored in cases:
        assert FaceAttributes(net, 32, **kw).gender_flip is mirrored, kw
