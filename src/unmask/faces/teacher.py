"""dlib teacher models: HOG / CNN face detectors and 5- / 68-point shape predictors.

These run on *unmasked* faces only (they fail on masked ones) to produce ground truth for the
dataset builder, and serve as selectable baseline detectors. The model files come from the
``face-recognition-models`` package; we locate them on disk without importing that package
(its ``__init__`` needs ``pkg_resources``). The 68-point model is licensed for non-commercial use.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from functools import cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL_FILES = {
    "shape68": "shape_predictor_68_face_landmarks.dat",
    "shape5": "shape_predictor_5_face_landmarks.dat",
    "cnn": "mmod_human_face_detector.dat",
    "recognition": "dlib_face_recognition_resnet_model_v1.dat",
}


class TeacherUnavailable(RuntimeError):
    """dlib or the face-recognition-models files are not installed."""


def _dlib():
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise TeacherUnavailable(
            "dlib is not installed: pip install 'unmask[train]' (dlib-bin, face-recognition-models)"
        ) from exc
    return dlib


def model_dir() -> Path:
    """Folder holding dlib's ``.dat`` files (``$UNMASK_DLIB_MODELS`` overrides)."""
    env = os.environ.get("UNMASK_DLIB_MODELS")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise TeacherUnavailable(
            "face-recognition-models is not installed: pip install 'unmask[train]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def require() -> None:
    """Raise :class:`TeacherUnavailable` (with install advice) unless dlib and its 68-point
    model file are installed."""
    _dlib()
    model_path("shape68")


def model_path(name: str) -> Path:
    """Path of one dlib model file by short name (``shape68``, ``shape5``, ``cnn``, ...)."""
    path = model_dir() / MODEL_FILES[name]
    if not path.is_file():
        raise TeacherUnavailable(f"dlib model file missing: {path}")
    return path


@cache
def _shape_predictor(name: str):
    return _dlib().shape_predictor(str(model_path(name)))


@cache
def _hog():
    return _dlib().get_frontal_face_detector()


@cache
def _cnn():
    return _dlib().cnn_face_detection_model_v1(str(model_path("cnn")))


@cache
def _recognizer():
    return _dlib().face_recognition_model_v1(str(model_path("recognition")))


def detect_dlib(
    image: np.ndarray, kind: str = "hog", upsample: int = 1
) -> list[tuple[np.ndarray, float]]:
    """Run a dlib face detector.

    Args:
        image: ``H x W x 3`` uint8 RGB.
        kind: ``"hog"`` or ``"cnn"``.
        upsample: number of 2x upsamplings before detection (finds smaller faces, slower).
    Returns:
        A list of ``(box, score)``, box float32 ``xyxy`` pixels, sorted by score descending.
    """
    img = np.ascontiguousarray(image)
    out: list[tuple[np.ndarray, float]] = []
    if kind == "hog":
        rects, scores, _ = _hog().run(img, upsample, 0.0)
        for r, s in zip(rects, scores, strict=True):
            out.append((np.array([r.left(), r.top(), r.right(), r.bottom()], np.float32), float(s)))
    elif kind == "cnn":
        for d in _cnn()(img, upsample):
            r = d.rect
            box = np.array([r.left(), r.top(), r.right(), r.bottom()], np.float32)
            out.append((box, float(d.confidence)))
    else:
        raise ValueError(f"unknown dlib detector {kind!r}: expected 'hog' or 'cnn'")
    out.sort(key=lambda t: -t[1])
    return out


def shape(image: np.ndarray, box: np.ndarray, points: int = 68) -> np.ndarray:
    """dlib shape predictor inside ``box``.

    Args:
        image: ``H x W x 3`` uint8 RGB.
        box: xyxy pixels.
        points: 68 or 5.
    Returns:
        ``(points, 2)`` float32 pixel xy (iBUG order for 68; dlib's own order for 5).
    """
    dlib = _dlib()
    name = {68: "shape68", 5: "shape5"}[points]
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    det = _shape_predictor(name)(np.ascontiguousarray(image), dlib.rectangle(x1, y1, x2, y2))
    return np.array([[p.x, p.y] for p in det.parts()], dtype=np.float32)


def face_descriptor(image: np.ndarray, landmarks68: np.ndarray) -> np.ndarray:
    """dlib's 128-d face-recognition embedding of the face with the given 68 landmarks.

    Used only for the identity-similarity metric. Returns float32 ``(128,)``.
    """
    dlib = _dlib()
    pts = [dlib.point(int(round(x)), int(round(y))) for x, y in landmarks68]
    xs, ys = landmarks68[:, 0], landmarks68[:, 1]
    rect = dlib.rectangle(int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))
    det = dlib.full_object_detection(rect, pts)
    vec = _recognizer().compute_face_descriptor(np.ascontiguousarray(image), det)
    return np.asarray(vec, dtype=np.float32)


def teacher_landmarks(
    image: np.ndarray, upsample: int = 1, pad: float = 0.25
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Find the most confident face with HOG and return its 68 landmarks.

    When HOG finds nothing the image is padded by ``pad`` of its size on each side (replicated
    borders) and searched again, which rescues tight crops. Among several faces the most
    confident one whose box centre lies inside the original image wins.

    Returns:
        ``(landmarks68, box, score)`` in the input's pixel grid, or ``None`` when no face is found.
    """
    import cv2

    dets = detect_dlib(image, "hog", upsample)
    offset = 0
    work = image
    if not dets and pad > 0:
        h, w = image.shape[:2]
        offset = int(round(pad * max(h, w)))
        work = cv2.copyMakeBorder(image, offset, offset, offset, offset, cv2.BORDER_REPLICATE)
        dets = detect_dlib(work, "hog", upsample)
    h, w = image.shape[:2]
    inside = [
        (b, s)
        for b, s in dets
        if 0 <= (b[0] + b[2]) / 2 - offset < w and 0 <= (b[1] + b[3]) / 2 - offset < h
    ]
    if not inside:
        return None
    box, score = inside[0]
    pts = shape(work, box, 68) - offset
    return pts, box - offset, score
