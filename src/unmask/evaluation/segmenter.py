"""Evaluate a face-mask segmenter: raw IoU / Dice / boundary F, leftover and extra area after
post-processing, per mask type, on any number of (folder, split) sets; CPU milliseconds per
face; and a preview sheet on real photos without labels."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from unmask.api import MIN_COVERAGE
from unmask.augment.darken import darken
from unmask.metrics.masks import MaskScores
from unmask.runtime.backend import from_nchw

log = logging.getLogger(__name__)

#: The default evaluation sets: label -> (dataset folder, split[, variant]); variants in
#: :data:`VARIANTS`.
DEFAULT_SETS = {
    "synthetic test": ("data/utk256", "test"),
    "synthetic test, dark mask and surroundings": ("data/utk256", "test", "dark"),
    "synthetic test, unmasked originals": ("data/utk256", "test", "clean"),
    "real-label held-out": ("data/realseg256", "test"),
}
#: Fraction of the crop a prediction may mark on an unmasked face before it counts as marked.
MARKED_AT = 0.01


def _as_stored(b: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    true = b["mask"][:, 0].numpy().astype(np.uint8)
    return from_nchw(b["masked"]), true, np.ones(len(true), bool)


def _dark(b: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    crops, true, keep = _as_stored(b)
    lms = b["landmarks"].numpy()
    crops = np.stack([darken(c, t, lm) for c, t, lm in zip(crops, true, lms, strict=True)])
    return crops, true, keep


def _clean(b: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from unmask.validation.segmenter import has_unmasked_original

    keep = has_unmasked_original(b).numpy()
    crops = from_nchw(b["clean"][keep])
    return crops, np.zeros((len(crops), *crops.shape[1:3]), np.uint8), keep


#: Set variants: name -> ``batch -> (crops, true masks, which batch rows they are)``.
#: ``"dark"`` scales each crop's mask by 0.18 and its lower surroundings by 0.2
#: (:func:`unmask.augment.darken.darken`): black masks against dark clothes, as on real photos.
#: ``"clean"`` shows the unmasked originals (synthetic masks only) with empty targets: any
#: mark there is a false one, and the pipeline would rebuild a face that was not hidden.
VARIANTS = {"dark": _dark, "clean": _clean}


def _score_set(
    seg, folder: str | Path, split: str, size: int, limit: int | None, variant: str | None = None
) -> dict:
    """Score ``seg`` on one split of a dataset folder (crops resized to ``size``), as stored
    or as ``variant`` (see :data:`VARIANTS`)."""
    from torch.utils.data import DataLoader

    from unmask.data.dataset import FaceMaskDataset
    from unmask.validation.segmenter import spaced_subset

    if variant is not None and variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {sorted(VARIANTS)}")
    ds = FaceMaskDataset(folder, split, size, None)
    rows = ds.rows
    ds = spaced_subset(ds, limit)
    raw, post = MaskScores(), MaskScores(boundary_f=False)
    kinds: list[str] = []  # mask type of each scored image, in scoring order
    marked: list[np.ndarray] = []  # share of each crop marked after post-processing
    for b in DataLoader(ds, 32):
        crops, true, keep = VARIANTS.get(variant, _as_stored)(b)
        if not len(crops):
            continue
        prob = seg.predict_prob(crops)
        pred = seg.postprocess(prob)
        raw.add(prob >= 0.5, true)
        post.add(pred, true)
        marked.append((pred > 0).mean(axis=(1, 2)))
        kinds += [rows[i]["mask_type"] for i in b["index"][keep].tolist()]
    if not kinds:
        raise ValueError(f"{folder} ({split}) has no crops to score as {variant or 'stored'}")
    area = np.concatenate(marked)
    out = {"n": len(kinds), "raw": raw.summary(), "post": post.summary()}
    out["marked"] = {
        "area": float(area.mean()),
        "share": float((area > MARKED_AT).mean()),
        "rebuilt": float((area >= MIN_COVERAGE).mean()),
    }
    if variant == "clean":
        return out
    out["by_type"] = {}
    for kind in sorted(set(kinds)):
        sel = [k for k, x in enumerate(kinds) if x == kind]
        out["by_type"][kind] = {
            "n": len(sel),
            "iou": float(np.mean([raw.rows[k]["iou"] for k in sel])),
            "leftover_post": float(np.nanmean([post.rows[k]["leftover"] for k in sel])),
            "extra_area_post": float(np.nanmean([post.rows[k]["extra_area"] for k in sel])),
        }
    return out


def evaluate(
    weights_dir: str | Path | None = None,
    name: str = "segmenter",
    datasets: dict[str, tuple[str, str]] | None = None,
    size: int | None = None,
    limit: int | None = None,
    timing: bool = True,
) -> dict:
    """Metrics of the segmenter weights ``name`` on each set.

    Args:
        weights_dir: folder with ``<name>.safetensors`` / ``.json`` (default lookup otherwise).
        name: ``"segmenter"`` (U-Net) or ``"segmenter_maskrcnn"``.
        datasets: label -> ``(folder, split)`` or ``(folder, split, variant)``; default
            :data:`DEFAULT_SETS`.
        size: side at which crops and true masks are compared (default: the model's side;
            other sides go through the same resizing as the pipeline).
        limit: at most this many images per set (evenly spaced).
        timing: measure CPU milliseconds per face (batch 1, 1 and 2 threads).
    Returns:
        ``{"stage", "arch", "params", "weights_mb", "postprocess", "size", "sets": {label:
        {"n", "raw": {iou, dice, bf, leftover, extra_area, *_pooled}, "post": {...},
        "marked": {"area", "share", "rebuilt"}, "by_type": {...}}}, "cpu_ms_per_face":
        {...}}``; raw = the prediction thresholded at 0.5, post = after the stored
        post-processing; marked = the mean share of the crop marked after post-processing, the
        share of crops where it exceeds :data:`MARKED_AT`, and the share where it reaches
        :data:`unmask.api.MIN_COVERAGE`, so that the pipeline would rebuild the face.
        ``"clean"`` sets have no ``by_type``; their raw IoU is the share of crops left entirely
        empty.
    """
    from unmask.runtime import weights
    from unmask.stages.segment import Segmenter

    info = weights.find(name, weights_dir)
    seg = Segmenter.from_weights(weights_dir, name, backend="torch")
    size = size or seg.image_size
    res = {
        "stage": name,
        "arch": info.arch,
        "weights": str(info.path),
        "params": seg.net.num_params,
        "weights_mb": round(info.path.stat().st_size / 2**20, 2),
        "postprocess": seg.params.to_dict(),
        "size": size,
        "sets": {},
    }
    for label, (folder, split, *variant) in (datasets or DEFAULT_SETS).items():
        log.info("scoring %s (%s, %s)", label, folder, split)
        res["sets"][label] = _score_set(seg, folder, split, size, limit, *variant)
    if timing:
        from unmask.evaluation.attr import cpu_ms_per_face

        res["cpu_ms_per_face"] = cpu_ms_per_face(seg)
    return res


def markdown(res: dict) -> str:
    """A markdown table of :func:`evaluate` results."""
    pp = res["postprocess"]
    lines = [
        f"**{res['stage']}** ({res['arch']}, {res['params'] / 1e6:.2f} M parameters, "
        f"{res['weights_mb']} MB); compared at {res['size']} px; post-processing: threshold "
        f"{pp['threshold']}, dilation {pp['dilate'] * res['size']:.1f} px, fill holes "
        f"{pp['fill_holes']}\n\n",
    ]
    clean = {k: s for k, s in res["sets"].items() if "by_type" not in s}
    if len(clean) < len(res["sets"]):
        lines.append(
            "| set | n | IoU | Dice | boundary F | leftover raw | leftover post (pooled) "
            "| extra area post |\n|---|---|---|---|---|---|---|---|\n"
        )
    for label, s in res["sets"].items():
        if label in clean:
            continue
        r, p = s["raw"], s["post"]
        lines.append(
            f"| {label} | {s['n']} | {r['iou']:.4f} | {r['dice']:.4f} | {r['bf']:.4f} | "
            f"{100 * r['leftover']:.2f}% | {100 * p['leftover']:.2f}% "
            f"({100 * p['leftover_pooled']:.2f}%) | {100 * p['extra_area']:.1f}% |\n"
        )
        for kind, k in s["by_type"].items():
            lines.append(
                f"| &nbsp;&nbsp;{kind} | {k['n']} | {k['iou']:.4f} | | | | "
                f"{100 * k['leftover_post']:.2f}% | {100 * k['extra_area_post']:.1f}% |\n"
            )
    if clean:
        lines.append(
            "\nUnmasked faces (empty targets: every mark is false)\n\n| set | n | left empty "
            f"(raw) | marked > {MARKED_AT:.0%} of the crop (post) | mean area marked (post) | "
            f"rebuilt by the pipeline (marked >= {MIN_COVERAGE:.0%}) |\n"
            "|---|---|---|---|---|---|\n"
        )
        for label, s in clean.items():
            lines.append(
                f"| {label} | {s['n']} | {s['raw']['iou']:.1%} | {s['marked']['share']:.1%} | "
                f"{s['marked']['area']:.2%} | {s['marked']['rebuilt']:.1%} |\n"
            )
    if "cpu_ms_per_face" in res:
        ms = res["cpu_ms_per_face"]
        lines.append(
            f"\nCPU ms per face (batch 1, incl. resize and post-processing): 1 thread p50 "
            f"{ms['threads_1']['p50']} / p95 {ms['threads_1']['p95']}; 2 threads p50 "
            f"{ms['threads_2']['p50']} / p95 {ms['threads_2']['p95']}\n"
        )
    return "".join(lines)


def preview_real(
    weights_dir: str | Path | None = None,
    name: str = "segmenter",
    folder: str | Path = "../shared/data/masked-real-dev",
    n: int = 24,
    size: int = 256,
    per_row: int = 4,
    seed: int = 0,
) -> tuple[np.ndarray, list[str]]:
    """Sheet of the segmenter on real photos (no labels): per face, aligned crop | overlay.

    Faces are found with dlib's CNN detector (HOG as a fallback) and aligned with the 68-point
    predictor, which is unreliable under a mask; the project's own masked-face detector will
    replace this. ``n`` photos are drawn at random (``seed``) from ``folder``.

    Returns:
        ``(sheet, missing)``: RGB uint8 sheet with ``per_row`` faces per row, and the names of
        the photos where no face was found.
    """
    from unmask.data.realseg import find_face_68
    from unmask.faces.align import align
    from unmask.faces.landmarks import five_from_68
    from unmask.inputs import is_image_path
    from unmask.io import ImageError, load_image
    from unmask.stages.segment import Segmenter
    from unmask.viz import grid, overlay_mask

    seg = Segmenter.from_weights(weights_dir, name, backend="torch")
    files = sorted(p for p in Path(folder).iterdir() if is_image_path(p))
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(files), size=min(n, len(files)), replace=False))
    tiles, missing = [], []
    for i in pick:
        try:
            image = load_image(files[i])
        except ImageError as exc:
            missing.append(f"{files[i].name} ({exc.reason})")
            continue
        found = find_face_68(image)
        if found is None:
            missing.append(files[i].name)
            continue
        crop = align(image, five_from_68(found.landmarks), size, border="blur").crop
        tiles += [crop, overlay_mask(crop, seg(crop))]
    if not tiles:
        raise ValueError(f"no face found in the {len(pick)} photos drawn from {folder}")
    k = 2 * per_row
    rows = [tiles[j : j + k] for j in range(0, len(tiles), k)]
    log.info("preview: %d faces, %d photos without a face", len(tiles) // 2, len(missing))
    return grid(rows, size=min(size, 192)), missing
