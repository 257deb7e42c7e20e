import numpy as np
import pytest

from unmask.data import edges
from unmask.faces.align import Alignment
from unmask.runtime import weights
from unmask.stages.refine import EdgeRefiner
from unmask.training.refiner import RefinerTrainConfig, promote, sampling, train
from unmask.training.runs import Run


def _photos(faces_dir, split, templates, cfg, seed, limit):
    """Photos with a square mask whose top rows the coarse mask below misses."""
    rng = np.random.default_rng(seed)
    for _ in range(limit):
        photo = rng.integers(0, 255, (64, 64, 3), np.uint8)
        target = np.zeros((64, 64), np.float32)
        target[20:50, 12:52] = 1
        photo[target > 0] = (40, 90, 200)
        yield photo, target


class _Coarse:
    def __init__(self, weights_dir=None):
        self.weights_dir = weights_dir

    def __call__(self, photo, near):
        al = Alignment(photo, np.array([[1.0, 0, 0], [0, 1.0, 0]]), 64)
        prob = np.zeros((64, 64), np.float32)
        prob[24:50, 12:52] = 0.9
        return al, prob


def _cfg(tmp_path, steps):
    return RefinerTrainConfig(
        dataset="unused", photos="", templates="", train_faces=4, val_faces=2, width=4,
        dilations=[1, 2], sampling={"patch": 16, "per_photo": 3, "max_side": 1000},
        batch=4, steps=steps, warmup=1, eval_every=2, threads=1, runs=str(tmp_path / "runs"),
        tag="r",
    )  # fmt: skip


def test_mine_train_resume_promote_and_load(tmp_path, monkeypatch):
    monkeypatch.setattr(edges, "drawn_photos", _photos)
    monkeypatch.setattr(edges, "CoarseMasks", _Coarse)
    run = train(_cfg(tmp_path, 3))
    mined = np.load(run.folder / "edges-train.npz")
    assert mined["image"].shape == (16, 16, 16, 3) and mined["target"].shape == (16, 16, 16)
    assert set(np.unique(mined["target"])) == {0, 1}
    val = [r for r in run.records() if r.get("split") == "val"]
    assert val and val[-1]["coarse_missed"] > 0  # the coarse mask's missing rows are counted
    assert val[-1]["error"] == pytest.approx(val[-1]["missed"] + val[-1]["extra"])
    before = (run.folder / "edges-train.npz").stat().st_mtime_ns
    run2 = train(_cfg(tmp_path, 5), Run(run.folder))
    assert run2.load_checkpoint()["step"] == 5
    assert (run.folder / "edges-train.npz").stat().st_mtime_ns == before  # not mined again
    promote(run2, tmp_path / "w")
    info = weights.find("refiner", tmp_path / "w")
    assert info.arch == "MaskRefiner" and info.meta["max_side"] == 1000
    refiner = EdgeRefiner.from_weights(tmp_path / "w", backend="torch")
    assert refiner.max_side == 1000 and refiner.threshold == 0.5


def test_unknown_sampling_keys_are_refused():
    with pytest.raises(ValueError, match="unknown EdgeSampling keys: patches"):
        sampling(RefinerTrainConfig(dataset="x", sampling={"patches": 3}))
