import json

import numpy as np
import pytest

from unmask.runtime import weights
from unmask.training.runs import Run
from unmask.training.segmenter import SegTrainConfig, promote, train
from unmask.validation.segmenter import choose_postprocess


def _cfg(ds, tmp_path, steps, arch="unet", real=None):
    return SegTrainConfig(
        dataset=str(ds),
        real=real,
        arch=arch,
        size=32,
        widths=[4, 8, 8],
        blocks=1,
        batch=2,
        steps=steps,
        warmup=1,
        eval_every=2,
        workers=0,
        threads=1,
        runs=str(tmp_path / "runs"),
    )


def test_unet_trains_resumes_promotes_and_evaluates(tiny_dataset, tmp_path):
    from unmask.evaluation.segmenter import evaluate, markdown
    from unmask.stages.segment import Segmenter

    # the tiny dataset doubles as the "real" set: both mixing and two val sets are exercised
    cfg = _cfg(tiny_dataset, tmp_path, 2, real=str(tiny_dataset))
    cfg.dark_prob = cfg.light_prob = 0.5  # both mask-colour augmentations are wired in
    run = train(cfg)
    assert run.folder.name.endswith("-segmenter-unet")
    recs = run.records()
    assert {r.get("set") for r in recs if r.get("split") == "val"} == {"synthetic", "real"}
    assert all("iou" in r and "bf" in r for r in recs if r.get("split") == "val")
    assert list((run.folder / "samples").glob("*.png"))
    run2 = train(_cfg(tiny_dataset, tmp_path, 4, real=str(tiny_dataset)), Run(run.folder))
    assert run2.folder == run.folder and run2.load_checkpoint()["step"] == 4
    path = promote(run2, tmp_path / "w")
    spec = json.loads((tmp_path / "w" / "segmenter.json").read_text())
    assert path.name == "segmenter.safetensors" and spec["arch"] == "MaskSegNet"
    assert set(spec["meta"]["postprocess"]) == {"threshold", "dilate", "fill_holes", "min_area"}
    seg = Segmenter.from_weights(tmp_path / "w")
    assert seg.params.threshold == spec["meta"]["postprocess"]["threshold"]
    assert seg(np.zeros((48, 48, 3), np.uint8)).shape == (48, 48)
    sets = {"tiny": (str(tiny_dataset), "test"), "dark": (str(tiny_dataset), "test", "dark")}
    sets["bare"] = (str(tiny_dataset), "test", "clean")
    res = evaluate(tmp_path / "w", datasets=sets, timing=False)
    for label in sets:
        s = res["sets"][label]
        assert s["n"] > 0 and 0 <= s["raw"]["iou"] <= 1 and 0 <= s["marked"]["share"] <= 1
        assert f"| {label} |" in markdown(res)
    assert all(0 <= res["sets"][k]["post"]["leftover"] <= 1 for k in ("tiny", "dark"))
    # unmasked originals: empty targets, so raw IoU is the share of crops left empty
    bare = res["sets"]["bare"]
    assert "by_type" not in bare and float(round(bare["raw"]["iou"] * bare["n"], 6)).is_integer()
    assert bare["raw"]["iou"] == 1.0 or bare["marked"]["area"] > 0
    # a face the pipeline would rebuild (marked >= 3 %) is also marked over 1 %
    assert 0 <= bare["marked"]["rebuilt"] <= bare["marked"]["share"] <= 1
    assert "rebuilt by the pipeline" in markdown(res)
    with pytest.raises(ValueError, match="unknown variant"):
        evaluate(tmp_path / "w", datasets={"x": (str(tiny_dataset), "test", "bright")})


def test_eval_segmenter_cli_reads_the_dark_variant(tiny_dataset, tmp_path):
    from click.testing import CliRunner

    from unmask.cli.main import cli

    run = train(_cfg(tiny_dataset, tmp_path, 1))
    promote(run, tmp_path / "w")
    args = ["eval", "segmenter", "--weights-dir", str(tmp_path / "w"), "--limit", "2"]
    args += ["--set", f"plain={tiny_dataset}:test", "--set", f"dark={tiny_dataset}:test:dark"]
    res = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    sets = json.loads((tmp_path / "r.json").read_text())["sets"]
    assert set(sets) == {"plain", "dark"} and sets["dark"]["n"] == sets["plain"]["n"] == 2


def test_maskrcnn_trains_and_promotes(tiny_dataset, tmp_path):
    pytest.importorskip("torchvision")
    cfg = _cfg(tiny_dataset, tmp_path, 2, arch="maskrcnn")
    cfg.size, cfg.val_limit = 64, 2
    run = train(cfg)
    assert run.load_checkpoint()["step"] == 2
    promote(run, tmp_path / "w", checkpoint="last", fp16=True)
    info = weights.find("segmenter_maskrcnn", tmp_path / "w")
    assert info.arch == "MaskRCNNSegmenter" and info.meta["image_size"] == 64
    assert info.path.stat().st_size < 20 * 2**20


def test_choose_postprocess_takes_the_smallest_sufficient_dilation():
    true = np.zeros((4, 32, 32), np.uint8)
    true[:, 10:22, 8:24] = 1
    prob = np.zeros((4, 32, 32), np.float32)
    prob[:, 11:21, 8:24] = 0.9  # 1 px short at the top and bottom
    params, report = choose_postprocess(
        {"a": {"prob": prob, "mask": true}}, thresholds=(0.5,), extra_max=1.0
    )
    assert report["radius_px"] == 1 and report["limits_met"]
    assert report["sets"]["a"]["leftover"] <= 0.01
    assert params.dilate == pytest.approx(1 / 32, abs=1e-4)


def test_fine_tune_starts_from_promoted_weights(tiny_dataset, tmp_path):
    import torch

    promote(train(_cfg(tiny_dataset, tmp_path, 2)), tmp_path / "w", checkpoint="last")
    start = weights.load_module(weights.find_here("segmenter", tmp_path / "w")).state_dict()
    cfg = _cfg(tiny_dataset, tmp_path, 1)
    cfg.init_weights, cfg.lr, cfg.weight_decay, cfg.tag = str(tmp_path / "w"), 0.0, 0.0, "ft"
    tuned = train(cfg).load_checkpoint()["model"]
    convs = [k for k, v in start.items() if k.endswith("weight") and v.ndim == 4]
    assert convs and all(torch.equal(tuned[k], start[k]) for k in convs)  # lr 0: unchanged
    cfg = _cfg(tiny_dataset, tmp_path, 1)
    cfg.init_weights, cfg.widths, cfg.tag = str(tmp_path / "w"), [4, 8, 16], "bad"
    with pytest.raises(ValueError, match="is not the network"):
        train(cfg)
