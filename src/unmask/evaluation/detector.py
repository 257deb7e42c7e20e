"""Evaluate face detectors: the trained one beside dlib's HOG and CNN.

Measurements:

* held-out synthetic scenes (test-split faces, held-out natural backgrounds): recall at IoU 0.5
  and false faces per image, by scene kind, mask and face size, keypoint error;
* the same scenes with every face unmasked (photo faces, which have no unmasked version, are
  swapped for crop faces): recall, to compare with dlib on the same photos;
* a stress set of held-out scenes whose faces often wear glasses, sunglasses, a cap or a
  fringe (:data:`WORN`): recall;
* face-free pictures (held-out natural images, procedural textures, objects, masks without a
  face, hands): false faces per image;
* a folder of real masked photos with no labels (``masked-real-dev``): the share of photos with
  a face found, and the distribution of the top box's area / photo area so that a whole-photo
  box cannot pass for a detection;
* CPU milliseconds for a 640 x 480 photo with 1 and 2 threads.

Metrics live in :mod:`unmask.metrics.detection` (IoU 0.5 and the convention-free *hit* used
to compare with dlib, whose boxes follow another convention); the dlib baselines are measured
by :mod:`unmask.evaluation.detector_baselines`.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unmask.evaluation.detector_baselines import baselines
from unmask.metrics.detection import (
    collect,
    false_faces,
    negatives_metrics,
    real_photo_metrics,
    synthetic_metrics,
)
from unmask.viz import detection_sheet

log = logging.getLogger(__name__)


def cpu_ms(
    detector, threads: Sequence[int] = (1, 2), repeats: int = 20, image: np.ndarray | None = None
) -> dict:
    """Median milliseconds of ``detector.detect`` on a 640 x 480 photo per torch thread count."""
    import torch

    if image is None:
        image = (np.random.default_rng(0).random((480, 640, 3)) * 255).astype(np.uint8)
    old = torch.get_num_threads()
    res = {}
    try:
        for n in threads:
            torch.set_num_threads(n)
            detector.detect(image)
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                detector.detect(image)
                times.append(time.perf_counter() - t)
            res[f"threads_{n}"] = round(1000 * float(np.median(times)), 1)
    finally:
        torch.set_num_threads(old)
    return res


# the stress set: test scenes whose faces often wear glasses, sunglasses, a cap or a fringe,
# or are squashed like a turned head (see :mod:`unmask.scenes.accessories`)
WORN = {"glasses": 0.3, "sunglasses": 0.5, "headwear": 0.5, "squash": 0.3}


def _scenes(maker, n: int, seed: int) -> list:
    return [maker(np.random.default_rng([seed, 2, i])) for i in range(n)]


@dataclass
class HeldOut:
    """The evaluation pictures: ``scenes`` (held-out synthetic, masked as drawn), ``bare``
    (the same scenes unmasked), ``negatives`` (face-free pictures), ``dev`` (real photos) and
    ``worn`` (held-out synthetic scenes with eyewear and headwear, :data:`WORN`)."""

    scenes: list
    bare: list
    negatives: list
    dev: list
    size: int
    seed: int
    worn: list


def held_out(
    dataset: str | Path,
    size: int = 320,
    synthetic: int = 300,
    negatives: int = 200,
    seed: int = 1,
    dev: str | Path | None = "../shared/data/masked-real-dev",
    photos: str | Path | None = "../shared/data/masked-seg-train",
    photo_cache: str | Path | None = "data/cache/photo_faces.json",
    templates: str | Path | None = "../shared/data/mask-templates",
) -> HeldOut:
    """Make the held-out sets from the dataset's ``test`` split (faces, photos and natural
    backgrounds no training scene uses); scenes are drawn for a ``size``-pixel letterbox."""
    from unmask.scenes.backgrounds import SKIMAGE_TEST, skimage_photo
    from unmask.scenes.composite import SceneConfig, build_maker

    maker = build_maker(dataset, "test", SceneConfig(size=size), photos, photo_cache, templates)

    def variant(n: int, force_masked: bool | None = None, **changes) -> list:
        """``n`` scenes of the same faces, photos and backgrounds with another mix."""
        m = copy.copy(maker)
        m.force_masked, m.cfg = force_masked, dataclasses.replace(maker.cfg, **changes)
        return _scenes(m, n, seed)

    scenes = _scenes(maker, synthetic, seed)
    bare = variant(synthetic, force_masked=False)
    synthetic_negs = [s.image for s in variant(negatives, negative=1.0)]
    negs = [skimage_photo(n) for n in SKIMAGE_TEST] + synthetic_negs
    images = _load_folder(dev) if dev is not None and Path(dev).is_dir() else []
    worn = variant(synthetic, **WORN)
    return HeldOut(scenes, bare, negs, images, size, seed, worn)


def evaluate(
    dataset: str | Path,
    weights_dir: str | Path | None = None,
    threshold: float | None = None,
    kinds: Sequence[str] = ("hog", "cnn"),
    baseline_images: int = 100,
    baseline_cache: str | Path | None = "data/cache/detector_baselines.json",
    detector=None,
    timing_repeats: int = 20,
    sheet_path: str | Path | None = None,
    **sets_kw,
) -> dict:
    """All measurements of the module docstring for the promoted detector (``detector.*`` in
    ``weights_dir``) or the given ``detector`` (a :class:`~unmask.detection.net.NetDetector`),
    beside the dlib detectors ``kinds`` (see
    :func:`~unmask.evaluation.detector_baselines.baselines`).

    Args:
        sheet_path: write a PNG of the detections on 32 real photos and 16 scenes there.
        sets_kw: options of :func:`held_out` (``synthetic``, ``negatives``, ``seed``, ``dev``,
            ``photos``, ``photo_cache``, ``templates``).
    Returns:
        A JSON-safe dict (see :func:`~unmask.evaluation.detector_report.markdown`).
    """
    from unmask.detection.decode import letterbox_scale
    from unmask.detection.net import NetDetector

    det = detector or NetDetector.from_weights(
        weights_dir, score_threshold=threshold, backend="torch"
    )
    thr = det.score_threshold
    sets = held_out(dataset, det.input_size, **sets_kw)
    ts = (0.3, 0.5, thr)
    res: dict = {"threshold": thr, "input_size": det.input_size, "seed": sets.seed}
    res["small_faces"] = {"side": det.small_side, "penalty": det.small_penalty}
    res["second_looks"] = {
        "zoom_side": det.zoom_side,
        "verify_side": det.verify_side if det.verifier is not None else 0.0,
    }
    got = {
        name: collect(det.predict, [s.image for s in sc])
        for name, sc in (("masked", sets.scenes), ("unmasked", sets.bare), ("worn", sets.worn))
    }
    res["synthetic"] = synthetic_metrics(got["masked"], sets.scenes, ts)
    res["synthetic_unmasked"] = synthetic_metrics(got["unmasked"], sets.bare, ts)
    res["synthetic_worn"] = synthetic_metrics(got["worn"], sets.worn, ts)
    got["negatives"] = collect(det.predict, sets.negatives)
    res["negatives"] = negatives_metrics(got["negatives"], sets.negatives, ts)
    to_letterbox = [letterbox_scale(n.shape, det.input_size) for n in sets.negatives]
    res["false_faces"] = false_faces(got["negatives"], thr, to_letterbox)
    k = min(baseline_images, len(sets.scenes))
    ours = {
        "masked": synthetic_metrics(_head(got["masked"], k), sets.scenes[:k], (thr,)),
        "unmasked": synthetic_metrics(_head(got["unmasked"], k), sets.bare[:k], (thr,)),
        "negatives": negatives_metrics(_head(got["negatives"], k), sets.negatives[:k], (thr,)),
    }
    base = baselines(sets, kinds, k, baseline_cache)
    res["paired"] = {
        "images": k,
        "ours": ours,
        **{kind: {n: v for n, v in r.items() if n != "real_dev"} for kind, r in base.items()},
    }
    if sets.dev:
        res["real_dev"] = {
            "ours": real_photo_metrics(det.predict, sets.dev, thr),
            **{kind: r["real_dev"] for kind, r in base.items()},
        }
    if sheet_path:
        from unmask.io import save_image

        pics = sets.dev[:32] + [s.image for s in sets.scenes[:16]]
        save_image(Path(sheet_path), detection_sheet(det.predict, pics, thr))
    res["cpu_ms_640x480"] = cpu_ms(det, repeats=timing_repeats, image=_photo_640(sets.scenes))
    res["params"] = det.net.num_params
    return res


def _head(got: dict, k: int) -> dict:
    return {"preds": got["preds"][:k], "ms": got["ms"]}


def _load_folder(folder: str | Path) -> list[np.ndarray]:
    from unmask.inputs import is_image_path
    from unmask.io import ImageError, load_image

    out = []
    for p in sorted(Path(folder).iterdir()):
        if is_image_path(p):
            try:
                out.append(load_image(p))
            except ImageError as exc:
                log.warning("skipping %s: %s", p, exc.reason)
    return out


def _photo_640(scenes: Sequence) -> np.ndarray:
    import cv2

    img = next((s.image for s in scenes if s.kind == "scene"), scenes[0].image)
    return cv2.resize(img, (640, 480), interpolation=cv2.INTER_LINEAR)
