import numpy as np
import pytest

from unmask.data import detail_patches
from unmask.runtime import weights
from unmask.stages.detail import DetailRestorer
from unmask.training.detail import DetailTrainConfig, promote, sampling, train
from unmask.training.runs import Run


def _patches(src, split, how, seed, limit=None):
    rng = np.random.default_rng(seed)
    for _ in range(6):
        yield rng.integers(0, 255, (how.patch, how.patch, 3), np.uint8)


def _cfg(tmp_path, steps):
    return DetailTrainConfig(
        dataset="unused", width=4, dilations=[1, 2], sampling={"patch": 16, "scales": [1.5, 3]},
        batch=4, steps=steps, warmup=1, eval_every=2, threads=1, runs=str(tmp_path / "runs"),
        tag="d",
    )  # fmt: skip


def test_cut_train_resume_promote_and_load(tmp_path, monkeypatch):
    monkeypatch.setattr(detail_patches, "skin_patches", _patches)
    run = train(_cfg(tmp_path, 3))
    cut = np.load(run.folder / "detail-train.npz")["patch"]
    assert cut.shape == (6, 16, 16, 3) and cut.dtype == np.uint8
    val = [r for r in run.records() if r.get("split") == "val"]
    assert val and val[-1]["detail_ratio_input"] < 1  # the degraded input lost detail
    before = (run.folder / "detail-train.npz").stat().st_mtime_ns
    run2 = train(_cfg(tmp_path, 5), Run(run.folder))
    assert run2.load_checkpoint()["step"] == 5
    assert (run.folder / "detail-train.npz").stat().st_mtime_ns == before  # not cut again
    promote(run2, tmp_path / "w")
    info = weights.find("detail", tmp_path / "w")
    assert info.arch == "DetailNet" and info.meta["sampling"]["scales"] == [1.5, 3]
    restorer = DetailRestorer.from_weights(tmp_path / "w", backend="torch")
    assert restorer.max_scale == 3
    region = np.random.default_rng(0).uniform(0, 255, (20, 30, 3)).astype(np.float32)
    out = restorer(region, 2.0)
    assert out.shape == region.shape and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 255


def test_unknown_sampling_keys_are_refused():
    with pytest.raises(ValueError, match="unknown DetailSampling keys: scale"):
        sampling(DetailTrainConfig(sampling={"scale": 3}))
