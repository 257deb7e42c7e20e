"""Build a training dataset from a folder of faces.

Per source face: load it, find the face and its 68 landmarks with the dlib teacher on the
*unmasked* image, align it to the canonical template, then draw ``variants`` synthetic masks.
Output folder layout (see ``docs/dataset.md``)::

    OUT/build.json      resolved BuildConfig
    OUT/faces/<id>.jpg  aligned unmasked crop (the inpainting target)
    OUT/masked/<id>_<k>.jpg, OUT/masks/<id>_<k>.png (0/255)
    OUT/inside/<id>.png  crop pixels inside the source photo (255) vs padding (0)
    OUT/manifest.jsonl  one row per masked sample
    OUT/summary.json    counts, skip reasons, timing

Resumable: finished faces are appended to ``progress.jsonl`` and not redone. Deterministic for a
seed: each face's random stream derives from the seed and the face's key, not from the order.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unmask.config import save as save_config
from unmask.data.formats import SourceFace, read_faces
from unmask.data.manifest import MANIFEST, face_id, iter_lines, split_of, stable_hash, write_lines

log = logging.getLogger(__name__)
PROGRESS = "progress.jsonl"


@dataclass
class BuildConfig:
    """Options of ``unmask data build`` (unknown keys are rejected by :func:`from_dict`)."""

    faces: str
    out: str
    labels: str = "none"
    csv: str | None = None
    size: int = 256
    variants: int = 2
    mix: str = "template:0.5,procedural:0.5"
    templates: str | None = None
    seed: int = 0
    workers: int = 2
    limit: int | None = None
    jpeg_quality: int = 95
    min_eye_px: float = 12.0
    padding: str = "masked"

    def __post_init__(self) -> None:
        if self.padding not in PADDINGS:
            raise ValueError(f"padding must be one of {', '.join(PADDINGS)}, not {self.padding!r}")


#: How the out-of-photo padding of a masked crop is made. ``"clean"`` (how the first datasets
#: were built): mirrored from the *unmasked* photo, so a crop whose chin touches the photo's
#: edge shows a mirror of the hidden mouth and chin below the mask, which no real photo does.
#: ``"masked"``: the mask is drawn into the photo and the padding made as the pipeline makes
#: it (:func:`unmask.faces.align.repad`).
PADDINGS = ("clean", "masked")


_STATE: dict = {}


def _init_worker(cfg: BuildConfig) -> None:
    """Per-process setup: one thread per worker, mask sources built once."""
    import cv2

    from unmask.masking.compose import make_mask_source, parse_mix

    cv2.setNumThreads(1)
    _STATE["cfg"] = cfg
    _STATE["masks"] = make_mask_source(parse_mix(cfg.mix), cfg.templates)


def padded_from_photo(
    photo: np.ndarray, alignment, masked_crop: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """A masked crop as the pipeline would cut it from a photo wearing that mask.

    Args:
        photo: ``H x W x 3`` uint8 RGB unmasked photo; alignment: its
            :class:`~unmask.faces.align.Alignment` (``"blur"`` border).
        masked_crop: ``S x S x 3`` uint8 RGB, the aligned crop with a mask drawn on;
            mask: ``S x S`` uint8 {0, 1}, the drawn mask.
    Returns:
        ``S x S x 3`` uint8 RGB: ``masked_crop`` inside the photo and on the mask; elsewhere
        the padding of the photo with the mask drawn in, made as
        :func:`~unmask.faces.align.repad` makes it (so it shows neither the hidden face nor
        the mask).
    """
    import cv2

    from unmask.faces.align import warp_to_crop
    from unmask.faces.padding import inside_photo
    from unmask.faces.paste import photo_mask

    h, w = photo.shape[:2]
    pm = photo_mask(alignment, mask, (h, w))
    drawn = cv2.warpAffine(masked_crop, alignment.inverse, (w, h), flags=cv2.INTER_LINEAR)
    worn = np.where(pm[..., None] > 0, drawn, photo)
    # what repad(worn, alignment, mask) makes, with the photo-grid mask already at hand
    pad = warp_to_crop(worn, alignment.matrix, alignment.size, "blur", ignore=pm).crop
    keep = inside_photo((h, w), alignment.matrix, alignment.size) | (mask > 0)
    return np.where(keep[..., None] > 0, masked_crop, pad)


def _save(path: Path, image: np.ndarray, quality: int) -> None:
    from PIL import Image

    Image.fromarray(image).save(path, quality=quality)


def process_face(face: SourceFace) -> dict:
    """Build one face (runs in a worker). Returns ``{"key", "status", "reason", "rows"}``."""
    from unmask.faces.align import align
    from unmask.faces.landmarks import MOUTH, five_from_68, interocular
    from unmask.faces.padding import inside_photo
    from unmask.faces.teacher import teacher_landmarks
    from unmask.io import ImageError, load_image

    cfg: BuildConfig = _STATE["cfg"]
    out = Path(cfg.out)
    result = {"key": face.key, "status": "skipped", "reason": None, "rows": []}
    try:
        image = load_image(face.path)
    except ImageError as exc:
        result["reason"] = exc.reason
        return result
    found = teacher_landmarks(image)
    if found is None:
        result["reason"] = "no face found"
        return result
    lm, _box, score = found
    if interocular(lm) < cfg.min_eye_px:
        result["reason"] = "face too small"
        return result
    al = align(image, five_from_68(lm), cfg.size, border="blur")
    lm_crop = al.to_crop(lm)
    fid = face_id(face.key)
    rng = np.random.default_rng([cfg.seed, stable_hash(face.key) % (2**32)])
    _save(out / "faces" / f"{fid}.jpg", al.crop, cfg.jpeg_quality)
    inside = inside_photo(image.shape[:2], al.matrix, cfg.size)
    _save(out / "inside" / f"{fid}.png", inside * 255, cfg.jpeg_quality)
    split = split_of(face.key)
    for k in range(cfg.variants):
        mf = _STATE["masks"].apply(al.crop, lm_crop, rng)
        name = f"{fid}_{k}"
        masked = mf.image
        if cfg.padding == "masked":
            masked = padded_from_photo(image, al, mf.image, mf.mask)
        _save(out / "masked" / f"{name}.jpg", masked, cfg.jpeg_quality)
        _save(out / "masks" / f"{name}.png", mf.mask * 255, cfg.jpeg_quality)
        h, w = mf.mask.shape
        pts = np.clip(np.round(lm_crop[list(MOUTH)]).astype(int), 0, [w - 1, h - 1])
        result["rows"].append(
            {
                "id": name,
                "face_id": fid,
                "source": face.key,
                "split": split,
                "gender": face.gender,
                "age": face.age,
                **face.extra,
                "size": cfg.size,
                "clean": f"faces/{fid}.jpg",
                "image": f"masked/{name}.jpg",
                "mask": f"masks/{name}.png",
                "inside": f"inside/{fid}.png",
                "landmarks": np.round(lm_crop, 2).tolist(),
                "teacher_score": round(float(score), 3),
                "mask_source": mf.source,
                "mask_type": mf.kind,
                "mask_params": mf.params,
                "nose_covered": mf.nose_covered,
                "nose_out": bool(mf.params.get("nose_out", False)),
                "mouth_covered": bool(mf.mask[pts[:, 1], pts[:, 0]].all()),
                "coverage": round(mf.coverage, 4),
            }
        )
    result["status"] = "built"
    return result


def build(cfg: BuildConfig, progress: Callable[[int, int], None] | None = None) -> dict:
    """Build (or resume building) the dataset described by ``cfg``.

    Args:
        cfg: the build options.
        progress: called as ``progress(done, total)`` after each face built in this call
            (for a progress bar).
    Returns:
        The summary written to ``OUT/summary.json``: counts, skip reasons, faces per second,
        mask coverage and mouth/nose coverage shares per mask source.
    """
    out = Path(cfg.out)
    for sub in ("faces", "masked", "masks", "inside"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    old = out / "build.json"
    if old.is_file():
        prev = {"padding": "clean"} | json.loads(old.read_text())  # built before the option
        keep = ("workers", "limit", "out")
        if {k: v for k, v in prev.items() if k not in keep} != {
            k: v for k, v in _cfg_dict(cfg).items() if k not in keep
        }:
            raise ValueError(f"{out} was built with other options; use a new --out folder")
    save_config(cfg, old)
    faces = read_faces(cfg.faces, cfg.labels, cfg.csv)
    if cfg.limit is not None:
        faces = faces[: cfg.limit]
    prog_path = out / PROGRESS
    done = {r["key"]: r for r in iter_lines(prog_path)} if prog_path.is_file() else {}
    todo = [f for f in faces if f.key not in done]
    log.info("%d faces, %d already done, %d to build", len(faces), len(done), len(todo))
    t0 = time.perf_counter()
    with open(prog_path, "a") as fh:
        for count, res in enumerate(_run(cfg, todo), 1):
            fh.write(json.dumps(res, separators=(",", ":")) + "\n")
            fh.flush()
            done[res["key"]] = res
            if progress is not None:
                progress(count, len(todo))
    elapsed = time.perf_counter() - t0
    results = [done[f.key] for f in faces if f.key in done]
    rows = sorted((r for res in results for r in res["rows"]), key=lambda r: r["id"])
    write_lines(out / MANIFEST, rows)
    summary = summarize(results, rows, len(todo), elapsed)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _cfg_dict(cfg: BuildConfig) -> dict:
    from unmask.config import to_dict

    return to_dict(cfg)


def _run(cfg: BuildConfig, todo: list[SourceFace]):
    """Yield results of :func:`process_face` over ``todo``, in a process pool if workers > 1."""
    if cfg.workers <= 1 or len(todo) < 2:
        _init_worker(cfg)
        yield from map(process_face, todo)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork" if os.name == "posix" else "spawn")
    with ctx.Pool(cfg.workers, initializer=_init_worker, initargs=(cfg,)) as pool:
        yield from pool.imap_unordered(process_face, todo, chunksize=8)


def summarize(results: list[dict], rows: list[dict], newly: int, seconds: float) -> dict:
    """Counts, skip reasons and mask statistics of a build."""
    reasons = Counter(r["reason"] for r in results if r["status"] != "built")
    built = sum(r["status"] == "built" for r in results)
    per_source: dict[str, dict] = {}
    for src in sorted({r["mask_source"] for r in rows}):
        sel = [r for r in rows if r["mask_source"] == src]
        cov = np.array([r["coverage"] for r in sel])
        nose_rows = [r for r in sel if not r["nose_out"]]
        ok = [r["mouth_covered"] and (r["nose_covered"] or r["nose_out"]) for r in sel]
        per_source[src] = {
            "samples": len(sel),
            "coverage_percentiles": {
                str(q): round(float(np.percentile(cov, q)), 4) for q in (1, 10, 50, 90, 99)
            },
            "mouth_covered_share": round(float(np.mean([r["mouth_covered"] for r in sel])), 4),
            "nose_out_share": round(1 - len(nose_rows) / len(sel), 4),
            "mouth_and_nose_rule_share": round(float(np.mean(ok)), 4),
            "nose_covered_share_when_intended": round(
                float(np.mean([r["nose_covered"] for r in nose_rows])) if nose_rows else 1.0, 4
            ),
            "kinds": dict(Counter(r["mask_type"] for r in sel)),
        }
    return {
        "faces": len(results),
        "built": built,
        "skipped": len(results) - built,
        "built_share": round(built / max(len(results), 1), 4),
        "skip_reasons": dict(reasons),
        "samples": len(rows),
        "splits": dict(Counter(r["split"] for r in rows)),
        "faces_per_second": round(newly / seconds, 2) if seconds > 0 and newly else None,
        "mask_sources": per_source,
    }
