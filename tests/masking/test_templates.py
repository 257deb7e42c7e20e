"""Template (MaskTheFace-format) masks: cfg parsing, placement, coverage, side views, errors.

The core tests write a tiny cfg and RGBA template into ``tmp_path``; the tests on the real
templates and UTK faces skip when ``../shared/data`` or dlib is absent.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from unmask.faces.align import MEAN_68
from unmask.faces.landmarks import flip_landmarks
from unmask.masking import templates as tm
from unmask.masking.base import MaskSource
from unmask.masking.template_files import parse_masks_cfg
from unmask.masking.template_fit import estimate_yaw, face_points
from unmask.masking.templates import TemplateMasks

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MOUTH = list(range(48, 68))

# Toy template anchors (a, b, c, d, e, f) in a 120 x 104 image; "left" has the nose side left.
FRONT = [(12, 24), (60, 8), (108, 24), (14, 70), (60, 96), (106, 70)]
LEFT = [(12, 26), (34, 8), (108, 20), (20, 72), (40, 96), (106, 66)]
RIGHT = [(119 - x, y) for x, y in (LEFT[2], LEFT[1], LEFT[0], LEFT[5], LEFT[4], LEFT[3])]


def _template_png(path: Path, anchors: list[tuple[int, int]]) -> None:
    """A white-ish RGBA mask whose opaque part is the anchors' hull grown by 4 px."""
    img = np.zeros((104, 120, 4), np.uint8)
    img[..., :3] = np.linspace(170, 250, 120, dtype=np.uint8)[None, :, None]
    hull = cv2.convexHull(np.array(anchors, np.int32))
    alpha = np.zeros((104, 120), np.uint8)
    cv2.fillConvexPoly(alpha, hull, 255)
    img[..., 3] = cv2.dilate(alpha, np.ones((9, 9), np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA))


