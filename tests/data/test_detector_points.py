import numpy as np
from click.testing import CliRunner

from unmask.data.detector_points import FILE, build, load
from unmask.data.manifest import load_manifest
from unmask.faces.landmarks import five_from_68


class Shifted:
    """A detector whose one face sits 2 px right of the teacher's points (found by the
    crop's landmarks in the manifest)."""

    def __init__(self, rows, far: set[int]):
        self.rows, self.far, self.calls = rows, far, 0

    def detect(self, image):
        r = self.rows[self.calls]
        self.calls += 1
        kp = five_from_68(np.asarray(r["landmarks"])) + (40 if self.calls - 1 in self.far else 2)

        class D:
            keypoints = kp

        return [D()]


def test_points_are_kept_per_sample_and_far_detections_dropped(tiny_dataset):
    rows = load_manifest(tiny_dataset, "train")
    pts = build(tiny_dataset, Shifted(rows, far={1}), splits=("train",))
    assert (tiny_dataset / FILE).is_file() and load(tiny_dataset) == pts
    first = np.asarray(pts[rows[0]["image"]]) - five_from_68(np.asarray(rows[0]["landmarks"]))
    assert np.allclose(first, 2, atol=0.01) and pts[rows[1]["image"]] is None
    assert len(pts) == len(rows)


def test_cli_writes_the_points_with_the_shipped_detector_or_a_tiny_one(tiny_dataset, tmp_path):
    from support import make_tiny_weights
    from unmask.cli.main import cli

    weights = make_tiny_weights(tmp_path / "w")
    args = ["data", "detector-points", str(tiny_dataset), "--splits", "train", "--weights-dir"]
    res = CliRunner().invoke(cli, [*args, str(weights)])
    assert res.exit_code == 0, res.output
    assert f"-> {tiny_dataset}/{FILE}" in res.output
    assert len(load(tiny_dataset)) == len(load_manifest(tiny_dataset, "train"))
