"""Behaviour of the procedural mask source (synthetic landmarks; real UTK faces when present)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from unmask.masking.base import MaskedFace, MaskSource
from unmask.masking.procedural import KINDS, ProceduralMasks

MOUTH = list(range(48, 68))
EYES = list(range(36, 48))
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# Mean iBUG-68 shape of frontal faces (percent of the face width; y down), eyes level.
MEAN_FACE = (
    np.array(
        [
            0,
            17,
            1,
            30,
            2,
            43,
            4,
            56,
            9,
            67,
            16,
            78,
            26,
            86,
            37,
            92,
            49,
            94,
            62,
            92,
            73,
            86,
            83,
            78,
            91,
            68,
            96,
            56,
            98,
            43,
            99,
            30,
            100,
            17,
            8,
            7,
            14,
            2,
            23,
            0,
            32,
            1,
            40,
            5,
            57,
            4,
            66,
            1,
            75,
            0,
            84,
            2,
            90,
            7,
            49,
            15,
            49,
            23,
            49,
            32,
            49,
            40,
            39,
            46,
            44,
            48,
            49,
            49,
            54,
            48,
            59,
            46,
            18,
            16,
            24,
            13,
            30,
            13,
            36,
            18,
            30,
            19,
            23,
            18,
            62,
            18,
            68,
            13,
            74,
            13,
            80,
            16,
            75,
            18,
            68,
            19,
            29,
            61,
            36,
            58,
            44,
            57,
            49,
            58,
            54,
            57,
            62,
            58,
            70,
            60,
            62,
            68,
            55,
            71,
            49,
            72,
            43,
            71,
            36,
            68,
            32,
            61,
            44,
            61,
            49,
            61,
            54,
            61,
            67,
            61,
            55,
            65,
            49,
            66,
            44,
            65,
        ],
        np.float64,
    ).reshape(68, 2)
    / 100.0
)


def synthetic_face(
    size: int = 256, width: float = 0.7, angle: float = 0.0, centre=None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A skin-coloured blob image and plausible 68 landmarks, ``width`` of the image wide."""
    pts = (MEAN_FACE - MEAN_FACE.mean(0)) * width * size
    a = np.deg2rad(angle)
    pts = pts @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    pts += np.array(centre if centre is not None else (size / 2, size / 2))
    rng = np.random.default_rng(seed)
    img = np.clip(rng.normal(90, 20, (size, size, 3)), 0, 255).astype(np.uint8)
    c = pts.mean(0)
    yy, xx = np.mgrid[:size, :size]
    skin = (xx - c[0]) ** 2 + ((yy - c[1]) / 1.3) ** 2 < (0.55 * width * size) ** 2
    img[skin] = (196, 150, 125)
    return img, pts.astype(np.float32)


def covered(res: MaskedFace, pts: np.ndarray, outside: bool = True) -> np.ndarray:
    """Whether each point lies on the binary mask; points outside the image count as ``outside``."""
    h, w = res.mask.shape
    ij = np.round(pts).astype(int)
    inside = (ij[:, 0] >= 0) & (ij[:, 1] >= 0) & (ij[:, 0] < w) & (ij[:, 1] < h)
    ij = np.clip(ij, 0, [w - 1, h - 1])
    return np.where(inside, res.mask[ij[:, 1], ij[:, 0]] == 1, outside)


def test_is_a_mask_source():
    src = ProceduralMasks()
    assert isinstance(src, MaskSource)
    assert src.name == "procedural"


@pytest.mark.parametrize("size", [128, 200, 256, 1024])
def test_shapes_dtypes_ranges(size):
    img, lm = synthetic_face(size)
    before = img.copy()
    res = ProceduralMasks().apply(img, lm, np.random.default_rng(size))
    assert np.array_equal(img, before)  # the input is not modified
    assert res.image.shape == (size, size, 3) and res.image.dtype == np.uint8
    assert res.mask.shape == (size, size) and res.mask.dtype == np.uint8
    assert res.alpha.shape == (size, size) and res.alpha.dtype == np.float32
    assert set(np.unique(res.mask)) <= {0, 1}
    assert 0.0 <= res.alpha.min() and res.alpha.max() <= 1.0
    assert np.array_equal(res.mask, (res.alpha > 0.5).astype(np.uint8))
    assert res.source == "procedural" and res.kind in KINDS
    assert 0.1 < res.coverage < 0.6
    soft = (res.alpha > 0.02) & (res.alpha < 0.98)
    assert soft.any()  # feathered border
    json.dumps(res.params)
    p = res.params
    assert p["style"] == res.kind and len(p["color"]) == 3
    assert all(type(c) is int and 0 <= c <= 255 for c in p["color"])
    assert {"pattern", "loops", "nose_out"} <= set(p)


def test_deterministic_for_a_seed():
    img, lm = synthetic_face(200)
    src = ProceduralMasks()
    a = src.apply(img, lm, np.random.default_rng(7))
    b = src.apply(img, lm, np.random.default_rng(7))
    c = src.apply(img, lm, np.random.default_rng(8))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.alpha, b.alpha)
    assert a.params == b.params
    assert not np.array_equal(a.image, c.image)


