import json
import subprocess
import sys

import pytest
import torch

from unmask.config import to_dict
from unmask.models.face_attr import FaceAttrNet
from unmask.runtime import weights
from unmask.training.inpainter import InpaintTrainConfig, promote, train
from unmask.training.runs import Run

ATTR = dict(image_size=32, widths=(8, 8, 16, 16), blocks=1, head_channels=4)


def tiny_attr(folder):
    torch.manual_seed(0)
    net = FaceAttrNet(**ATTR)
    weights.save(folder, "attr", net, "FaceAttrNet", ATTR, {"gender_temperature": 1.5})
    return folder


def _cfg(ds, tmp_path, steps, **kw):
    base = dict(
        dataset=str(ds),
        size=32,
        widths=[4, 8, 8, 8],
        dilations=[1, 2],
        embed_dim=8,
        d_widths=[4, 8, 8, 8],
        batch=2,
        steps=steps,
        warmup=1,
        adv_start=2,
        eval_every=3,
        log_every=1,
        val_samples=4,
        workers=0,
        threads=1,
        runs=str(tmp_path / "runs"),
        tag="t",
        attr_weights=str(tiny_attr(tmp_path / "attr")),
    )
    return InpaintTrainConfig(**{**base, **kw})


def test_train_logs_samples_resumes_and_promotes(tiny_dataset, tmp_path):
    run = train(_cfg(tiny_dataset, tmp_path, 3))
    recs = run.records()
    assert {"l1", "ssim", "hf", "lm_pct", "gender_bce"} <= set(recs[0])
    assert any("adv" in r and "d_loss" in r and "fm" in r for r in recs)
    assert any(r.get("split") == "val" and "psnr_hole" in r and "sharpness" in r for r in recs)
    assert list((run.folder / "samples").glob("val_*.png"))
    assert json.loads((run.folder / "config.json").read_text())["guidance"] is True
    run2 = train(_cfg(tiny_dataset, tmp_path, 5), Run(run.folder))
    assert run2.folder == run.folder and run2.load_checkpoint()["step"] == 5
    promote(run2, tmp_path / "w")
    info = weights.find("inpainter", tmp_path / "w")
    assert info.arch == "InpaintGenerator" and info.meta["image_size"] == 32
    assert info.meta["hole_margin"] == InpaintTrainConfig.hole_margin
    g = weights.load_module(info)
    assert g.landmark_channels == 5 and g.gender_film


def test_unguided_ablation_without_attr(tiny_dataset, tmp_path):
    cfg = _cfg(tiny_dataset, tmp_path, 2, guidance=False, use_attr=False, adv_start=0)
    run = train(cfg)
    assert "lm_pct" not in run.records()[0] and "adv" in run.records()[0]
    promote(run, tmp_path / "w", "last")
    g = weights.load_module(weights.find("inpainter", tmp_path / "w"))
    assert g.landmark_channels == 0 and not g.gender_film


