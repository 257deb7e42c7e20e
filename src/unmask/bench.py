"""Speed benchmark: per-stage and end-to-end milliseconds, batched throughput, peak memory, model
sizes, PyTorch and ONNX Runtime side by side.

Each backend runs in its own fresh process (so the peak memory is its own) on the built-in
masked example (:mod:`unmask.demo`): the photo scaled to 640 pixels on its longer side, and the
face's aligned crop. Stage timings are wall-clock over ``repeats`` runs after ``warmup`` runs.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

STAGES = ("detector", "attr", "segmenter", "inpainter")
ROWS = (
    ("detect", "detection, 640-px photo"),
    ("attributes", "gender + landmarks"),
    ("segment", "mask segmentation"),
    ("inpaint", "inpainting"),
    ("face", "end to end, aligned face"),
    ("photo", "end to end, 640-px photo"),
)


def timed(fn, repeats: int, warmup: int) -> dict[str, float]:
    """Run ``fn`` ``warmup + repeats`` times; p50/p95/mean milliseconds of the timed runs."""
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ms.append(1000 * (time.perf_counter() - t))
    a = np.asarray(ms)
    return {
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "mean": float(a.mean()),
    }


def bench_backend(
    backend: str, weights_dir=None, repeats: int = 30, warmup: int = 3, batch: int = 8
) -> dict:
    """Time every stage with one backend in this process (see the module docstring)."""
    import cv2

    from unmask.api import Unmasker
    from unmask.demo import example_face, masked_example
    from unmask.faces.align import align
    from unmask.faces.landmarks import five_from_68

    photo_un = Unmasker(weights_dir, device="cpu", detector="unmask", backend=backend)
    face_un = Unmasker(weights_dir, device="cpu", detector="aligned", backend=backend)
    _, masked, _ = masked_example()
    _, lm = example_face()
    side = 640 / max(masked.shape[:2])
    photo = cv2.resize(masked, None, fx=side, fy=side, interpolation=cv2.INTER_LINEAR)
    crop = align(masked, five_from_68(lm), photo_un.crop_size).crop
    landmarks, _ = photo_un.attributes(crop)
    hole = photo_un.segmenter(crop)
    crops = np.repeat(crop[None], batch, 0)
    holes = np.repeat(hole[None], batch, 0)
    lms = np.repeat(landmarks, batch, 0)
    res = {
        "detect": timed(lambda: photo_un.detector.detect(photo), repeats, warmup),
        "attributes": timed(lambda: photo_un.attributes(crop), repeats, warmup),
        "segment": timed(lambda: photo_un.segmenter(crop), repeats, warmup),
        "inpaint": timed(
            lambda: photo_un.inpainter(crop, hole, landmarks[0], "female"), repeats, warmup
        ),
        "face": timed(lambda: face_un(crop), repeats, warmup),
        "photo": timed(lambda: photo_un(photo), repeats, warmup),
    }

    def batched():
        photo_un.attributes(crops)
        photo_un.segmenter(crops)
        photo_un.inpainter.batch(crops, holes, lms, np.full(batch, 1.0, np.float32))

    per_batch = timed(batched, max(3, repeats // 4), 1)
    single = res["attributes"]["mean"] + res["segment"]["mean"] + res["inpaint"]["mean"]
    return {
        "backend": backend,
        "stages": res,
        "faces_per_s": {"1": 1000 / single, str(batch): 1000 * batch / per_batch["mean"]},
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (2**20 if sys.platform == "darwin" else 2**10), 1)


def model_table(weights_dir=None) -> list[dict]:
    """Per stage: architecture, parameters (when known), file sizes in MB (and the
    detector's verifier when the detector uses one)."""
    from unmask.runtime import weights

    rows = []
    uses_verifier = weights.find("detector", weights_dir).meta.get("verify_side", 0) > 0
    for stage in STAGES + (("verifier",) if uses_verifier else ()):
        info = weights.find(stage, weights_dir)
        size = {
            k: round(p.stat().st_size / 2**20, 2) if p is not None else None
            for k, p in (("safetensors_mb", info.path), ("onnx_mb", info.onnx))
        }
        rows.append({"stage": stage, "arch": info.arch, "params": _params(info), **size})
    return rows


def _params(info) -> int | None:
    """Parameter count from the safetensors header (no torch needed), excluding BN buffers
    and int8 scales."""
    from unmask.runtime.weights import INT8_SCALE

    if info.path is None:
        return None
    with open(info.path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    skip = ("running_mean", "running_var", "num_batches_tracked", "mean_shape", INT8_SCALE)
    return int(
        sum(
            int(np.prod(v["shape"]))
            for k, v in header.items()
            if k != "__metadata__" and not k.endswith(skip)
        )
    )


def run(weights_dir=None, backends=("torch", "onnx"), repeats: int = 30, batch: int = 8) -> dict:
    """Benchmark each backend in a fresh process; returns the JSON-ready report."""
    results = []
    ctx = get_context("spawn")
    for b in backends:
        with ProcessPoolExecutor(1, mp_context=ctx) as pool:
            results.append(pool.submit(bench_backend, b, weights_dir, repeats, 3, batch).result())
    return {"models": model_table(weights_dir), "backends": results, "repeats": repeats}


def markdown(report: dict) -> str:
    """The report as markdown tables (stages x backends, then models)."""
    backs = report["backends"]
    head = "| stage | " + " | ".join(f"{b['backend']} p50 / p95 ms" for b in backs)
    lines = [head + (" | speed-up |" if len(backs) == 2 else " |")]
    lines.append("|---" * (len(backs) + 1 + (len(backs) == 2)) + "|")
    for key, label in ROWS:
        cells = [f"{b['stages'][key]['p50']:.1f} / {b['stages'][key]['p95']:.1f}" for b in backs]
        row = f"| {label} | " + " | ".join(cells)
        if len(backs) == 2:
            row += f" | {backs[0]['stages'][key]['p50'] / backs[1]['stages'][key]['p50']:.2f}x"
        lines.append(row + " |")
    for n in backs[0]["faces_per_s"]:
        cells = [f"{b['faces_per_s'][n]:.1f}" for b in backs]
        pad = " | " if len(backs) == 2 else ""
        lines.append(f"| faces/s, batch {n} | " + " | ".join(cells) + pad + " |")
    cells = [f"{b['peak_rss_mb']:.0f}" for b in backs]
    lines.append(
        "| peak memory (MB) | " + " | ".join(cells) + (" | |" if len(backs) == 2 else " |")
    )
    lines += ["", "| model | architecture | parameters | safetensors MB | ONNX MB |"]
    lines.append("|---|---|---|---|---|")
    for m in report["models"]:
        params = f"{m['params']:,}" if m["params"] else "?"
        lines.append(
            f"| {m['stage']} | {m['arch']} | {params} | {m['safetensors_mb']} | {m['onnx_mb']} |"
        )
    return "\n".join(lines) + "\n"


def write(report: dict, out) -> tuple[Path, Path]:
    """Write ``bench.json`` and ``bench.md`` into ``out``."""
    from unmask.io import save_json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    md = out / "bench.md"
    md.write_text(markdown(report))
    return save_json(out / "bench.json", report), md
