"""Prepare pixel-labelled masked faces (MaskedFace-Net style) as an aligned dataset.

Source layout (``../shared/data/masked-seg-train``)::

    SRC/CWM/images/NNNNN.jpg   correctly worn masks, 1024 x 1024 RGB
    SRC/CWM/masks/NNNNN_gt.png palette labels: black = background, (128,0,0) = face,
                               (0,128,0) = face mask
    SRC/IWM/...                incorrectly worn masks, same layout

Each face is found with dlib's CNN detector (HOG as a fallback) on a downscaled copy, its 68
points come from dlib's predictor run on the *masked* face (used only for alignment: the hidden
points are guesses), and the photo and its label map are warped onto the canonical template.
Output, in the format of ``unmask data build`` (``docs/dataset.md``), so that
:class:`~unmask.data.dataset.FaceMaskDataset` reads it::

    OUT/realseg.json          options used
    OUT/masked/<id>.jpg       aligned crop (also the ``clean`` image: there is no unmasked one)
    OUT/masks/<id>.png        face-mask pixels, 0/255
    OUT/labels/<id>.png       aligned label map: 0 background, 1 face, 2 face mask
    OUT/manifest.jsonl        one row per face (``mask_source`` = "real", ``mask_type`` = cwm/iwm)
    OUT/summary.json          counts, skip reasons, time

Splits come from a stable hash of the image number: about 30 % ``test`` (held out for
evaluation), 10 % ``val`` and 60 % ``train``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unmask.data.manifest import MANIFEST, face_id, split_of, write_lines

log = logging.getLogger(__name__)

#: Label colours (RGB) of the source maps, in class order background, face, face mask.
LABEL_COLOURS = ((0, 0, 0), (128, 0, 0), (0, 128, 0))
MASK_CLASS = 2
TEST_SHARE, VAL_SHARE = 0.3, 0.1


@dataclass(frozen=True)
class FoundFace:
    """A face found by :func:`find_face_68`: 68 points and box in the input's pixels."""

    landmarks: np.ndarray
    box: np.ndarray
    score: float
    detector: str


def find_face_68(
    image: np.ndarray,
    detectors: tuple[str, ...] = ("cnn", "hog"),
    detect_side: int = 256,
    pad: float = 0.2,
) -> FoundFace | None:
    """Find the most confident face and its 68 dlib points.

    The image is padded by ``pad`` of its longer side (replicated borders; rescues tight crops)
    and shrunk so that its longer side is ``detect_side`` for detection; the 68-point predictor
    runs at twice that scale. Detectors are tried in order until one finds a face.

    Args:
        image: ``H x W x 3`` uint8 RGB.
    Returns:
        :class:`FoundFace` in ``image`` pixels, or ``None``.
    """
    import cv2

    from unmask.faces.teacher import detect_dlib, shape

    h, w = image.shape[:2]
    off = int(round(pad * max(h, w)))
    work = cv2.copyMakeBorder(image, off, off, off, off, cv2.BORDER_REPLICATE) if off else image
    big = max(work.shape[:2])
    f_det = min(1.0, detect_side / big)
    f_lm = min(1.0, 2 * detect_side / big)
    small = cv2.resize(work, None, fx=f_det, fy=f_det, interpolation=cv2.INTER_AREA)
    mid = cv2.resize(work, None, fx=f_lm, fy=f_lm, interpolation=cv2.INTER_AREA)
    for kind in detectors:
        dets = detect_dlib(small, kind, 0 if kind == "cnn" else 1)
        inside = [(b, s) for b, s in dets if _centre_inside(b / f_det - off, w, h)]
        if inside:
            box, score = inside[0]
            lm = shape(mid, box * (f_lm / f_det), 68) / f_lm - off
            return FoundFace(lm.astype(np.float32), box / f_det - off, float(score), kind)
    return None


def _centre_inside(box: np.ndarray, w: int, h: int) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return 0 <= cx < w and 0 <= cy < h


