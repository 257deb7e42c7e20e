import json

import torch

from unmask.runtime import weights
from unmask.training.attr import AttrTrainConfig, promote, train
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


def test_gender_judge_trains_on_clean_faces_and_promotes_under_its_name(tiny_dataset, tmp_path):
    from unmask.stages.attr import FaceAttributes

    cfg = _cfg(tiny_dataset, tmp_path, 2)
    cfg.clean_prob, cfg.tag = 1.0, "judge"
    run = train(cfg)
    promote(run, tmp_path / "w", checkpoint="last", name="gender_judge")
    assert not (tmp_path / "w" / "attr.json").exists()
    info = weights.find("gender_judge", tmp_path / "w")
    assert info.meta["trained_on"] == "clean" and info.meta["stage"] == "gender_judge"
    judge = FaceAttributes.from_weights(tmp_path / "w", name="gender_judge", backend="torch")
    assert judge.flip


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
