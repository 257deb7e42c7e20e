import pytest

from support import TINY_ARCH, make_tiny_weights


def test_init_from_weights_loads_the_same_network_and_rejects_another(tmp_path):
    import torch

    from unmask.runtime import weights
    from unmask.training.common import EMA
    from unmask.training.handoff import init_from_weights

    folder = make_tiny_weights(tmp_path, ("segmenter",))
    arch, args = TINY_ARCH["segmenter"]
    model = weights.build_module(arch, args)
    ema = EMA(model, 0.9)
    init_from_weights(model, ema, "segmenter", folder, arch, args)
    saved = weights.load_module(weights.find_here("segmenter", folder)).state_dict()
    for k, v in saved.items():
        assert torch.equal(model.state_dict()[k], v) and torch.equal(ema.model.state_dict()[k], v)
    with pytest.raises(ValueError, match="is not the network this config builds"):
        init_from_weights(model, ema, "segmenter", folder, arch, {**args, "blocks": 2})


def test_load_for_promote_needs_a_checkpoint_and_rejects_unknown_overrides(tmp_path):
    from unmask.training.handoff import load_for_promote
    from unmask.training.refiner import RefinerTrainConfig
    from unmask.training.runs import Run

    run = Run.create("refiner", RefinerTrainConfig(dataset="d"), tmp_path)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_for_promote(run, RefinerTrainConfig)
    run.save_checkpoint({"ema": {}, "step": 3}, "last")
    cfg, ckpt = load_for_promote(run, RefinerTrainConfig, overrides={"steps": 9})
    assert cfg.steps == 9 and cfg.dataset == "d" and ckpt["step"] == 3
    with pytest.raises(ValueError, match="unknown RefinerTrainConfig keys: stpes"):
        load_for_promote(run, RefinerTrainConfig, overrides={"stpes": 9})
