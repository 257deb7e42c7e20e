import dataclasses
import json

import numpy as np
import pytest
import torch

from unmask.models.face_attr import FaceAttrNet
from unmask.runtime import weights
from unmask.training.attr import AttrTrainConfig, arch_args, promote, train
from unmask.training.runs import Run


def _cfg(ds, tmp_path, steps):
    return AttrTrainConfig(
        dataset=str(ds),
        size=32,
        widths=[8, 8, 16, 16],
        blocks=1,
        head_channels=4,
        batch=2,
        steps=steps,
        warmup=1,
        eval_every=3,
        workers=0,
        threads=1,
        runs=str(tmp_path / "runs"),
        tag="t",
    )


def test_train_writes_run_folder_resumes_and_promotes(tiny_dataset, tmp_path):
    run = train(_cfg(tiny_dataset, tmp_path, 3))
    assert (run.folder / "config.json").is_file()
    recs = run.records()
    assert any(r.get("split") == "val" and "nme_all" in r for r in recs)
    assert run.load_checkpoint()["step"] == 3
    cfg = _cfg(tiny_dataset, tmp_path, 6)
    run2 = train(cfg, Run(run.folder))
    assert run2.folder == run.folder and run2.load_checkpoint()["step"] == 6
    path = promote(run2, tmp_path / "w")
    info = weights.find("attr", tmp_path / "w")
    assert info.path == path and info.meta["gender_temperature"] > 0 and info.meta["flip_tta"]
    model = weights.load_module(info)
    out = model(torch.rand(2, 3, 32, 32))
    assert out["landmarks"].shape == (2, 68, 2) and out["gender_logit"].shape == (2,)
    assert json.loads((tmp_path / "w" / "attr.json").read_text())["arch"] == "FaceAttrNet"


def test_gender_judge_trains_on_clean_faces_and_promotes_under_its_name(
    tiny_dataset, tmp_path, monkeypatch
):
    from unmask.stages.attr import FaceAttributes
    from unmask.training import attr as attr_training

    cfg = _cfg(tiny_dataset, tmp_path, 2)
    cfg.clean_prob, cfg.tag = 1.0, "judge"
    run = train(cfg)
    keys = []
    recalibrate = attr_training.recalibrate_bn

    def spy(model, batches, key):
        keys.append(key)
        return recalibrate(model, batches, key)

    monkeypatch.setattr(attr_training, "recalibrate_bn", spy)
    promote(run, tmp_path / "w", checkpoint="last", name="gender_judge")
    assert keys == ["clean"]  # BatchNorm statistics from the unmasked crops it reads
    assert not (tmp_path / "w" / "attr.json").exists()
    info = weights.find("gender_judge", tmp_path / "w")
    assert info.meta["trained_on"] == "clean" and info.meta["stage"] == "gender_judge"
    judge = FaceAttributes.from_weights(tmp_path / "w", name="gender_judge", backend="torch")
    assert judge.flip

    # the CLI's --int8 stores the same network in about a quarter of the bytes
    from click.testing import CliRunner

    from unmask.cli.main import cli

    args = ["train", "promote", str(run.folder), "--checkpoint", "last", "--name", "gender_judge"]
    res = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "q"), "--int8"])
    assert res.exit_code == 0, res.output
    small = tmp_path / "q" / "gender_judge.safetensors"
    assert small.stat().st_size < 0.5 * (tmp_path / "w" / "gender_judge.safetensors").stat().st_size
    q = FaceAttributes.from_weights(tmp_path / "q", name="gender_judge", backend="torch")
    assert weights.find("gender_judge", tmp_path / "q").meta["trained_on"] == "clean"
    crops = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    assert np.abs(q(crops)[1] - judge(crops)[1]).max() < 0.05


def test_attention_head_with_age_loss_trains_and_promotes(tiny_dataset, tmp_path):
    from unmask.stages.attr import FaceAttributes

    cfg = _cfg(tiny_dataset, tmp_path, 2)
    cfg.gender_pool, cfg.age_weight = "attention", 0.5
    run = train(cfg)
    assert run.load_checkpoint()["step"] == 2
    promote(run, tmp_path / "w", checkpoint="last")
    args = json.loads((tmp_path / "w" / "attr.json").read_text())["args"]
    assert args["gender_pool"] == "attention" and args["age_head"] is True
    stage = FaceAttributes.from_weights(tmp_path / "w", backend="torch")
    lm, p = stage(torch.randint(0, 255, (2, 32, 32, 3), dtype=torch.uint8).numpy())
    assert lm.shape == (2, 68, 2) and ((p >= 0) & (p <= 1)).all()


def test_age_loss_counts_only_known_ages(tiny_dataset, tmp_path):
    from torch.utils.data import DataLoader

    from unmask.data.dataset import FaceMaskDataset
    from unmask.models.face_attr import FaceAttrNet
    from unmask.training.attr import arch_args, losses

    cfg = _cfg(tiny_dataset, tmp_path, 1)
    cfg.age_weight = 1.0
    model = FaceAttrNet(**arch_args(cfg))
    batch = next(iter(DataLoader(FaceMaskDataset(tiny_dataset, "train", 32), 4)))
    parts = losses(model, batch, cfg)
    assert parts["age_l1"] > 0 and torch.isfinite(parts["loss"])
    batch["age"][:] = -1
    assert losses(model, batch, cfg)["age_l1"] == 0


