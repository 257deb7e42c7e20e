import numpy as np
import pytest
import torch

from support import research
from unmask.evaluation.inpainter import evaluate, opencv_inpaint
from unmask.evaluation.inpainter_report import markdown
from unmask.models.face_attr import FaceAttrNet
from unmask.models.inpainter import InpaintGenerator
from unmask.runtime import weights

conditioning = research("conditioning")
bars = research("bars")

ATTR = dict(image_size=32, widths=(8, 8, 16, 16), blocks=1, head_channels=4)
TINY = dict(widths=[4, 8, 8, 8], dilations=[1, 2], embed_dim=8)


def _weights(folder, guided=True, seed=0):
    torch.manual_seed(seed)
    args = dict(landmark_channels=5 if guided else 0, gender_film=guided, **TINY)
    weights.save(
        folder,
        "inpainter",
        InpaintGenerator(**args),
        "InpaintGenerator",
        args,
        {"image_size": 32, "landmark_sigma": 0.02},
    )
    return folder


def test_evaluate_all_rows_table_and_sheet(tiny_dataset, tmp_path):
    w = _weights(tmp_path / "w")
    weights.save(w, "attr", FaceAttrNet(**ATTR), "FaceAttrNet", ATTR, {"gender_temperature": 1})
    weights.save(tmp_path / "judge", "gender_judge", FaceAttrNet(**ATTR), "FaceAttrNet", ATTR, {})
    abl = [_weights(tmp_path / f"a{i}", guided=False, seed=i) for i in range(2)]
    res = evaluate(
        tiny_dataset,
        w,
        l1_dir=_weights(tmp_path / "l1", guided=False),
        ablation_dirs=abl,
        others=(("fine-tuned", _weights(tmp_path / "ft", seed=3)),),
        judge_dir=tmp_path / "judge",
        attr_dir=w,
        sheet_path=tmp_path / "sheet.png",
        sheet_rows=2,
        identity_limit=2,
        timing_repeats=1,
    )
    names = [
        "shipped (guided)",
        "L1-only baseline",
        "unguided ablation s0",
        "unguided ablation s1",
        "fine-tuned",
        "OpenCV Telea",
        "OpenCV NS",
    ]
    assert list(res["rows"]) == names and res["samples"] > 0
    for row in res["rows"].values():
        assert np.isfinite(row["psnr_hole"]) and "sharpness" in row and "fid" in row
        assert 0 <= row["gender_agreement"] <= 1 and 0 <= row["gender_agreement_adults"] <= 1
        assert 0 <= row["gender_sure_share"] <= 1
        assert "gender_agreement_sure" in row or row["gender_sure_share"] == 0
    assert res["feature_net"] == "gender_judge"
    res["acceptance"] = bars.inpainter(res)
    assert "pass_psnr" in res["acceptance"] and "nme_all_ablation_seed_spread" in res["acceptance"]
    assert (tmp_path / "sheet.png").is_file()
    md = markdown(res)
    assert "OpenCV Telea" in md and "FID (unmask gender_judge features)" in md
    assert "Inception-FID" not in md
    assert set(res["params"]) == set(names[:5]) and min(res["params"].values()) > 0
    assert "parameters (generator): shipped (guided)" in md
    # the tiny crops' bottom 15 % is padding, and the hole reaches into it
    assert 0.5 < res["hole_inside_share"] < 1 and "inside the source photo" in md


