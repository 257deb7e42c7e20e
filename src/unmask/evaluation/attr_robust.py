"""Robustness protocol of the attr stage: every mask family drawn on held-out unmasked photos,
scored in photo mode (the shipped detector -> :func:`~unmask.faces.align.align` -> attr, as
:class:`unmask.Unmasker` runs them), with an optional second look (re-aligned on the first pass's
68 points), and in aligned mode (crops aligned on the teacher's points), split by age band.

Ground truth: the dlib teacher's 68 points on the *unmasked* photo, photo pixels. NME is
normalised by the teacher's outer-eye-corner distance (:mod:`unmask.metrics.landmarks`).
Families: every procedural kind, every template kind (gas included) and the evaluation-only
kinds of :mod:`unmask.evaluation.unseen_masks`. Aggregation: :mod:`unmask.evaluation.robust_report`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unmask.faces.landmarks import five_from_68
from unmask.metrics.landmarks import GROUPS, nme_per_face

log = logging.getLogger(__name__)

#: Age bands: name -> [low, high) in years.
BANDS = {"under 13": (0, 13), "13-17": (13, 18), "adults": (18, 1000)}
MODES = ("photo", "second", "aligned")


@dataclass(frozen=True)
class HeldOutFace:
    """An unmasked held-out photo with its truth.

    Attributes:
        key: stable name (the file name for UTKFace).
        image: ``H x W x 3`` uint8 RGB.
        landmarks: float32 ``(68, 2)`` teacher points, photo pixels, iBUG order.
        age: years; female: 1 female, 0 male, -1 unknown.
    """

    key: str
    image: np.ndarray
    landmarks: np.ndarray
    age: int
    female: int


def band_of(age: int) -> str:
    """The :data:`BANDS` name of an age in years."""
    return next(name for name, (lo, hi) in BANDS.items() if lo <= age < hi)


def family_names(template_dir: str | Path | None) -> list[str]:
    """``source/kind`` of every family: procedural kinds, template kinds (when a template
    folder is given), then the evaluation-only kinds."""
    from unmask.evaluation.unseen_masks import UNSEEN_KINDS
    from unmask.masking.procedural import KINDS

    out = [f"procedural/{k}" for k in KINDS]
    if template_dir is not None:
        from unmask.masking.templates import TemplateMasks

        out += [f"template/{k}" for k in TemplateMasks(template_dir).kinds]
    return out + [f"unseen/{k}" for k in UNSEEN_KINDS]


def mask_source(family: str, template_dir: str | Path | None = None):
    """The :class:`~unmask.masking.base.MaskSource` drawing only ``family`` (``source/kind``)."""
    source, _, kind = family.partition("/")
    if source == "procedural":
        from unmask.masking.procedural import ProceduralMasks

        return ProceduralMasks(kinds=[kind])
    if source == "template":
        from unmask.masking.templates import TemplateMasks

        if template_dir is None:
            raise ValueError("template families need the template folder")
        return TemplateMasks(template_dir, kinds=[kind])
    if source == "unseen":
        from unmask.evaluation.unseen_masks import UnseenMasks

        return UnseenMasks([kind])
    raise ValueError(f"unknown mask family {family!r}")


def held_out_faces(
    faces_dir: str | Path, split: str = "test", per_band: int = 50, cache: str | Path | None = None
) -> list[HeldOutFace]:
    """UTKFace photos of ``split`` (:func:`unmask.data.manifest.split_of` of the file name), at
    most ``per_band`` per age band in stable-hash order, with the dlib teacher's 68 points on
    the unmasked photo (faces the teacher misses are skipped). ``cache``: a JSON file of
    teacher points, read and extended."""
    from unmask.data.formats import read_utk
    from unmask.data.manifest import split_of, stable_hash
    from unmask.faces.teacher import teacher_landmarks
    from unmask.io import load_image

    found = {}
    if cache is not None and Path(cache).is_file():
        found = json.loads(Path(cache).read_text())
    faces = sorted(
        (f for f in read_utk(Path(faces_dir)) if f.age is not None and split_of(f.key) == split),
        key=lambda f: stable_hash(f.key),
    )
    taken = dict.fromkeys(BANDS, 0)
    out = []
    for f in faces:
        band = band_of(f.age)
        if taken[band] >= per_band:
            continue
        image = load_image(f.path)
        if f.key not in found:
            t = teacher_landmarks(image)
            found[f.key] = None if t is None else np.round(t[0], 2).tolist()
        if found[f.key] is None:
            continue
        taken[band] += 1
        female = {"female": 1, "male": 0}.get(f.gender, -1)
        lm = np.asarray(found[f.key], np.float32)
        out.append(HeldOutFace(f.key, image, lm, int(f.age), female))
    if cache is not None:
        Path(cache).write_text(json.dumps(found))
    log.info("%d held-out %s faces: %s", len(out), split, taken)
    return out


def _detected(image: np.ndarray, truth: np.ndarray, detector):
    """The first detection (score order) that :func:`unmask.metrics.detection.hits` the
    canonical box of ``truth``, or ``None``."""
    from unmask.data.face_sources import canonical_box
    from unmask.metrics.detection import hits

    dets = detector.detect(image)
    if not dets:
        return None
    ok = hits(np.stack([d.box for d in dets]), canonical_box(truth)[None])[:, 0]
    return dets[int(np.argmax(ok))] if ok.any() else None


def look(image: np.ndarray, five: np.ndarray, attr, ignore=None, before_look=False) -> tuple:
    """Align ``image`` on ``five`` keypoints and run ``attr`` (``before_look`` as
    :class:`~unmask.stages.attr.FaceAttributes` takes it): the
    :class:`~unmask.faces.align.Alignment`, the 68 points in its crop (float32 ``(68, 2)``)
    and P(female)."""
    from unmask.faces.align import align

    al = align(image, five, 256, ignore=ignore)
    lm, p = attr(al.crop, before_look=before_look)
    return al, lm[0], float(p[0])


def score_face(face: HeldOutFace, masked, attr, detector, modes=MODES) -> list[dict]:
    """Records (one per mode) for one face wearing one mask (a
    :class:`~unmask.masking.base.MaskedFace` drawn on ``face.image``)."""
    truth = face.landmarks[None]
    base = {"key": face.key, "band": band_of(face.age), "female": face.female}
    base.update(family=f"{masked.source}/{masked.kind}")
    answers: dict[str, tuple | None] = {}
    if {"photo", "second"} & set(modes):
        det = _detected(masked.image, face.landmarks, detector)
        first = None
        if det is not None:
            try:
                first = look(masked.image, det.keypoints, attr)
            except ValueError:  # degenerate keypoints: Unmasker skips such a detection
                pass
        answers["photo"] = first and (first[0].to_photo(first[1]), first[2])
        if det is not None:  # the detector's keypoint error, in NME units
            err = np.linalg.norm(det.keypoints - five_from_68(face.landmarks), axis=1).mean()
            base["kp_err"] = float(err / max(np.linalg.norm(truth[0, 36] - truth[0, 45]), 1e-6))
        if "second" in modes and first is not None:
            placed = first
            if attr.lean_first_look:  # the pipeline's lighter first look
                placed = look(masked.image, det.keypoints, attr, before_look=True)
            lm = attr.look_again(masked.image, *placed[:2])
            answers["second"] = (placed[0].to_photo(lm), placed[2])
        elif "second" in modes:
            answers["second"] = None
    if "aligned" in modes:
        al, lm, p = look(masked.image, five_from_68(face.landmarks), attr, ignore=masked.mask)
        answers["aligned"] = (al.to_photo(lm), p)
    out = []
    for mode in modes:
        rec = {**base, "mode": mode, "missed": answers[mode] is None}
        if mode == "aligned":  # no detector in this mode
            rec.pop("kp_err", None)
        if answers[mode] is not None:
            pred, p = answers[mode]
            for g, pts in GROUPS.items():
                rec[f"nme_{g}"] = float(nme_per_face(pred[None], truth, pts)[0])
            rec["p_female"] = p
        out.append(rec)
    return out


def run_protocol(
    faces: list[HeldOutFace],
    families: list[str],
    pipe,
    template_dir: str | Path | None = None,
    modes=MODES,
    seed: int = 0,
) -> list[dict]:
    """Score every face wearing one mask of every family (mask seeded by ``seed``, the face
    key and the family) with the detector and attr stage of ``pipe`` (an
    :class:`unmask.Unmasker`); one record per face, family and mode."""
    from unmask.data.manifest import stable_hash

    attr = pipe.attributes
    detector = pipe.detector if {"photo", "second"} & set(modes) else None
    records = []
    for fam in families:
        src = mask_source(fam, template_dir)
        for i, face in enumerate(faces):
            rng = np.random.default_rng([seed, stable_hash(f"{fam}:{face.key}") % 2**32])
            masked = src.apply(face.image, face.landmarks, rng)
            records += score_face(face, masked, attr, detector, modes)
            if (i + 1) % 50 == 0:
                log.info("%s: %d / %d faces", fam, i + 1, len(faces))
    return records


def evaluate(
    faces: list[HeldOutFace],
    families: list[str],
    weights_dir: str | Path | None = None,
    template_dir: str | Path | None = None,
    modes=MODES,
    seed: int = 0,
    band_t_from: str | Path | None = None,
    backend: str = "auto",
) -> dict:
    """Run the protocol and aggregate it (:func:`unmask.evaluation.robust_report.aggregate`).

    Args:
        band_t_from: an earlier result JSON (validation split) whose photo-mode records give
            the per-band gender temperatures applied here; without it they are fitted on these
            records (optimistic: for a validation run only).
    Returns:
        ``split``-free result: ``faces``, ``families``, ``modes``, ``seed``, ``temperature``,
        ``band_t``, ``band_t_from``, ``seconds``, ``table`` and the raw ``records``.
    """
    from unmask import Unmasker
    from unmask.evaluation.robust_report import aggregate, band_temperatures

    pipe = Unmasker(weights_dir, device="cpu", backend=backend)
    t0 = time.perf_counter()
    records = run_protocol(faces, families, pipe, template_dir, modes, seed)
    temperature = pipe.attributes.temperature
    if band_t_from:
        old = json.loads(Path(band_t_from).read_text())
        band_t = band_temperatures(old["records"], old["temperature"])
    else:
        band_t = band_temperatures(records, temperature)
    return {
        "faces": len(faces),
        "families": list(families),
        "modes": list(modes),
        "seed": seed,
        "weights": str(weights_dir or "shipped"),
        "temperature": temperature,
        "band_t": band_t,
        "band_t_from": str(band_t_from or "these records"),
        "seconds": round(time.perf_counter() - t0, 1),
        "table": aggregate(records, temperature, band_t),
        "records": records,
    }
