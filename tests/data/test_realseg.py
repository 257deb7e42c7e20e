import json

import numpy as np

from support import require_dlib, shared_path
from unmask.data.realseg import decode_labels, list_sources, prepare_realseg, warp_labels


def test_decode_labels_maps_palette_colours_to_classes():
    rgb = np.array([[[0, 0, 0], [128, 0, 0], [0, 128, 0], [5, 120, 3]]], np.uint8)
    assert decode_labels(rgb).tolist() == [[0, 1, 2, 2]]


def test_warp_labels_shrinks_without_shifting():
    classes = np.zeros((400, 400), np.uint8)
    classes[200:300, 100:300] = 2
    m = np.array([[0.25, 0, -0.375], [0, 0.25, -0.375]])  # pixel-centre 4x shrink -> 100 px
    out = warp_labels(classes, m, 100)
    assert out.shape == (100, 100)
    assert (out == 2).sum() == 25 * 50
    assert (out[50:75, 25:75] == 2).all()


def test_prepare_realseg_on_two_photos(tmp_path):
    require_dlib()
    root = shared_path("masked-seg-train")
    src = tmp_path / "src"
    picks = [s for s in list_sources(root) if s[1].stem in ("00002", "04000")]
    assert len(picks) == 2
    for kind, img, lab in picks:
        for sub, f in (("images", img), ("masks", lab)):
            d = src / kind.upper() / sub
            d.mkdir(parents=True, exist_ok=True)
            (d / f.name).symlink_to(f)
    summary = prepare_realseg(src, tmp_path / "out", size=64, workers=1)
    assert summary["photos"] == 2 and summary["built"] == 2
    assert summary["per_type"] == {
        "cwm": {"photos": 1, "built": 1},
        "iwm": {"photos": 1, "built": 1},
    }
    rows = [
        json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().split("\n") if x
    ]
    assert {r["mask_type"] for r in rows} == {"cwm", "iwm"}
    assert all(r["mask_source"] == "real" and r["clean"] == r["image"] for r in rows)
    assert all(0.08 < r["coverage"] < 0.45 for r in rows)

    from unmask.data.dataset import FaceMaskDataset

    item = FaceMaskDataset(tmp_path / "out", None, 32)[0]
    assert item["mask"].shape == (1, 32, 32) and item["mask"].sum() > 0
    # the face mask sits in the lower half of an aligned crop
    ys = np.nonzero(item["mask"][0].numpy())[0]
    assert ys.mean() > 16
