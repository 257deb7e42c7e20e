import numpy as np
from click.testing import CliRunner
from PIL import Image

from unmask.cli.main import cli


def test_preview_builtin_example_writes_png(tmp_path):
    out = tmp_path / "sheet.png"
    res = CliRunner().invoke(cli, ["data", "preview", "-o", str(out), "-n", "2"])
    assert res.exit_code == 0, res.output
    sheet = np.asarray(Image.open(out))
    assert sheet.shape[0] > 256 and sheet.shape[1] > 3 * 256
    assert sheet.std() > 10


def test_preview_dataset(tiny_dataset, tmp_path):
    out = tmp_path / "s.png"
    res = CliRunner().invoke(
        cli, ["data", "preview", "--dataset", str(tiny_dataset), "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert out.is_file()


def test_build_needs_templates_for_template_mix(tmp_path):
    res = CliRunner().invoke(
        cli, ["data", "build", "--faces", str(tmp_path), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "--templates" in res.output


def test_train_rejects_unknown_config_keys(tiny_dataset):
    res = CliRunner().invoke(
        cli, ["train", "attr", "--dataset", str(tiny_dataset), "--set", "bogus=1"]
    )
    assert res.exit_code != 0
    assert "unknown AttrTrainConfig keys: bogus" in str(res.exception or res.output)
