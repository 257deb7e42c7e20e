"""``unmask cluster run`` on Ray Data, Ray started here with 2 CPUs: the same files and report
as ``unmask run``, and a batch whose actor dies mid-way is retried without loss or duplicates."""

import json
import os
import sys

import pytest

from support import output_files, report_entries, run_cli

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'unmask[cluster]')")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_cluster_run_writes_what_unmask_run_writes(local_ray, photos, reference, tmp_path):
    out = tmp_path / "out"
    run_cli(photos, out, "--actors", "2", "--batch-size", "2", command=("cluster", "run"))
    assert output_files(out) == output_files(reference)
    assert report_entries(out / "report.json") == report_entries(reference / "report.json")


class CrashOnce:
    """Builds an Unmasker whose process dies at its second photo, once per marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self):
        from unmask.api import Unmasker

        unmasker, marker, calls = Unmasker(), self.marker, []

        def run(source, gender=None):
            calls.append(1)
            if len(calls) == 2 and not os.path.exists(marker):
                open(marker, "w").close()
                os._exit(1)  # the actor process dies mid-batch
            return unmasker(source, gender=gender)

        return run


def test_an_actor_dying_mid_batch_is_retried_and_nothing_is_lost(
    local_ray, photos, reference, tmp_path
):
    from ray import cloudpickle

    from unmask.cluster import run_cluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    marker = tmp_path / "crashed"
    out = tmp_path / "out"
    inputs = [str(photos), str(photos / "sub")]
    run_cluster(inputs, out, batch_size=3, make_unmasker=CrashOnce(str(marker)))
    assert marker.exists(), "the actor did not crash"
    assert output_files(out) == output_files(reference)
    entries = report_entries(out / "report.json")
    assert entries == report_entries(reference / "report.json")
    lines = (out / "report.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["index"] for x in lines) == list(range(len(entries)))
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
