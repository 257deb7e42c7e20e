"""Evaluate the gender + landmark network on the held-out test split, with breakdowns by age,
mask source and mask type, the dlib 68-point teacher run on the masked crop as a baseline, and
CPU milliseconds per face."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def _group_metrics(p: dict, sel: np.ndarray, temperature: float) -> dict:
    from unmask.validation.attr import summarize

    sub = {k: v[sel] for k, v in p.items()}
    out = summarize(sub, temperature) if sel.any() else {}
    out["n"] = int(sel.sum())
    return out


def dlib_baseline(dataset: Path, rows: list[dict], limit: int | None = None) -> dict:
    """dlib's 68-point predictor on the *masked* crop, given the box HOG finds on the clean crop.

    Returns NME groups over the rows where HOG found the clean face, and that count.
    """
    from PIL import Image

    from unmask.faces import teacher
    from unmask.metrics.landmarks import nme_groups

    preds, targets = [], []
    for r in rows[:limit]:
        clean = np.asarray(Image.open(dataset / r["clean"]).convert("RGB"))
        masked = np.asarray(Image.open(dataset / r["image"]).convert("RGB"))
        dets = teacher.detect_dlib(clean, "hog", 1)
        if not dets:
            continue
        preds.append(teacher.shape(masked, dets[0][0], 68))
        targets.append(np.asarray(r["landmarks"], np.float32))
    if not preds:
        return {"n": 0}
    return {"n": len(preds), **{f"nme_{k}": v for k, v in nme_groups(preds, targets).items()}}


def cpu_ms_per_face(attr, repeats: int = 30) -> dict:
    """Median and p95 milliseconds for one aligned crop, with 1 and 2 torch threads (an ONNX
    net runs on its own session threads in both)."""
    import torch

    crop = (np.random.default_rng(0).random((attr.image_size,) * 2 + (3,)) * 255).astype(np.uint8)
    res = {}
    old = torch.get_num_threads()
    for threads in (1, 2):
        torch.set_num_threads(threads)
        attr(crop)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            attr(crop)
            times.append(1000 * (time.perf_counter() - t))
        res[f"threads_{threads}"] = {
            "p50": round(float(np.median(times)), 2),
            "p95": round(float(np.percentile(times, 95)), 2),
        }
    torch.set_num_threads(old)
    return res


def evaluate(
    dataset: str | Path,
    weights_dir: str | Path | None = None,
    split: str = "test",
    held_out_kinds: tuple[str, ...] = (),
    baseline_limit: int | None = 600,
    workers: int = 1,
    name: str = "attr",
    inputs: str = "masked",
    backend: str = "torch",
) -> dict:
    """All gender and landmark metrics on ``split`` of a built dataset.

    Args:
        dataset: built dataset folder.
        weights_dir: folder with ``attr.*`` (default lookup otherwise).
        held_out_kinds: mask kinds the model never saw in training, reported separately.
        baseline_limit: samples for the (slow) dlib baseline; ``None`` for all.
        name: weights name (``gender_judge`` for the inpainter's independent judge).
        inputs: ``"masked"`` crops (the attr stage's job) or the unmasked ``"clean"`` originals
            (what the judge sees).
        backend: ``"torch"`` scores the ``.safetensors`` network, ``"onnx"`` the ``.onnx``
            file the pipeline runs by default (which may hold int8 arithmetic).
    """
    if inputs not in ("masked", "clean"):
        raise ValueError("inputs must be 'masked' or 'clean'")
    from torch.utils.data import DataLoader

    from unmask.data.dataset import FaceMaskDataset
    from unmask.stages.attr import FaceAttributes
    from unmask.validation.attr import predict

    dataset = Path(dataset)
    attr = FaceAttributes.from_weights(weights_dir, name=name, backend=backend)
    ds = FaceMaskDataset(dataset, split, attr.image_size, None)
    loader = DataLoader(ds, 64, num_workers=workers)
    p = predict(attr.net, loader, attr.image_size, attr.flip, key=inputs)
    rows = [ds.rows[i] for i in p["index"]]
    t = attr.temperature
    age = np.array([-1 if r.get("age") is None else r["age"] for r in rows])
    src = np.array([r["mask_source"] for r in rows])
    kind = np.array([r["mask_type"] for r in rows])
    seen = ~np.isin(kind, list(held_out_kinds))
    res: dict = {"split": split, "samples": len(rows), "temperature": t, "flip_tta": attr.flip}
    res.update(weights=name, inputs=inputs, backend=backend)
    res["groups"] = {
        "all (seen styles)": _group_metrics(p, seen, t),
        "adults 18+": _group_metrics(p, seen & (age >= 18), t),
        "age 13-17": _group_metrics(p, seen & (age >= 13) & (age < 18), t),
        "under 13": _group_metrics(p, seen & (age >= 0) & (age < 13), t),
    }
    res["by_source"] = {s: _group_metrics(p, seen & (src == s), t) for s in sorted(set(src))}
    res["by_kind"] = {
        f"{s}/{k}": _group_metrics(p, (src == s) & (kind == k), t)
        for s, k in sorted(set(zip(src, kind, strict=True)))
    }
    if held_out_kinds:
        res["held_out_style"] = _group_metrics(p, ~seen, t)
        res["held_out_style"]["kinds"] = list(held_out_kinds)
    res["dlib_on_masked"] = dlib_baseline(
        dataset, [r for r, s in zip(rows, seen, strict=True) if s], baseline_limit
    )
    res["cpu_ms_per_face"] = cpu_ms_per_face(attr)
    return res


def markdown(res: dict) -> str:
    """A markdown table of :func:`evaluate` results."""
    head = "| group | n | gender acc | ECE | NME all | NME hidden | NME visible |\n"
    head += "|---|---|---|---|---|---|---|\n"

    def row(name: str, m: dict) -> str:
        def pct(key: str) -> str:
            return f"{100 * m[key]:.2f}%" if key in m else "-"

        ece_txt = f"{m['gender_ece']:.3f}" if "gender_ece" in m else "-"
        return (
            f"| {name} | {m.get('n', '-')} | {pct('gender_acc')} | {ece_txt} | "
            f"{pct('nme_all')} | {pct('nme_hidden')} | {pct('nme_visible')} |\n"
        )

    what = f"weights `{res.get('weights', 'attr')}` on {res.get('inputs', 'masked')} crops"
    what += f" ({res.get('backend', 'torch')})"
    lines = [what + "\n\n", head]
    for section in ("groups", "by_source", "by_kind"):
        for name, m in res.get(section, {}).items():
            lines.append(row(name, m))
    if "held_out_style" in res:
        lines.append(
            row(
                f"held-out style ({', '.join(res['held_out_style']['kinds'])})",
                res["held_out_style"],
            )
        )
    lines.append(row("dlib 68-pt teacher on masked crop (true box)", res["dlib_on_masked"]))
    ms = res["cpu_ms_per_face"]
    lines.append(
        f"\nCPU ms per face (batch 1): 1 thread p50 {ms['threads_1']['p50']} / p95 "
        f"{ms['threads_1']['p95']}; 2 threads p50 {ms['threads_2']['p50']} / p95 "
        f"{ms['threads_2']['p95']}\n"
    )
    return "".join(lines)
