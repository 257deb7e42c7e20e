import json

import pytest
from click.testing import CliRunner

from support import make_tiny_weights
from unmask.cli.main import cli


def test_bench_compares_backends_and_writes_tables(tmp_path):
    pytest.importorskip("onnx")
    from unmask.runtime.export import export_stage

    weights = make_tiny_weights(tmp_path / "w")
    for stage in ("detector", "attr", "segmenter", "inpainter"):
        export_stage(stage, weights)
    out = tmp_path / "bench"
    args = ["bench", "--weights-dir", str(weights), "--repeats", "3", "--batch", "2", "-o", out]
    res = CliRunner().invoke(cli, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "bench.json").read_text())
    assert [b["backend"] for b in report["backends"]] == ["torch", "onnx"]
    for b in report["backends"]:
        for stage in ("detect", "attributes", "segment", "inpaint", "face", "photo"):
            t = b["stages"][stage]
            assert 0 < t["p50"] <= t["p95"]
        assert b["peak_rss_mb"] > 0 and set(b["faces_per_s"]) == {"1", "2"}
    assert {m["stage"] for m in report["models"]} == {"detector", "attr", "segmenter", "inpainter"}
    assert all(m["params"] > 0 and m["onnx_mb"] > 0 for m in report["models"])
    md = (out / "bench.md").read_text()
    assert "end to end, aligned face" in md and "speed-up" in md


def test_bench_rejects_unknown_backend(tmp_path):
    res = CliRunner().invoke(cli, ["bench", "--backends", "tensorrt", "-o", str(tmp_path)])
    assert res.exit_code == 2 and "tensorrt" in res.output
