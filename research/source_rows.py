"""Test-split rows of a built dataset together with their source photos (for the tools that
re-align faces from the photo: ``padding_check.py``, ``mask_padding_check.py``)."""

import json
from pathlib import Path

import cv2
import numpy as np

from unmask.faces.align import Alignment, align, inside_photo
from unmask.faces.landmarks import five_from_68
from unmask.faces.paste import photo_mask
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


def worn_photo(photo: np.ndarray, five: np.ndarray, masked: np.ndarray, mask: np.ndarray, size=256):
    """The source photo wearing a row's mask: its stored masked pixels warped back into the
    photo. Returns ``(alignment, worn, inside)``: the clean photo's :class:`Alignment` (``size``
    px), the worn photo (``H x W x 3`` uint8 RGB) and the crop pixels inside the photo
    (``S x S`` bool)."""
    al: Alignment = align(photo, five, size)
    h, w = photo.shape[:2]
    pm = photo_mask(al, mask.astype(np.uint8), (h, w))
    warped = cv2.warpAffine(masked, al.inverse, (w, h), flags=cv2.INTER_LINEAR)
    worn = np.where(pm[..., None] > 0, warped, photo)
    return al, worn, inside_photo((h, w), al.matrix, size) > 0
