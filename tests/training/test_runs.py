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


def test_keep_best_saves_only_improvements_in_either_direction(tmp_path):
    import torch

    from unmask.training.common import EMA, keep_best

    run = Run.create("attr", AttrTrainConfig(dataset="d"), tmp_path, "t")
    ema = EMA(torch.nn.Linear(2, 1), 0.9)
    best_pt = run.folder / "checkpoints" / "best.pt"
    assert keep_best(run, 0.5, None, ema, 10) == 0.5 and best_pt.exists()
    assert keep_best(run, 0.4, 0.5, ema, 20) == 0.5
    assert run.load_checkpoint("best")["step"] == 10
    assert keep_best(run, 0.6, 0.5, ema, 30) == 0.6
    assert run.load_checkpoint("best")["step"] == 30
    assert keep_best(run, 0.7, 0.6, ema, 40, higher=False) == 0.6
    assert keep_best(run, 0.2, 0.6, ema, 50, higher=False) == 0.2
    assert run.load_checkpoint("best")["step"] == 50


def test_ema_averages_parameters_and_float_buffers_and_copies_counters():
    import torch

    from unmask.training.common import EMA

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    ema = EMA(net, 0.75)
    before = {k: v.clone() for k, v in ema.model.state_dict().items()}
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    net.train()(torch.randn(4, 1, 5, 5))  # moves running stats, counts one batch
    ema.update(net)
    now, src = ema.model.state_dict(), net.state_dict()
    for k, v in now.items():
        if v.is_floating_point():
            torch.testing.assert_close(v, 0.75 * before[k] + 0.25 * src[k])
        else:
            assert torch.equal(v, src[k]) and int(v) == 1


def test_stop_on_signal_flags_sigterm_and_restores_the_handler():
    import os
    import signal

    from unmask.training.common import StopOnSignal

    before = signal.getsignal(signal.SIGTERM)
    with StopOnSignal() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested
    assert signal.getsignal(signal.SIGTERM) is before
    with StopOnSignal(enabled=False):  # e.g. under DDP: the default action stays
        assert signal.getsignal(signal.SIGTERM) is before


def test_a_second_sigterm_ends_the_process():
    import signal
    import subprocess
    import sys

    code = (
        "import os, signal, time\n"
        "from unmask.training.common import StopOnSignal\n"
        "with StopOnSignal() as stop:\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    print('flagged', stop.requested, flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(5)\n"
        "    print('still alive')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == -signal.SIGTERM
    assert "flagged True" in res.stdout and "still alive" not in res.stdout


def test_infinite_raises_instead_of_spinning_on_an_empty_loader():
    import pytest

    from unmask.training.common import infinite

    batches = infinite([[1], [2]])
    assert [next(batches) for _ in range(3)] == [[1], [2], [1]]
    with pytest.raises(ValueError, match="fewer training samples than one batch"):
        next(infinite([]))


def test_a_run_being_trained_cannot_be_claimed_twice(tmp_path):
    import pytest

    run = Run.create("attr", AttrTrainConfig(dataset="d"), tmp_path, "t")  # claimed
    with pytest.raises(RuntimeError, match="being trained by another process"):
        Run(run.folder).claim()
    del run  # the trainer is gone: the folder can be resumed
    import gc

    gc.collect()
    assert Run(next(tmp_path.iterdir())).claim()


def test_cli_resume_of_a_run_still_training_is_one_clean_error(tmp_path):
    import subprocess
    import sys

    run = Run.create("attr", AttrTrainConfig(dataset="d"), tmp_path, "t")  # held by this test
    cmd = "from unmask.cli.main import main; main()"
    res = subprocess.run(
        [sys.executable, "-c", cmd, "train", "attr", "--resume", str(run.folder)],
        capture_output=True,
        text=True,
    )
    assert res.returncode != 0
    assert "being trained by another process" in res.stderr + res.stdout
    assert "Traceback" not in res.stderr
