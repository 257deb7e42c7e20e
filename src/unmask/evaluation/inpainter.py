"""Evaluate the inpainter on the held-out test split against baselines, in one run.

Rows: the shipped (guided) model, an L1-only baseline, the unguided ablation (one row per seed),
OpenCV Telea and Navier-Stokes on the same masks. Columns: PSNR / SSIM / L1 over the hole and
the whole crop, the sharpness ratio (:mod:`unmask.metrics.images`); landmark NME between the
dlib teacher's 68 points on the output and on the ground truth (same HOG box, found on the
ground truth); gender agreement of an independent judge (the ``gender_judge`` weights, a
FaceAttrNet trained on clean crops and never used in the inpainter's losses) between output
and ground truth; identity similarity (cosine of dlib face-recognition embeddings); and a
Fréchet distance / KID on our own network's features (the judge's when present, else attr's).
Learned models are conditioned the way the pipeline does it: landmarks and calibrated P(female)
predicted by the ``attr`` stage on the masked crop. A :class:`Conditioner` can replace them
(a diagnostic: e.g. with the manifest's teacher landmarks, to measure what the predictions
cost).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Protocol

import numpy as np

from unmask.evaluation.dlib_compare import _Dlib
from unmask.evaluation.inpainter_report import MAIN_LABEL, comparison_sheet

log = logging.getLogger(__name__)


class Conditioner(Protocol):
    """Replaces the landmarks and P(female) the learned models are conditioned on.

    ``needs_attr``: whether it reads the attr network's predictions (else the attr network is
    not loaded and ``landmarks`` / ``p_female`` are ``None``); ``record``: what it did, added to
    the result; a call gets the predictions, the ``FaceMaskDataset`` batch and the number ``k``
    of its samples in use, and returns ``(landmarks, p_female)`` for those ``k``.
    """

    needs_attr: bool
    record: dict

    def __call__(self, landmarks, p_female, batch: dict, k: int) -> tuple: ...


def opencv_inpaint(crop: np.ndarray, mask: np.ndarray, method: str) -> np.ndarray:
    """OpenCV ``telea`` or ``ns`` inpainting of an ``S x S x 3`` uint8 crop (radius 3 px at 128)."""
    import cv2

    flag = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}[method]
    radius = max(1, round(3 * crop.shape[0] / 128))
    return cv2.inpaint(crop, (np.asarray(mask) > 0).astype(np.uint8), radius, flag)


def holes(inpainter, batch: dict, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The hole every method rebuilds for the first ``k`` samples of a ``FaceMaskDataset``
    batch (the face mask grown as ``inpainter``'s stage grows it) and the part of it that image
    figures count: the hole pixels inside the source photo, since the padding's ground truth is
    a mirror image no method can know (all of it for datasets without ``inside/`` maps). Both
    ``k x S x S`` uint8 {0, 1}."""
    masks = inpainter.hole(batch["mask"][:k, 0].numpy().astype(np.uint8))
    return masks, masks * batch["inside"][:k, 0].numpy().astype(np.uint8)


def _ms_per_image(inp, crop, mask, lm, repeats: int) -> float:
    inp(crop, mask, lm, 0.5)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        inp(crop, mask, lm, 0.5)
        times.append(1000 * (time.perf_counter() - t))
    return round(float(np.median(times)), 2)


