import json
from types import SimpleNamespace

import numpy as np
import pytest

from unmask.evaluation import photos, photos_real
from unmask.faces.align import MEAN_68
from unmask.io import load_image, save_image

cv2 = pytest.importorskip("cv2")


def _face(seed: int, side: int = 160, mouth: bool = True):
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 8, (side, side)).astype(np.float32), (0, 0), 0.8)
    tone = np.array([180, 130, 110], np.float32) + rng.uniform(-30, 30, 3)
    img = np.clip(tone + noise[..., None], 0, 255).astype(np.uint8)
    lm = (MEAN_68 * side).astype(np.float32)
    if mouth:
        centre = tuple(np.round(lm[62]).astype(int))
        cv2.ellipse(img, centre, (18, 5), 0, 0, 360, (150, 60, 70), -1)
    return img, lm


def _make_set(root, n=3):
    rows = []
    for i in range(n):
        truth, lm = _face(i)
        mask = np.zeros(truth.shape[:2], np.uint8)
        hull = cv2.convexHull(lm[[2, 3, 4, 5, 8, 11, 12, 13, 14, 29]].astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1)
        masked = truth.copy()
        masked[mask > 0] = (90, 160, 200)
        d = root / f"p{i}"
        save_image(d / "truth.png", truth)
        save_image(d / "masked.png", masked)
        save_image(d / "mask.png", mask * 255)
        rows.append({"id": f"p{i}", "landmarks": lm.tolist(), "kind": "test"})
    (root / "index.json").write_text(json.dumps({"photos": rows}))
    return rows


class Oracle:
    """Rebuilds the hole with the truth: the figures must read perfect."""

    def __init__(self, root, grow=0):
        self.root, self.grow = root, grow

    def __call__(self, masked):
        for d in sorted(self.root.iterdir()):
            if d.is_dir() and np.array_equal(load_image(d / "masked.png"), masked):
                truth = load_image(d / "truth.png")
                hole = (load_image(d / "mask.png")[..., 0] > 0).astype(np.uint8)
                if self.grow:
                    hole = cv2.dilate(hole, np.ones((2 * self.grow + 1,) * 2, np.uint8))
                out = np.where(hole[..., None] > 0, truth, masked)
                return SimpleNamespace(restored=out, mask=hole, faces=[])
        raise AssertionError("unknown photo")


def test_the_truth_in_the_hole_reads_perfect_and_telea_does_not(tmp_path):
    _make_set(tmp_path)
    res = photos.evaluate(tmp_path, {"oracle": Oracle(tmp_path), "telea": None}, identity=False)
    o, t = res["variants"]["oracle"], res["variants"]["telea"]
    assert res["n"] == 3
    assert o["tone_de"] < 1e-3 and o["leftover"] == 0 and o["changed_outside"] == 0
    assert o["sharpness"] == pytest.approx(1.0) and o["psnr"] >= 99  # PSNR is capped
    assert t["tone_de"] > 2 and t["sharpness"] < 0.8 and t["psnr"] < 30
    table = photos.markdown(res)
    assert "| sharpness ratio (bar 0.8–1.25) | 1.00 |" in table


def test_a_hole_grown_past_the_mask_counts_as_changed_outside(tmp_path):
    _make_set(tmp_path, 1)
    # the truth outside the mask equals the masked input: repaint the grown band visibly
    grown = Oracle(tmp_path, grow=8)

    def repaint(masked):
        r = grown(masked)
        r.restored = np.where(r.mask[..., None] > 0, 0, masked).astype(np.uint8)
        return r

    res = photos.evaluate(tmp_path, {"grown": repaint}, identity=False)
    assert res["variants"]["grown"]["changed_outside"] > 0.1


def test_a_missed_mask_edge_counts_as_left(tmp_path):
    _make_set(tmp_path, 1)

    def shrunk(masked):
        r = Oracle(tmp_path)(masked)
        r.mask = cv2.erode(r.mask, np.ones((9, 9), np.uint8))
        return r

    res = photos.evaluate(tmp_path, {"shrunk": shrunk}, identity=False)
    assert res["variants"]["shrunk"]["leftover"] > 0.05


