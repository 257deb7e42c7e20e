"""Run folders: ``runs/<NNNNN>-<stage>-<tag>/`` with the resolved config, JSONL metrics, sample
grids and checkpoints; a run can be resumed from its folder."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from unmask.config import to_dict


class Run:
    """One training run's folder.

    Layout: ``config.json`` (resolved config), ``metrics.jsonl`` (one record per log call),
    ``samples/*.png`` (image grids), ``checkpoints/last.pt`` (and ``best.pt``).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        (self.folder / "checkpoints").mkdir(parents=True, exist_ok=True)
        (self.folder / "samples").mkdir(exist_ok=True)
        self._lock = None

    def claim(self) -> Run:
        """Hold this folder for the training process: a second process that claims it (e.g.
        ``--resume`` while the run is still training) gets a ``RuntimeError`` instead of
        interleaving checkpoints and metrics. Released when the process ends (or this object
        goes away, or :meth:`release`: the trainers hold it ``with run:`` and let go when
        they return or fail). Where ``fcntl`` is missing (Windows) it does nothing."""
        try:
            import fcntl
        except ImportError:
            return self
        if self._lock is None:
            fh = open(self.folder / ".lock", "w")  # noqa: SIM115 (held for the run's life)
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                raise RuntimeError(
                    f"{self.folder} is being trained by another process; wait for it to stop"
                ) from None
            self._lock = fh
        return self

    def release(self) -> None:
        """Let go of :meth:`claim`; harmless if not held."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc) -> None:
        """Leaving ``with run:`` releases the claim, whether training returned or failed."""
        self.release()

    @classmethod
    def create(cls, stage: str, config: Any, root: str | Path = "runs", tag: str = "") -> Run:
        """Make ``root/<NNNNN>-<stage>[-tag]`` with the next free number and save ``config``."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        nums = [int(m.group(1)) for p in root.iterdir() if (m := re.match(r"(\d{5})-", p.name))]
        name = f"{max(nums, default=0) + 1:05d}-{stage}" + (f"-{tag}" if tag else "")
        run = cls(root / name).claim()
        run._write_config(to_dict(config))
        return run

    @classmethod
    def held(cls, run: Run | None, stage: str, config: Any, root: str | Path, tag: str = "") -> Run:
        """``run`` claimed (see :meth:`claim`), or a new claimed run when ``run`` is ``None``."""
        return run.claim() if run is not None else cls.create(stage, config, root, tag)

    def config(self) -> dict:
        """The saved resolved config."""
        return json.loads((self.folder / "config.json").read_text())

    def update_config(self, config: Any) -> dict:
        """Save a changed config (e.g. more minutes on resume) and log what changed.

        Returns:
            ``{key: [old, new]}`` for every changed key (empty when nothing changed).
        """
        old, new = self.config(), to_dict(config)
        changes = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
        if changes:
            self._write_config(new)
            self.log(event="config_changed", changes=changes)
        return changes

    def _write_config(self, data: dict) -> None:
        """Atomically, so that a process reading it (another torchrun rank) never sees half."""
        tmp = self.folder / "config.json.tmp"
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        tmp.replace(self.folder / "config.json")

    def log(self, **record: Any) -> None:
        """Append one JSON record (with a wall-clock ``time``) to ``metrics.jsonl``."""
        record = {"time": round(time.time(), 2), **record}
        with open(self.folder / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps(record, default=_json_default) + "\n")

    def records(self) -> list[dict]:
        """All metric records so far."""
        path = self.folder / "metrics.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def save_checkpoint(self, state: dict, name: str = "last") -> Path:
        """Atomically write ``checkpoints/<name>.pt``."""
        import torch

        path = self.folder / "checkpoints" / f"{name}.pt"
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(path)
        return path

    def load_checkpoint(self, name: str = "last") -> dict | None:
        """The checkpoint ``name`` or ``None`` when there is none."""
        import torch

        path = self.folder / "checkpoints" / f"{name}.pt"
        return torch.load(path, map_location="cpu", weights_only=False) if path.is_file() else None

    def save_sample(self, name: str, image: np.ndarray) -> Path:
        """Write an RGB uint8 image grid to ``samples/<name>.png``."""
        from unmask.io import save_image

        return save_image(self.folder / "samples" / f"{name}.png", image)


def _json_default(obj: Any):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")
