"""Train the masked-face detector (:class:`~unmask.models.detector.FaceDetector`) on composite
scenes (:mod:`unmask.scenes.composite`) and promote a run to weights: the training config, the
loop and the promotion; scene makers, losses and validation are in
:mod:`unmask.training.detector_steps`.
"""

from __future__ import annotations

import itertools
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from unmask.models.detector import FaceDetector
from unmask.scenes.dataset import CompositeScenes
from unmask.training.common import ema_and_optimiser, infinite, recalibrate_bn, seed_everything
from unmask.training.detector_steps import _eval_sets, losses, maker, validate
from unmask.training.handoff import load_for_promote
from unmask.training.loop import fit
from unmask.training.options import LoopConfig
from unmask.training.runs import Run

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class DetectorTrainConfig(LoopConfig):
    """Options of ``unmask train detector``.

    ``dataset`` is a built dataset (crop faces, its ``split`` decides train / val / test);
    ``photos`` a folder of masked photos with real context and ``photo_cache`` the JSON file
    their dlib landmarks are cached in; ``scene`` overrides :class:`SceneConfig` fields
    (``size`` comes from ``size`` here).

    The training loop's own options (steps, warm-up, budget, EMA, seed, ...) are those of
    :class:`unmask.training.options.LoopConfig`.
    """

    dataset: str
    photos: str | None = "../shared/data/masked-seg-train"
    photo_cache: str = "data/cache/photo_faces.json"
    templates: str | None = "../shared/data/mask-templates"
    size: int = 320
    widths: list[int] = field(default_factory=lambda: [12, 24, 48, 96, 192])
    blocks: int = 2
    fpn_channels: int = 32
    head_channels: int = 32
    out_stride: int = 4
    scene: dict = field(
        default_factory=lambda: {
            "lowres": 0.45,
            "glasses": 0.1,
            "sunglasses": 0.12,
            "headwear": 0.15,
            "squash": 0.25,
            "text": 0.25,
        }
    )
    batch: int = 16
    lr: float = 2e-3
    weight_decay: float = 5e-4
    steps: int = 40000
    warmup: int = 500
    epoch_size: int = 20000
    box_weight: float = 2.0
    kp_weight: float = 5.0
    eval_images: int = 200
    neg_images: int | None = None  # synthetic face-free validation pictures (eval_images / 2)
    max_fp: float = 0.05
    # promotion: with min_recall, the threshold clearing both bars by the most standard errors
    # (see validation.detector.choose_threshold); small-face rules tried: sides x penalties
    min_recall: float | None = None
    small_sides: list[float] = field(default_factory=list)
    small_penalties: list[float] = field(default_factory=list)
    # promotion: second-look rules tried, each [side, context, input] (see detection.zoom)
    zoom: list[list[float]] = field(default_factory=list)
    # promotion: a verifier weights folder (`unmask train verifier`) and the candidate sides
    # (letterbox pixels) under which it is tried as a further veto (see NetDetector)
    verifier: str | None = None
    verify: list[float] = field(default_factory=list)
    flip_tta: bool = False  # promotion: average each photo with its mirror (see NetDetector)
    recalibrate_batches: int = 20
    workers: int = 1


def arch_args(cfg: DetectorTrainConfig) -> dict:
    """Constructor arguments of the network this config trains."""
    return {
        "widths": list(cfg.widths),
        "blocks": cfg.blocks,
        "fpn_channels": cfg.fpn_channels,
        "head_channels": cfg.head_channels,
        "out_stride": cfg.out_stride,
    }


