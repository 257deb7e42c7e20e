"""Every recipe in ``configs/<stage>/*.json`` is a valid config of its stage: ``unmask train
<stage> --config FILE`` (and ``unmask train promote --config FILE``) reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import REPO

CONFIGS = sorted((REPO / "configs").glob("*/*.json"))


def _config_class(stage: str):
    from unmask import registry

    return registry.train_config(stage)


def test_there_are_recipes_for_every_trained_stage() -> None:
    from unmask import registry

    assert {p.parent.name for p in CONFIGS} == set(registry.trainable())


@pytest.mark.parametrize("path", CONFIGS, ids=[str(p.relative_to(REPO)) for p in CONFIGS])
def test_recipe_builds_its_stage_config(path: Path) -> None:
    from unmask.config import from_dict

    data = json.loads(path.read_text())
    assert isinstance(data, dict) and data
    # a later phase is read on top of the resumed run's config, which holds the dataset
    cfg = from_dict(_config_class(path.parent.name), {"dataset": "d", **data})
    for key, value in data.items():
        assert getattr(cfg, key) == value, key


def test_cli_reads_config_files_in_order(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    import unmask.training.attr as attr
    from unmask.cli.main import cli

    seen = {}

    def fake_train(cfg, run):
        seen["cfg"] = cfg
        return type("R", (), {"folder": tmp_path})()

    monkeypatch.setattr(attr, "train", fake_train)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"dataset": "x", "steps": 5, "lr": 0.1}))
    b.write_text(json.dumps({"steps": 7}))
    args = ["train", "attr", "--config", str(a), "--config", str(b), "--set", "lr=0.2"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert (seen["cfg"].dataset, seen["cfg"].steps, seen["cfg"].lr) == ("x", 7, 0.2)
    b.write_text(json.dumps({"no_such_key": 1}))
    res = CliRunner().invoke(cli, ["train", "attr", "--config", str(a), "--config", str(b)])
    assert res.exit_code != 0 and "no_such_key" in str(res.exception or res.output)