class _Tally:
    """Per-method accumulators: image metrics, dlib comparisons, features, judge P(female)."""

    def __init__(self, names: list[str], feat_net, judge) -> None:
        self.names, self.feat_net, self.judge = names, feat_net, judge
        self.images = {k: [] for k in names}
        keys = ("nme_all", "nme_hidden", "identity", "identity_dist", "identity_match")
        self.dlib = {k: {key: [] for key in keys} for k in names}
        self.feats = {k: [] for k in [*names, "ground truth"]}
        self.p_female = {k: [] for k in [*names, "ground truth"]}
        self.ages: list[np.ndarray] = []

    def add_batch(self, outs: dict, gt: np.ndarray, masks: np.ndarray, ages: np.ndarray) -> None:
        from unmask.metrics.fid import attr_features
        from unmask.metrics.images import image_metrics

        self.ages.append(ages)
        for name, out in [*outs.items(), ("ground truth", gt)]:
            self.feats[name].append(attr_features(self.feat_net.net.module, out))
            if self.judge is not None:
                self.p_female[name].append(self.judge(out)[1])
            if name != "ground truth":
                self.images[name] += [
                    image_metrics(o, t, m) for o, t, m in zip(out, gt, masks, strict=True)
                ]

    def add_dlib(self, found: dict) -> None:
        for name, vals in found.items():
            for key, v in vals.items():
                self.dlib[name][key].append(v)

    def row(self, name: str) -> dict:
        from unmask.metrics.fid import frechet_distance, kernel_inception_distance
        from unmask.metrics.gender import agreement_groups
        from unmask.metrics.images import summarize

        row = summarize(self.images[name])
        for key, vals in self.dlib[name].items():
            row[key] = float(np.mean(vals)) if vals else float("nan")
        row["identity_n"] = len(self.dlib[name]["identity"])
        if self.judge is not None:
            pj, pg = (np.concatenate(self.p_female[k]) for k in (name, "ground truth"))
            groups = agreement_groups((pj >= 0.5) == (pg >= 0.5), np.concatenate(self.ages), pg)
            row["gender_agreement"] = groups["all"]
            names = {"adults": "_adults", "judge_sure": "_sure"}
            row.update({f"gender_agreement{s}": groups[k] for k, s in names.items() if k in groups})
            row["gender_sure_share"] = groups["sure_share"]
        f, g = (np.concatenate(self.feats[k]) for k in (name, "ground truth"))
        row["fid"] = frechet_distance(f, g)
        if len(f) >= 2:
            row["kid"] = kernel_inception_distance(f, g, subset_size=min(500, len(f)))[0]
        return row


def _networks(attr_dir, judge_dir, needs_attr: bool, notes: list[str]):
    """The attr stage (for conditioning; None when ``needs_attr`` is false), the independent
    gender judge (None when absent, with a note), and the feature network for FID/KID."""
    from unmask.stages.attr import FaceAttributes

    attr = FaceAttributes.from_weights(attr_dir, backend="torch") if needs_attr else None
    judge = None
    try:
        judge = FaceAttributes.from_weights(judge_dir, name="gender_judge", backend="torch")
    except FileNotFoundError as exc:
        notes.append(f"gender agreement skipped: no independent judge ({exc})")
    if judge is not None:
        return attr, judge, judge, "gender_judge"
    notes.append("FID/KID use the attr network, which the guided losses also used")
    return attr, None, attr or FaceAttributes.from_weights(attr_dir, backend="torch"), "attr"


