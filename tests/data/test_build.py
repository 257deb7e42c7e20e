"""The dataset builder on a few real faces plus bad files (needs dlib; shared data optional)."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from support import SHARED, require_dlib
from unmask.data.build import BuildConfig, build
from unmask.data.dataset import FaceMaskDataset
from unmask.data.manifest import load_manifest


@pytest.fixture
def face_folder(tmp_path):
    require_dlib()
    src = SHARED / "faces-utk"
    if not src.is_dir():
        pytest.skip(f"shared data not available: {src}")
    folder = tmp_path / "faces"
    folder.mkdir()
    for p in sorted(src.glob("*.jpg"))[100:106]:
        shutil.copy(p, folder / p.name)
    (folder / "30_0_0_notes.jpg").write_text("not an image at all")
    data = (folder / sorted(folder.glob("*.jpg"))[0].name).read_bytes()
    (folder / "31_1_0_truncated.jpg").write_bytes(data[: len(data) // 3])
    noise = (np.random.default_rng(0).random((200, 200, 3)) * 255).astype(np.uint8)
    Image.fromarray(noise).save(folder / "32_1_0_noface.png")
    return folder


def _cfg(folder, out, **kw):
    base = dict(
        faces=str(folder),
        out=str(out),
        labels="utk",
        size=96,
        variants=2,
        mix="procedural",
        workers=1,
        seed=3,
    )
    base.update(kw)
    return BuildConfig(**base)


def test_build_skips_bad_files_and_is_deterministic(face_folder, tmp_path):
    summary = build(_cfg(face_folder, tmp_path / "a"))
    assert summary["faces"] == 9
    assert summary["skip_reasons"].get("not an image") == 1
    assert summary["skip_reasons"].get("no face found") == 1
    assert sum(summary["skip_reasons"].values()) == 3
    assert summary["built"] == 6 and summary["samples"] == 12
    rows = load_manifest(tmp_path / "a")
    for r in rows:
        assert r["mouth_covered"] and (r["nose_covered"] or r["nose_out"])
        assert r["gender"] in ("male", "female") and isinstance(r["age"], int)
        mask = np.asarray(Image.open(tmp_path / "a" / r["mask"]))
        assert mask.shape == (96, 96) and set(np.unique(mask)) <= {0, 255}
        assert abs(mask.mean() / 255 - r["coverage"]) < 1e-3
    # same seed, two workers, different order -> the same manifest
    build(_cfg(face_folder, tmp_path / "b", workers=2))
    a = (tmp_path / "a" / "manifest.jsonl").read_text()
    assert a == (tmp_path / "b" / "manifest.jsonl").read_text()


def test_build_resumes_and_refuses_other_options(face_folder, tmp_path):
    out = tmp_path / "c"
    first = build(_cfg(face_folder, out, limit=4))
    assert first["faces"] == 4
    calls = []
    second = build(_cfg(face_folder, out), progress=lambda done, total: calls.append((done, total)))
    assert second["faces"] == 9 and calls[-1] == (5, 5)  # only the 5 new faces were processed
    with pytest.raises(ValueError, match="other options"):
        build(_cfg(face_folder, out, size=64))
    assert json.loads((out / "build.json").read_text())["size"] == 96


def test_masked_padding_hides_the_face_below_the_mask(face_folder, tmp_path):
    """'clean' padding mirrors the unmasked photo, so the hidden chin shows below the mask;
    'masked' (the default) pads as the pipeline does: the same mask, other padding."""
    build(_cfg(face_folder, tmp_path / "clean", padding="clean", limit=3))
    build(_cfg(face_folder, tmp_path / "masked", limit=3))
    assert json.loads((tmp_path / "masked" / "build.json").read_text())["padding"] == "masked"
    changed = 0
    for r in load_manifest(tmp_path / "clean"):
        a, b = (
            np.asarray(Image.open(tmp_path / d / r["image"])).astype(int)
            for d in ("clean", "masked")
        )
        mask = np.asarray(Image.open(tmp_path / "clean" / r["mask"])) > 0
        inside = np.asarray(Image.open(tmp_path / "clean" / r["inside"])) > 127
        assert np.abs(a - b)[mask | inside].mean() < 2  # the same (JPEG aside)
        changed += np.abs(a - b)[~mask & ~inside].mean() > 1
    assert changed >= 1  # UTKFace crops are tight: the padding differs
    item = FaceMaskDataset(tmp_path / "masked", None, 48)[0]
    assert set(item["inside"].unique().tolist()) == {0.0, 1.0}  # photo pixels and padding
    with pytest.raises(ValueError, match="padding"):
        _cfg(face_folder, tmp_path / "x", padding="mirror")
    # a dataset built before the option resumes as 'clean'
    old = json.loads((tmp_path / "clean" / "build.json").read_text())
    del old["padding"]
    (tmp_path / "clean" / "build.json").write_text(json.dumps(old))
    assert build(_cfg(face_folder, tmp_path / "clean", padding="clean", limit=3))["built"] == 3
