#!/usr/bin/env python3
"""Measure the large-batch paths on a folder of photos (docs/batch.md quotes the figures).

Usage: research/bench_batch.py INPUT_DIR WORK_DIR [--seed 0] [--skip-ray] [--skip-recovery]

1. ``unmask run`` uninterrupted (the reference), timed.
2. ``unmask run`` killed with SIGKILL at a random point three times, resumed each time with
   ``--resume``: after every kill, no output file is partial (every PNG decodes); at the end,
   files and report entries (timings aside) equal the reference's and no temporary file is left.
3. ``--shard I/3`` for I = 0, 1, 2, then ``unmask merge``: every input in exactly one shard; the
   merged report and the files equal the reference's.
4. ``unmask cluster run`` logic (Ray Data, ``ray.init(num_cpus=2)``) with 1 and 2 actors, then
   ``unmask run`` once more: time to start Ray; throughput against the mean of the two
   ``unmask run`` timings around it (a shared machine's load changes); files and entries equal
   the reference's. ``--skip-recovery`` leaves out steps 2 and 3.

Writes WORK_DIR/bench_batch.json and prints it. Needs ``unmask[cluster]`` for step 4.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from unmask.report import comparable

CLI = [sys.executable, "-m", "unmask.cli.main"]
RAY_SCRIPT = """
import json, sys, time
t = time.perf_counter()
import ray
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
from unmask.cluster import run_cluster
out = {"ray_init_s": time.perf_counter() - t}
for actors in (1, 2):
    t = time.perf_counter()
    run_cluster([sys.argv[1]], f"{sys.argv[2]}-{actors}", actors=actors)
    out[f"actors_{actors}_s"] = time.perf_counter() - t
print(json.dumps(out))
"""


def files(out: Path) -> dict[str, str]:
    """Relative path -> sha256 of every output image."""
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*.png"))
        if not p.name.startswith(".")
    }


def entries(report: Path) -> list[dict]:
    return [comparable(e) for e in json.loads(report.read_text())["images"]]


def same(out: Path, ref: Path, report: str = "report.json") -> bool:
    return files(out) == files(ref) and entries(out / report) == entries(ref / "report.json")


def timed_run(*args: str) -> float:
    t = time.perf_counter()
    subprocess.run([*CLI, "run", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def partial_files(out: Path) -> list[str]:
    """Output PNGs that do not decode completely (there must be none)."""
    bad = []
    for p in out.rglob("*.png"):
        if p.name.startswith("."):
            continue
        try:
            with Image.open(p) as im:
                im.load()
        except Exception:
            bad.append(str(p))
    return bad


def kill_and_resume(inputs: Path, out: Path, n: int, rng: random.Random) -> list[dict]:
    """Three runs killed after a random number of newly logged inputs plus a random delay
    (so the kill lands mid-image), each started with --resume, then a final resume."""
    log = out / "report.jsonl"
    rounds = []
    for k in range(3):
        before = len(log.read_bytes().splitlines()) if log.exists() else 0
        target = before + rng.randint(1, max(1, (n - before) // 2))
        args = [str(inputs), "-o", str(out)] + (["--resume"] if k else [])
        proc = subprocess.Popen(
            [*CLI, "run", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while proc.poll() is None:
            if log.exists() and len(log.read_bytes().splitlines()) >= target:
                time.sleep(rng.uniform(0.0, 0.3))
                break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        logged = len(log.read_bytes().splitlines())
        tmp = [str(p) for p in out.rglob(".*.tmp")]
        rounds.append(
            {
                "logged_before": before,
                "logged_at_kill": logged,
                "temp_files_left": len(tmp),
                "partial_outputs": partial_files(out),
            }
        )
    t = timed_run(str(inputs), "-o", str(out), "--resume")
    rounds.append({"final_resume_s": round(t, 1)})
    return rounds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inputs", type=Path)
    ap.add_argument("work", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--skip-recovery", action="store_true", help="no SIGKILL/resume, no shards")
    a = ap.parse_args()
    n = sum(1 for p in a.inputs.iterdir() if p.is_file() and not p.name.startswith("."))
    res: dict = {"inputs": n, "cpus": os.cpu_count(), "load_avg_start": os.getloadavg()}
    ref = a.work / "ref"
    res["run_s"] = round(timed_run(str(a.inputs), "-o", str(ref)), 1)
    res["run_photos_per_s"] = round(n / res["run_s"], 2)
    if not a.skip_recovery:
        recovery(a.inputs, a.work, n, random.Random(a.seed), res)
    if not a.skip_ray:
        ray_vs_run(a.inputs, a.work, n, res)
    res["load_avg_end"] = os.getloadavg()
    (a.work / "bench_batch.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


def recovery(inputs: Path, work: Path, n: int, rng: random.Random, res: dict) -> None:
    """Steps 2 and 3: SIGKILL and resume three times; shards and merge."""
    ref = work / "ref"
    killed = work / "killed"
    res["sigkill"] = kill_and_resume(inputs, killed, n, rng)
    res["sigkill_equal"] = same(killed, ref)
    res["sigkill_temp_files_at_end"] = len(list(killed.rglob(".*.tmp")))
    shards = work / "shards"
    res["shard_s"] = [
        round(timed_run(str(inputs), "-o", str(shards), "--shard", f"{i}/3"), 1) for i in range(3)
    ]
    reports = [shards / f"report-shard-{i}-of-3.json" for i in range(3)]
    per = [[e["input"] for e in json.loads(r.read_text())["images"]] for r in reports]
    flat = [x for p in per for x in p]
    res["shard_sizes"] = [len(p) for p in per]
    res["shard_each_input_once"] = len(flat) == len(set(flat)) == n
    subprocess.run([*CLI, "merge", str(shards)], check=True, stdout=subprocess.DEVNULL)
    res["shard_merged_equal"] = same(shards, ref)


def ray_vs_run(inputs: Path, work: Path, n: int, res: dict) -> None:
    """Step 4: Ray Data with 1 and 2 actors, then ``unmask run`` again; throughput against the
    mean of the two ``unmask run`` timings around it."""
    ref = work / "ref"
    proc = subprocess.run(
        [sys.executable, "-c", RAY_SCRIPT, str(inputs), str(work / "ray")],
        check=True,
        capture_output=True,
        text=True,
    )
    ray = json.loads(proc.stdout.strip().splitlines()[-1])
    res["run_again_s"] = round(timed_run(str(inputs), "-o", str(work / "ref-again")), 1)
    res["run_again_equal"] = same(work / "ref-again", ref)
    base = (res["run_s"] + res["run_again_s"]) / 2
    res["ray_init_s"] = round(ray["ray_init_s"], 1)
    for k in (1, 2):
        s = ray[f"actors_{k}_s"]
        res[f"ray_{k}_actor_s"] = round(s, 1)
        res[f"ray_{k}_actor_photos_per_s"] = round(n / s, 2)
        res[f"ray_{k}_actor_vs_run"] = round(base / s, 2)
        res[f"ray_{k}_actor_vs_run_with_init"] = round(base / (s + ray["ray_init_s"]), 2)
        res[f"ray_{k}_actor_equal"] = same(work / f"ray-{k}", ref)
    res["ray_2_vs_1_actor_speedup"] = round(ray["actors_1_s"] / ray["actors_2_s"], 2)


if __name__ == "__main__":
    main()