def test_two_process_gloo_ddp(tiny_dataset, tmp_path):
    cfg = _cfg(tiny_dataset, tmp_path, 2, batch=1, adv_start=1, eval_every=2, minutes=30.0)
    (tmp_path / "cfg.json").write_text(json.dumps(to_dict(cfg)))
    script = tmp_path / "ddp_train.py"
    script.write_text(
        "import json, sys\n"
        "from unmask.config import from_dict\n"
        "from unmask.training.inpainter import InpaintTrainConfig, train\n"
        "cfg = from_dict(InpaintTrainConfig, json.loads(open(sys.argv[1]).read()))\n"
        "print('DONE', train(cfg).folder)\n"
    )
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(script),
        str(tmp_path / "cfg.json"),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.count("DONE") == 2
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1  # only rank 0 created a run folder
    run = Run(runs[0])
    assert run.load_checkpoint()["step"] == 2
    assert any(r.get("split") == "val" for r in run.records())
    # resumed from the CLI under torchrun: rank 0 alone holds the folder and rewrites its config
    cli = ["-m", "unmask.cli.main", "train", "inpainter", "--resume", str(run.folder)]
    res = subprocess.run(
        [*cmd[:6], *cli, "--set", "steps=4"], capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert run.load_checkpoint()["step"] == 4 and run.config()["steps"] == 4


def test_grow_holes_matches_the_inference_dilation():
    import numpy as np

    from unmask.stages.segment import dilate
    from unmask.training.inpainter_steps import grow_holes

    m = torch.zeros(3, 1, 24, 24)
    m[:, :, 10:14, 6:12] = 1
    grown = grow_holes(m, torch.tensor([0, 1, 3]))
    for i, r in enumerate((0, 1, 3)):
        expect = dilate(m[i, 0].numpy().astype(np.uint8), r)
        assert np.array_equal(grown[i, 0].numpy().astype(np.uint8), expect)


def test_attr_feature_matching_is_zero_on_the_target_and_trains(tiny_dataset, tmp_path):
    from unmask.training.inpainter_steps import FrozenAttr

    attr = FrozenAttr.load(tiny_attr(tmp_path / "a"), "cpu")
    x = torch.rand(2, 3, 48, 48, requires_grad=True)
    target = torch.rand(2, 3, 48, 48)
    assert attr.feature_gap(target, target).item() < 1e-6
    gap = attr.feature_gap(x, target)
    gap.backward()
    assert gap.item() > 0 and x.grad.abs().sum() > 0
    run = train(_cfg(tiny_dataset, tmp_path, 2, w_attr_feat=0.1))
    assert all(r["attr_feat"] > 0 for r in run.records() if "l1" in r)


def test_init_weights_starts_from_promoted_generator(tiny_dataset, tmp_path):
    """Fine-tuning: a new run starts from promoted weights; a wrong folder or architecture is
    refused with a clear error instead of falling back to other weights."""
    first = train(_cfg(tiny_dataset, tmp_path, 2))
    promote(first, tmp_path / "w", "last")
    start = weights.load_module(weights.find("inpainter", tmp_path / "w")).state_dict()
    run = train(_cfg(tiny_dataset, tmp_path, 1, tag="ft", init_weights=str(tmp_path / "w")))
    ema = run.load_checkpoint()["ema"]
    gap = max((ema[k].float() - v).abs().max().item() for k, v in start.items())
    assert 0 < gap < 0.05  # one EMA step away from the promoted weights, not a fresh init
    with pytest.raises(ValueError, match="is not the network"):
        train(_cfg(tiny_dataset, tmp_path, 1, embed_dim=4, init_weights=str(tmp_path / "w")))
    with pytest.raises(FileNotFoundError, match="no inpainter"):
        train(_cfg(tiny_dataset, tmp_path, 1, init_weights=str(tmp_path / "nowhere")))


def test_gender_guide_loss_trains_and_refuses_other_networks(tiny_dataset, tmp_path):
    """``w_guide``: BCE of the unmasked-face gender guide on the composite against its own
    reading of the ground truth; the guide is loaded by its own name from exactly one folder,
    so the attr network (or a judge) cannot stand in for it."""
    torch.manual_seed(1)
    guide_dir = tmp_path / "guide"
    net = FaceAttrNet(**ATTR)
    weights.save(guide_dir, "gender_guide", net, "FaceAttrNet", ATTR, {"gender_temperature": 2})
    run = train(_cfg(tiny_dataset, tmp_path, 2, w_guide=0.2, guide_weights=str(guide_dir)))
    recs = [r for r in run.records() if "l1" in r]
    assert recs and all(0 < r["guide_bce"] < 5 for r in recs)
    with pytest.raises(FileNotFoundError, match="gender_guide"):
        train(_cfg(tiny_dataset, tmp_path, 1, w_guide=0.2, guide_weights=str(tmp_path / "attr")))
    with pytest.raises(ValueError, match="needs guide_weights"):
        _cfg(tiny_dataset, tmp_path, 1, w_guide=0.2)


def test_guide_loss_is_its_floor_when_the_composite_is_the_truth(tmp_path):
    import torch.nn.functional as F

    from unmask.training.inpainter_steps import FrozenAttr, generator_losses

    guide = FrozenAttr.load(tiny_attr(tmp_path / "a"), "cpu")
    clean = torch.rand(3, 3, 32, 32)
    batch = {"clean": clean, "mask": torch.ones(3, 1, 32, 32)}
    zero = {f"w_{k}": 0.0 for k in ("l1", "ssim", "hf", "energy", "attr_feat")}
    cfg = InpaintTrainConfig(dataset="-", w_guide=1.0, guide_weights="-", **zero)
    same = generator_losses(clean, clean, batch, None, None, None, None, None, None, cfg, guide)
    p = guide.p_female(clean)
    floor = F.binary_cross_entropy(p, p)  # the entropy of the guide's own reading
    assert torch.allclose(same["guide_bce"], floor, atol=1e-5)
    other = generator_losses(
        clean, clean.flip(0), batch, None, None, None, None, None, None, cfg, guide
    )
    assert other["guide_bce"] >= floor - 1e-6


def test_reconstruction_losses_skip_the_padding_unless_asked():
    from unmask.training.inpainter_steps import generator_losses

    torch.manual_seed(0)
    clean = torch.rand(2, 3, 32, 32)
    mask = torch.zeros(2, 1, 32, 32)
    mask[..., 8:, 8:24] = 1  # the hole reaches the bottom of the crop
    inside = torch.ones(2, 1, 32, 32)
    inside[..., 24:, :] = 0  # ... where the photo has ended: padding
    comp = torch.where((mask > 0) & (inside == 0), torch.rand(2, 3, 32, 32), clean)
    batch = {"clean": clean, "mask": mask, "inside": inside}

    def losses(**kw):
        cfg = InpaintTrainConfig(dataset="-", w_energy=1.0, **kw)
        return generator_losses(comp, comp, batch, None, None, None, None, None, None, cfg)

    skip, see = losses(), losses(loss_on_padding=True)
    assert skip["l1"].item() < 1e-6 < see["l1"].item()
    for k in ("ssim", "hf", "energy"):  # filters still reach across the photo's edge
        assert skip[k].item() < 0.3 * see[k].item(), k


def test_sigterm_saves_a_checkpoint_and_resumes(tiny_dataset, tmp_path, monkeypatch):
    import os
    import signal

    from unmask.training import inpainter_loop

    calls = []
    losses = inpainter_loop.generator_losses

    def losses_then_sigterm(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # as `timeout -s TERM` would, in the middle of step 2
            os.kill(os.getpid(), signal.SIGTERM)
        return losses(*args, **kwargs)

    monkeypatch.setattr(inpainter_loop, "generator_losses", losses_then_sigterm)
    before = signal.getsignal(signal.SIGTERM)
    run = train(_cfg(tiny_dataset, tmp_path, 6))
    assert run.load_checkpoint()["step"] == 2  # step 2 finished, then it stopped
    assert signal.getsignal(signal.SIGTERM) is before
    run = train(_cfg(tiny_dataset, tmp_path, 6), Run(run.folder))
    assert run.load_checkpoint()["step"] == 6


def test_the_energy_term_matches_what_the_recipe_says():
    from unmask.training.inpainter_steps import generator_losses

    torch.manual_seed(0)
    clean = torch.rand(1, 3, 32, 32)
    streaks = torch.tensor([0.0, 1.0]).repeat(16).view(1, 1, 1, 32).expand(1, 3, 32, 32)
    batch = {"clean": clean, "mask": torch.ones(1, 1, 32, 32)}

    def energy(mode):
        cfg = InpaintTrainConfig(dataset="-", w_energy=1.0, energy_mode=mode)
        out = generator_losses(streaks, streaks, batch, None, None, None, None, None, None, cfg)
        return out["energy"].item()

    assert energy("directional") > energy("plain")
    assert energy("band") > energy("plain")
    with pytest.raises(ValueError, match="energy_mode"):
        InpaintTrainConfig(dataset="-", energy_mode="loud")
