"""Reporting for :mod:`unmask.evaluation.detector`: the markdown tables."""

from __future__ import annotations


def markdown(results: dict) -> str:
    """Markdown tables of an :func:`evaluate` result."""
    thr = results["threshold"]
    p = results["paired"]
    small = results.get("small_faces") or {"side": 0, "penalty": 0}
    rule = (
        f" (faces under {small['side']:g} px on the letterbox score {small['penalty']:g} less)"
        if small["side"] and small["penalty"]
        else ""
    )
    looks = results.get("second_looks") or {}
    if looks.get("zoom_side"):
        rule += f"; zoom veto under {looks['zoom_side']:g} px"
    if looks.get("verify_side"):
        rule += f"; face verifier under {looks['verify_side']:g} px"
    lines = [
        f"Score threshold {thr}{rule}, letterbox {results['input_size']} px, "
        f"{results['params']:,} parameters.",
        "",
        "| set | recall IoU 0.5 | hit recall | false faces / image |",
        "|---|---|---|---|",
    ]
    for name in ("synthetic", "synthetic_unmasked", "synthetic_worn"):
        r = results.get(name)
        if r is None:  # reports written before the worn set existed
            continue
        for t in (0.3, 0.5, thr):
            lines.append(
                f"| {name} ({r['images']} photos, {r['faces']} faces) @ {t} | "
                f"{r[f'recall_{t}']:.3f} | {r[f'hit_recall_{t}']:.3f} | "
                f"{r[f'fp_per_image_{t}']:.3f} |"
            )
    n = results["negatives"]
    lines += [
        "",
        f"Face-free pictures ({n['neg_images']}): false faces / image "
        + ", ".join(f"{n[f'neg_fp_per_image_{t}']:.3f} @ {t}" for t in (0.3, 0.5, thr)),
        "",
        *_false_face_lines(results.get("false_faces"), thr),
        f"Same {p['images']} photos, ours vs dlib (dlib keeps all its detections):",
        "",
        "| detector | masked IoU 0.5 | masked hit | unmasked IoU 0.5 | unmasked hit | "
        "false faces / face-free image |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in p.items():
        if name == "images":
            continue
        t = thr if name == "ours" else 0.0
        lines.append(
            f"| {name} | {r['masked'][f'recall_{t}']:.3f} | "
            f"{r['masked'][f'hit_recall_{t}']:.3f} | "
            f"{r['unmasked'][f'recall_{t}']:.3f} | "
            f"{r['unmasked'][f'hit_recall_{t}']:.3f} | "
            f"{r['negatives'][f'neg_fp_per_image_{t}']:.3f} |"
        )
    if "real_dev" in results:
        lines += [
            "",
            "Real masked photos (masked-real-dev), top box area / photo area:",
            "",
            "| detector | found | faces/photo | p5 | p25 | p50 | p75 | p95 | > 90 % | "
            "< 2 % | ms/photo |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, r in results["real_dev"].items():
            q = r["area_ratio"]
            qs = " | ".join(str(q.get(k, "-")) for k in ("5", "25", "50", "75", "95"))
            lines.append(
                f"| {name} | {r['found_share']:.3f} | {r['faces_per_photo']} | {qs} | "
                f"{r['whole_photo_share']:.3f} | {r['tiny_share']:.3f} | {r['ms']} |"
            )
    c = results["cpu_ms_640x480"]
    lines += [
        "",
        "CPU ms for a 640x480 photo: "
        + ", ".join(f"{v} ({k.replace('_', ' ')})" for k, v in c.items()),
    ]
    if results.get("acceptance"):  # bars checked by the caller, if any
        lines += ["", "| acceptance | value | target | pass |", "|---|---|---|---|"]
        for k, (v, target, ok) in results["acceptance"].items():
            lines.append(f"| {k} | {v} | {target} | {'yes' if ok else 'no'} |")
    return "\n".join(lines) + "\n"


def _false_face_lines(found: list | None, thr: float) -> list[str]:
    """One line naming the face-free pictures with false faces at ``thr`` (index: boxes,
    box sides in letterbox pixels), or nothing for reports written before it was recorded."""
    if found is None:
        return []
    items = ", ".join(
        f"#{f['image']}: {f['boxes']} ({'/'.join(f'{s:.0f}' for s in f['sides'])} px)"
        for f in found
    )
    return [
        f"Pictures with false faces @ {thr} (box sides on the letterbox): {items or 'none'}",
        "",
    ]
