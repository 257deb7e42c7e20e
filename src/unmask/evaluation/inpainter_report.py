"""Reporting for :mod:`unmask.evaluation.inpainter`: the markdown table and the comparison
sheet."""

from __future__ import annotations

import numpy as np

#: dlib's documented face-recognition threshold: embeddings closer than this are one person.
DLIB_SAME_PERSON = 0.6
#: the default row label of the model under test (``--weights-dir``)
MAIN_LABEL = "shipped (guided)"


def comparison_sheet(columns: list[str], rows: list[list[np.ndarray]]) -> np.ndarray:
    """A grid of crops (one row per sample) under a header strip naming the columns."""
    import cv2

    from unmask.viz import grid

    body = grid(rows)
    s, pad = rows[0][0].shape[0], 2
    head = np.full((28, body.shape[1], 3), 255, np.uint8)
    scale = 0.32 * s / 128
    for j, name in enumerate(columns):
        x = pad + j * (s + pad) + 2
        for li, line in enumerate(name.replace(" (", "\n(").split("\n")[:2]):
            cv2.putText(
                head,
                line[:22],
                (x, 11 + 12 * li),
                cv2.FONT_HERSHEY_SIMPLEX,
                scale,
                (0, 0, 0),
                1,
                cv2.LINE_AA,
            )
    return np.concatenate([head, body])


def markdown(res: dict) -> str:
    """The results table (one row per method) plus notes (and acceptance checks, when the
    caller added them)."""
    net = res["feature_net"]
    cols = [
        ("PSNR hole", "psnr_hole", "{:.2f}"),
        ("PSNR all", "psnr_all", "{:.2f}"),
        ("SSIM hole", "ssim_hole", "{:.3f}"),
        ("SSIM all", "ssim_all", "{:.3f}"),
        ("L1 hole", "l1_hole", "{:.4f}"),
        ("L1 all", "l1_all", "{:.4f}"),
        ("sharpness", "sharpness", "{:.2f}"),
        ("streaks", "streaks", "{:.2f}"),
        ("NME all %", "nme_all", "{:.2%}"),
        ("NME hidden %", "nme_hidden", "{:.2%}"),
        ("id cos", "identity", "{:.3f}"),
        ("id dist", "identity_dist", "{:.3f}"),
        ("id match %", "identity_match", "{:.1%}"),
        ("gender agree %", "gender_agreement", "{:.1%}"),
        ("gender agree adults %", "gender_agreement_adults", "{:.1%}"),
        ("gender agree where judge sure %", "gender_agreement_sure", "{:.1%}"),
        (f"FID (unmask {net} features)", "fid", "{:.2f}"),
        (f"KID (unmask {net} features)", "kid", "{:.4f}"),
    ]
    lines = ["| method | " + " | ".join(c[0] for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, row in res["rows"].items():
        cells = [fmt.format(row[k]).replace("%", "") if k in row else "-" for _, k, fmt in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    n_id = max((r.get("identity_n", 0) for r in res["rows"].values()), default=0)
    mix = res.get("landmark_mix", 0)
    points = res.get("mix_points", "all")
    which = "landmarks" if points == "all" else f"{points} landmarks"
    moved = f" ({which} moved {mix:.0%} of the way to the teacher's)" if mix else ""
    lines += [
        "",
        f"{res['samples']} {res['split']} crops at {res['size']} px; conditioning: "
        f"{res['conditioning']}{moved}. Sharpness = mean |Laplacian| of output / ground truth "
        "inside the eroded hole (1 = right amount of detail). NME: dlib teacher on the output "
        "vs. on the ground truth, same box. Identity: dlib face-recognition embeddings of output "
        f"vs. ground truth on {n_id} crops; match = distance < {DLIB_SAME_PERSON}. FID/KID are "
        f"computed on features of our own {net} network, not Inception: compare rows, not "
        "papers.",
    ]
    sure = next(
        (r["gender_sure_share"] for r in res["rows"].values() if "gender_sure_share" in r), None
    )
    if sure is not None:
        lines.append(
            "Gender: the judge's verdict on the output vs. on the ground truth; 'where judge sure' "
            f"counts the {sure:.1%} of crops whose ground truth it reads with P >= 0.8 either way."
        )
    share = res.get("hole_inside_share", 1.0)
    if share < 1.0:
        lines.append(
            f"Hole figures (PSNR, SSIM, L1, sharpness) count the {share:.1%} of hole pixels that "
            "lie inside the source photo; the rest is padding, whose ground truth is a mirror "
            "image."
        )
    if "fid_real_halves" in res:
        lines.append(f"FID between two halves of the real crops: {res['fid_real_halves']:.2f}.")
    if res.get("params"):
        lines.append(
            "parameters (generator): " + ", ".join(f"{k} {v:,}" for k, v in res["params"].items())
        )
    if res["ms_per_image"]:
        lines.append(
            "ms per image (CPU, batch 1): "
            + ", ".join(f"{k} {v}" for k, v in res["ms_per_image"].items())
        )
    if res.get("acceptance"):  # bars checked by the caller, if any
        lines += [
            "",
            "Acceptance: "
            + ", ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                for k, v in res["acceptance"].items()
            ),
        ]
    lines += [f"Note: {n}" for n in res["notes"]]
    return "\n".join(lines) + "\n"
