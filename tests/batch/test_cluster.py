"""``unmask cluster run`` on Ray Data, Ray started here with 2 CPUs: the same files and report
as ``unmask run``, and a batch whose actor dies mid-way is retried without loss or duplicates."""

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from support import masked_photos
from unmask.cli.main import cli
from unmask.report import comparable

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'unmask[cluster]')")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return masked_photos(tmp_path_factory.mktemp("in") / "photos", n=3)


@pytest.fixture(scope="module")
def reference(photos, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out"
    res = CliRunner().invoke(cli, ["run", str(photos), str(photos / "sub"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.png"))}


def _entries(out: Path) -> list[dict]:
    return [comparable(e) for e in json.loads((out / "report.json").read_text())["images"]]


def test_cluster_run_writes_what_unmask_run_writes(local_ray, photos, reference, tmp_path):
    out = tmp_path / "out"
    args = ["cluster", "run", str(photos), str(photos / "sub"), "-o", str(out)]
    res = CliRunner().invoke(cli, [*args, "--actors", "2", "--batch-size", "2"])
    assert res.exit_code == 0, res.output
    assert _files(out) == _files(reference)
    assert _entries(out) == _entries(reference)


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
    assert _files(out) == _files(reference)
    assert _entries(out) == _entries(reference)
    lines = (out / "report.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["index"] for x in lines) == list(range(len(_entries(out))))
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