def test_detail_and_seam_see_a_flat_patch_and_a_colour_step():
    img, lm = _face(0, mouth=False)
    hole = np.zeros(img.shape[:2], np.uint8)
    cv2.ellipse(hole, (80, 120), (35, 22), 0, 0, 360, 1, -1)
    real = photos_real.detail_and_seam(img, hole, lm)
    flat = img.copy()
    flat[hole > 0] = np.clip(img[hole > 0].astype(int).mean(0) + 40, 0, 255).astype(np.uint8)
    fake = photos_real.detail_and_seam(flat, hole, lm)
    assert real is not None and fake is not None
    assert fake["lap_hole"] / fake["lap_ring"] < 0.5 * real["lap_hole"] / real["lap_ring"]
    assert fake["seam_de"] > real["seam_de"] + 5


def test_contact_sheet_keeps_each_photos_aspect():
    a = np.zeros((100, 200, 3), np.uint8)
    b = np.zeros((300, 150, 3), np.uint8)
    r = [SimpleNamespace(restored=a), SimpleNamespace(restored=b)]
    sheet = photos_real.contact_sheet([a, b], r, height=64, per_row=2)
    assert sheet.shape[0] == 64 + 6
    assert sheet.shape[1] == (2 * 128 + 16) + (2 * 32 + 16)


def test_real_photo_detail_is_also_reported_for_small_and_large_faces_apart():
    recs = [
        {"lap_hole": 1.0, "lap_ring": 4.0, "seam_de": 2.0, "side": 100.0},
        {"lap_hole": 6.0, "lap_ring": 4.0, "seam_de": 4.0, "side": 400.0},
    ]
    summary = photos_real._detail_summary(recs)
    assert summary["detail_ratio"] == pytest.approx(7 / 8)
    assert summary["small"] == {"n": 1, "detail_ratio": pytest.approx(0.25)}
    assert summary["large"] == {"n": 1, "detail_ratio": pytest.approx(1.5)}
    reference = {"n": 3, "detail_ratio": 1.25, "seam_de": 1.0}
    table = photos_real.real_markdown(reference, {"x": summary})
    assert "| 0.20 (1) | 1.20 (1) |" in table


def test_eval_photos_rejects_an_unknown_finishing_key_before_any_work(tmp_path):
    from click.testing import CliRunner

    from unmask.cli.main import cli

    set_dir = tmp_path / "set"
    res = CliRunner().invoke(
        cli, ["eval", "photos", "--set-dir", str(set_dir), "--finish-set", "grian=1.5"]
    )
    assert res.exit_code == 2
    assert "unknown FinishConfig keys: grian" in res.output
    assert not set_dir.exists()


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("sem=edge", "unexpected keyword argument 'sem'"),
        ("seam=middle", "unknown seam 'middle'"),
        ("finish=false", "weights_dir and finish have options of their own"),
    ],
)
def test_eval_photos_rejects_a_bad_pipeline_option_before_any_work(tmp_path, item, message):
    from click.testing import CliRunner

    from unmask.cli.main import cli

    set_dir = tmp_path / "set"
    res = CliRunner().invoke(
        cli, ["eval", "photos", "--set-dir", str(set_dir), "--pipeline-set", item]
    )
    assert res.exit_code == 2
    assert message in res.output
    assert not set_dir.exists()


def test_a_scaled_set_holds_the_same_photos_smaller_with_their_landmarks(tmp_path):
    rows = _make_set(tmp_path / "set")
    out = photos.scaled_set(tmp_path / "set", 0.5)
    assert out == tmp_path / "set-x0.5"
    small = json.loads((out / "index.json").read_text())
    assert small["scale"] == 0.5 and [r["id"] for r in small["photos"]] == ["p0", "p1", "p2"]
    truth = load_image(tmp_path / "set" / "p0" / "truth.png")
    half = load_image(out / "p0" / "truth.png")
    assert half.shape[:2] == (truth.shape[0] // 2, truth.shape[1] // 2)
    mask = load_image(out / "p0" / "mask.png")[..., 0] > 0
    big = load_image(tmp_path / "set" / "p0" / "mask.png")[..., 0] > 0
    assert abs(mask.sum() * 4 - big.sum()) < 0.1 * big.sum()
    lm, lm_small = np.asarray(rows[0]["landmarks"]), np.asarray(small["photos"][0]["landmarks"])
    np.testing.assert_allclose(lm_small, (lm + 0.5) / 2 - 0.5, atol=0.01)
    assert photos.scaled_set(tmp_path / "set", 0.5) == out  # kept and reused
    with pytest.raises(ValueError, match="between 0 and 1"):
        photos.scaled_set(tmp_path / "set", 1.5)