def train(cfg: DetectorTrainConfig, run: Run | None = None) -> Run:
    """Train (or resume, when ``run`` has a checkpoint) and return the run."""
    import cv2

    # One OpenCV thread, set before any OpenCV call: loader workers are forked from this
    # process, and changing OpenCV's thread pool inside a forked child can deadlock.
    cv2.setNumThreads(1)
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    with Run.held(run, "detector", cfg, cfg.runs, cfg.tag) as run:
        train_ds = CompositeScenes(maker(cfg, "train"), cfg.epoch_size, cfg.out_stride, cfg.seed)
        sets = _eval_sets(cfg)
        # not persistent: workers must restart to see each new epoch's scene stream
        train_dl = DataLoader(
            train_ds, cfg.batch, shuffle=True, drop_last=True, num_workers=cfg.workers
        )
        model = FaceDetector(**arch_args(cfg))
        ema, opt, (step, best, spent) = ema_and_optimiser(run, model, cfg)
        # a resumed run continues with fresh scenes: epochs count on from the images seen so far
        train_ds.epoch_offset = -(-step * cfg.batch // cfg.epoch_size)
        batches = infinite(train_dl, train_ds)

        def step_loss(step: int) -> tuple[dict, int]:
            batch = next(batches)
            return losses(model(batch["image"].float() / 255), batch, cfg), batch["image"].shape[0]

        def evaluate(ema_model, step: int) -> float:
            metrics = validate(ema_model, cfg, sets, run, step)
            run.log(step=step, split="val", **metrics)
            return metrics["recall_0.5"] - metrics["neg_fp_per_image_0.5"]

        return fit(run, model, ema, opt, cfg, (step, best, spent), step_loss, evaluate, clip=10.0)


def rules_key(val: dict, thr: float, min_recall: float | None) -> tuple:
    """How good a promoted rule set is on validation (higher is better): with ``min_recall``
    the standard errors by which the weaker bar is cleared (``bars_margin`` of
    :func:`~unmask.validation.detector.choose_threshold`), else (recall, -false faces)."""
    recall, fp = val[f"recall_{thr}"], val[f"neg_fp_per_image_{thr}"]
    if min_recall is None:
        return (recall, -fp)
    return (val["bars_margin"],)


def _verifier(cfg: DetectorTrainConfig) -> dict:
    """``NetDetector`` arguments of the promotion's verifier: its module and crop context
    (empty when no ``verify`` side is tried)."""
    from unmask.runtime import weights

    if not cfg.verify:
        return {}
    if not cfg.verifier:
        raise ValueError("verify sides need a verifier weights folder (verifier=DIR)")
    info = weights.find_here("verifier", cfg.verifier)
    return {"verifier": weights.load_module(info), "verify_context": info.meta["context"]}


def _copy_weights(src: Path, dst: Path, stage: str) -> None:
    """Copy a stage's weight files (json, safetensors, onnx) between folders."""
    dst.mkdir(parents=True, exist_ok=True)
    for suffix in (".json", ".safetensors", ".onnx"):
        f = src / f"{stage}{suffix}"
        if f.exists() and f.resolve() != (dst / f.name).resolve():
            shutil.copy2(f, dst / f.name)


def promote(
    run: Run,
    out,
    checkpoint: str = "best",
    fp16: bool = False,
    overrides: dict | None = None,
):
    """Write the run's EMA weights to ``out/detector.*``.

    BatchNorm statistics are re-estimated on ``recalibrate_batches`` training batches; the
    score threshold and small-face rule stored in the metadata are chosen on validation by
    :func:`~unmask.validation.detector.choose_threshold` (``max_fp``, ``min_recall``,
    ``small_sides`` x ``small_penalties``) for each second-look rule of ``zoom`` (and none)
    combined with each ``verify`` side of the ``verifier`` (and none), and the best of those by
    :func:`rules_key` is kept, with the validation figures there; a chosen verifier's files are
    copied into ``out``.
    """
    from unmask.detection.net import NetDetector
    from unmask.runtime import weights
    from unmask.validation.detector import choose_threshold

    cfg, ckpt = load_for_promote(run, DetectorTrainConfig, checkpoint, overrides)
    model = FaceDetector(**arch_args(cfg))
    model.load_state_dict(ckpt["ema"])
    if cfg.recalibrate_batches > 0:
        ds = CompositeScenes(
            maker(cfg, "train"), cfg.batch * cfg.recalibrate_batches, cfg.out_stride, cfg.seed + 1
        )
        loader = DataLoader(ds, cfg.batch, num_workers=cfg.workers)
        recalibrate_bn(
            model,
            ({"image": b["image"].float() / 255} for b in loader),
            "image",
            cfg.recalibrate_batches,
        )
    model.eval()
    scenes, negs = _eval_sets(cfg)
    small = [(0.0, 0.0)] + [(s, p) for s in cfg.small_sides for p in cfg.small_penalties]
    verifier = _verifier(cfg)
    best = None
    for (side, context, size), verify_side in itertools.product(
        [(0.0, 3.0, 160)] + [tuple(z) for z in cfg.zoom], [0.0] + list(cfg.verify)
    ):
        rules = {"zoom_side": side, "zoom_context": context, "zoom_input": int(size)}
        rules["verify_side"] = float(verify_side)
        det = NetDetector(model, cfg.size, 0.05, flip=cfg.flip_tta, **rules, **verifier)
        thr, val = choose_threshold(
            det.predict, scenes, negs, cfg.max_fp, cfg.min_recall, cfg.size, small
        )
        key = rules_key(val, thr, cfg.min_recall)
        log.info("rules %s: threshold %.3f, key %s", rules, thr, key)
        if best is None or key > best[0]:
            best = (key, thr, {**val, **rules})
    _, thr, val = best
    if val["verify_side"] > 0:
        _copy_weights(Path(cfg.verifier), Path(out), "verifier")
    meta = {
        "stage": "detector",
        "run": run.folder.name,
        "step": ckpt["step"],
        "input_size": cfg.size,
        "stride": cfg.out_stride,
        "score_threshold": thr,
        "small_side": val["small_side"],
        "small_penalty": val["small_penalty"],
        "zoom_side": val["zoom_side"],
        "zoom_context": val["zoom_context"],
        "zoom_input": val["zoom_input"],
        "verify_side": val["verify_side"],
        "flip_tta": cfg.flip_tta,
        "nms_iou": 0.4,
        "top_k": 100,
        "val": val,
        "box": "canonical face box: jaw to jaw, 12 % of brow-chin height above the brows "
        "to the chin (unmask.data.face_sources.canonical_box)",
        "licence": "non-commercial research (trained on UTKFace, MaskedFace-Net/FFHQ, "
        "dlib 68-point teacher)",
    }
    return weights.save(out, "detector", model, "FaceDetector", arch_args(cfg), meta, fp16)
