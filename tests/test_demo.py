import numpy as np
import pytest
from click.testing import CliRunner

from support import make_tiny_weights
from unmask.cli.main import cli
from unmask.demo import masked_example


def test_masked_example_changes_only_the_drawn_mask():
    original, masked, mask = masked_example(seed=3)
    assert original.shape == masked.shape == (512, 512, 3) and mask.shape == (512, 512)
    changed = np.any(original != masked, axis=-1)
    assert 0.02 < mask.mean() < 0.2
    # every changed pixel lies on (or at the anti-aliased rim of) the drawn mask
    assert changed[mask == 0].mean() < 0.01 and changed[mask > 0].mean() > 0.5


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_demo_cli_writes_a_sheet_and_never_overwrites(tmp_path, backend):
    pytest.importorskip("onnx")
    weights = make_tiny_weights(tmp_path / "w")
    if backend == "onnx":
        from unmask.runtime.export import export_stage

        for stage in ("detector", "attr", "segmenter", "inpainter"):
            export_stage(stage, weights)
    out = tmp_path / "demo.png"
    args = ["demo", "-o", str(out), "--weights-dir", str(weights), "--backend", backend]
    runner = CliRunner()
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert out.is_file() and f"wrote {out}" in first.output
    before = out.read_bytes()
    second = runner.invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert out.read_bytes() == before and (tmp_path / "demo-2.png").is_file()
    from PIL import Image

    with Image.open(out) as im:
        assert im.height == 384 and im.width > 4 * 384  # four panels


def test_demo_writes_the_masked_example_beside_an_existing_file(tmp_path):
    from PIL import Image

    from unmask.demo import example_photo

    weights = make_tiny_weights(tmp_path / "w")
    mine = tmp_path / "photo.png"
    mine.write_bytes(b"the user's own file")
    args = ["demo", "-o", str(tmp_path / "sheet.png"), "--masked", str(mine)]
    result = CliRunner().invoke(cli, [*args, "--weights-dir", str(weights), "--backend", "torch"])
    assert result.exit_code == 0, result.output
    assert mine.read_bytes() == b"the user's own file"
    with Image.open(tmp_path / "photo-2.png") as im:
        assert np.array_equal(np.asarray(im), example_photo(3))