def evaluate(
    dataset: str | Path,
    weights_dir: str | Path | None = None,
    *,
    label: str = MAIN_LABEL,
    l1_dir: str | Path | None = None,
    ablation_dirs: tuple = (),
    others: tuple = (),
    judge_dir: str | Path | None = None,
    attr_dir: str | Path | None = None,
    split: str = "test",
    condition: Conditioner | None = None,
    limit: int | None = None,
    identity_limit: int | None = 500,
    teacher_size: int = 256,
    sheet_path: str | Path | None = None,
    sheet_rows: int = 8,
    timing_repeats: int = 20,
    onnx_rows: bool = False,
    destripe_rows: bool = False,
) -> dict:
    """All inpainting metrics on ``split`` of a built dataset; optionally write the comparison
    sheet PNG to ``sheet_path``.

    Args:
        weights_dir, l1_dir, ablation_dirs: folders holding ``inpainter.*`` of the shipped model,
            the L1-only baseline and each unguided-ablation seed.
        label: the row label of the ``weights_dir`` model, whose row the acceptance bars
            are evaluated on (default ``"shipped (guided)"``).
        others: ``(label, folder)`` pairs of further inpainters to put beside them (e.g. a
            fine-tuned candidate); labels must differ from the other rows'.
        judge_dir: folder with ``gender_judge.*``; attr_dir: folder with ``attr.*``.
        condition: a diagnostic :class:`Conditioner` replacing the predicted conditioning
            (default: none, as the pipeline).
        limit: evaluate the first ``limit`` samples only; identity_limit: cap on the samples
            that get the (slow) dlib identity embeddings (``None`` = all).
        timing_repeats: batch-1 runs per learned model for its median ms (0 skips timing).
        onnx_rows: also score each learned model's ``.onnx`` file (what the pipeline runs by
            default, int8 arithmetic where exported so) as a row ``"<label> (onnx)"``.
        destripe_rows: also score each learned model with its output destriped
            (:func:`unmask.stages.inpaint.destripe`) as a row ``"<label> (destriped)"``.
    """
    from torch.utils.data import DataLoader

    from unmask.data.dataset import FaceMaskDataset
    from unmask.metrics.fid import frechet_distance
    from unmask.metrics.landmarks import nme_groups
    from unmask.runtime.backend import from_nchw
    from unmask.stages.inpaint import Inpainter

    models = [(label, weights_dir)]
    models += [("L1-only baseline", l1_dir)] if l1_dir else []
    models += [(f"unguided ablation s{i}", d) for i, d in enumerate(ablation_dirs)]
    learned: dict = {}
    for name, d in [*models, *others]:
        if name in learned or name in ("OpenCV Telea", "OpenCV NS"):
            raise ValueError(f"row label {name!r} is taken; choose another")
        learned[name] = Inpainter.from_weights(d, backend="torch")
    if onnx_rows:
        for name, d in [*models, *others]:
            learned[f"{name} (onnx)"] = Inpainter.from_weights(d, backend="onnx")
    if destripe_rows:
        for name, d in [*models, *others]:
            learned[f"{name} (destriped)"] = Inpainter.from_weights(
                d, backend="torch", destripe=True
            )
    names = [*learned, "OpenCV Telea", "OpenCV NS"]
    main = learned[label]
    size = main.image_size
    notes: list[str] = []
    needs_attr = condition is None or condition.needs_attr
    attr, judge, feat_net, feat_name = _networks(attr_dir, judge_dir, needs_attr, notes)
    ds = FaceMaskDataset(dataset, split, size, None)
    n_total = len(ds) if limit is None else min(limit, len(ds))
    sheet_idx = set(np.linspace(0, n_total - 1, min(sheet_rows, n_total)).astype(int).tolist())
    dl = _Dlib.create(size, teacher_size, notes)
    tally = _Tally(names, feat_net, judge)
    cond_lm, true_lm, sheet, no_box, seen, probe = [], [], [], 0, 0, None
    hole_px = [0, 0]  # hole pixels, of them inside the photo
    for b in DataLoader(ds, 32, shuffle=False, num_workers=0):
        k = min(len(b["index"]), n_total - seen)
        if k <= 0:
            break
        masked, gt = from_nchw(b["masked"][:k]), from_nchw(b["clean"][:k])
        masks, scored = holes(main, b, k)
        hole_px[0] += int(masks.sum())
        hole_px[1] += int(scored.sum())
        true_lm.append(b["landmarks"][:k].numpy())
        lm, p = attr(masked) if attr is not None else (None, None)
        if condition is not None:
            lm, p = condition(lm, p, b, k)
        probe = probe or (masked[0], masks[0], lm[0])
        cond_lm.append(lm)
        outs = {name: inp.batch(masked, masks, lm, p) for name, inp in learned.items()}
        for name, method in (("OpenCV Telea", "telea"), ("OpenCV NS", "ns")):
            outs[name] = np.stack(
                [opencv_inpaint(c, m, method) for c, m in zip(masked, masks, strict=True)]
            )
        tally.add_batch(outs, gt, scored, b["age"][:k].numpy())
        for i in range(k):
            if dl is not None:
                with_id = identity_limit is None or seen + i < identity_limit
                found = dl.compare(gt[i], {n: o[i] for n, o in outs.items()}, with_id)
                no_box += found is None
                tally.add_dlib(found or {})
            if seen + i in sheet_idx:
                sheet.append([masked[i], gt[i]] + [outs[name][i] for name in names])
        seen += k
        log.info("evaluated %d / %d", seen, n_total)
    res: dict = {
        "main": label,
        "split": split,
        "samples": seen,
        "size": size,
        "conditioning": "predicted",
        **(condition.record if condition is not None else {}),
        "feature_net": feat_name,
        "no_teacher_box": no_box,
        "hole_inside_share": hole_px[1] / max(1, hole_px[0]),
        "identity_limit": identity_limit,
        "notes": notes,
        "conditioning_nme": nme_groups(np.concatenate(cond_lm), np.concatenate(true_lm)),
        "rows": {name: tally.row(name) for name in names},
    }
    gt_f = np.concatenate(tally.feats["ground truth"])
    if len(gt_f) >= 4:
        res["fid_real_halves"] = frechet_distance(gt_f[: len(gt_f) // 2], gt_f[len(gt_f) // 2 :])
    res["ms_per_image"] = (
        {n: _ms_per_image(inp, *probe, timing_repeats) for n, inp in learned.items()}
        if timing_repeats > 0
        else {}
    )
    res["params"] = {n: inp.net.num_params for n, inp in learned.items() if inp.net.num_params}
    if sheet_path:
        from unmask.io import save_image

        save_image(sheet_path, comparison_sheet(["masked", "ground truth", *names], sheet))
        res["sheet"] = str(sheet_path)
    return res
