"""Typed dataclass configs: built from dicts that may hold only known keys."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build the dataclass ``cls`` from ``data``, rejecting unknown keys.

    Raises:
        ValueError: on keys that ``cls`` does not define.

    Examples::

        >>> from unmask import registry
        >>> from unmask.config import from_dict
        >>> cfg = from_dict(registry.train_config("attr"), {"dataset": "data/utk256", "steps": 5})
        >>> cfg.steps, cfg.batch
        (5, 32)
        >>> from_dict(registry.train_config("attr"), {"dataset": "d", "stpes": 5})
        Traceback (most recent call last):
        ...
        ValueError: unknown AttrTrainConfig keys: stpes; known: ...
    """
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(
            f"unknown {cls.__name__} keys: {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    return cls(**data)


def from_json_dict(cls: type[T], data: dict[str, Any]) -> T:
    """:func:`from_dict` for values read from JSON: lists become tuples (the ranges of frozen
    settings dataclasses)."""
    return from_dict(cls, {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-safe dict of a dataclass config (paths become strings)."""
    out = {}
    for k, v in dataclasses.asdict(cfg).items():
        out[k] = str(v) if isinstance(v, Path) else v
    return out


def save(cfg: Any, path: str | Path) -> None:
    """Write the resolved config as pretty JSON."""
    Path(path).write_text(json.dumps(to_dict(cfg), indent=2, sort_keys=True) + "\n")
