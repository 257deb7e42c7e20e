"""``unmask run`` end to end on a batch of good and bad inputs, with tiny random weights (the
behaviour under test is the batch contract, not the models)."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from support import REPO, make_tiny_weights
from unmask.cli.main import cli
from unmask.demo import masked_example

CHECKER = REPO.parent / "shared" / "tools" / "check_report.py"


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return make_tiny_weights(tmp_path_factory.mktemp("w"))


def _batch(folder):
    """A folder mixing photos in awkward formats with broken and non-image files."""
    folder.mkdir()
    _, masked, _ = masked_example()
    im = Image.fromarray(masked)
    im.save(folder / "photo.jpg", quality=90)
    im.convert("L").save(folder / "gray.png")
    im.convert("RGBA").save(folder / "rgba.png")
    im.convert("CMYK").save(folder / "cmyk.jpg")
    im.convert("P").save(folder / "palette.gif")
    Image.fromarray(np.asarray(im.convert("L")).astype(np.uint16) * 257).save(folder / "16.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees
    im.save(folder / "exif.jpg", exif=exif)
    Image.new("RGB", (8, 8)).save(folder / "tiny.png")
    Image.new("RGB", (64, 48), (90, 140, 200)).save(folder / "noface.png")
    data = (folder / "photo.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (folder / "notes.png").write_text("not an image")
    (folder / "random.jpg").write_bytes(np.random.default_rng(0).bytes(5000))
    (folder / "empty.jpg").write_bytes(b"")
    bomb = Image.new("1", (20000, 20000))  # 400 megapixels, a few KB on disk
    bomb.save(folder / "bomb.png")
    return folder


def _hashes(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


def test_batch_reports_every_input_skips_bad_ones_and_keeps_inputs(tmp_path, weights):
    inputs = _batch(tmp_path / "in")
    before = _hashes(inputs)
    out = tmp_path / "out"
    args = ["run", str(inputs), "-o", str(out), "--weights-dir", str(weights), "--backend", "torch"]
    res = CliRunner().invoke(cli, [*args, "--save", "restored,masks,compare,faces"])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and "inputs:" in res.output
    report = json.loads((out / "report.json").read_text())
    status = {e["input"].rsplit("/", 1)[-1]: e for e in report["images"]}
    assert set(status) == set(before)
    skipped = {k for k, e in status.items() if e["status"] == "skipped"}
    assert skipped == {
        "truncated.jpg",
        "notes.png",
        "random.jpg",
        "empty.jpg",
        "bomb.png",
        "tiny.png",
    }
    assert all(status[k]["reason"] for k in skipped)
    assert "megapixels" in status["bomb.png"]["reason"]
    for name in set(status) - skipped:
        e = status[name]
        restored = Image.open(out / e["outputs"]["restored"])
        mask = Image.open(out / e["outputs"]["mask"])
        assert mask.mode == "L" and mask.size == restored.size
        assert set(np.unique(np.asarray(mask))) <= {0, 255}
    w, h = Image.open(out / status["exif.jpg"]["outputs"]["restored"]).size
    assert (w, h) == (512, 512) or w != h  # rotated upright (square example: same size)
    assert report["summary"] == {
        "inputs": len(before),
        "ok": len(before) - len(skipped),
        "skipped": len(skipped),
        "faces": sum(len(e["faces"]) for e in report["images"]),
        "masked_faces": sum(f["masked"] for e in report["images"] for f in e["faces"]),
    }
    assert _hashes(inputs) == before  # inputs untouched
    if CHECKER.is_file():
        chk = subprocess.run([sys.executable, CHECKER, out, inputs], capture_output=True, text=True)
        assert chk.returncode == 0, chk.stdout + chk.stderr


def test_strict_turns_a_skip_into_exit_1_and_outputs_never_replace_inputs(tmp_path, weights):
    inputs = tmp_path / "in"
    inputs.mkdir()
    _, masked, _ = masked_example()
    Image.fromarray(masked).save(inputs / "a.png")
    (inputs / "b.jpg").write_text("nope")
    (inputs / "restored").mkdir()
    before = _hashes(inputs)
    args = ["run", str(inputs), "-o", str(inputs), "--weights-dir", str(weights), "--strict"]
    res = CliRunner().invoke(cli, [*args, "--backend", "torch"])
    assert res.exit_code == 1 and "skipped" in res.output
    assert (inputs / "a.png").read_bytes() and _hashes(inputs)["a.png"] == before["a.png"]


@pytest.mark.parametrize(
    "options, stage",
    [(["--aligned", "--segmenter", "maskrcnn"], "segmenter_maskrcnn"), (["--refine"], "refiner")],
)
def test_missing_weights_is_one_clean_error(tmp_path, options, stage):
    photo = tmp_path / "a.png"
    Image.fromarray(masked_example()[1]).save(photo)  # a masked face: every stage is needed
    code = subprocess.run(
        [
            sys.executable,
            "-c",
            "from unmask.cli.main import main; main()",
            "run",
            str(photo),
            "-o",
            str(tmp_path / "o"),
            *options,
            "--weights-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env={"UNMASK_HOME": str(tmp_path), "PATH": ""},
    )
    assert code.returncode == 1 and "Traceback" not in code.stderr
    assert f"error: no weights for stage '{stage}'" in code.stderr