def _section(name: str, file: str, anchors) -> str:
    pts = "".join(f"mask_{k}: {x}, {y}\n" for k, (x, y) in zip("abcdef", anchors, strict=True))
    return f"[{name}]\ntemplate: templates/{file}\n{pts}\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A MaskTheFace-style folder: surgical (3 views), KN95 (front), empty/inpaint, a texture."""
    root = tmp_path / "masks"
    for name, anchors in (("toy", FRONT), ("toy_left", LEFT), ("toy_right", RIGHT)):
        _template_png(root / "templates" / f"{name}.png", anchors)
    cfg = (
        _section("surgical", "toy.png", FRONT)
        + _section("surgical_left", "toy_left.png", LEFT)
        + _section("surgical_right", "toy_right.png", RIGHT)
        + _section("KN95", "toy.png", FRONT)
        + ";[N95]\n;template: templates/missing.png\n\n[empty]\n[inpaint_left]\n"
    )
    (root / "masks.cfg").write_text(cfg)
    tex = root / "textures" / "check"
    tex.mkdir(parents=True)
    board = (np.indices((32, 32)).sum(0) // 8 % 2 * 200 + 30).astype(np.uint8)
    cv2.imwrite(str(tex / "board.png"), np.dstack([board, board // 2, 255 - board]))
    return root


def face(
    size: int = 256,
    yaw_deg: float = 0.0,
    seed: int = 0,
    scale: float = 1.0,
    angle_deg: float = 0.0,
    shift=(0.0, 0.0),
) -> tuple[np.ndarray, np.ndarray]:
    """A noisy image with a skin ellipse and mean-shape landmarks, turned by ``yaw_deg`` about a
    vertical axis (positive: nose toward the image right) and rotated in-plane by ``angle_deg``."""
    pts = (MEAN_68.astype(np.float64) - 0.5) * size * scale
    half = (pts[16, 0] - pts[0, 0]) / 2
    z = np.sqrt(np.clip(half**2 - pts[:, 0] ** 2, 0, None)) * 0.8
    z[27:36] += half * np.array([0.1, 0.15, 0.22, 0.32, 0.12, 0.15, 0.18, 0.15, 0.12])
    t = np.deg2rad(yaw_deg)
    pts[:, 0] = pts[:, 0] * np.cos(t) + z * np.sin(t)
    a = np.deg2rad(angle_deg)
    pts = pts @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    pts += size / 2 + np.asarray(shift)
    rng = np.random.default_rng(seed)
    img = rng.integers(40, 120, (size, size, 3), dtype=np.uint8)
    cv2.ellipse(
        img,
        (size // 2, size // 2),
        (int(0.3 * size), int(0.4 * size)),
        0,
        0,
        360,
        (200, 150, 120),
        -1,
    )
    return img, pts.astype(np.float32)


def covered(mask: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Per point: on the binary mask, or off the image (which cannot be covered)."""
    h, w = mask.shape
    xy = np.round(pts).astype(int)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    xy = np.clip(xy, 0, [w - 1, h - 1])
    return np.where(inside, mask[xy[:, 1], xy[:, 0]] == 1, True)


def test_parse_cfg(folder: Path):
    items = parse_masks_cfg(folder / "masks.cfg")
    assert [t.name for t in items] == ["surgical", "surgical_left", "surgical_right", "KN95"]
    assert [(t.kind, t.base, t.side) for t in items] == [
        ("surgical", "surgical", "front"),
        ("surgical", "surgical", "left"),
        ("surgical", "surgical", "right"),
        ("kn95", "KN95", "front"),
    ]
    assert items[0].anchors.shape == (6, 2) and items[0].anchors.dtype == np.float32
    np.testing.assert_array_equal(items[1].anchors, np.array(LEFT, np.float32))
    assert items[0].path == folder / "templates" / "toy.png"
    assert parse_masks_cfg(folder)[0].name == "surgical"  # the folder works too
    assert items[1].yaw < -0.2 < abs(items[0].yaw) + 0.2 < items[2].yaw + 0.2


def test_is_a_mask_source(folder: Path):
    src = TemplateMasks(folder)
    assert isinstance(src, MaskSource) and src.name == "template"
    assert src.kinds == ("kn95", "surgical")
    assert TemplateMasks(folder, exclude_kinds=["kn95", "plain"]).kinds == ("surgical",)
    assert src._levels == {}  # nothing loaded before the first mask


def test_errors(tmp_path: Path, folder: Path):
    with pytest.raises(FileNotFoundError, match="folder not found"):
        TemplateMasks(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="config not found"):
        TemplateMasks(tmp_path)
    with pytest.raises(ValueError, match="unknown or no mask kinds"):
        TemplateMasks(folder, kinds=["gas"])
    with pytest.raises(ValueError, match="nose_out_prob"):
        TemplateMasks(folder, nose_out_prob=0.2)
    with pytest.raises(ValueError, match="sum"):
        TemplateMasks(folder, texture_prob=0.7, colour_prob=0.5)
    cfg = folder / "masks.cfg"
    cfg.write_text(_section("cloth", "gone.png", FRONT))
    with pytest.raises(FileNotFoundError, match="gone.png"):
        parse_masks_cfg(cfg)
    cfg.write_text(_section("cloth", "toy.png", FRONT).replace("mask_e", "mask_x"))
    with pytest.raises(ValueError, match=r"\[cloth\].*mask_a..mask_f"):
        parse_masks_cfg(cfg)
    cfg.write_text(_section("cloth", "toy.png", FRONT).replace("60, 96", "60; 96"))
    with pytest.raises(ValueError, match="cloth"):
        parse_masks_cfg(cfg)
    cfg.write_text("[empty]\n[inpaint]\n")
    with pytest.raises(ValueError, match="no section names a template"):
        parse_masks_cfg(cfg)
    cfg.write_text("no section header\n")
    with pytest.raises(ValueError, match="cannot parse"):
        parse_masks_cfg(cfg)
    cfg.write_text(_section("cloth", "toy.png", FRONT))
    (folder / "templates" / "toy.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="RGBA"):
        TemplateMasks(folder).apply(*face(), np.random.default_rng(0))


def test_result_contract_and_determinism(folder: Path):
    img, lm = face(seed=3)
    a = TemplateMasks(folder, nose_out_prob=0.15).apply(img, lm, np.random.default_rng(7))
    b = TemplateMasks(folder, nose_out_prob=0.15).apply(img, lm, np.random.default_rng(7))
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.alpha, b.alpha)
    assert a.params == b.params and a.kind == b.kind
    assert a.image.shape == img.shape and a.image.dtype == np.uint8
    assert a.alpha.dtype == np.float32 and a.alpha.shape == img.shape[:2]
    assert 0 <= a.alpha.min() and a.alpha.max() <= 1
    np.testing.assert_array_equal(a.mask, (a.alpha > 0.5).astype(np.uint8))
    assert a.source == "template" and a.kind in ("surgical", "kn95")
    assert set(a.params) >= {"template", "side", "texture", "colour", "nose_out"}
    json.dumps(a.params)
    assert not np.array_equal(img, a.image) and 0.1 < a.coverage < 0.6
    np.testing.assert_array_equal(a.image[a.alpha == 0], img[a.alpha == 0])


def test_covers_mouth_and_nose(folder: Path):
    src = TemplateMasks(folder, nose_out_prob=0.15)
    rng = np.random.default_rng(0)
    nose_out = 0
    for i in range(150):
        img, lm = face(
            size=int(rng.choice([128, 256, 300])),
            yaw_deg=rng.uniform(-45, 45),
            seed=i,
            scale=rng.uniform(0.8, 1.15),
            angle_deg=rng.uniform(-15, 15),
            shift=rng.uniform(-10, 10, 2),
        )
        lm = lm + rng.normal(0, 0.7, lm.shape).astype(np.float32)
        res = src.apply(img, lm, rng)
        np.testing.assert_array_equal(res.mask, (res.alpha > 0.5).astype(np.uint8))
        assert covered(res.mask, lm[MOUTH]).all(), (i, res.params)
        assert res.nose_covered == (not res.params["nose_out"]), (i, res.params)
        nose_out += res.params["nose_out"]
    assert 3 <= nose_out <= 45


def test_side_follows_yaw(folder: Path):
    src = TemplateMasks(folder, kinds=["surgical"])
    for deg, side in ((-45, "left"), (0, "front"), (45, "right")):
        img, lm = face(yaw_deg=deg)
        assert (
            estimate_yaw(lm) == pytest.approx(0.0, abs=0.02)
            if deg == 0
            else (np.sign(estimate_yaw(lm)) == np.sign(deg) and abs(estimate_yaw(lm)) > 0.2)
        )
        for seed in range(5):
            assert src.apply(img, lm, np.random.default_rng(seed)).params["side"] == side
    lm = face(yaw_deg=30)[1]
    assert estimate_yaw(flip_landmarks(lm, 256)) == pytest.approx(-estimate_yaw(lm), abs=0.03)


def test_face_points_geometry():
    _, lm = face()
    pts = face_points(lm, np.array(FRONT, np.float32))
    a, b, c, d, e, f = pts
    assert a[0] < b[0] < c[0] and d[0] < e[0] < f[0]
    assert b[1] < lm[30, 1] and e[1] >= lm[8, 1] and a[1] < d[1] < e[1]
    assert a[0] <= lm[2, 0] and c[0] >= lm[14, 0]
    out = face_points(lm, np.array(FRONT, np.float32), nose_out=0.2)
    assert lm[33, 1] <= out[1, 1] <= lm[51, 1]
    big = face_points(lm, np.array(FRONT, np.float32), grow=2)
    assert big[4, 1] > e[1] and big[0, 0] < a[0] and big[1, 1] < b[1]


def test_last_resort_fill(folder: Path):
    img = np.zeros((104, 120, 4), np.uint8)
    img[:30, :, :] = 255  # only a strip along the top edge is opaque: it cannot cover the mouth
    cv2.imwrite(str(folder / "templates" / "strip.png"), img)
    (folder / "masks.cfg").write_text(_section("cloth", "strip.png", FRONT))
    img, lm = face()
    res = TemplateMasks(folder).apply(img, lm, np.random.default_rng(0))
    assert res.params["forced"] and res.params["attempts"] == 4 and res.nose_covered
    assert covered(res.mask, lm[MOUTH]).all()


@pytest.mark.parametrize("size", [128, 512, 1024])
def test_sizes_and_landmarks_off_the_image(folder: Path, size: int):
    src = TemplateMasks(folder)
    img, lm = face(size=size, shift=(0.3 * size, 0.25 * size))  # jaw and chin leave the image
    assert (lm[:, 0] >= size).any() and (lm[:, 1] >= size).any()
    for seed in range(3):
        res = src.apply(img, lm, np.random.default_rng(seed))
        assert res.image.shape == img.shape
        assert covered(res.mask, lm[MOUTH]).all()


def test_texture_colour_and_cache(folder: Path, monkeypatch):
    img, lm = face()
    textured = TemplateMasks(folder, texture_prob=1.0, colour_prob=0.0, match_lighting=False)
    res = textured.apply(img, lm, np.random.default_rng(1))
    assert res.params["texture"] == "check/board.png" and res.params["colour"] is None
    coloured = TemplateMasks(folder, texture_prob=0.0, colour_prob=1.0)
    res = coloured.apply(img, lm, np.random.default_rng(2))
    assert res.params["texture"] is None and len(res.params["colour"]) == 3
    assert all(isinstance(c, int) and 0 <= c <= 255 for c in res.params["colour"])
    plain = TemplateMasks(folder, texture_prob=0.0, colour_prob=0.0)
    plain.apply(img, lm, np.random.default_rng(0))
    calls = []
    real = cv2.imread
    monkeypatch.setattr(tm.cv2, "imread", lambda *a: calls.append(a) or real(*a))
    for _ in range(3):
        plain.apply(img, lm, np.random.default_rng(0))
    assert calls == []  # the template came from the cache


def test_fast_enough(folder: Path):
    src = TemplateMasks(folder)
    img, lm = face(size=256)
    src.apply(img, lm, np.random.default_rng(0))
    t0 = time.perf_counter()
    for seed in range(20):
        src.apply(img, lm, np.random.default_rng(seed))
    assert (time.perf_counter() - t0) / 20 < 0.05


# --- real MaskTheFace templates and UTK faces (skipped without ../shared/data or dlib) ---


def _real_templates() -> Path:
    root = DATA / "mask-templates"
    if not (root / "masks.cfg").is_file():
        pytest.skip(f"shared data not available: {root}")
    return root


@pytest.mark.shared
def test_real_cfg():
    items = parse_masks_cfg(_real_templates() / "masks.cfg")
    assert len(items) == 21
    assert {t.kind for t in items} == {"surgical", "n95", "kn95", "cloth", "gas"}
    for base in {t.base for t in items}:
        assert {t.side for t in items if t.base == base} == {"front", "left", "right"}
    for t in items:
        assert (
            (t.yaw < -0.2)
            if t.side == "left"
            else (t.yaw > 0.2)
            if t.side == "right"
            else (abs(t.yaw) < 0.1)
        )


@pytest.mark.shared
def test_real_faces(face_files):
    pytest.importorskip("dlib", reason="dlib is not installed (pip install 'unmask[train]')")
    from unmask.faces.teacher import TeacherUnavailable, teacher_landmarks

    src = TemplateMasks(_real_templates(), nose_out_prob=0.15)
    rng = np.random.default_rng(0)
    kinds, n, t_total = set(), 0, 0.0
    for path in face_files:
        img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        try:
            found = teacher_landmarks(img)
        except TeacherUnavailable as exc:
            pytest.skip(str(exc))
        if found is None:
            continue
        lm = found[0]
        for _ in range(5):
            t0 = time.perf_counter()
            res = src.apply(img, lm, rng)
            t_total += time.perf_counter() - t0
            n += 1
            kinds.add(res.kind)
            assert covered(res.mask, lm[MOUTH]).all(), res.params
            assert res.nose_covered == (not res.params["nose_out"]), res.params
            assert 0.08 < res.coverage < 0.75, res.params
    assert n >= 20 and len(kinds) >= 3
    assert t_total / n < 0.1  # generous: first calls load and scale the templates
