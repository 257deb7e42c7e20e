import os
import signal
from dataclasses import dataclass

import pytest
import torch

from unmask.training.common import EMA, cosine_lr, resume
from unmask.training.loop import fit
from unmask.training.runs import Run


@dataclass
class _Cfg:
    steps: int = 7
    warmup: int = 1
    lr: float = 0.1
    minutes: float | None = None
    eval_every: int = 3


def _parts(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    ema = EMA(model, 0.5)
    opt = torch.optim.SGD(model.parameters(), 0.1)
    run = Run.held(None, "toy", _Cfg(), tmp_path)
    return run, model, ema, opt


def _loss(model, calls):
    def step_loss(step):
        calls.append(step)
        x = torch.randn(4, 2)
        return {"loss": ((model(x) - x.sum(1, keepdim=True)) ** 2).mean()}, 4

    return step_loss


def test_fit_trains_to_the_budget_validates_keeps_best_and_releases_the_run(tmp_path):
    run, model, ema, opt = _parts(tmp_path)
    calls, evals = [], []

    def evaluate(ema_model, step):
        assert ema_model is ema.model
        evals.append(step)
        return -step  # earlier is better: best stays at the first validation

    before = model.weight.detach().clone()
    with run:
        fit(run, model, ema, opt, _Cfg(), (0, None, 0.0), _loss(model, calls), evaluate)
    assert calls == list(range(7)) and evals == [3, 6, 7]
    assert not torch.equal(model.weight, before)
    assert run.load_checkpoint()["step"] == 7 and run.load_checkpoint("best")["step"] == 3
    assert opt.param_groups[0]["lr"] == pytest.approx(cosine_lr(6, 7, 1, 0.1, progress=6 / 7))
    assert Run(run.folder).claim()  # released: the folder can be resumed


def test_fit_lower_is_better_clips_and_restores_train_mode(tmp_path):
    run, model, ema, opt = _parts(tmp_path)
    modes, norms = [], []
    step_loss = _loss(model, [])

    def big_loss(step):
        parts, n = step_loss(step)
        return {"loss": 1e4 * parts["loss"]}, n

    def step_opt():
        norms.append(float(torch.cat([p.grad.flatten() for p in model.parameters()]).norm()))

    opt.step = step_opt  # read the gradients the optimiser would use
    cfg = _Cfg(steps=4, eval_every=2)
    scores = iter([2.0, 1.0])  # lower is better: the second validation is kept
    with run:
        fit(
            run, model, ema, opt, cfg, (0, None, 0.0), big_loss,
            lambda m, s: next(scores), higher=False, clip=0.5,
            train_mode=lambda: modes.append(True),
        )  # fmt: skip
    assert len(modes) == 3  # before the loop and after each validation
    assert max(norms) == pytest.approx(0.5, rel=1e-4)
    assert run.load_checkpoint("best")["step"] == 4


def test_a_failing_trainer_lets_go_of_its_run(tmp_path):
    run, model, ema, opt = _parts(tmp_path)

    def broken(step):
        raise OSError("disk gone")

    with pytest.raises(OSError), run:
        fit(run, model, ema, opt, _Cfg(), (0, None, 0.0), broken, lambda m, s: 0.0)
    assert Run(run.folder).claim()  # the traceback keeps `run` alive, not its claim


def test_fit_stops_cleanly_on_sigterm_and_resumes(tmp_path):
    run, model, ema, opt = _parts(tmp_path)
    calls = []
    step_loss = _loss(model, calls)

    def loss_then_sigterm(step):
        if step == 1:  # as `timeout -s TERM` would, in the middle of step 2
            os.kill(os.getpid(), signal.SIGTERM)
        return step_loss(step)

    before = signal.getsignal(signal.SIGTERM)
    with run:
        fit(run, model, ema, opt, _Cfg(), (0, None, 0.0), loss_then_sigterm, lambda m, s: 0.0)
    assert run.load_checkpoint()["step"] == 2 and signal.getsignal(signal.SIGTERM) is before
    again = Run.held(Run(run.folder), "toy", _Cfg(), tmp_path)
    step, best, spent = resume(again, model, ema, opt)
    assert step == 2 and spent > 0
    fit(again, model, ema, opt, _Cfg(), (step, best, spent), step_loss, lambda m, s: 0.0)
    assert run.load_checkpoint()["step"] == 7 and calls == list(range(7))


def test_a_held_run_cannot_be_trained_by_a_second_holder(tmp_path):
    run, *_ = _parts(tmp_path)
    with pytest.raises(RuntimeError, match="being trained by another process"):
        Run.held(Run(run.folder), "toy", _Cfg(), tmp_path)
    run.release()
    assert Run.held(Run(run.folder), "toy", _Cfg(), tmp_path)
