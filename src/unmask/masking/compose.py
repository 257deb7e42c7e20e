"""Choose among mask sources by weight: the one entry point the dataset builder uses."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unmask.masking.base import MaskedFace, MaskSource


class MaskMix:
    """Draws each mask from one of several sources, picked at random by weight.

    Args:
        sources: the mask sources.
        weights: non-negative weights, one per source (normalised here).
    """

    name = "mix"

    def __init__(self, sources: Sequence[MaskSource], weights: Sequence[float]) -> None:
        if not sources or len(sources) != len(weights):
            raise ValueError("need one weight per mask source and at least one source")
        w = np.asarray(weights, dtype=np.float64)
        if np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"mask source weights must be >= 0 and not all 0, got {list(w)}")
        self.sources = list(sources)
        self.probs = w / w.sum()

    def apply(
        self, image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator
    ) -> MaskedFace:
        """Draw one mask from a source picked by weight (see :class:`MaskSource`)."""
        i = int(rng.choice(len(self.sources), p=self.probs))
        return self.sources[i].apply(image, landmarks, rng)


def parse_mix(text: str) -> dict[str, float]:
    """Parse ``"template:0.5,procedural:0.5"`` (or ``"procedural"``) into name -> weight."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition(":")
        if name not in ("template", "procedural"):
            raise ValueError(f"unknown mask source {name!r}: use 'template' and/or 'procedural'")
        try:
            out[name] = float(weight) if weight else 1.0
        except ValueError:
            raise ValueError(f"bad weight in mask mix {part!r}") from None
    if not out:
        raise ValueError("empty mask mix")
    return out


def make_mask_source(
    mix: dict[str, float],
    template_dir: str | Path | None = None,
    exclude_kinds: Sequence[str] = (),
) -> MaskMix:
    """Build the mask sources named in ``mix``.

    Args:
        mix: source name -> weight, e.g. from :func:`parse_mix`.
        template_dir: MaskTheFace-format folder; required when ``"template"`` has weight > 0.
        exclude_kinds: mask kinds (e.g. ``"n95"``) to leave out of both sources, for
            held-out-style experiments.
    """
    from unmask.masking.procedural import KINDS, ProceduralMasks

    sources: list[MaskSource] = []
    weights: list[float] = []
    for name, weight in mix.items():
        if weight <= 0:
            continue
        if name == "procedural":
            kinds = [k for k in KINDS if k not in exclude_kinds]
            sources.append(ProceduralMasks(kinds=kinds))
        else:
            if template_dir is None:
                raise ValueError("template masks need a template folder (--templates DIR)")
            from unmask.masking.templates import TemplateMasks

            sources.append(TemplateMasks(template_dir, exclude_kinds=exclude_kinds))
        weights.append(weight)
    return MaskMix(sources, weights)
