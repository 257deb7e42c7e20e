import json

from unmask.training.attr import AttrTrainConfig
from unmask.training.runs import Run


def test_update_config_saves_and_logs_changes(tmp_path):
    cfg = AttrTrainConfig(dataset="d", minutes=55)
    run = Run.create("attr", cfg, tmp_path, "t")
    assert run.update_config(cfg) == {}
    assert run.records() == []
    cfg.minutes, cfg.gender_weight = 85, 2.0
    changes = run.update_config(cfg)
    assert changes == {"minutes": [55, 85], "gender_weight": [1.0, 2.0]}
    assert json.loads((run.folder / "config.json").read_text())["minutes"] == 85
    (rec,) = run.records()
    assert rec["event"] == "config_changed" and rec["changes"]["minutes"] == [55, 85]
