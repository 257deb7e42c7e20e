"""Photo-resolution evaluation: the rebuilt face as the user gets it, in the photo's own grid.

A test set is made from unmasked face photos of a held-out split: the dlib teacher finds each
face's 68 landmarks on the unmasked photo, and the synthetic mask engine draws a mask on it,
ear loops included. ``unmask run``'s pipeline (:class:`~unmask.api.Unmasker`) then rebuilds the
masked photo, and every figure compares the output with the unmasked photo inside the pasted
mask ``M`` (``H x W``, alpha > 0.5, loops included):

* ``sharpness``: mean |Laplacian| of output over that of the truth inside ``M`` eroded by 2 %
  of its size (summed over the set, as :func:`unmask.metrics.images.summarize` does);
* ``tone_de``: mean CIELAB ΔE76 inside ``M`` between output and truth, both blurred by a
  Gaussian of 2 % of ``M``'s size (square root of its area);
* ``leftover``: share of ``M`` outside the rebuilt hole;
* ``psnr`` / ``ssim`` inside ``M``;
* ``changed_outside``: pixels outside ``M`` grown by 2 px whose value differs at all from the
  masked input, as a share of ``M``'s area;
* ``identity``: Euclidean distance of dlib's face embedding of the output to the truth's, both
  computed on the truth's 68 landmarks (so alignment is not what is judged), and rank-1
  identification of each output among all truths of the set;
* ``mouth``: mouth openness (inner-lip gap over nose-to-chin height) of the predicted landmarks
  against the truth's: the ratio of their spreads and their correlation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def build_set(
    faces_dir: str | Path,
    out: str | Path,
    split: str = "test",
    limit: int | None = None,
    templates: str | Path | None = None,
    seed: int = 0,
) -> dict:
    """Write ``OUT/<id>/{truth,masked}.png``, ``mask.png`` (0/255) and ``OUT/index.json``.

    Args:
        faces_dir: folder of unmasked face photos (e.g. UTKFace); the split of each file is the
            dataset builder's (:func:`unmask.data.manifest.split_of` of its name), so a test
            photo here is never a training photo there.
        split: ``"test"`` or ``"val"``.
        limit: at most this many photos (the first of the split by name).
        templates: MaskTheFace template folder; template masks join the procedural ones.
    Returns:
        The index: ``{"photos": [{"id", "landmarks", "kind"}], "skipped": n}``.
    """
    from unmask.data.face_sources import split_photos
    from unmask.faces.teacher import teacher_landmarks
    from unmask.io import load_image, save_image
    from unmask.masking.compose import MaskMix
    from unmask.masking.procedural import ProceduralMasks

    sources, weights = [ProceduralMasks(loop_prob=1.0)], [1.0]
    if templates is not None:
        from unmask.masking.templates import TemplateMasks

        sources.append(TemplateMasks(templates))
        weights.append(1.0)
    mix = MaskMix(sources, weights)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows, skipped = [], 0
    for k, path in enumerate(split_photos(faces_dir, split, limit)):
        image = load_image(path)
        found = teacher_landmarks(image)
        if found is None:
            skipped += 1
            continue
        lm = found[0]
        try:
            masked = mix.apply(image, lm, np.random.default_rng([seed, k]))
        except ValueError:
            skipped += 1
            continue
        pid = path.stem
        (out / pid).mkdir(exist_ok=True)
        save_image(out / pid / "truth.png", image)
        save_image(out / pid / "masked.png", masked.image)
        save_image(out / pid / "mask.png", masked.mask * 255)
        rows.append({"id": pid, "landmarks": np.round(lm, 2).tolist(), "kind": masked.kind})
    index = {"split": split, "photos": rows, "skipped": skipped}
    (out / "index.json").write_text(json.dumps(index))
    return index


def scaled_set(set_dir: str | Path, factor: float) -> Path:
    """A copy of a set made by :func:`build_set` with every photo resized by ``factor`` (truth
    and masked photo by area, the mask by area then thresholded at half, landmarks scaled),
    written beside it as ``<set_dir>-x<factor>`` and reused when it is there: faces smaller
    than the inpainter's model grid, with their truth.

    Returns:
        The copy's folder.
    """
    import cv2

    from unmask.io import load_image, save_image

    if not 0 < factor < 1:
        raise ValueError(f"the scale must lie between 0 and 1, got {factor}")
    set_dir = Path(set_dir)
    out = set_dir.with_name(f"{set_dir.name}-x{factor:g}")
    if (out / "index.json").is_file():
        return out
    index = json.loads((set_dir / "index.json").read_text())
    rows = []
    for row in index["photos"]:
        src, dst = set_dir / row["id"], out / row["id"]
        dst.mkdir(parents=True, exist_ok=True)
        for name in ("truth.png", "masked.png"):
            image = load_image(src / name)
            small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
            save_image(dst / name, small)
        mask = load_image(src / "mask.png")[..., 0].astype(np.float32) / 255
        mask = cv2.resize(mask, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        save_image(dst / "mask.png", (mask > 0.5).astype(np.uint8) * 255)
        lm = (np.asarray(row["landmarks"], np.float64) + 0.5) * factor - 0.5
        rows.append({**row, "landmarks": np.round(lm, 2).tolist()})
    (out / "index.json").write_text(json.dumps({**index, "photos": rows, "scale": factor}))
    return out


def _blur_lab(img: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    f = cv2.GaussianBlur(img.astype(np.float32) / 255.0, (0, 0), max(sigma, 0.5))
    return cv2.cvtColor(f, cv2.COLOR_RGB2LAB)


def _mouth_open(lm: np.ndarray) -> float:
    gap = np.linalg.norm(lm[[61, 62, 63]] - lm[[67, 66, 65]], axis=1).mean()
    return float(gap / max(np.linalg.norm(lm[8] - lm[27]), 1e-6))


def photo_metrics(out: np.ndarray, truth: np.ndarray, masked: np.ndarray, mask, hole) -> dict:
    """The per-photo figures of the module docstring (identity and mouth apart).

    Args:
        out, truth, masked: ``H x W x 3`` uint8 RGB output, unmasked truth, masked input.
        mask: ``H x W`` pasted mask (nonzero = mask); hole: the pipeline's rebuilt hole.
    """
    import cv2

    from unmask.metrics.images import erode, laplacian_energy, psnr, ssim

    m = np.asarray(mask) > 0
    area = int(m.sum())
    size = np.sqrt(max(area, 1))
    region = erode(m, max(1, round(0.02 * size)))
    de = np.linalg.norm(_blur_lab(out, 0.02 * size) - _blur_lab(truth, 0.02 * size), axis=-1)
    grown = cv2.dilate(m.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    changed = (np.abs(out.astype(np.int16) - masked).max(-1) > 0) & ~grown
    return {
        "lap_out": laplacian_energy(out, region),
        "lap_gt": laplacian_energy(truth, region),
        "tone_de": float(de[m].mean()),
        "leftover": float((m & ~(np.asarray(hole) > 0)).sum() / max(area, 1)),
        "psnr": psnr(out, truth, m),
        "ssim": ssim(out, truth, m),
        "changed_outside": float(changed.sum() / max(area, 1)),
    }


def telea(masked: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """OpenCV Telea inpainting of ``hole`` at the photo's resolution (radius 3 px)."""
    import cv2

    return cv2.inpaint(masked, (np.asarray(hole) > 0).astype(np.uint8), 3, cv2.INPAINT_TELEA)


