"""The work list of a batch: every input with its position, its output stem and its shard.

Output names never depend on processing order: :func:`plan` gives each input its stem from the
whole expanded input list (files, then folders sorted, in the order given; a stem already taken
gets ``-2``, ``-3``... in that order). A resumed run, each shard of a sharded run and the Ray
runner therefore write the same files under the same names as one uninterrupted ``unmask run``
with the same arguments. Shard membership hashes the input's path as reported, so it is stable
when files are added or removed; the ``-N`` suffixes of colliding stems are only stable while
the files ahead of them in the list stay.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from unmask.inputs import iter_inputs
from unmask.io import unique_stem

SCHEME = "://"


@dataclass(frozen=True)
class Job:
    """One input of a batch.

    ``index`` is its position in the expanded input list, ``input`` the path as written to the
    report (``str`` of the path, or the URI), ``stem`` the base name of its outputs.
    """

    index: int
    input: str
    stem: str

    @property
    def path(self) -> Path:
        return Path(self.input)

    @property
    def is_uri(self) -> bool:
        return SCHEME in self.input


def plan(inputs: Sequence[str], recursive: bool = False) -> list[Job]:
    """Expand ``inputs`` (files, folders, globs and, for the Ray runner, ``scheme://`` URIs)
    into jobs with unique, order-independent stems. Paths are held, never images."""
    taken: set[str] = set()
    jobs: list[Job] = []
    for given in _expand(inputs, recursive):
        stem = unique_stem(_stem(given), taken)
        jobs.append(Job(len(jobs), given, stem))
    return jobs


def _stem(name: str) -> str:
    return Path(name.rsplit("/", 1)[-1]).stem if SCHEME in name else Path(name).stem


def _expand(inputs: Sequence[str], recursive: bool) -> list[str]:
    local = [str(x) for x in inputs if SCHEME not in str(x)]
    if len(local) == len(inputs):
        return [str(it.path) for it in iter_inputs(local, recursive=recursive)]
    out: list[str] = []
    for raw in inputs:  # keep the given order across local paths and URIs
        raw = str(raw)
        if SCHEME in raw:
            out += _list_uri(raw, recursive)
        else:
            out += [str(it.path) for it in iter_inputs([raw], recursive=recursive)]
    return out


def _list_uri(uri: str, recursive: bool) -> list[str]:
    """Files of a remote folder (sorted, dotfiles left out) or the URI itself, via pyarrow's
    file systems (S3, GCS, HDFS... whatever pyarrow was built with)."""
    from pyarrow import fs

    filesystem, path = fs.FileSystem.from_uri(uri)
    info = filesystem.get_file_info(path)
    if info.type != fs.FileType.Directory:
        return [uri]
    scheme = uri.split(SCHEME, 1)[0]
    found = filesystem.get_file_info(fs.FileSelector(path, recursive=recursive))
    names = [
        f.path
        for f in found
        if f.type == fs.FileType.File
        and not any(part.startswith(".") for part in f.path[len(path) :].split("/"))
    ]
    return [f"{scheme}{SCHEME}{p}" for p in sorted(names)]


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"I/N"`` (``0 <= I < N``) -> ``(I, N)``; ``None`` stays ``None``. Raises ValueError."""
    if text is None:
        return None
    i, sep, n = text.partition("/")
    try:
        index, count = int(i), int(n)
    except ValueError:
        index, count = -1, 0
    if not sep or count < 1 or not 0 <= index < count:
        raise ValueError(f"--shard takes I/N with 0 <= I < N (e.g. 0/3), got {text!r}")
    return index, count


def in_shard(job: Job, shard: tuple[int, int] | None) -> bool:
    """Whether ``job`` belongs to ``shard`` = ``(I, N)``: a hash of its input path modulo N."""
    if shard is None:
        return True
    digest = hashlib.blake2b(job.input.encode("utf-8", "surrogateescape"), digest_size=8)
    return int.from_bytes(digest.digest(), "big") % shard[1] == shard[0]


def inside(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether ``path`` resolves to somewhere under ``folder``."""
    return Path(folder).resolve() in Path(path).resolve().parents