def decode_labels(label_rgb: np.ndarray) -> np.ndarray:
    """``H x W x 3`` uint8 RGB label colours -> ``H x W`` uint8 class map (0 bg, 1 face,
    2 face mask); unknown colours go to the nearest label colour."""
    pal = np.array(LABEL_COLOURS, np.int32)
    d = ((label_rgb[:, :, None, :].astype(np.int32) - pal) ** 2).sum(-1)
    return d.argmin(-1).astype(np.uint8)


def warp_labels(classes: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Warp a class map with the photo->crop ``matrix`` by per-class area voting.

    Each class's indicator is shrunk with area averaging close to the crop's scale, warped
    bilinearly and the class with the largest share wins, so thin borders neither alias nor
    shift. Returns ``size x size`` uint8 classes (outside the photo: background).
    """
    import cv2

    n = len(LABEL_COLOURS)
    onehot = (classes[..., None] == np.arange(n)).astype(np.float32)
    m = np.asarray(matrix, np.float64).copy()
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if scale < 0.5:
        f = min(1.0, 2 * scale)
        onehot = cv2.resize(onehot, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        # pixel-centre convention: x_small = (x + 0.5) * f - 0.5
        m = m @ np.array([[1 / f, 0, (1 / f - 1) / 2], [0, 1 / f, (1 / f - 1) / 2], [0, 0, 1]])
    border = (1.0, 0.0, 0.0)
    out = cv2.warpAffine(
        onehot,
        m,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )
    return out.argmax(-1).astype(np.uint8)


def list_sources(src: str | Path) -> list[tuple[str, Path, Path]]:
    """``(mask_type, image, label)`` for every image of ``SRC/{CWM,IWM}/images`` with a label."""
    src = Path(src)
    out = []
    for sub in sorted(p for p in src.iterdir() if p.is_dir()):
        images = sub / "images"
        if not images.is_dir():
            continue
        for img in sorted(images.iterdir()):
            lab = sub / "masks" / f"{img.stem}_gt.png"
            if lab.is_file():
                out.append((sub.name.lower(), img, lab))
    return out


def _process(args: tuple) -> dict:
    """Align one labelled photo (runs in a worker). Returns ``{"key", "status", "reason",
    "row"}``."""
    import cv2
    from PIL import Image

    from unmask.faces.align import align
    from unmask.faces.landmarks import five_from_68
    from unmask.io import ImageError, load_image

    kind, img_path, lab_path, src, out, size, detect_side, pad = args
    cv2.setNumThreads(1)
    key = str(Path(img_path).relative_to(src))
    res = {"key": key, "status": "skipped", "reason": None, "row": None}
    try:
        image = load_image(img_path)
        labels = decode_labels(load_image(lab_path))
    except ImageError as exc:
        res["reason"] = exc.reason
        return res
    if labels.shape != image.shape[:2]:
        res["reason"] = "label size differs from image"
        return res
    found = find_face_68(image, detect_side=detect_side, pad=pad)
    if found is None:
        res["reason"] = "no face found"
        return res
    al = align(image, five_from_68(found.landmarks), size, border="blur")
    classes = warp_labels(labels, al.matrix, size)
    mask = (classes == MASK_CLASS).astype(np.uint8)
    if not mask.any():
        res["reason"] = "no mask pixels in the crop"
        return res
    ident = f"{kind}_{Path(img_path).stem}"
    Image.fromarray(al.crop).save(Path(out) / "masked" / f"{ident}.jpg", quality=95)
    Image.fromarray(mask * 255).save(Path(out) / "masks" / f"{ident}.png")
    Image.fromarray(classes).save(Path(out) / "labels" / f"{ident}.png")
    res["status"] = "built"
    res["row"] = {
        "id": ident,
        "face_id": face_id(key),
        "source": key,
        # The image number names the FFHQ face: CWM and IWM copies share a split.
        "split": split_of(Path(img_path).stem, val=VAL_SHARE, test=TEST_SHARE),
        "gender": None,
        "age": None,
        "size": size,
        "clean": f"masked/{ident}.jpg",
        "image": f"masked/{ident}.jpg",
        "mask": f"masks/{ident}.png",
        "labels": f"labels/{ident}.png",
        "landmarks": np.round(al.to_crop(found.landmarks).astype(np.float64), 2).tolist(),
        "landmarks_source": "dlib68 on the masked face (alignment only)",
        "teacher_score": round(found.score, 3),
        "detector": found.detector,
        "mask_source": "real",
        "mask_type": kind,
        "mask_params": {},
        "coverage": round(float(mask.mean()), 4),
    }
    return res


def prepare_realseg(
    src: str | Path,
    out: str | Path,
    size: int = 256,
    workers: int = 2,
    detect_side: int = 256,
    pad: float = 0.0,
    limit: int | None = None,
) -> dict:
    """Align every labelled photo of ``src`` into ``out`` (see the module docstring).

    Args:
        src: folder with ``CWM/`` and ``IWM/`` subfolders.
        out: output folder (rewritten; existing crops with the same ids are overwritten).
        size: aligned crop side in pixels.
        workers: processes (dlib runs one thread each).
        detect_side: longer side of the padded photo during face detection.
        pad: border added before detection, as a share of the longer side (the source photos
            are FFHQ-style with the face well inside, so none is needed).
        limit: only the first ``limit`` photos (for tests).
    Returns:
        The summary written to ``out/summary.json``: counts found / skipped per type, skip
        reasons, detector used, split sizes, coverage percentiles and seconds.
    """
    out = Path(out)
    for sub in ("masked", "masks", "labels"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    opts = {"src": str(src), "size": size, "detect_side": detect_side, "pad": pad, "limit": limit}
    (out / "realseg.json").write_text(json.dumps(opts, indent=2) + "\n")
    sources = list_sources(src)[:limit]
    jobs = [(k, i, lab, Path(src), str(out), size, detect_side, pad) for k, i, lab in sources]
    t0 = time.perf_counter()
    if workers <= 1 or len(jobs) < 2:
        results = [_process(j) for j in jobs]
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork" if os.name == "posix" else "spawn")
        with ctx.Pool(workers) as pool:
            results = list(pool.imap(_process, jobs, chunksize=4))
    seconds = time.perf_counter() - t0
    rows = sorted((r["row"] for r in results if r["row"]), key=lambda r: r["id"])
    write_lines(out / MANIFEST, rows)
    summary = _summary(sources, results, rows, seconds)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    log.info("realseg: %d of %d faces aligned in %.0f s", len(rows), len(sources), seconds)
    return summary


def _summary(sources: list, results: list[dict], rows: list[dict], seconds: float) -> dict:
    kinds = Counter(k for k, _, _ in sources)
    built = Counter(r["mask_type"] for r in rows)
    cov = np.array([r["coverage"] for r in rows]) if rows else np.zeros(1)
    return {
        "photos": len(sources),
        "built": len(rows),
        "skipped": len(sources) - len(rows),
        "per_type": {k: {"photos": n, "built": built.get(k, 0)} for k, n in sorted(kinds.items())},
        "skip_reasons": dict(Counter(r["reason"] for r in results if r["status"] != "built")),
        "skipped_files": [r["key"] for r in results if r["status"] != "built"],
        "detectors": dict(Counter(r["detector"] for r in rows)),
        "splits": dict(Counter(r["split"] for r in rows)),
        "coverage_percentiles": {
            str(q): round(float(np.percentile(cov, q)), 4) for q in (1, 10, 50, 90, 99)
        },
        "seconds": round(seconds, 1),
        "photos_per_second": round(len(sources) / seconds, 2) if seconds > 0 else None,
    }
