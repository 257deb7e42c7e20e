"""Batch processing behind ``unmask run``: inputs -> output folder + ``report.json``.

Output layout (the contract of ``docs/usage.md``): ``OUT/restored/<stem>.png`` (full photo, masked
faces rebuilt), ``OUT/masks/<stem>.png`` (single-channel 0/255, the hole actually inpainted, in
the photo grid), optional ``OUT/faces/<stem>_<i>.png`` (aligned | restored crops) and
``OUT/compare/<stem>.png`` (original | mask overlay + landmarks | restored), and ``report.json``
(built from the JSON Lines log ``report.jsonl``, see :mod:`unmask.report`).

Large batches: stems come from the whole input list (:mod:`unmask.plan`), so ``resume`` and
``shard`` write the same names as one uninterrupted run; only paths are held, one image at a time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unmask.io import ImageError, save_image
from unmask.plan import Job, in_shard, inside, plan
from unmask.report import (
    ReportLog,
    expected_outputs,
    is_complete,
    log_name,
    read_log,
    skipped,
    write_report,
)
from unmask.video.io import is_clip
from unmask.viz import compare_sheet

log = logging.getLogger(__name__)

SAVE_KINDS = ("restored", "masks", "faces", "compare")


def parse_save(text: str) -> tuple[str, ...]:
    """``"restored,masks"`` -> a validated tuple of output kinds."""
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in SAVE_KINDS]
    if bad or not kinds:
        raise ValueError(f"--save takes a comma list of {', '.join(SAVE_KINDS)}; got {text!r}")
    return kinds


def run_batch(
    unmasker,
    inputs: Sequence[str],
    out: str | Path,
    save: Sequence[str] = ("restored", "masks"),
    recursive: bool = False,
    gender: str | None = None,
    progress: Callable[[Job, dict], None] | None = None,
    resume: bool = False,
    shard: tuple[int, int] | None = None,
) -> dict:
    """Process every input and write the output folder and its report.

    A bad input never stops the batch: it is listed with ``status: "skipped"`` and a reason.
    Input files are never overwritten (outputs refuse to replace any input path). Each entry is
    appended to ``OUT/report.jsonl`` once its outputs are written; ``resume`` keeps the complete
    entries of an earlier run (see :func:`unmask.report.is_complete`) and processes the rest.
    ``shard=(I, N)`` processes only the inputs of shard I (:func:`unmask.plan.in_shard`) and logs
    to ``OUT/report-shard-I-of-N.jsonl``; ``unmask merge`` builds ``report.json`` from all N.

    Returns:
        The summary of the report written (``OUT/report.json``, or
        ``OUT/report-shard-I-of-N.json`` for a shard).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [j for j in plan(list(inputs), recursive) if in_shard(j, shard)]
    logfile = out / log_name(shard)
    done = resumable(logfile, jobs, save, out) if resume else {}
    protect = [j.input for j in jobs if inside(j.input, out)]
    with ReportLog(logfile, done.values()) as report:
        for job in jobs:
            entry = done.get(job.index)
            if entry is None:
                entry = {
                    "index": job.index,
                    **process(unmasker, job.input, job.input, job.stem, out, save, gender, protect),
                }
                report.write(entry)
            if progress is not None:
                progress(job, entry)
    return write_report(logfile.with_suffix(".json"), [logfile])


def resumable(logfile: Path, jobs: list[Job], save, out: Path) -> dict[int, dict]:
    """Complete entries of an earlier log, by index in the current plan; the temporary files
    an interrupted run left for these jobs are removed."""
    remove_debris(out, {j.stem for j in jobs}, logfile)
    if not logfile.is_file():
        return {}
    by_input = {j.input: j for j in jobs}
    done: dict[int, dict] = {}
    for entry in read_log(logfile):
        job = by_input.get(entry.get("input"))
        if job is not None and is_complete(entry, job.stem, save, out):
            done[job.index] = {**entry, "index": job.index}
    log.info("resuming %s: %d of %d inputs already complete", logfile, len(done), len(jobs))
    return done


def remove_debris(out: Path, stems: set[str], logfile: Path) -> None:
    """Delete the temporary files a killed run left behind (``.<name>.<hex>.tmp``, see
    :func:`unmask.io.atomic_write`) for outputs named by ``stems`` and for ``logfile``; other
    shards' files in flight are left alone."""
    for folder in ("", *SAVE_KINDS):
        for tmp in (out / folder).glob(".*.tmp"):
            target = tmp.name[1:].rsplit(".", 2)[0]
            stem = Path(target).stem
            if folder == "faces":
                stem = stem.rsplit("_", 1)[0]
            if (stem in stems and folder) or target == logfile.name:
                log.info("removing %s, left by an interrupted run", tmp)
                tmp.unlink(missing_ok=True)


def process(
    unmasker,
    source: Any,
    name: str,
    stem: str,
    out: Path,
    save: Sequence[str],
    gender: str | None = None,
    protect: Collection[str] = (),
) -> dict:
    """Run ``unmasker`` on one input and write its outputs under ``out``; return its entry.

    ``source`` is what :func:`unmask.io.load_image` reads (a path, or the file's bytes); ``name``
    is the input as reported. A clip (:func:`unmask.video.io.is_clip`) becomes
    ``restored/<stem>.mp4`` (:func:`unmask.video.process.batch_entry`). Never raises for a bad
    input: the entry says why it was skipped.
    """
    if isinstance(source, str) and is_clip(source):
        from unmask.video.process import batch_entry

        return batch_entry(unmasker, source, stem, out, gender)
    t = time.perf_counter()
    try:
        result = unmasker(source, gender=gender)
    except ImageError as exc:
        return skipped(name, exc.reason)
    except MemoryError:
        return skipped(name, "out of memory")
    entry: dict[str, Any] = {"input": name, "status": "ok", "reason": None}
    outputs = expected_outputs(stem, save, len(result.faces))
    mask = result.mask.astype(np.uint8) * 255
    files = {"restored": lambda: result.restored, "mask": lambda: mask}
    files["compare"] = lambda: compare_sheet(result)
    for key, rel in outputs.items():
        if key != "faces":
            save_image(out / rel, files[key](), protect=protect)
    for face, rel in zip(result.faces, outputs.get("faces", []), strict=False):
        sheet = np.concatenate([face.aligned, face.restored], axis=1)
        save_image(out / rel, sheet, protect=protect)
    entry.update(
        outputs=outputs,
        faces=[f.to_json() for f in result.faces],
        size=[int(result.image.shape[1]), int(result.image.shape[0])],
        timings_ms={"total": round(1000 * (time.perf_counter() - t), 1)},
    )
    return entry
