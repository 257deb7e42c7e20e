"""Batch processing behind ``unmask run``: inputs -> output folder + ``report.json``.

Output layout (the CLI contract in DESIGN.md): ``OUT/restored/<stem>.png`` (full photo, masked
faces rebuilt), ``OUT/masks/<stem>.png`` (single-channel 0/255, the hole actually inpainted, in
the photo grid), optional ``OUT/faces/<stem>_<i>.png`` (aligned | restored crops) and
``OUT/compare/<stem>.png`` (original | mask overlay + landmarks | restored), and ``report.json``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from unmask.io import ImageError, InputItem, iter_inputs, save_image, save_json, unique_stem

log = logging.getLogger(__name__)

SAVE_KINDS = ("restored", "masks", "faces", "compare")


def parse_save(text: str) -> tuple[str, ...]:
    """``"restored,masks"`` -> a validated tuple of output kinds."""
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in SAVE_KINDS]
    if bad or not kinds:
        raise ValueError(f"--save takes a comma list of {', '.join(SAVE_KINDS)}; got {text!r}")
    return kinds


def compare_sheet(result, height: int = 384, before: np.ndarray | None = None) -> np.ndarray:
    """Original | detected mask and landmarks | restored, side by side at ``height`` pixels;
    ``before`` (e.g. the unmasked ground truth, ``H x W x 3`` uint8) adds a leading panel."""
    import cv2

    from unmask.viz import draw_landmarks, overlay_mask

    mid = overlay_mask(result.image, result.mask)
    for face in result.faces:
        mid = draw_landmarks(mid, face.landmarks, radius=max(1, result.image.shape[0] // 200))
        x1, y1, x2, y2 = (int(round(v)) for v in face.box)
        colour = (255, 0, 255) if face.masked else (0, 200, 255)
        cv2.rectangle(mid, (x1, y1), (x2, y2), colour, max(1, result.image.shape[0] // 250))
    gap = np.full((height, 4, 3), 255, np.uint8)
    shown = ([] if before is None else [before]) + [result.image, mid, result.restored]
    panels = []
    for img in shown:
        h, w = img.shape[:2]
        size = (max(1, round(w * height / h)), height)
        panels += [cv2.resize(img, size, interpolation=cv2.INTER_AREA), gap]
    return np.concatenate(panels[:-1], axis=1)


def run_batch(
    unmasker,
    inputs: Sequence[str],
    out: str | Path,
    save: Sequence[str] = ("restored", "masks"),
    recursive: bool = False,
    gender: str | None = None,
    progress: Callable[[InputItem, dict], None] | None = None,
) -> dict:
    """Process every input and write the output folder and ``report.json``.

    A bad input never stops the batch: it is listed with ``status: "skipped"`` and a reason.
    Input files are never overwritten (outputs refuse to replace any input path).

    Returns:
        The report (also written to ``OUT/report.json``).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    items = iter_inputs(list(inputs), recursive=recursive)
    protect = [it.path for it in items if it.path.is_file()]
    taken: set[str] = set()
    images = []
    for item in items:
        entry = _one(unmasker, item, out, save, gender, taken, protect)
        images.append(entry)
        if progress is not None:
            progress(item, entry)
    ok = [e for e in images if e["status"] == "ok"]
    summary = {
        "inputs": len(images),
        "ok": len(ok),
        "skipped": len(images) - len(ok),
        "faces": sum(len(e["faces"]) for e in ok),
        "masked_faces": sum(f["masked"] for e in ok for f in e["faces"]),
    }
    report = {"images": images, "summary": summary}
    save_json(out / "report.json", report)
    return report


def _one(unmasker, item: InputItem, out: Path, save, gender, taken: set, protect) -> dict:
    given = str(item.path)
    entry = {"input": given, "status": "skipped", "reason": None, "outputs": {}, "faces": []}
    if not item.path.exists():
        entry["reason"] = "file not found"
        return entry
    t = time.perf_counter()
    try:
        result = unmasker(item.path, gender=gender)
    except ImageError as exc:
        entry["reason"] = exc.reason
        return entry
    except MemoryError:
        entry["reason"] = "out of memory"
        return entry
    stem = unique_stem(item.path.stem, taken)
    outputs = {}
    mask = result.mask.astype(np.uint8) * 255
    files = {
        "restored": ("restored", lambda: result.restored),
        "masks": ("mask", lambda: mask),
        "compare": ("compare", lambda: compare_sheet(result)),
    }
    for kind in save:
        if kind in files:
            key, make = files[kind]
            rel = f"{kind}/{stem}.png"
            save_image(out / rel, make(), protect=protect)
            outputs[key] = rel
    if "faces" in save:
        outputs["faces"] = []
        for i, face in enumerate(result.faces):
            rel = f"faces/{stem}_{i}.png"
            save_image(
                out / rel, np.concatenate([face.aligned, face.restored], axis=1), protect=protect
            )
            outputs["faces"].append(rel)
    entry.update(
        status="ok",
        outputs=outputs,
        faces=[f.to_json() for f in result.faces],
        size=[int(result.image.shape[1]), int(result.image.shape[0])],
        timings_ms={"total": round(1000 * (time.perf_counter() - t), 1)},
    )
    return entry
