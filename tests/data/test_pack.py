import numpy as np
import pytest
from click.testing import CliRunner

from unmask.cli.main import cli
from unmask.data.dataset import FaceMaskDataset
from unmask.data.manifest import load_manifest
from unmask.data.pack import PackConfig, pack_dataset, scale_landmarks


def test_scale_landmarks_keeps_pixel_centres():
    lm = np.array([[0.0, 63.0], [31.5, 31.5]])
    assert np.allclose(scale_landmarks(lm, 64, 32), [[-0.25, 31.25], [15.5, 15.5]])


def test_pack_reads_like_the_original(tiny_dataset, tmp_path):
    out = tmp_path / "pack"
    s = pack_dataset(tiny_dataset, out, PackConfig(size=32, splits=("train", "val"), quality=95))
    rows = load_manifest(out)
    assert s["rows"] == len(rows) == s["faces"] > 0
    assert {r["split"] for r in rows} == {"train", "val"}
    assert (out / "manifest.jsonl.gz").is_file() and not (out / "manifest.jsonl").exists()
    packed = FaceMaskDataset(out, "train", 32, None)
    original = FaceMaskDataset(tiny_dataset, "train", 32, None)
    assert len(packed) == len(original)
    a, b = packed[0], original[0]
    assert a["clean"].shape == (3, 32, 32)
    assert (a["mask"] == b["mask"]).float().mean() > 0.97
    assert (a["inside"] == b["inside"]).float().mean() > 0.97 and a["inside"].min() == 0
    assert np.allclose(a["landmarks"], b["landmarks"], atol=0.01)
    assert (a["clean"] - b["clean"]).abs().mean() < 0.08  # lossy WebP of random noise
    with pytest.raises(FileExistsError):
        pack_dataset(tiny_dataset, out)


def test_pack_cli_errors_cleanly(tiny_dataset, tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        cli, ["data", "pack", str(tiny_dataset), str(tmp_path / "p"), "--variants", "7"]
    )
    assert res.exit_code == 1 and "no rows" in res.output
    res = runner.invoke(
        cli, ["data", "pack", str(tiny_dataset), str(tmp_path / "q"), "--size", "32"]
    )
    assert res.exit_code == 0, res.output
    assert "packed" in res.output
