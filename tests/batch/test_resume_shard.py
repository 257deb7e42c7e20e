"""Large batches: ``unmask run --resume`` after SIGKILL, ``--shard I/N`` + ``unmask merge``, and
output names that do not depend on processing order (shipped weights, small photos)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from support import output_files as _files
from support import report_entries as _entries
from support import run_cli as _run
from unmask.cli.main import cli


def test_reference_run_names_colliding_stems_in_input_order(reference, photos):
    report = json.loads((reference / "report.json").read_text())
    names = {Path(e["input"]).relative_to(photos).as_posix(): e for e in report["images"]}
    assert names["p0.png"]["outputs"]["restored"] == "restored/p0.png"
    assert names["sub/p0.png"]["outputs"]["restored"] == "restored/p0-2.png"
    assert names["notes.png"]["status"] == "skipped" and names["notes.png"]["reason"]
    assert report["summary"]["ok"] == 5 and report["summary"]["masked_faces"] >= 5
    jsonl = (reference / "report.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["index"] for line in jsonl) == list(range(6))


def test_shards_cover_every_input_once_and_merge_to_the_single_report(photos, reference, tmp_path):
    out = tmp_path / "out"
    for i in range(3):
        _run(photos, out, "--shard", f"{i}/3")
    shard_inputs = [
        [
            e["input"]
            for e in json.loads((out / f"report-shard-{i}-of-3.json").read_text())["images"]
        ]
        for i in range(3)
    ]
    everything = [x for s in shard_inputs for x in s]
    assert len(everything) == len(set(everything)) == 6
    assert not (out / "report.json").exists()
    res = CliRunner().invoke(cli, ["merge", str(out)])
    assert res.exit_code == 0, res.output
    assert _entries(out / "report.json") == _entries(reference / "report.json")
    assert _files(out) == _files(reference)


def test_merge_refuses_an_incomplete_set_of_shards(photos, tmp_path):
    out = tmp_path / "out"
    _run(photos, out, "--shard", "1/2")
    res = CliRunner().invoke(cli, ["merge", str(out)])
    assert res.exit_code != 0 and "missing" in str(res.exception)
    res = CliRunner().invoke(cli, ["run", str(photos), "-o", str(out), "--shard", "2/2"])
    assert res.exit_code == 2 and "0 <= I < N" in res.output


def test_resume_after_sigkill_finishes_like_an_uninterrupted_run(photos, reference, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", "from unmask.cli.main import main; main()", "run"]
    cmd += [str(photos), str(photos / "sub"), "-o", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = out / "report.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if log.is_file() and len(log.read_bytes().splitlines()) >= 2:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(log.read_bytes().splitlines())
    assert 2 <= done < 6, "the run was not interrupted mid-way"
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    with open(log, "a") as f:  # a line torn by the kill
        f.write('{"index": 6, "input": "x", "sta')
    (out / "restored" / ".p3.png.0badf00d.tmp").write_bytes(b"half a png")  # killed mid-write
    kept = [out / e["outputs"]["restored"] for e in logged if e["status"] == "ok"]
    before = [p.stat().st_mtime_ns for p in kept]
    _run(photos, out, "--resume")
    assert kept and [p.stat().st_mtime_ns for p in kept] == before  # complete ones not redone
    assert _entries(out / "report.json") == _entries(reference / "report.json")
    assert _files(out) == _files(reference)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_resume_redoes_entries_whose_outputs_are_missing_or_differ(photos, reference, tmp_path):
    out = tmp_path / "out"
    _run(photos, out)
    (out / "masks" / "p1.png").unlink()
    _run(photos, out, "--resume")
    assert _files(out) == _files(reference)
    _run(photos, out, "--resume", "--save", "restored,masks,faces")
    report = json.loads((out / "report.json").read_text())
    ok = [e for e in report["images"] if e["status"] == "ok"]
    assert all(e["outputs"]["faces"] for e in ok)
    assert all((out / f).is_file() for e in ok for f in e["outputs"]["faces"])
