"""Train the detector's face / not-face verifier (:class:`~unmask.models.verifier.FaceVerifier`).

The training crops are *mined*: a trained detector runs over composite scenes of one split
(:mod:`unmask.scenes.composite`, with more face-free scenes and textures than its own training
mix) at a low threshold, and each small candidate becomes a crop around its box, labelled a
face when it overlaps a true face (IoU >= 0.5) and not a face when it overlaps none (< 0.2);
the true small faces, their boxes jittered, are added as faces too. Validation crops are mined
the same way from validation scenes. The mined crops are stored in the run folder, so a resumed
run does not mine again.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from unmask.models.verifier import FaceVerifier
from unmask.training.common import (
    ema_and_optimiser,
    mined_once,
    photo_batch,
    photo_jitter,
    seed_everything,
)
from unmask.training.handoff import load_for_promote
from unmask.training.loop import fit
from unmask.training.options import LoopConfig
from unmask.training.runs import Run

log = logging.getLogger(__name__)

#: Candidates overlapping a true face at least this much are faces ...
POS_IOU = 0.5
#: ... and those overlapping every true face less than this are not; others are left out.
NEG_IOU = 0.2
#: Extra pixels mined around each crop for random-shift augmentation.
MARGIN = 8


@dataclass(kw_only=True)
class VerifierTrainConfig(LoopConfig):
    """Options of ``unmask train verifier``.

    ``detector`` is the weights folder of the detector whose candidates are mined (default:
    the shipped one); ``scene`` overrides :class:`~unmask.scenes.composite.SceneConfig` for the
    mining scenes; ``context`` is the crop side / candidate side; ``max_side`` the largest
    candidate (letterbox pixels) mined.

    The training loop's own options (steps, warm-up, budget, EMA, seed, ...) are those of
    :class:`unmask.training.options.LoopConfig`.
    """

    dataset: str
    detector: str | None = None
    photos: str | None = "../shared/data/masked-seg-train"
    photo_cache: str = "data/cache/photo_faces.json"
    templates: str | None = "../shared/data/mask-templates"
    scene: dict = field(
        default_factory=lambda: {
            "negative": 0.4,
            "tight": 0.1,
            "textures": 0.3,
            "text": 0.25,
            "lowres": 0.45,
            "glasses": 0.1,
            "sunglasses": 0.12,
            "headwear": 0.15,
            "squash": 0.25,
        }
    )
    scene_size: int = 320
    image_size: int = 48
    widths: list[int] = field(default_factory=lambda: [16, 32, 64, 96])
    context: float = 2.5
    max_side: float = 64.0
    mine_threshold: float = 0.1
    train_scenes: int = 4000
    val_scenes: int = 600
    batch: int = 128
    lr: float = 2e-3
    weight_decay: float = 5e-4
    steps: int = 3000
    warmup: int = 100
    ema: float = 0.995
    eval_every: int = 250


def arch_args(cfg: VerifierTrainConfig) -> dict:
    """Constructor arguments of the network this config trains."""
    return {"image_size": cfg.image_size, "widths": list(cfg.widths)}


def _jitter(box: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A true box shifted by up to 10 % of its side and scaled by 0.85-1.15."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    w, h = box[2] - box[0], box[3] - box[1]
    cx, cy = cx + rng.uniform(-0.1, 0.1) * w, cy + rng.uniform(-0.1, 0.1) * h
    s = rng.uniform(0.85, 1.15)
    return np.array([cx - s * w / 2, cy - s * h / 2, cx + s * w / 2, cy + s * h / 2], np.float32)


def mine(det, maker, n: int, seed: int, cfg: VerifierTrainConfig) -> dict[str, np.ndarray]:
    """Crops around the small candidates ``det`` finds in ``n`` scenes of ``maker``.

    Returns:
        ``crops`` uint8 ``N x (S + MARGIN) x (S + MARGIN) x 3`` RGB (``S = image_size``; the
        candidate centred, ``context * (S + MARGIN) / S`` times its side across), ``label``
        float32 ``N`` (1 = face), ``side`` float32 ``N`` letterbox side, ``mined`` bool ``N``
        (False for the jittered true faces).
    """
    from unmask.detection.decode import letterbox_sides
    from unmask.detection.zoom import zoom_crop
    from unmask.metrics.detection import box_iou

    out = cfg.image_size + MARGIN
    context = cfg.context * out / cfg.image_size
    crops, labels, sides, mined = [], [], [], []
    rng = np.random.default_rng([seed, 1])
    for i in range(n):
        scene = maker(np.random.default_rng([seed, i]))
        boxes, _, _ = det.predict(scene.image, cfg.mine_threshold)
        gt = scene.boxes.reshape(-1, 4)
        best = box_iou(boxes, gt).max(1) if len(gt) and len(boxes) else np.zeros(len(boxes))
        side = letterbox_sides(boxes, scene.image.shape, det.input_size)
        gt_side = letterbox_sides(gt, scene.image.shape, det.input_size)
        items = [
            (b, float(iou >= POS_IOU), s, True)
            for b, iou, s in zip(boxes, best, side, strict=True)
            if iou >= POS_IOU or iou < NEG_IOU
        ]
        items += [(_jitter(b, rng), 1.0, s, False) for b, s in zip(gt, gt_side, strict=True)]
        for b, y, s, m in items:
            if s < cfg.max_side:
                crops.append(zoom_crop(scene.image, b, context, out))
                labels.append(y)
                sides.append(s)
                mined.append(m)
        if (i + 1) % 500 == 0:
            log.info("mined %d / %d scenes: %d crops, %d faces", i + 1, n, len(crops), sum(labels))
    return {
        "crops": np.stack(crops).astype(np.uint8),
        "label": np.array(labels, np.float32),
        "side": np.array(sides, np.float32),
        "mined": np.array(mined, bool),
    }


def mined_sets(cfg: VerifierTrainConfig, run: Run) -> tuple[dict, dict]:
    """Training and validation crops, mined once and kept in ``run/mined-<split>.npz``."""
    sets, det = [], None
    for split, n, seed in (
        ("train", cfg.train_scenes, cfg.seed),
        ("val", cfg.val_scenes, cfg.seed + 10**6),
    ):

        def make(split=split, n=n, seed=seed):
            nonlocal det
            det = det or _detector(cfg)
            data = mine(det, _maker(cfg, split), n, seed, cfg)
            return data, {"crops": len(data["label"]), "faces": int(data["label"].sum())}

        sets.append(mined_once(run, "mined", split, make))
    return sets[0], sets[1]


def _detector(cfg: VerifierTrainConfig):
    """The proposing detector with its own second looks switched off."""
    from unmask.detection.net import NetDetector

    det = NetDetector.from_weights(cfg.detector)
    det.zoom_side = det.verify_side = 0.0
    return det


def _maker(cfg: VerifierTrainConfig, split: str):
    from unmask.scenes.composite import SceneConfig, build_maker

    scene = SceneConfig.from_dict({**cfg.scene, "size": cfg.scene_size})
    return build_maker(
        cfg.dataset, split, scene, cfg.photos, cfg.photo_cache, cfg.templates,
        compute_landmarks=False,
    )  # fmt: skip


def batch_tensor(crops: np.ndarray, rng: np.random.Generator | None, size: int) -> torch.Tensor:
    """``N x 3 x size x size`` float32 in [0, 1] from mined crops: a random ``size`` window,
    random mirror and brightness / contrast with ``rng``, the centre window without."""
    full = crops.shape[1]
    if rng is None:
        o = (full - size) // 2
        x = crops[:, o : o + size, o : o + size]
    else:
        ox, oy = rng.integers(0, full - size + 1, 2)
        x = crops[:, oy : oy + size, ox : ox + size]
        if rng.random() < 0.5:
            x = x[:, :, ::-1]
    t = photo_batch(x)
    return t if rng is None else photo_jitter(t, rng, 0.3, 0.1)


@torch.no_grad()
def scores(model, crops: np.ndarray, size: int, batch: int = 512) -> np.ndarray:
    """Face probabilities of mined crops (centre windows), float32 ``N``."""
    model.eval()
    out = [
        torch.sigmoid(model(batch_tensor(crops[i : i + batch], None, size))).numpy()
        for i in range(0, len(crops), batch)
    ]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def summarize(prob: np.ndarray, label: np.ndarray) -> dict[str, float]:
    """AUC, and the share of non-faces vetoed when 99 % / 99.5 % of faces are kept."""
    from scipy.stats import rankdata

    pos, neg = prob[label > 0.5], prob[label <= 0.5]
    ranks = rankdata(np.concatenate([neg, pos]))  # ties share their mean rank
    auc = (ranks[len(neg) :].sum() - len(pos) * (len(pos) + 1) / 2) / max(len(pos) * len(neg), 1)
    res = {"auc": float(auc), "faces": int(len(pos)), "non_faces": int(len(neg))}
    for keep in (0.99, 0.995):
        cut = np.quantile(pos, 1 - keep) if len(pos) else 0.0
        res[f"vetoed_at_keep_{keep}"] = float((neg < cut).mean()) if len(neg) else 0.0
    return res


def train(cfg: VerifierTrainConfig, run: Run | None = None) -> Run:
    """Mine (once), train (or resume, when ``run`` has a checkpoint) and return the run."""
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    with Run.held(run, "verifier", cfg, cfg.runs, cfg.tag) as run:
        tr, va = mined_sets(cfg, run)
        model = FaceVerifier(**arch_args(cfg))
        ema, opt, (step, best, spent) = ema_and_optimiser(run, model, cfg)
        rng = np.random.default_rng([cfg.seed, step])
        # faces and non-faces drawn equally often, whatever their counts
        pos, neg = np.nonzero(tr["label"] > 0.5)[0], np.nonzero(tr["label"] <= 0.5)[0]
        if not len(pos) or not len(neg):
            raise RuntimeError(f"mined {len(pos)} faces and {len(neg)} non-faces: need both")
        half = cfg.batch // 2

        def step_loss(step: int) -> tuple[dict, int]:
            idx = np.concatenate([rng.choice(pos, half), rng.choice(neg, cfg.batch - half)])
            x = batch_tensor(tr["crops"][idx], rng, cfg.image_size)
            y = torch.from_numpy(tr["label"][idx])
            return {"loss": F.binary_cross_entropy_with_logits(model(x), y)}, len(idx)

        def evaluate(ema_model, step: int) -> float:
            metrics = summarize(scores(ema_model, va["crops"], cfg.image_size), va["label"])
            run.log(step=step, split="val", **metrics)
            return metrics["vetoed_at_keep_0.995"]

        return fit(run, model, ema, opt, cfg, (step, best, spent), step_loss, evaluate)


def promote(run: Run, out, checkpoint: str = "best", fp16: bool = False, overrides=None):
    """Write the run's EMA weights to ``out/verifier.*`` with its crop context and the
    validation figures of the mined crops."""
    from unmask.runtime import weights

    cfg, ckpt = load_for_promote(run, VerifierTrainConfig, checkpoint, overrides)
    model = FaceVerifier(**arch_args(cfg))
    model.load_state_dict(ckpt["ema"])
    with np.load(Path(run.folder) / "mined-val.npz") as z:
        val = summarize(scores(model, z["crops"], cfg.image_size), z["label"])
    meta = {
        "stage": "verifier",
        "run": run.folder.name,
        "step": ckpt["step"],
        "context": cfg.context,
        "max_side": cfg.max_side,
        "val": val,
        "mining": {k: v for k, v in asdict(cfg).items() if k in ("detector", "scene")},
        "licence": "non-commercial research (trained on UTKFace, MaskedFace-Net/FFHQ, "
        "dlib 68-point teacher)",
    }
    return weights.save(out, "verifier", model, "FaceVerifier", arch_args(cfg), meta, fp16)
