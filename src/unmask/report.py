"""The batch report, written as it goes: one JSON Lines log per run (or shard), and
``report.json`` built from the logs.

Each line of a log is one report entry plus ``"index"``, the input's position in the expanded
input list (:mod:`unmask.plan`). A line is appended only after the entry's outputs are on disk
(written atomically), so a run killed at any point loses at most the image in flight; a torn last
line is dropped on resume. ``report.json`` lists the entries in input order (without ``index``)
and a summary; it is streamed, so a million entries are never held in memory at once.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from unmask.io import atomic_write

log = logging.getLogger(__name__)

#: Output kind of ``--save`` -> key of the entry's ``outputs``.
OUTPUT_KEYS = {"restored": "restored", "masks": "mask", "compare": "compare", "faces": "faces"}
SUMMARY_KEYS = ("inputs", "ok", "skipped", "faces", "masked_faces")


def log_name(shard: tuple[int, int] | None) -> str:
    """``report.jsonl`` for a whole run, ``report-shard-I-of-N.jsonl`` for a shard."""
    return "report.jsonl" if shard is None else f"report-shard-{shard[0]}-of-{shard[1]}.jsonl"


def read_log(path: Path) -> Iterator[dict]:
    """The entries of a log; a torn or unreadable line (a run killed mid-write) is dropped."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s:%d: dropping a torn line", path, n)
                continue
            if isinstance(entry, dict) and isinstance(entry.get("index"), int):
                yield entry


def expected_outputs(
    stem: str, save: Sequence[str], n_faces: int, kind: str = "photo"
) -> dict[str, Any]:
    """The ``outputs`` of an ok entry: relative paths of the files saved for ``stem`` (a clip,
    ``kind="video"``, has only its restored MP4)."""
    if kind == "video":
        return {"restored": f"restored/{stem}.mp4"}
    outputs: dict[str, Any] = {}
    folders = {"restored": "restored", "masks": "masks", "compare": "compare"}
    for kind in save:
        if kind in folders:
            outputs[OUTPUT_KEYS[kind]] = f"{folders[kind]}/{stem}.png"
    if "faces" in save:
        outputs["faces"] = [f"faces/{stem}_{i}.png" for i in range(n_faces)]
    return outputs


def is_complete(entry: dict, stem: str, save: Sequence[str], out: Path) -> bool:
    """Whether a logged entry needs no work: skipped with a reason, or ok with exactly the
    outputs ``save`` asks for under ``stem``, all present in ``out``."""
    if entry.get("status") == "skipped":
        return bool(entry.get("reason"))
    if entry.get("status") != "ok":
        return False
    outputs = entry.get("outputs")
    n_faces = len(entry.get("faces") or [])
    if outputs != expected_outputs(stem, save, n_faces, entry.get("kind", "photo")):
        return False
    files = [v for v in outputs.values() if isinstance(v, str)] + outputs.get("faces", [])
    return all((out / rel).is_file() for rel in files)


class ReportLog:
    """Append-only JSON Lines log of one run: ``write`` after each input's outputs exist."""

    def __init__(self, path: Path, keep: Iterable[dict] = ()) -> None:
        """Start the log at ``path`` with the entries ``keep`` (rewritten atomically, so a torn
        line of an earlier run is gone), then append."""
        self.path = path
        lines = [_line(e) for e in keep]
        atomic_write(path, lambda f: f.write("".join(lines).encode()))
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115

    def write(self, entry: dict) -> None:
        """Append one entry (with its ``index``) and push it to disk."""
        self._file.write(_line(entry))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ReportLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _line(entry: dict) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_report(target: Path, logs: Sequence[Path]) -> dict:
    """Write ``target`` (``report.json``) from the entries of ``logs``, in input order; an index
    logged twice keeps its last entry. Returns the summary."""
    where: dict[int, tuple[int, int]] = {}
    for k, path in enumerate(logs):
        with open(path, "rb") as f:
            offset = 0
            for raw in f:
                try:
                    index = json.loads(raw)["index"]
                except (ValueError, KeyError, TypeError):
                    index = None
                if isinstance(index, int):
                    where[index] = (k, offset)
                offset += len(raw)
    summary = dict.fromkeys(SUMMARY_KEYS, 0)
    files = [open(p, "rb") for p in logs]  # noqa: SIM115

    def entries() -> Iterator[dict]:
        for index in sorted(where):
            k, offset = where[index]
            files[k].seek(offset)
            entry = json.loads(files[k].readline())
            del entry["index"]
            _count(summary, entry)
            yield entry

    def write(f: IO[bytes]) -> None:
        f.write(b'{\n  "images": [')
        for n, entry in enumerate(entries()):
            text = json.dumps(entry, indent=2, ensure_ascii=False).replace("\n", "\n    ")
            f.write(((",\n    " if n else "\n    ") + text).encode())
        body = json.dumps(summary, indent=2).replace("\n", "\n  ")
        f.write(f'\n  ],\n  "summary": {body}\n}}\n'.encode())

    try:
        atomic_write(target, write)
    finally:
        for f in files:
            f.close()
    return summary


def _count(summary: dict, entry: dict) -> None:
    summary["inputs"] += 1
    if entry.get("status") == "ok":
        summary["ok"] += 1
        summary["faces"] += len(entry.get("faces") or [])
        summary["masked_faces"] += sum(bool(f.get("masked")) for f in entry.get("faces") or [])
    else:
        summary["skipped"] += 1


def merge_shards(out: str | os.PathLike[str]) -> dict:
    """Merge the shard logs of ``out`` (``report-shard-I-of-N.jsonl``, all N present) into
    ``out/report.json``; returns the summary. Raises FileNotFoundError/ValueError when shards
    are missing or of different N."""
    out = Path(out)
    found = sorted(out.glob("report-shard-*-of-*.jsonl"))
    counts = {p.stem.rsplit("-of-", 1)[1] for p in found}
    if not found:
        raise FileNotFoundError(f"no report-shard-*-of-*.jsonl in {out}")
    if len(counts) != 1:
        raise ValueError(f"{out} holds shard logs of several shard counts: {sorted(counts)}")
    n = int(counts.pop())
    missing = [i for i in range(n) if not (out / log_name((i, n))).is_file()]
    if missing:
        raise FileNotFoundError(f"shard logs missing for I = {missing} of N = {n} in {out}")
    return write_report(out / "report.json", [out / log_name((i, n)) for i in range(n)])


def comparable(entry: dict) -> dict:
    """``entry`` without its timings (the only fields that differ between two runs)."""
    drop = {"timings_ms", "index"}
    clean = {k: v for k, v in entry.items() if k not in drop}
    clean["faces"] = [{k: v for k, v in f.items() if k not in drop} for f in entry["faces"]]
    return clean


def skipped(name: str, reason: str) -> dict:
    """The report entry of an input that was not processed, and why."""
    return {"input": name, "status": "skipped", "reason": reason, "outputs": {}, "faces": []}
