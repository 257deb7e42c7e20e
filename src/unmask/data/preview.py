"""Contact sheets of masked samples (masked | mask | landmarks), for eyes, not metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unmask.demo import example_face
from unmask.viz import draw_landmarks, grid


def preview_example(count: int = 8, templates: str | None = None, seed: int = 0) -> np.ndarray:
    """Sheet of ``count`` random masks on the built-in example, aligned to the canonical crop."""
    from unmask.faces.align import align
    from unmask.faces.landmarks import five_from_68
    from unmask.masking.compose import make_mask_source

    image, lm = example_face()
    al = align(image, five_from_68(lm), 256)
    lm_crop = al.to_crop(lm)
    mix = {"procedural": 1.0, "template": 1.0} if templates else {"procedural": 1.0}
    source = make_mask_source(mix, templates)
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        mf = source.apply(al.crop, lm_crop, rng)
        rows.append([mf.image, mf.mask, draw_landmarks(mf.image, lm_crop)])
    return grid(rows)


def preview_dataset(dataset: Path, count: int = 8, seed: int = 0) -> np.ndarray:
    """Sheet of ``count`` random samples of a built dataset."""
    from PIL import Image

    from unmask.data.manifest import load_manifest

    rows_all = load_manifest(dataset)
    if not rows_all:
        raise ValueError(f"{dataset} has no samples")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(rows_all), size=min(count, len(rows_all)), replace=False)
    rows = []
    for i in sorted(pick):
        r = rows_all[i]
        img = np.asarray(Image.open(dataset / r["image"]).convert("RGB"))
        mask = np.asarray(Image.open(dataset / r["mask"]))
        rows.append([img, mask, draw_landmarks(img, np.asarray(r["landmarks"]))])
    return grid(rows)
