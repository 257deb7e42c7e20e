"""Ray Data runner behind ``unmask cluster run``: the batch of ``unmask run`` spread over a Ray
cluster (``pip install 'unmask[cluster]'``). Ray is imported here only, inside functions.

Ray Data reads the input files (``read_binary_files``: local paths or any file system Ray
reads, such as ``s3://`` and ``gs://`` URIs) and streams them to a pool of actors
(``map_batches`` with :class:`UnmaskActor`, a callable class): each actor loads the weights once
and writes the outputs of its images under ``out``, which every worker must see (a shared file
system on a cluster). The driver logs the report entries as they come back and writes the same
``report.json`` as ``unmask run``; names come from the same plan (:mod:`unmask.plan`), so the
files are byte-identical. Outputs are written atomically under fixed names, so a batch retried
after an actor crash rewrites the same files and its entries are logged once.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unmask.batch import process, resumable
from unmask.io import ImageError, load_image
from unmask.plan import Job, inside, plan
from unmask.report import ReportLog, log_name, skipped, write_report

log = logging.getLogger(__name__)


class UnmaskActor:
    """One actor of the pool: an :class:`~unmask.api.Unmasker` built once, called per batch.

    Args:
        out: output folder (seen by every worker).
        save: output kinds, as ``unmask run --save``.
        gender: forced gender or ``None``.
        pipeline: keyword arguments of :class:`~unmask.api.Unmasker`.
        stems: output stem of each read path whose stem is not its file name's.
        protect: input paths that must never be overwritten.
        make_unmasker: builds the unmasker instead of ``Unmasker(**pipeline)`` (a picklable
            callable; e.g. to wrap it).
    """

    def __init__(
        self,
        out: str,
        save: Sequence[str],
        gender: str | None,
        pipeline: dict[str, Any],
        stems: dict[str, str],
        protect: Sequence[str] = (),
        make_unmasker: Callable[[], Any] | None = None,
    ) -> None:
        from unmask.api import Unmasker

        self.unmasker = make_unmasker() if make_unmasker else Unmasker(**pipeline)
        self.out, self.save, self.gender = Path(out), tuple(save), gender
        self.stems, self.protect = stems, list(protect)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``{"path": (B,) str, "bytes": (B,) bytes}`` (a ``read_binary_files`` batch) ->
        ``{"path": (B,) str, "entry": (B,) str}``, each entry a report entry as JSON."""
        entries = []
        for path, data in zip(batch["path"], batch["bytes"], strict=True):
            path = str(path)
            stem = self.stems.get(path) or Path(path.rsplit("/", 1)[-1]).stem
            args = (self.out, self.save, self.gender, self.protect)
            entries.append(json.dumps(process(self.unmasker, bytes(data), path, stem, *args)))
        return {"path": np.asarray(batch["path"], dtype=object), "entry": np.array(entries, object)}


def run_cluster(
    inputs: Sequence[str],
    out: str | os.PathLike[str],
    save: Sequence[str] = ("restored", "masks"),
    recursive: bool = False,
    gender: str | None = None,
    pipeline: dict[str, Any] | None = None,
    actors: int = 1,
    cpus_per_actor: float = 1.0,
    gpus_per_actor: float = 0.0,
    batch_size: int = 4,
    resume: bool = False,
    make_unmasker: Callable[[], Any] | None = None,
    progress: Callable[[Job, dict], None] | None = None,
) -> dict:
    """Run the batch of ``unmask run`` on Ray Data; write ``out`` and ``out/report.json``.

    Connects to the running Ray cluster (``RAY_ADDRESS``, or ``ray.init`` called before) or
    starts a local one. ``actors`` actors each hold ``cpus_per_actor`` CPUs and
    ``gpus_per_actor`` GPUs (give ``pipeline={"device": "cuda"}`` with GPUs). An actor that dies
    is restarted and its batch retried (Ray Data's default for actor pools: without limit).
    Returns the report's summary.
    """
    import ray

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = plan(list(inputs), recursive)
    logfile = out / log_name(None)
    save = tuple(save)
    done = resumable(logfile, jobs, save, out) if resume else {}
    todo = [j for j in jobs if j.index not in done]
    by_location = {_location(j): j for j in todo}
    with ReportLog(logfile, done.values()) as report:

        def record(job: Job, entry: dict) -> None:
            entry = {"index": job.index, **entry, "input": job.input}
            report.write(entry)
            if progress is not None:
                progress(job, entry)

        readable = []
        for job in todo:
            reason = _unreadable(job)
            if reason is None:
                readable.append(_location(job))
            else:
                record(job, skipped(job.input, reason))
        if readable:
            if not ray.is_initialized():
                ray.init()
            stems = {
                key: by_location[loc].stem
                for loc in readable
                if _renamed(by_location[loc])
                for key in {loc, loc.split("://", 1)[-1]}
            }
            protect = [j.input for j in jobs if not j.is_uri and inside(j.input, out)]
            kwargs = dict(pipeline=pipeline or {}, stems=stems, protect=protect)
            kwargs["make_unmasker"] = make_unmasker
            # reading is I/O: it takes no CPU of its own, or actors filling every CPU would
            # starve it (Ray Data then waits forever)
            read = ray.data.read_binary_files(readable, include_paths=True, num_cpus=0)
            ds = read.map_batches(
                UnmaskActor,
                fn_constructor_kwargs=dict(
                    out=str(out.resolve()), save=save, gender=gender, **kwargs
                ),
                batch_size=batch_size,
                concurrency=actors,
                num_cpus=cpus_per_actor,
                num_gpus=gpus_per_actor or None,
            )
            seen: set[int] = set()
            for row in ds.iter_rows():
                job = _find(by_location, str(row["path"]))
                if job.index not in seen:  # a retried batch must not log twice
                    seen.add(job.index)
                    record(job, json.loads(row["entry"]))
    return write_report(out / "report.json", [logfile])


def _location(job: Job) -> str:
    """Where Ray reads the job: the URI, or the absolute local path (workers' cwd differs)."""
    return job.input if job.is_uri else os.path.abspath(job.input)


def _find(by_location: dict[str, Job], path: str) -> Job:
    """The job of a path Ray reports (which may have lost the URI's ``scheme://``)."""
    job = by_location.get(path)
    if job is None:
        by_bare = {loc.split("://", 1)[-1]: j for loc, j in by_location.items()}
        by_location.update(by_bare)
        job = by_location[path]
    return job


def _renamed(job: Job) -> bool:
    return job.stem != Path(job.input.rsplit("/", 1)[-1]).stem


def _unreadable(job: Job) -> str | None:
    """Why a local input cannot be read (missing, folder, special file, no permission)."""
    if job.is_uri:
        return None
    if os.path.isfile(job.input):
        return None if os.access(job.input, os.R_OK) else "permission denied"
    try:
        load_image(job.input)
    except ImageError as exc:
        return exc.reason
    return "not a regular file"