@pytest.mark.parametrize("key", ["print_prob", "occluder_prob"])
def test_augmentations_reach_the_network_only_when_asked(tiny_dataset, tmp_path, key):
    from torch.utils.data import DataLoader

    from unmask.data.dataset import FaceMaskDataset
    from unmask.models.face_attr import FaceAttrNet
    from unmask.training.attr import arch_args, losses

    cfg = _cfg(tiny_dataset, tmp_path, 1)
    cfg.clean_prob = 0.0
    model = FaceAttrNet(**arch_args(cfg)).eval()
    batch = next(iter(DataLoader(FaceMaskDataset(tiny_dataset, "train", 32), 4)))
    seen = []
    model.register_forward_pre_hook(lambda m, args: seen.append(args[0].clone()))
    plain = losses(model, batch, cfg, torch.Generator().manual_seed(0))
    setattr(cfg, key, 1.0)
    drawn = losses(model, batch, cfg, torch.Generator().manual_seed(0))
    assert torch.equal(seen[0], batch["masked"])
    changed = (seen[1] - batch["masked"]).abs().amax(1) > 0.05
    assert changed.flatten(1).float().mean(1).min() > 0.02  # every crop, visibly
    assert torch.isfinite(drawn["loss"]) and drawn["loss"] != plain["loss"]


def test_gender_fine_tune_keeps_frozen_modules_and_mixes(tiny_dataset, tmp_path):
    from unmask.training.attr import _mix, set_train_mode

    x = torch.rand(6, 3, 8, 8)
    g = torch.tensor([0.0, 1.0, 1.0, 0.0, -1.0, 1.0])
    xm, gm, known = _mix(x, g, g >= 0, 0.4, torch.Generator().manual_seed(0))
    assert xm.shape == x.shape and not known[4]
    assert ((gm[known] >= 0) & (gm[known] <= 1)).all()
    cfg = _cfg(tiny_dataset, tmp_path, 3)
    cfg.freeze = ["encoder.stem", "encoder.stages.0", "lm_head"]
    cfg.landmark_weight, cfg.mixup, cfg.label_smoothing = 0.0, 0.4, 0.1
    with pytest.raises(ValueError, match="landmark_weight=0"):
        dataclasses.replace(cfg, landmark_weight=1.0)  # checked when the config is made
    run = train(cfg)
    model = FaceAttrNet(**arch_args(cfg))
    set_train_mode(model, cfg.freeze)
    assert not model.lm_head.training and not model.encoder.stem[1].training
    assert model.gender_head.training and model.encoder.stages[1].training
    assert not any(p.requires_grad for p in model.lm_head.parameters())
    set_train_mode(model, cfg.freeze, freeze_bn=False)
    assert model.lm_head.training and not any(p.requires_grad for p in model.lm_head.parameters())
    # frozen weights and BatchNorm statistics are those the run started from; the rest moved
    from unmask.training.common import seed_everything

    seed_everything(cfg.seed)
    init = FaceAttrNet(**arch_args(cfg)).state_dict()
    trained = run.load_checkpoint()["model"]
    frozen = [k for k in init if k.startswith(("lm_head.", "encoder.stem.", "encoder.stages.0."))]
    assert frozen and all(torch.equal(trained[k], init[k]) for k in frozen)
    free = [
        k for k in init if k.startswith(("gender_head.", "encoder.stages.1.")) and "weight" in k
    ]
    assert free and not any(torch.equal(trained[k], init[k]) for k in free)


def test_fine_tune_starts_from_one_member_of_an_ensemble(tiny_dataset, tmp_path):
    from unmask.training.ensemble import promote as promote_ensemble

    cfg = _cfg(tiny_dataset, tmp_path, 1)
    folders = []
    for i in range(2):
        torch.manual_seed(i)
        net = FaceAttrNet(**arch_args(cfg)).eval()
        old = {k: v for k, v in arch_args(cfg).items() if k not in ("gender_pool", "age_head")}
        weights.save(tmp_path / f"m{i}", "attr", net, "FaceAttrNet", old, {"run": f"r{i}"})
        folders.append(tmp_path / f"m{i}")
    promote_ensemble(folders, tiny_dataset, tmp_path / "e")  # members predate two options
    want = weights.load_module(weights.find("attr", tmp_path / "e")).members[1].state_dict()
    cfg.init_weights, cfg.init_member, cfg.lr, cfg.weight_decay = str(tmp_path / "e"), 1, 0.0, 0.0
    tuned = train(cfg).load_checkpoint()["model"]
    convs = [k for k, v in want.items() if k.endswith("weight") and v.ndim == 4]
    assert convs and all(torch.equal(tuned[k], want[k]) for k in convs)  # lr 0: member 1
    for member, match in ((2, "no member 2"), (None, "is not the network")):
        cfg = _cfg(tiny_dataset, tmp_path, 1)
        cfg.init_weights, cfg.init_member, cfg.tag = str(tmp_path / "e"), member, f"bad{member}"
        with pytest.raises(ValueError, match=match):
            train(cfg)