def evaluate(
    set_dir: str | Path,
    variants: dict[str, Callable],
    limit: int | None = None,
    identity: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Score each variant on a set made by :func:`build_set`.

    Args:
        variants: name -> ``Unmasker``-like callable (``masked photo -> Result``); the name
            ``"telea"`` with value ``None`` means OpenCV Telea on the first variant's hole.
    Returns:
        ``{"n": photos, "variants": {name: figures}}``; figures are means over photos except
        ``sharpness`` (ratio of sums) and ``rank1``.
    """
    from unmask.io import load_image

    set_dir = Path(set_dir)
    rows = json.loads((set_dir / "index.json").read_text())["photos"][:limit]
    per = {name: [] for name in variants}
    emb = {name: [] for name in [*variants, "masked"]}
    emb_gt, mouth_gt = [], []
    mouth = {name: [] for name, run in variants.items() if run is not None}
    learned = next(n for n, v in variants.items() if v is not None)
    for i, row in enumerate(rows):
        d = set_dir / row["id"]
        truth, masked = load_image(d / "truth.png"), load_image(d / "masked.png")
        mask = load_image(d / "mask.png")[..., 0] > 127
        lm_gt = np.asarray(row["landmarks"], np.float32)
        holes = {}
        for name, run in sorted(variants.items(), key=lambda kv: kv[1] is None):
            if run is None:  # Telea fills the first learned variant's hole
                out, hole = telea(masked, holes[learned]), holes[learned]
            else:
                res = run(masked)
                out, hole = res.restored, res.mask
                holes[name] = hole
                lm = res.faces[0].landmarks if res.faces else None
                mouth[name].append(float("nan") if lm is None else _mouth_open(lm))
            per[name].append(photo_metrics(out, truth, masked, mask, hole))
            if identity:
                emb[name].append(_embed(out, lm_gt))
        mouth_gt.append(_mouth_open(lm_gt))
        if identity:
            emb_gt.append(_embed(truth, lm_gt))
            emb["masked"].append(_embed(masked, lm_gt))
        if progress:
            progress(i + 1, len(rows))
    res = {"n": len(rows), "variants": {}}
    for name, recs in per.items():
        fig = _aggregate(recs)
        if identity:
            fig.update(_identity(np.array(emb[name]), np.array(emb_gt)))
        if name in mouth:
            fig.update(_mouth_stats(np.array(mouth[name]), np.array(mouth_gt)))
        res["variants"][name] = fig
    if identity:
        res["variants"]["masked input"] = _identity(np.array(emb["masked"]), np.array(emb_gt))
    return res


def _embed(img: np.ndarray, lm: np.ndarray) -> np.ndarray:
    from unmask.faces.teacher import face_descriptor

    return face_descriptor(img, lm)


def _aggregate(recs: Sequence[dict]) -> dict:
    keys = ("tone_de", "leftover", "psnr", "ssim", "changed_outside")
    fig = {k: float(np.nanmean([r[k] for r in recs])) for k in keys}
    fig["changed_outside_median"] = float(np.nanmedian([r["changed_outside"] for r in recs]))
    fig["leftover_p90"] = float(np.nanpercentile([r["leftover"] for r in recs], 90))
    fig["sharpness"] = float(
        np.nansum([r["lap_out"] for r in recs]) / max(np.nansum([r["lap_gt"] for r in recs]), 1e-12)
    )
    return fig


def _identity(e: np.ndarray, gt: np.ndarray) -> dict:
    dist = np.linalg.norm(e[:, None] - gt[None], axis=-1)
    return {
        "identity_dist": float(np.mean(np.diag(dist))),
        "rank1": float(np.mean(dist.argmin(1) == np.arange(len(gt)))),
    }


def _mouth_stats(pred: np.ndarray, gt: np.ndarray) -> dict:
    ok = np.isfinite(pred)
    if ok.sum() < 3:
        return {}
    return {
        "mouth_spread_ratio": float(np.std(pred[ok]) / max(np.std(gt[ok]), 1e-9)),
        "mouth_corr": float(np.corrcoef(pred[ok], gt[ok])[0, 1]),
    }


ROWS = (
    ("sharpness", "sharpness ratio (bar 0.8–1.25)", "{:.2f}"),
    ("tone_de", "tone ΔE (bar ≤ 8)", "{:.1f}"),
    ("leftover", "mask left (bar ≤ 1 %)", "{:.2%}"),
    ("psnr", "PSNR in the mask, dB", "{:.2f}"),
    ("ssim", "SSIM in the mask", "{:.3f}"),
    ("changed_outside", "changed outside mask + 2 px (bar ≤ 3 %)", "{:.1%}"),
    ("identity_dist", "identity distance to the truth", "{:.3f}"),
    ("rank1", "rank-1 identification", "{:.2f}"),
    ("mouth_spread_ratio", "mouth openness spread / truth's", "{:.2f}"),
    ("mouth_corr", "mouth openness correlation", "{:.2f}"),
)


def markdown(res: dict) -> str:
    """A table of :func:`evaluate`'s figures, one column per variant."""
    names = list(res["variants"])
    lines = [
        f"{res['n']} photos",
        "",
        "| figure | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for key, label, fmt in ROWS:
        cells = [res["variants"][n].get(key) for n in names]
        if all(c is None for c in cells):
            continue
        shown = ["—" if c is None else fmt.format(c) for c in cells]
        lines.append(f"| {label} | " + " | ".join(shown) + " |")
    return "\n".join(lines) + "\n"