def test_evaluate_notes_missing_judge(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.delenv("UNMASK_HOME", raising=False)
    w = _weights(tmp_path / "w")
    weights.save(w, "attr", FaceAttrNet(**ATTR), "FaceAttrNet", ATTR, {"gender_temperature": 1})
    res = evaluate(
        tiny_dataset,
        w,
        attr_dir=w,
        judge_dir=tmp_path / "none",
        condition=conditioning.Conditioning("teacher"),
        limit=2,
        identity_limit=0,
        timing_repeats=0,
    )
    assert any("judge" in n for n in res["notes"]) and res["feature_net"] == "attr"
    assert "gender_agreement" not in res["rows"]["shipped (guided)"]


def test_the_model_under_test_gets_its_own_label(tiny_dataset, tmp_path):
    """A candidate evaluated with ``label`` is named so in the table, and the bars are checked
    on its row; a label that another row already has is refused."""
    w = _weights(tmp_path / "w")
    kw = dict(
        condition=conditioning.Conditioning("teacher"), limit=2, identity_limit=0, timing_repeats=0
    )
    res = evaluate(tiny_dataset, w, label="candidate", **kw)
    res["acceptance"] = bars.inpainter(res)
    assert list(res["rows"]) == ["candidate", "OpenCV Telea", "OpenCV NS"]
    gain = res["rows"]["candidate"]["psnr_hole"] - res["rows"]["OpenCV Telea"]["psnr_hole"]
    assert res["main"] == "candidate"
    assert res["acceptance"]["psnr_hole_gain_vs_telea"] == pytest.approx(gain)
    with pytest.raises(ValueError, match="is taken"):
        evaluate(tiny_dataset, w, label="x", others=(("x", w),), **kw)


def test_opencv_inpaint_fills_the_hole():
    crop = np.full((32, 32, 3), 120, np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[10:20, 10:20] = 1
    crop[mask > 0] = 0
    for method in ("telea", "ns"):
        assert opencv_inpaint(crop, mask, method)[15, 15].min() > 100


def test_eval_cli_rejects_a_malformed_also(tiny_dataset):
    from click.testing import CliRunner

    from unmask.cli.main import cli

    args = ["eval", "inpainter", "--dataset", str(tiny_dataset), "--also", "no-equals-sign"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2 and "LABEL=DIR" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, [*args[:4], "--label", " "])
    assert res.exit_code == 2 and "--label" in res.output and "Traceback" not in res.output


def test_mixed_conditioning_takes_one_input_from_the_dataset(tiny_dataset, tmp_path):
    """``teacher-landmarks`` conditions on the dataset's landmarks (zero conditioning error),
    ``teacher-gender`` on the attr network's (its error); unknown modes are refused."""
    w = _weights(tmp_path / "w")
    weights.save(w, "attr", FaceAttrNet(**ATTR), "FaceAttrNet", ATTR, {"gender_temperature": 1})
    kw = dict(attr_dir=w, judge_dir=tmp_path / "none", limit=2, identity_limit=0)
    kw["timing_repeats"] = 0
    lm = evaluate(tiny_dataset, w, condition=conditioning.Conditioning("teacher-landmarks"), **kw)
    gen = evaluate(tiny_dataset, w, condition=conditioning.Conditioning("teacher-gender"), **kw)
    assert lm["conditioning"] == "teacher-landmarks" and lm["conditioning_nme"]["all"] == 0
    assert gen["conditioning_nme"]["all"] > 0
    with pytest.raises(ValueError, match="conditioning must be one of"):
        evaluate(tiny_dataset, w, condition=conditioning.Conditioning("oracle"), **kw)


def test_landmark_mix_moves_the_conditioning_towards_the_teacher(tiny_dataset, tmp_path):
    """``landmark_mix`` scales the conditioning landmarks' error (a diagnostic); it needs
    predicted landmarks and a share in [0, 1]."""
    w = _weights(tmp_path / "w")
    weights.save(w, "attr", FaceAttrNet(**ATTR), "FaceAttrNet", ATTR, {"gender_temperature": 1})
    kw = dict(attr_dir=w, judge_dir=tmp_path / "none", limit=2, identity_limit=0)
    kw["timing_repeats"] = 0
    full = evaluate(tiny_dataset, w, **kw)["conditioning_nme"]["all"]
    half = evaluate(tiny_dataset, w, condition=conditioning.Conditioning(landmark_mix=0.5), **kw)
    assert half["landmark_mix"] == 0.5 and full > 0
    assert half["conditioning_nme"]["all"] == pytest.approx(full / 2, rel=1e-4)
    jaw_mix = conditioning.Conditioning(landmark_mix=1.0, mix_points="jaw")
    jaw = evaluate(tiny_dataset, w, condition=jaw_mix, **kw)
    assert 0 < jaw["conditioning_nme"]["all"] < full and jaw["mix_points"] == "jaw"
    with pytest.raises(ValueError, match="mix_points"):
        conditioning.Conditioning(landmark_mix=1.0, mix_points="ears")
    with pytest.raises(ValueError, match="needs predicted landmarks"):
        conditioning.Conditioning("teacher-landmarks", landmark_mix=0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        conditioning.Conditioning(landmark_mix=1.5)


def test_onnx_rows_score_the_file_the_pipeline_runs(tiny_dataset, tmp_path):
    from unmask.runtime.export import export_stage

    pytest.importorskip("onnxruntime")
    w = _weights(tmp_path / "w")
    export_stage("inpainter", w)
    kw = dict(
        condition=conditioning.Conditioning("teacher"), limit=3, identity_limit=0, timing_repeats=0
    )
    res = evaluate(tiny_dataset, w, onnx_rows=True, **kw)
    rows = res["rows"]
    main = res["main"]
    assert list(rows)[:2] == [main, f"{main} (onnx)"]
    # the fp16 file is the same network: the two rows agree to well within a dB
    assert abs(rows[main]["psnr_hole"] - rows[f"{main} (onnx)"]["psnr_hole"]) < 0.5
    assert f"{main} (onnx)" in markdown(res)


def test_destriped_rows_score_the_same_network_filtered(tiny_dataset, tmp_path):
    w = _weights(tmp_path / "w")
    kw = dict(
        condition=conditioning.Conditioning("teacher"), limit=3, identity_limit=0, timing_repeats=0
    )
    res = evaluate(tiny_dataset, w, destripe_rows=True, **kw)
    rows, main = res["rows"], res["main"]
    assert list(rows)[:2] == [main, f"{main} (destriped)"]
    assert rows[main]["psnr_hole"] != rows[f"{main} (destriped)"]["psnr_hole"]
