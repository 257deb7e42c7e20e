"""The inference path runs without torch: ``unmask demo`` and ``unmask run`` on ONNX weights in
a process where importing torch (or torchvision, dlib, safetensors, or Ray) fails."""

import subprocess
import sys

import pytest

from support import make_tiny_weights

BLOCK = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "dlib", "safetensors", "ray"):
            raise ImportError("blocked for this test: " + name)
sys.meta_path.insert(0, _Block())
from unmask.cli.main import main
sys.argv = ["unmask"] + sys.argv[1:]
main()
"""


@pytest.fixture(scope="module")
def onnx_only(tmp_path_factory):
    pytest.importorskip("onnx")
    from unmask.runtime.export import export_stage

    src = make_tiny_weights(tmp_path_factory.mktemp("w"))
    dst = tmp_path_factory.mktemp("onnx_only")
    for stage in ("detector", "attr", "segmenter", "inpainter"):
        export_stage(stage, src)
        for ext in (".json", ".onnx"):
            (dst / f"{stage}{ext}").write_bytes((src / f"{stage}{ext}").read_bytes())
    return dst


def _unmask(*args):
    return subprocess.run(
        [sys.executable, "-c", BLOCK, *map(str, args)], capture_output=True, text=True
    )


def test_demo_runs_without_torch(onnx_only, tmp_path):
    res = _unmask("demo", "-o", tmp_path / "d.png", "--weights-dir", onnx_only)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "d.png").is_file()


def test_run_runs_without_torch_and_asks_for_torch_only_when_needed(onnx_only, tmp_path):
    from PIL import Image

    from unmask.demo import masked_example

    Image.fromarray(masked_example()[1]).save(tmp_path / "a.png")
    res = _unmask("run", tmp_path / "a.png", "-o", tmp_path / "o", "--weights-dir", onnx_only)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "o" / "report.json").is_file()
    res = _unmask(
        "run",
        tmp_path / "a.png",
        "-o",
        tmp_path / "o2",
        "--weights-dir",
        onnx_only,
        "--backend",
        "torch",
    )
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "pip install 'unmask[train]'" in res.stderr
