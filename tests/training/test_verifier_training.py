import json

import numpy as np
import pytest

from unmask.detection.net import NetDetector
from unmask.runtime import weights
from unmask.training import detector as detector_training
from unmask.training.runs import Run
from unmask.training.verifier import VerifierTrainConfig, promote, summarize, train


@pytest.fixture
def tiny_detector(tiny_dataset, tmp_path):
    """A 2-step detector promoted to a weights folder (the verifier's proposer)."""
    cfg = detector_training.DetectorTrainConfig(
        dataset=str(tiny_dataset), photos=None, templates=None, size=64,
        widths=[4, 8, 8, 8, 8], blocks=1, fpn_channels=8, head_channels=8,
        scene={"min_face": 6.0, "max_objects": 4}, batch=2, steps=2, warmup=1, eval_every=2,
        eval_images=2, epoch_size=4, workers=0, threads=1, recalibrate_batches=1,
        runs=str(tmp_path / "runs"), tag="det",
    )  # fmt: skip
    run = detector_training.train(cfg)
    detector_training.promote(run, tmp_path / "det")
    return run, tmp_path / "det"


def _cfg(ds, det, tmp_path, steps):
    return VerifierTrainConfig(
        dataset=str(ds), detector=str(det), photos=None, templates=None,
        scene={"min_face": 6.0, "max_objects": 4, "negative": 0.3, "tight": 0.2},
        scene_size=64, image_size=16, widths=[4, 8], mine_threshold=0.0, max_side=1e6,
        train_scenes=4, val_scenes=2, batch=8, steps=steps, warmup=1, eval_every=2,
        threads=1, runs=str(tmp_path / "runs"), tag="v",
    )  # fmt: skip


def test_summary_counts_the_vetoed_non_faces():
    label = np.array([1, 1, 1, 1, 0, 0, 0, 0], np.float32)
    perfect = summarize(np.array([0.9, 0.8, 0.95, 0.7, 0.1, 0.2, 0.05, 0.3]), label)
    assert perfect["auc"] == 1.0 and perfect["vetoed_at_keep_0.99"] == 1.0
    useless = summarize(np.full(8, 0.5), label)
    assert useless["auc"] == 0.5 and useless["vetoed_at_keep_0.99"] == 0.0


def test_mine_train_resume_promote_and_use_in_the_detector(tiny_dataset, tiny_detector, tmp_path):
    det_run, det_dir = tiny_detector
    run = train(_cfg(tiny_dataset, det_dir, tmp_path, 3))
    mined = np.load(run.folder / "mined-train.npz")
    assert mined["crops"].shape[1:] == (24, 24, 3) and mined["crops"].dtype == np.uint8
    assert set(np.unique(mined["label"])) == {0.0, 1.0}
    assert (~mined["mined"]).sum() >= 1  # the jittered true faces
    val = [r for r in run.records() if r.get("split") == "val"]
    assert val and 0 <= val[-1]["auc"] <= 1
    before = (run.folder / "mined-train.npz").stat().st_mtime_ns
    run2 = train(_cfg(tiny_dataset, det_dir, tmp_path, 5), Run(run.folder))
    assert run2.load_checkpoint()["step"] == 5
    assert (run.folder / "mined-train.npz").stat().st_mtime_ns == before  # not mined again
    promote(run2, tmp_path / "ver")
    info = weights.find("verifier", tmp_path / "ver")
    assert info.arch == "FaceVerifier" and info.meta["context"] == 2.5

    rules = {"verifier": str(tmp_path / "ver"), "verify": [1e6], "max_fp": 1.0}
    detector_training.promote(det_run, tmp_path / "w", overrides=rules)
    meta = json.loads((tmp_path / "w" / "detector.json").read_text())["meta"]
    assert meta["verify_side"] in (0.0, 1e6)
    det = NetDetector.from_weights(tmp_path / "w")
    assert det.verify_side == meta["verify_side"]
    assert (det.verifier is not None) == (meta["verify_side"] > 0)
    assert (tmp_path / "w" / "verifier.json").exists() == (meta["verify_side"] > 0)
    with pytest.raises(FileNotFoundError, match="no verifier"):
        detector_training.promote(
            det_run, tmp_path / "y", overrides={"verify": [8.0], "verifier": str(tmp_path)}
        )
    with pytest.raises(ValueError, match="verifier weights folder"):
        detector_training.promote(det_run, tmp_path / "x", overrides={"verify": [8.0]})
