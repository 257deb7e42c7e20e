"""Test-split rows of a built dataset together with their source photos (for the tools that
re-align faces from the photo: ``padding_check.py``, ``mask_padding_check.py``)."""

import json
from pathlib import Path

import cv2
import numpy as np

from unmask.faces.landmarks import five_from_68
from unmask.faces.teacher import teacher_landmarks
from unmask.io import load_image


def source_rows(ds: Path, src: Path, n: int):
    """Yield ``(row, photo, five, clean, masked, mask)`` for the first ``n`` test rows whose
    source photo the dlib teacher finds a face in: the photo ``H x W x 3`` uint8 RGB, its five
    keypoints, the stored clean and masked crops (uint8 RGB) and the mask (``S x S`` bool)."""
    rows = [r for r in map(json.loads, open(ds / "manifest.jsonl")) if r["split"] == "test"]
    for r in rows[:n]:
        img = load_image(src / r["source"])
        found = teacher_landmarks(img)
        if found is None:
            continue
        clean = np.asarray(load_image(ds / r["clean"]))
        masked = np.asarray(load_image(ds / r["image"]))
        mask = cv2.imread(str(ds / r["mask"]), 0) > 127
        yield r, img, five_from_68(found[0]), clean, masked, mask