def test_covers_mouth_and_nose_under_pose_and_scale():
    src = ProceduralMasks(nose_out_prob=0.15)
    rng = np.random.default_rng(0)
    for i in range(300):
        size = int(rng.choice([128, 200, 256]))
        width = rng.uniform(0.35, 0.9)
        img, lm = synthetic_face(
            size,
            width=width,
            angle=rng.uniform(-60, 60) if i % 10 else 180.0,
            centre=size * rng.uniform(0.35, 0.65, 2),
            seed=i,
        )
        lm = lm + rng.normal(0, 0.015 * width * size, lm.shape)  # landmark jitter
        res = src.apply(img, lm, rng)
        assert covered(res, lm[MOUTH]).all(), (i, res.params)
        assert res.nose_covered or res.params["nose_out"], (i, res.params)
        assert not covered(res, lm[EYES], outside=False).any(), (i, res.params)  # eyes visible


def test_nose_out_rate():
    img, lm = synthetic_face(128)
    rng = np.random.default_rng(1)
    results = [ProceduralMasks(nose_out_prob=0.1).apply(img, lm, rng) for _ in range(600)]
    rate = np.mean([not r.nose_covered for r in results])
    assert 0.06 <= rate <= 0.14
    assert all(r.nose_covered == (not r.params["nose_out"]) for r in results)
    never = ProceduralMasks(nose_out_prob=0.0)
    assert all(never.apply(img, lm, rng).nose_covered for _ in range(50))


def test_each_kind_is_produced():
    img, lm = synthetic_face(200)
    rng = np.random.default_rng(2)
    for kind in KINDS:
        assert ProceduralMasks(kinds=(kind,)).apply(img, lm, rng).kind == kind
    seen = {ProceduralMasks().apply(img, lm, rng).kind for _ in range(60)}
    assert seen == set(KINDS)
    patterns = {
        ProceduralMasks(kinds=("cloth",), pattern_prob=1.0).apply(img, lm, rng).params["pattern"]
        for _ in range(40)
    }
    assert patterns == {"stripes", "dots", "checks", "floral"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kinds": ()},
        {"kinds": ("gas",)},
        {"nose_out_prob": 0.2},
        {"nose_out_prob": -0.01},
        {"loop_prob": 1.5},
        {"valve_prob": -1},
        {"pattern_prob": float("nan")},
        {"weights": (1.0, 2.0)},
        {"weights": (1, 1, 1, 1, -1)},
        {"weights": (0, 0, 0, 0, 0)},
    ],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        ProceduralMasks(**kwargs)


def test_bad_inputs_raise():
    img, lm = synthetic_face(128)
    src, rng = ProceduralMasks(), np.random.default_rng(0)
    with pytest.raises(ValueError):
        src.apply(img[..., 0], lm, rng)
    with pytest.raises(ValueError):
        src.apply(img.astype(np.float32), lm, rng)
    with pytest.raises(ValueError):
        src.apply(img, lm[:67], rng)


def test_landmarks_partly_or_fully_outside_the_image():
    src, rng = ProceduralMasks(), np.random.default_rng(3)
    for centre in [(0, 128), (256, 256), (128, -20), (300, 128)]:
        img, lm = synthetic_face(256, width=0.8, centre=centre)
        res = src.apply(img, lm, rng)
        assert res.mask.shape == (256, 256)
        assert covered(res, lm[MOUTH]).all()
    img, lm = synthetic_face(256, centre=(2000, -3000))
    res = src.apply(img, lm, rng)
    assert res.mask.sum() == 0 and np.array_equal(res.image, img)


@pytest.fixture(scope="module")
def utk_faces():
    folder = DATA / "faces-utk"
    if not folder.is_dir():
        pytest.skip(f"shared data not found at {folder}")
    pytest.importorskip("dlib", reason="dlib is not installed")
    from PIL import Image

    from unmask.faces.teacher import TeacherUnavailable, teacher_landmarks

    faces = []
    for path in sorted(folder.glob("*.jpg"))[::97][:40]:
        img = np.asarray(Image.open(path).convert("RGB"))
        try:
            found = teacher_landmarks(img)
        except TeacherUnavailable as exc:
            pytest.skip(str(exc))
        if found is not None:
            faces.append((img, found[0]))
    if len(faces) < 10:
        pytest.skip("too few faces found by the teacher")
    return faces


@pytest.mark.shared
def test_covers_mouth_on_real_faces(utk_faces):
    src, rng = ProceduralMasks(), np.random.default_rng(4)
    n = nose_out = 0
    for img, lm in utk_faces:
        for _ in range(8):
            res = src.apply(img, lm, rng)
            assert covered(res, lm[MOUTH]).all(), res.params
            assert res.nose_covered or res.params["nose_out"], res.params
            assert not covered(res, lm[EYES], outside=False).any(), res.params
            n, nose_out = n + 1, nose_out + (not res.nose_covered)
    assert n >= 80 and nose_out < 0.2 * n
