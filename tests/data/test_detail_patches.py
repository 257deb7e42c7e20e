import numpy as np

from unmask.data.detail_patches import DetailSampling, degrade, degraded_batch, skin_patches


def _texture(side: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (side, side, 3), np.uint8)


def test_degrade_removes_fine_detail_more_the_larger_the_scale_and_keeps_the_tone():
    patch = _texture(64)
    rng = np.random.default_rng(0)
    lap = []
    for scale in (1.0, 2.0, 4.0):
        out = degrade(patch, scale, 0.0, 0.0, rng)
        assert out.shape == (64, 64, 3) and out.dtype == np.float32
        assert 0 <= out.min() and out.max() <= 1
        assert abs(out.mean() - patch.mean() / 255) < 0.02
        lap.append(np.abs(np.diff(out, 2, axis=0)).mean())
    assert lap[0] > lap[1] > lap[2]


def test_degraded_batch_draws_each_patch_its_own_scale_in_range():
    how = DetailSampling(scales=(1.5, 4.0))
    patches = np.stack([_texture(32, i) for i in range(8)])
    x, s, t = degraded_batch(patches, how, np.random.default_rng(0))
    assert x.shape == t.shape == (8, 3, 32, 32) and s.shape == (8,)
    assert s.min() >= 1.5 and s.max() <= 4.0 and len(set(s.tolist())) == 8
    assert np.allclose(t, patches.transpose(0, 3, 1, 2) / 255)


def test_skin_patches_come_from_the_visible_face_only(monkeypatch, tmp_path):
    photo = _texture(200)
    labels = np.zeros((200, 200, 3), np.uint8)
    labels[20:120, 30:170] = (128, 0, 0)  # face
    labels[120:190, 30:170] = (0, 128, 0)  # face mask
    photo[120:190, 30:170] = 0  # the mask is black: a patch touching it would show it
    files = {"img.png": photo, "lab.png": labels}
    monkeypatch.setattr(
        "unmask.data.realseg.list_sources", lambda src: [("cwm", "img.png", "lab.png")]
    )
    monkeypatch.setattr("unmask.data.face_sources.photo_split", lambda path: "train")
    monkeypatch.setattr("unmask.io.load_image", lambda p: files[str(p)])
    how = DetailSampling(patch=24, per_photo=10, shrink=(1.0, 1.0), face_share=1.0)
    patches = list(skin_patches("src", "train", how, seed=0))
    assert len(patches) == 10
    assert all(p.shape == (24, 24, 3) and (p.max(-1) > 0).mean() > 0.95 for p in patches)
    assert list(skin_patches("src", "val", how, seed=0)) == []  # only the split asked for
