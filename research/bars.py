"""The issue tracker's acceptance bars for the detector and the inpainter, checked on the JSON
report of ``unmask eval detector`` / ``unmask eval inpainter`` (the package reports figures; the
bars a model had to clear belong to the lab, not to the library).

usage: python research/bars.py REPORT.json     (prints the bars as JSON)
"""

from __future__ import annotations

import json
import sys

import numpy as np

from unmask.evaluation.inpainter_report import MAIN_LABEL


def detector(res: dict) -> dict:
    """The detector's bars: ``{name: [value, target, passed]}``."""
    thr = res["threshold"]
    out = {}
    if "real_dev" in res:
        v = res["real_dev"]["ours"]["found_share"]
        out["real_dev_found_share"] = [v, ">= 0.90", v >= 0.90]
    v = res["synthetic"][f"recall_{thr}"]
    out["synthetic_recall_iou50"] = [v, ">= 0.95", v >= 0.95]
    v = res["negatives"][f"neg_fp_per_image_{thr}"]
    out["face_free_fp_per_image"] = [v, "<= 0.10", v <= 0.10]
    cnn = res["paired"].get("cnn")
    if cnn:
        ours = res["paired"]["ours"]["unmasked"][f"hit_recall_{thr}"]
        ref = cnn["unmasked"]["hit_recall_0.0"]
        out["unmasked_hit_recall_vs_dlib_cnn"] = [ours, f">= {ref}", ours >= ref]
    return out


def inpainter(res: dict) -> dict:
    """The inpainter's bars, on the row of the model under test (values and pass/fail)."""
    rows = res["rows"]
    s, t = rows[res.get("main", MAIN_LABEL)], rows["OpenCV Telea"]
    out = {
        "psnr_hole_gain_vs_telea": s["psnr_hole"] - t["psnr_hole"],
        "ssim_hole_gain_vs_telea": s["ssim_hole"] - t["ssim_hole"],
        "sharpness": s["sharpness"],
    }
    out["pass_psnr"] = out["psnr_hole_gain_vs_telea"] >= 5
    out["pass_ssim"] = out["ssim_hole_gain_vs_telea"] >= 0.05
    out["pass_sharpness"] = 0.75 <= s["sharpness"] <= 1.25
    if "gender_agreement" in s:
        out["pass_gender"] = s["gender_agreement"] >= 0.95
    abl = [r for n, r in rows.items() if n.startswith("unguided ablation")]
    if len(abl) >= 2:
        for key, sign in (("nme_all", -1), ("identity", 1)):
            vals = [r[key] for r in abl]
            spread = abs(vals[0] - vals[1])
            margin = sign * (s[key] - float(np.mean(vals)))
            out[f"{key}_margin_vs_ablation"] = margin
            out[f"{key}_ablation_seed_spread"] = spread
            out[f"pass_{key}"] = margin > spread
    return out


def check(res: dict) -> dict:
    """The bars of a detector or inpainter report (told apart by their keys)."""
    return inpainter(res) if "rows" in res else detector(res)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        print(json.dumps(check(json.load(f)), indent=2, default=str))
